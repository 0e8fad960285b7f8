"""The errors jsonschema would give, for a subset of JSON Schema, without jsonschema's cost.

Explaining a failing instance with jsonschema costs a few milliseconds per object of a VOC
document (an error object, a validator and a resource per keyword); a file of bare
``<object/>`` elements would take hours. :func:`errors` walks a schema that uses only
``type``, ``required``, ``properties``, ``patternProperties``, ``pattern``, ``items``,
``allOf``, ``anyOf``, ``not`` and local ``$ref`` — keyword by keyword in the schema's order,
as jsonschema does — and returns the failures as :class:`Failure` records that carry what
:func:`mafmt.schemas._explain` reads from a jsonschema error. A failure whose explanation
would need jsonschema's own wording (an ``anyOf`` or a ``pattern`` without ``x-message``)
raises :class:`Unsupported`, and the caller asks jsonschema. ``tests/test_fast_lanes.py``
checks the two agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ._fast import Unsupported

__all__ = ["Failure", "errors"]

#: keywords that never fail
_INERT = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "x-message", "default",
                    "examples"})


@dataclass
class Failure:
    """One failing keyword, with the attributes of a jsonschema error that the explanation uses."""

    validator: str
    validator_value: Any
    instance: Any
    schema: dict[str, Any]
    absolute_path: list[Any] = field(default_factory=list)
    context: None = None


def errors(schema: dict[str, Any], instance: Any, root: dict[str, Any] | None = None,
           path: list[Any] | None = None) -> list[Failure]:
    """Every failure of ``instance`` against ``schema`` in jsonschema's order (``root``
    resolves ``#/$defs/...`` references; ``path`` is where ``instance`` sits).

    Raises:
        Unsupported: a keyword outside the subset, or a failure only jsonschema can word.
    """
    out: list[Failure] = []
    _walk(schema, instance, root if root is not None else schema, path or [], out, True)
    return out


def _walk(schema: Any, inst: Any, root: dict[str, Any], path: list[Any], out: list[Failure], worded: bool) -> None:
    """Append the failures of ``inst`` to ``out``; ``worded``: each must have mafmt's wording."""
    if schema is True:
        return
    if not isinstance(schema, dict):
        raise Unsupported(f"schema {schema!r}")
    for key, value in schema.items():
        if key in _INERT:
            continue
        if key == "type":
            if not _is_type(inst, value):
                out.append(Failure(key, value, inst, schema, list(path)))  # worded by mafmt
        elif key == "required":
            if isinstance(inst, dict) and any(k not in inst for k in value):
                out.append(Failure(key, value, inst, schema, list(path)))
        elif key == "properties":
            if isinstance(inst, dict):
                for name, sub in value.items():
                    if name in inst:
                        _walk(sub, inst[name], root, [*path, name], out, worded)
        elif key == "patternProperties":
            if isinstance(inst, dict):
                for pattern, sub in value.items():
                    for name, v in inst.items():
                        if _regex(pattern).search(name):
                            _walk(sub, v, root, [*path, name], out, worded)
        elif key == "pattern":
            if isinstance(inst, str) and not _regex(value).search(inst):
                _fail(out, key, value, inst, schema, path, worded)
        elif key == "items":
            if isinstance(inst, list):
                for i, v in enumerate(inst):
                    _walk(value, v, root, [*path, i], out, worded)
        elif key == "allOf":
            for sub in value:
                _walk(sub, inst, root, path, out, worded)
        elif key == "anyOf":
            if not any(_valid(sub, inst, root) for sub in value):
                _fail(out, key, value, inst, schema, path, worded)
        elif key == "not":
            if _valid(value, inst, root):
                _fail(out, key, value, inst, schema, path, worded)
        elif key == "$ref":
            _walk(_resolve(root, value), inst, root, path, out, worded)
        else:
            raise Unsupported(key)


def _fail(out: list[Failure], key: str, value: Any, inst: Any, schema: dict[str, Any], path: list[Any],
          worded: bool) -> None:
    """Record a failure; one that must be worded needs the subschema's ``x-message``."""
    if worded and not schema.get("x-message"):
        raise Unsupported(f"{key} without x-message")
    out.append(Failure(key, value, inst, schema, list(path)))


def _valid(schema: Any, inst: Any, root: dict[str, Any]) -> bool:
    if type(schema) is dict and len(schema) == 1 and "required" in schema:  # the usual anyOf branch
        return type(inst) is not dict or all(k in inst for k in schema["required"])
    found: list[Failure] = []
    _walk(schema, inst, root, [], found, False)
    return not found


_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


def _is_type(inst: Any, want: Any) -> bool:
    kinds = want if isinstance(want, list) else [want]
    try:
        return any(_TYPES[k](inst) for k in kinds)
    except KeyError:
        raise Unsupported(f"type {want!r}") from None


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _resolve(root: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise Unsupported(f"$ref {ref}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node
