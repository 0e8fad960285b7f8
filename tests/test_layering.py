"""The import graph of the package: no circles, counting lazy (function-level) and
type-checking imports too, so that every module can be understood from the ones below it."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _modules() -> dict[str, pathlib.Path]:
    mods: dict[str, pathlib.Path] = {}
    for top, prefix in ((ROOT / "mafmt", "mafmt"), (ROOT / "converters", "mafmt.converters"),
                        (ROOT / "schemas", "mafmt.schemas")):
        for path in sorted(top.rglob("*.py")):
            parts = path.relative_to(top).with_suffix("").parts
            if top.name == "mafmt" and parts and parts[0] in ("converters", "schemas"):
                continue  # the symlinked folders are walked from their real place
            name = ".".join((prefix, *parts)).removesuffix(".__init__")
            mods[name] = path
    mods["mafmt.cli"] = ROOT / "cli.py"
    return mods


def _imports(name: str, path: pathlib.Path, mods: dict[str, pathlib.Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in mods)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                target = f"{module}.{alias.name}"
                if target in mods:
                    found.add(target)
                elif module in mods:
                    found.add(module)
    # a package importing its own sub-modules (or a module its package) is not a circle
    return {m for m in found if m != name and not name.startswith(m + ".") and not m.startswith(name + ".")}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles() -> None:
    mods = _modules()
    assert "mafmt.converters.coco" in mods and "mafmt.commands.convert" in mods
    graph = {name: _imports(name, path, mods) for name, path in mods.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
