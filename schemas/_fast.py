"""A yes/no compiler for the JSON Schema keywords mafmt's schemas use.

``compile_schema(schema)`` generates Python source -- one function per subschema, the
keywords of a subschema inlined as plain ``if`` statements, ``allOf`` and ``if/then/else``
inlined into their parent, per-type ``if`` rules on one key turned into a dict lookup --
and compiles it. No exceptions on the hot path (failing ``if`` conditions are what make
generic compiled validators slow on per-type rules). It answers only *valid or not*;
errors and their paths always come from jsonschema, and the tests check both agree. A
keyword it does not implement raises :class:`Unsupported`; the caller then uses jsonschema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Unsupported", "compile_schema"]

Check = Callable[[Any], bool]

#: keywords that never change validity
_IGNORED = frozenset({"$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "default",
                      "examples", "x-message", "deprecated", "readOnly", "writeOnly", "format"})
_KNOWN = frozenset({"$ref", "type", "enum", "const", "minLength", "maxLength", "pattern", "minimum", "maximum",
                   "exclusiveMinimum", "exclusiveMaximum", "required", "minProperties", "maxProperties", "properties",
                   "patternProperties", "additionalProperties", "propertyNames", "prefixItems", "items", "minItems",
                   "maxItems", "uniqueItems", "allOf", "anyOf", "oneOf", "not", "if", "then", "else"})
#: JSON type -> a test of variable ``{v}``; integers and numbers exclude bool, as JSON Schema does
_TYPES = {
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "string": "isinstance({v}, str)",
    "boolean": "({v} is True or {v} is False)",
    "null": "{v} is None",
    "integer": "((isinstance({v}, int) and not isinstance({v}, bool)) or (type({v}) is float and {v}.is_integer()))",
    "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))",
}
_GUARD = {"string": "isinstance({v}, str)", "object": "isinstance({v}, dict)", "array": "isinstance({v}, list)",
          "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))"}


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not implement."""


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``True != 1``; containers compared deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


_FEW = 4
_MISSING = object()
_LEAF_KEYS = frozenset({"type", "enum", "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
                        "exclusiveMaximum"})
_PURE = {"string": str, "object": dict, "array": list, "boolean": bool}


def _pure(schema: Any) -> Any:
    """The Python type(s) when ``schema`` is only ``type`` of strings/objects/arrays/booleans."""
    if not isinstance(schema, dict) or set(schema) - _IGNORED != {"type"}:
        return None
    names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if not names or any(n not in _PURE for n in names):
        return None
    return tuple(_PURE[n] for n in names) if len(names) > 1 else _PURE[names[0]]


def _unique(items: list[Any]) -> bool:
    return all(not _equal(a, b) for i, a in enumerate(items) for b in items[i + 1:])


class _Gen:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.ns: dict[str, Any] = {"_equal": _equal, "_unique": _unique}
        self.names: dict[int, str] = {}
        self.keep: list[Any] = []  # schemas whose id() names a function stay alive
        self.source: list[str] = []
        self.tables: list[str] = []  # consts mapping keys to function *names*, resolved after exec

    def const(self, value: Any) -> str:
        name = f"_c{len(self.ns)}"
        self.ns[name] = value
        return name

    def func(self, schema: Any) -> str:
        """The name of the function checking ``schema`` (generated once)."""
        if id(schema) in self.names:
            return self.names[id(schema)]
        if isinstance(schema, dict) and "$ref" in schema and not set(schema) - _IGNORED - {"$ref"}:
            return self.ref(schema["$ref"])  # a bare reference: call the target directly
        name = f"_s{len(self.names)}"
        self.names[id(schema)] = name
        self.keep.append(schema)
        lines: list[str] = []
        self.body(schema, "v", lines, 1)
        self.source.append(f"def {name}(v):\n" + "".join(lines) + "    return True\n")
        return name

    def ref(self, pointer: str) -> str:
        if not pointer.startswith("#"):
            raise Unsupported(f"$ref {pointer!r}")
        target: Any = self.root
        for part in filter(None, pointer[1:].split("/")):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return self.func(target)

    def body(self, s: Any, v: str, out: list[str], depth: int) -> None:
        pad = "    " * depth

        def fail_unless(cond: str) -> None:
            out.append(f"{pad}if not ({cond}):\n{pad}    return False\n")

        if s is True or s == {}:
            return
        if s is False:
            out.append(f"{pad}return False\n")
            return
        unknown = set(s) - _KNOWN - _IGNORED
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))
        types = s.get("type")
        single = types if isinstance(types, str) else None
        if "$ref" in s:
            fail_unless(f"{self.ref(s['$ref'])}({v})")
        if types is not None:
            names = [types] if isinstance(types, str) else list(types)
            if any(t not in _TYPES for t in names):
                raise Unsupported(f"type {types!r}")
            fail_unless(" or ".join(_TYPES[t].format(v=v) for t in names))
        if "enum" in s:
            values = list(s["enum"])
            if values and all(isinstance(x, str) for x in values):
                fail_unless(f"isinstance({v}, str) and {v} in {self.const(frozenset(values))}")
            elif values and all(isinstance(x, int) and not isinstance(x, bool) for x in values):
                fail_unless(f"{_TYPES['number'].format(v=v)} and {v} in {self.const(frozenset(values))}")
            else:
                fail_unless(f"any(_equal({v}, x) for x in {self.const(values)})")
        if "const" in s:
            fail_unless(f"_equal({v}, {self.const(s['const'])})")
        self.strings(s, v, out, pad, single)
        self.numbers(s, v, out, pad, single)
        self.objects(s, v, out, depth, single)
        self.arrays(s, v, out, depth, single)
        rules = list(s.get("allOf", ()))
        if not self.switch(rules, v, out, pad):
            for sub in rules:
                self.body(sub, v, out, depth)
        if "anyOf" in s:
            fail_unless(" or ".join(f"{self.func(x)}({v})" for x in s["anyOf"]))
        if "oneOf" in s:
            fail_unless("(" + " + ".join(f"bool({self.func(x)}({v}))" for x in s["oneOf"]) + ") == 1")
        if "not" in s:
            out.append(f"{pad}if {self.func(s['not'])}({v}):\n{pad}    return False\n")
        if "if" in s and ("then" in s or "else" in s):
            out.append(f"{pad}if {self.func(s['if'])}({v}):\n")
            branch: list[str] = []
            self.body(s.get("then", True), v, branch, depth + 1)
            out.append("".join(branch) or f"{pad}    pass\n")
            out.append(f"{pad}else:\n")
            branch = []
            self.body(s.get("else", True), v, branch, depth + 1)
            out.append("".join(branch) or f"{pad}    pass\n")

    def _guarded(self, kind: str, single: str | None, v: str, pad: str, checks: list[str], out: list[str]) -> None:
        if not checks:
            return
        cond = " and ".join(f"({c})" for c in checks)
        if single == kind or (kind == "number" and single == "integer"):
            out.append(f"{pad}if not ({cond}):\n{pad}    return False\n")
        else:
            out.append(f"{pad}if {_GUARD[kind].format(v=v)} and not ({cond}):\n{pad}    return False\n")

    def strings(self, s: dict[str, Any], v: str, out: list[str], pad: str, single: str | None) -> None:
        checks = []
        if "minLength" in s:
            checks.append(f"len({v}) >= {int(s['minLength'])}")
        if "maxLength" in s:
            checks.append(f"len({v}) <= {int(s['maxLength'])}")
        if "pattern" in s:
            checks.append(f"{self.const(re.compile(s['pattern']).search)}({v}) is not None")
        self._guarded("string", single, v, pad, checks, out)

    def numbers(self, s: dict[str, Any], v: str, out: list[str], pad: str, single: str | None) -> None:
        checks = []
        for key, op in (("minimum", ">="), ("maximum", "<="), ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<")):
            if key in s:
                checks.append(f"{v} {op} {self.const(s[key])}")
        self._guarded("number", single, v, pad, checks, out)

    def objects(self, s: dict[str, Any], v: str, out: list[str], depth: int, single: str | None) -> None:
        pad = "    " * depth
        checks = []
        if "required" in s:
            req = list(s["required"])
            checks.append(" and ".join(f"{k!r} in {v}" for k in req) if len(req) <= 3
                          else f"{self.const(frozenset(req))}.issubset({v})")
        if "minProperties" in s:
            checks.append(f"len({v}) >= {int(s['minProperties'])}")
        if "maxProperties" in s:
            checks.append(f"len({v}) <= {int(s['maxProperties'])}")
        self._guarded("object", single, v, pad, checks, out)
        props = s.get("properties", {})
        patterns = s.get("patternProperties", {})
        extra = s.get("additionalProperties")
        names = s.get("propertyNames")
        if not (props or patterns or extra is not None or names is not None):
            return
        inner = pad if single == "object" else pad + "    "
        if single != "object":
            out.append(f"{pad}if isinstance({v}, dict):\n")
        if props and len(props) <= _FEW:
            # a few named keys: look each up, simple leaves checked inline
            missing = self.const(_MISSING)
            for k, sub in props.items():
                test = self.expr(sub, "_x") or f"{self.func(sub)}(_x)"
                out.append(f"{inner}_x = {v}.get({k!r}, {missing})\n"
                           f"{inner}if _x is not {missing} and not ({test}):\n{inner}    return False\n")
        elif props:
            # many named keys (most absent): walk the instance's keys; keys whose schema is
            # only a type are checked with isinstance, the others by their function
            pure = {k: _pure(x) for k, x in props.items() if _pure(x) is not None}
            table = self.const({k: self.func(x) for k, x in props.items() if k not in pure})
            self.tables.append(table)
            out.append(f"{inner}for _k, _x in {v}.items():\n"
                       f"{inner}    _p = {self.const(pure)}.get(_k)\n"
                       f"{inner}    if _p is not None:\n"
                       f"{inner}        if not isinstance(_x, _p):\n{inner}            return False\n"
                       f"{inner}    else:\n"
                       f"{inner}        _f = {table}.get(_k)\n"
                       f"{inner}        if _f is not None and not _f(_x):\n{inner}            return False\n")
        if patterns or extra is not None:
            pats = [(self.const(re.compile(p).search), self.func(x)) for p, x in patterns.items()]
            out.append(f"{inner}for _k, _x in {v}.items():\n{inner}    _m = False\n")
            for search, f in pats:
                out.append(f"{inner}    if {search}(_k):\n{inner}        _m = True\n"
                           f"{inner}        if not {f}(_x):\n{inner}            return False\n")
            if extra is not None:
                known = self.const(frozenset(props))
                out.append(f"{inner}    if not _m and _k not in {known} and not {self.func(extra)}(_x):\n"
                           f"{inner}        return False\n")
        if names is not None:
            out.append(f"{inner}for _k in {v}:\n{inner}    if not {self.func(names)}(_k):\n{inner}        return False\n")

    def expr(self, s: Any, v: str) -> str | None:
        """An inline boolean expression for a leaf schema (type, enum, string and number
        bounds only), or None when it needs a function."""
        if not isinstance(s, dict) or set(s) - _IGNORED - _LEAF_KEYS or not isinstance(s.get("type"), str):
            return None
        kind = s["type"]
        if kind not in _TYPES:
            return None
        parts = [_TYPES[kind].format(v=v)]
        for key, test in (("minLength", "len({v}) >= {n}"), ("maxLength", "len({v}) <= {n}")):
            if key in s and kind == "string":
                parts.append(test.format(v=v, n=int(s[key])))
        if "pattern" in s and kind == "string":
            parts.append(f"{self.const(re.compile(s['pattern']).search)}({v}) is not None")
        for key, op in (("minimum", ">="), ("maximum", "<="), ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<")):
            if key in s and kind in ("number", "integer"):
                parts.append(f"{v} {op} {self.const(s[key])}")
        if "enum" in s:
            values = list(s["enum"])
            if not all(isinstance(x, str) for x in values):
                return None
            parts.append(f"{v} in {self.const(frozenset(values))}")
        if any(k in s for k in ("minLength", "maxLength", "pattern")) and kind != "string":
            return None
        if any(k in s for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")) and kind not in (
                "number", "integer"):
            return None
        return "(" + " and ".join(parts) + ")"

    def arrays(self, s: dict[str, Any], v: str, out: list[str], depth: int, single: str | None) -> None:
        pad = "    " * depth
        checks = []
        if "minItems" in s:
            checks.append(f"len({v}) >= {int(s['minItems'])}")
        if "maxItems" in s:
            checks.append(f"len({v}) <= {int(s['maxItems'])}")
        if s.get("uniqueItems"):
            checks.append(f"_unique({v})")
        self._guarded("array", single, v, pad, checks, out)
        prefix = s.get("prefixItems", [])
        items = s.get("items")
        if isinstance(items, list):
            raise Unsupported("items as an array (draft 2019 and older)")
        if not prefix and items is None:
            return
        inner = pad if single == "array" else pad + "    "
        if single != "array":
            out.append(f"{pad}if isinstance({v}, list):\n")
        for i, sub in enumerate(prefix):
            out.append(f"{inner}if len({v}) > {i} and not {self.func(sub)}({v}[{i}]):\n{inner}    return False\n")
        if items is not None:
            seq = f"{v}[{len(prefix)}:]" if prefix else v
            out.append(f"{inner}for _x in {seq}:\n{inner}    if not {self.func(items)}(_x):\n{inner}        return False\n")

    def switch(self, rules: list[Any], v: str, out: list[str], pad: str) -> bool:
        """``allOf`` of ``if: {required: [K], properties: {K: {enum: [strings]}}}, then: ...``
        rules on one key K (per-type rules): one dict lookup instead of one test per rule."""
        key = None
        table: dict[str, list[Any]] = {}
        for rule in rules:
            cond = rule.get("if") if isinstance(rule, dict) else None
            if (not isinstance(cond, dict) or set(rule) - {"if", "then", "$comment", "x-message"}
                    or set(cond) != {"required", "properties"} or len(cond["required"]) != 1):
                return False
            k = cond["required"][0]
            sub = cond["properties"].get(k) if len(cond["properties"]) == 1 else None
            if not isinstance(sub, dict) or set(sub) != {"enum"} or not all(isinstance(x, str) for x in sub["enum"]):
                return False
            if key not in (None, k):
                return False
            key = k
            for value in sub["enum"]:
                table.setdefault(value, []).append(rule.get("then", True))
        if key is None:
            return False
        cases = self.const({value: self.func({"allOf": thens}) for value, thens in table.items()})
        self.tables.append(cases)
        out.append(f"{pad}if isinstance({v}, dict):\n{pad}    _t = {v}.get({key!r})\n"
                   f"{pad}    if isinstance(_t, str):\n{pad}        _f = {cases}.get(_t)\n"
                   f"{pad}        if _f is not None and not _f({v}):\n{pad}            return False\n")
        return True


def compile_schema(schema: dict[str, Any]) -> Check:
    """A predicate that is True exactly when ``schema`` accepts the instance.

    Raises:
        Unsupported: the schema uses a keyword outside the implemented set.
    """
    gen = _Gen(schema)
    entry = gen.func(schema)
    code = "\n".join(gen.source)
    namespace = dict(gen.ns)
    exec(compile(code, "<mafmt.schemas._fast>", "exec"), namespace)  # noqa: S102 - our own generated code
    for name in gen.tables:  # they held function names until the functions existed
        namespace[name].update({k: namespace[f] for k, f in namespace[name].items()})
    return namespace[entry]  # type: ignore[no-any-return]
