"""One import namespace after install: mafmt, mafmt.converters, mafmt.schemas, mafmt.cli."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import mafmt

ROOT = Path(__file__).resolve().parent.parent


def test_stray_top_level_modules_not_importable(tmp_path):
    code = (
        "import importlib.util, json;"
        "print(json.dumps([m for m in ('converters', 'cli', 'schemas', 'tests', 'strategies')"
        " if importlib.util.find_spec(m) is not None]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["mafmt", "mafmt.converters", "mafmt.schemas", "mafmt.cli", "mafmt.modelarts"])
def test_namespace_modules_import(name):
    module = importlib.import_module(name)
    assert module.__name__ == name


def test_wheel_holds_only_the_mafmt_namespace(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("mafmt-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"mafmt", next(t for t in tops if t.endswith(".dist-info"))}
    for required in ("mafmt/py.typed", "mafmt/cli.py", "mafmt/converters/__init__.py", "mafmt/schemas/__init__.py",
                     "mafmt/modelarts/dataset/format/manifest/__init__.py"):
        assert required in names
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "mafmt = mafmt.cli:main_entry" in entry_points


def test_public_api_is_exactly_all():
    """Every public class and function mafmt defines at top level (loaded or still lazy) is in
    __all__, and nothing else; every name of __all__ resolves."""
    defined = sorted(
        n for n in dir(mafmt)
        if not n.startswith("_") and callable(obj := getattr(mafmt, n))
        and getattr(obj, "__module__", "").startswith("mafmt")
    )
    assert sorted(set(mafmt.__all__) - {"__version__"}) == defined


def test_import_mafmt_loads_only_the_errors():
    """``import mafmt`` stays cheap (the CLI starts with it): the model, the converters and
    httpx load on first use."""
    code = ("import sys, mafmt; heavy = [m for m in ('mafmt.model', 'mafmt.converters', 'httpx', 'lxml', 'numpy') "
            "if m in sys.modules]; print(heavy); mafmt.VocObject; print('mafmt.model' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["[]", "True"]


CORE = ("model.py", "manifest.py", "voc", "report.py", "errors.py", "formats.py", "summary.py", "storage", "limits.py",
        "textcodec.py", "rle.py", "losses.py", "progress.py")


def test_core_never_imports_cli_or_converters_at_module_level():
    """The native formats and the model stay below the converters and the CLI."""
    paths = [p for name in CORE for p in ([ROOT / "mafmt" / name] if name.endswith(".py") else (ROOT / "mafmt" / name).glob("*.py"))]
    for path in paths:
        tree = ast.parse(path.read_text("utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("mafmt.cli", "mafmt.converters", "cli", "converters")), path.name
                assert not (node.module == "mafmt" and {a.name for a in node.names} & {"cli", "converters"}), path.name
