"""JSON Schemas shipped with mafmt (installed as ``mafmt.schemas``), read with
:mod:`importlib.resources`, never by paths relative to a source file.

Schemas (draft 2020-12), one per thing a user or an API call can get wrong:

============================  ==========================================================
``manifest-line``             one manifest line, with the per-``type`` rules of manifest.md §12
``voc``                       a ModelArts Pascal VOC document in its JSON form (``voc_to_json``)
``coco-instances``            a COCO detection annotation file
``yolo-data``                 a YOLO ``data.yaml``
``dataset-create``            body of ``POST /v2/{project_id}/datasets``
``import-task``               body of ``POST …/datasets/{id}/import-tasks``
``export-task``               body of ``POST …/datasets/{id}/export-tasks``
``label-task``                body of ``POST …/datasets/{id}/workforce-tasks``
``training-job-config``       body of ``POST /v1/{project_id}/training-job-configs`` (api.md §12.4)
============================  ==========================================================

A subschema may carry ``x-message``: the message reported when that subschema fails
(instead of jsonschema's generic one); ``required`` failures always read ``required``
with the missing key appended to the path.

Usage::

    from mafmt import schemas
    v = schemas.validator("training-job-config")
    problems = v.errors(body)          # [] when valid; each a FormatError with a JSON path
"""

from __future__ import annotations

import json
import re
from collections.abc import Container, Iterator
from functools import cache
from importlib import resources
from typing import Any

from . import _failures
from ._fast import Unsupported, compile_schema

__all__ = ["SchemaValidator", "json_path", "load", "names", "validator"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def names() -> list[str]:
    """Names of the shipped schemas (file names without ``.schema.json``)."""
    return sorted(
        p.name[: -len(".schema.json")] for p in resources.files(__name__).iterdir() if p.name.endswith(".schema.json")
    )


@cache
def load(name: str) -> dict[str, Any]:
    """The schema called ``name`` as a dict.

    Raises:
        UsageError: no schema of that name.
    """
    ref = resources.files(__name__).joinpath(f"{name}.schema.json")
    if not ref.is_file():
        from mafmt.errors import UsageError

        raise UsageError(f"unknown schema {name!r} (known: {', '.join(names())})")
    return json.loads(ref.read_text("utf-8"))  # type: ignore[no-any-return]


def json_path(parts: Any) -> str:
    """``$.annotation[0].property['@modelarts:end_index']`` for a sequence of keys and indexes."""
    out = "$"
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif isinstance(p, str) and _IDENT.match(p):  # YAML keys may be numbers, booleans, None
            out += "." + p
        else:
            out += "[" + repr(str(p)) + "]"
    return out


class SchemaValidator:
    """A compiled schema: a fast yes/no check and precise errors for what fails.

    ``is_valid`` uses the predicate :func:`mafmt.schemas._fast.compile_schema` builds
    (jsonschema when the schema uses a keyword it lacks); ``iter_errors`` always uses jsonschema, so
    the reported paths and messages do not depend on the fast path.
    """

    def __init__(self, name: str) -> None:
        import jsonschema  # type: ignore[import-untyped]

        self.name = name
        self.schema = load(name)
        self._precise = jsonschema.Draft202012Validator(self.schema)
        try:
            self._fast: Any = compile_schema(self.schema)
        except Unsupported:
            self._fast = None
        self._items: dict[str, tuple[Any, Any] | None] = {}
        self._precise_of: dict[int, Any] = {}  # validators of item schemas (kept alive by _items)

    @property
    def compiled(self) -> bool:
        """True when ``is_valid`` runs the compiled fast path."""
        return self._fast is not None

    @property
    def predicate(self) -> Any:
        """The fastest yes/no function for this schema (the compiled one when there is one)."""
        return self._fast if self._fast is not None else self._precise.is_valid

    def is_valid(self, instance: Any) -> bool:
        """Whether ``instance`` satisfies the schema (fast path)."""
        if self._fast is None:
            return bool(self._precise.is_valid(instance))
        return bool(self._fast(instance))

    def iter_errors(self, instance: Any) -> Iterator[tuple[str, str]]:
        """``(json path, message)`` of every violation, in document order, precise."""
        yield from _explained(list(self._precise.iter_errors(instance)))

    def iter_errors_by_item(self, instance: Any, key: str, *, limit: int | None = None,
                            known: Container[int] = ()) -> Iterator[tuple[str, str]]:
        """What :meth:`iter_errors` gives, with the items of the top-level array ``instance[key]``
        checked one by one on the fast path, so that only the items that fail are explained:
        the cost follows the failures, not the size of the document. ``limit``: explain at
        most that many failing items (the rest of the array is not looked at); ``known``: the
        indices of items known to be valid, not looked at (they may be left as None)."""
        items = instance.get(key) if isinstance(instance, dict) else None
        item = self._item(key)
        if item is None or not isinstance(items, list):
            errors = [e for e in self._precise.iter_errors(instance)
                      if not (len(e.absolute_path) > 1 and e.absolute_path[0] == key and e.absolute_path[1] in known)]
            yield from _explained(errors)
            return
        fast, sub = item
        errors = self._failures(self.schema, {**instance, key: []}, self._precise, [])
        failing = 0
        for i, value in enumerate(items):
            if i not in known and not fast(value):
                errors += self._failures(sub, value, None, [key, i])
                failing += 1
                if limit is not None and failing >= limit:
                    break
        yield from _explained(errors)

    def _item(self, key: str) -> tuple[Any, dict[str, Any]] | None:
        """The fast check and the schema of the items of the top-level array property ``key``."""
        cached = self._items.get(key)
        if cached is None and key not in self._items:
            prop = self.schema.get("properties", {}).get(key)
            if isinstance(prop, dict) and set(prop) == {"type", "items"} and prop["type"] == "array":
                sub = {**prop["items"], "$defs": self.schema.get("$defs", {})}
                try:
                    cached = (compile_schema(sub), sub)
                except Unsupported:
                    cached = None
            self._items[key] = cached
        return cached

    def _failures(self, schema: dict[str, Any], instance: Any, precise: Any, path: list[Any]) -> list[Any]:
        """The failures of ``instance`` (at ``path``) without jsonschema where :mod:`._failures`
        can give them, else jsonschema's (``precise``: a validator of ``schema``, or None)."""
        try:
            return list(_failures.errors(schema, instance, path=path))
        except Unsupported:
            pass
        if precise is None:
            precise = self._precise_of.get(id(schema))
            if precise is None:
                import jsonschema

                precise = self._precise_of[id(schema)] = jsonschema.Draft202012Validator(schema)
        found = list(precise.iter_errors(instance))
        for err in found:
            err.path.extendleft(reversed(path))  # where the whole document's check puts it
        return found

    def errors(self, instance: Any, *, file: str | None = None, line: int | None = None) -> list[Any]:
        """Every violation as a :class:`~mafmt.errors.FormatError` (empty when valid)."""
        from mafmt.errors import FormatError

        if self.is_valid(instance):
            return []
        return [FormatError(msg, file=file, line=line, path=path) for path, msg in self.iter_errors(instance)]

    def validate(self, instance: Any) -> None:
        """Raise the first violation as a :class:`~mafmt.errors.FormatError`."""
        for problem in self.errors(instance):
            raise problem


def _explained(errors: list[Any]) -> Iterator[tuple[str, str]]:
    """The ``(path, message)`` items of ``errors`` in document order, each once."""
    errors.sort(key=_order)
    seen: set[tuple[str, str]] = set()
    for err in errors:
        for item in _explain(err):
            if item not in seen:
                seen.add(item)
                yield item


def _order(err: Any) -> list[tuple[int, int, str]]:
    return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in err.absolute_path]


def _explain(err: Any) -> Iterator[tuple[str, str]]:
    """Turn one jsonschema error into ``(path, message)`` items."""
    parts = list(err.absolute_path)
    if err.validator == "required":
        instance = err.instance if isinstance(err.instance, dict) else {}
        for key in err.validator_value:
            if key not in instance:
                yield json_path([*parts, key]), "required"
        return
    custom = err.schema.get("x-message") if isinstance(err.schema, dict) else None
    if custom:
        yield json_path(parts), custom
        return
    if err.validator in ("anyOf", "oneOf") and err.context:
        # the deepest failing branch says most; jsonschema's best_match picks it
        from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

        best = best_match(err.context)
        if best is not None and best.validator != "required":
            yield from _explain(best)
            return
    yield json_path(parts), _message(err)


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
               float: "a number", type(None): "null"}


def _message(err: Any) -> str:
    """jsonschema's message, never longer than a line: the instance is named by its type, not quoted whole."""
    got = _JSON_TYPES.get(type(err.instance), type(err.instance).__name__)
    if err.validator == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        return f"expected {' or '.join(map(str, want))}, got {got}"
    if err.validator == "enum":
        from mafmt.limits import clip

        return f"expected one of {clip(err.validator_value, 80)}, got {clip(err.instance, 60)}"
    from mafmt.limits import MAX_MESSAGE_CHARS

    text = str(err.message)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


@cache
def validator(name: str) -> SchemaValidator:
    """The compiled validator of schema ``name`` (built once, then cached)."""
    return SchemaValidator(name)
