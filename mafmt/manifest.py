"""ModelArts Manifest (JSON Lines): a streaming reader and an atomic writer.

Reading keeps 1-based line numbers, tolerates a BOM, CRLF and blank lines, accepts the
underscore aliases of hyphenated keys, and keeps every unknown key. Writing produces
one compact UTF-8 JSON object per line (``source`` first) into a temporary file that
replaces the target only when every line was written.

Detection and segmentation annotations point at Pascal VOC files (``annotation-loc``);
the reader leaves them unread until :meth:`mafmt.model.Detection.load` is called.
"""

from __future__ import annotations

import codecs
import copy
import dataclasses
import functools
import json
import math
import os
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import IO, Any, NamedTuple

import orjson

from mafmt import lanes, limits, storage, voc
from mafmt.errors import FormatError, LimitError, UsageError
from mafmt.formats import Format
from mafmt.limits import check_depth
from mafmt.line_blocks import DIGITS_TO_ZERO, line_blocks
from mafmt.model import (
    ANNOTATION_CLASSES,
    SHAPE_KINDS,
    Annotation,
    CompactSample,
    Detection,
    Origin,
    Sample,
    VocDocument,
    compact_view,
    read_linked,
)
from mafmt.report import ErrorPolicy, Report, Stream, check_policy
from mafmt.storage.transaction import Group, Transaction, check_complete, recover

__all__ = ["dumps", "loads", "read", "read_span", "sample_from_dict", "sample_to_dict", "write"]


class _Field(NamedTuple):
    attr: str
    wire: str
    aliases: tuple[str, ...]
    kind: str

    @property
    def canonical_types(self) -> tuple[type, ...]:
        """Exact JSON types accepted as they are (the fast path of the reader)."""
        return _CANONICAL_TYPES[self.kind]


_CANONICAL_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "id": (str, int),
    "num": (int, float),
    "int": (int,),
    "bool": (bool,),
    "reasons": (),
    "obj": (dict,),
}


SAMPLE_FIELDS = (
    _Field("source", "source", (), "str"),
    _Field("usage", "usage", (), "str"),
    _Field("id", "id", (), "id"),
    _Field("inference_loc", "inference-loc", ("inference_loc",), "str"),
    _Field("hard", "hard", (), "bool"),
    _Field("hard_coefficient", "hard-coefficient", ("hard_coefficient",), "num"),
    _Field("hard_reasons", "hard-reasons", ("hard_reasons",), "reasons"),
    _Field("property", "property", (), "obj"),
    _Field("source_type", "source-type", ("source_type",), "str"),
    _Field("sample_type", "sample-type", ("sample_type",), "int"),
    _Field("source_map", "source-map", ("source_map",), "str"),
)

ANNOTATION_FIELDS = (
    _Field("type", "type", (), "str"),
    _Field("name", "name", (), "str"),
    _Field("id", "id", (), "id"),
    _Field("property", "property", (), "obj"),
    _Field("annotation_loc", "annotation-loc", ("annotation_loc",), "str"),
    _Field("annotation_format", "annotation-format", ("annotation_format",), "str"),
    _Field("annotated_by", "annotated-by", ("annotated_by",), "str"),
    _Field("creation_time", "creation-time", ("creation_time",), "str"),
    _Field("confidence", "confidence", (), "num"),
    _Field("hard", "hard", (), "bool"),
    _Field("hard_coefficient", "hard-coefficient", ("hard_coefficient",), "num"),
    _Field("annotation_loc_map", "annotation-loc-map", ("annotation_loc_map",), "str"),
)


def _lookup(fields: tuple[_Field, ...]) -> dict[str, tuple[_Field, frozenset[type]]]:
    table = {}
    for f in fields:
        for key in (f.wire, *f.aliases):
            table[key] = (f, frozenset(f.canonical_types))
    return table


_SAMPLE_KEYS = _lookup(SAMPLE_FIELDS)
_ANNOTATION_KEYS = _lookup(ANNOTATION_FIELDS)

#: legacy or bare spellings of annotation types -> canonical
TYPE_ALIASES = {
    "modelarts/sound_classification": "modelarts/audio_classification",
    "sound_classification": "modelarts/audio_classification",
    **{t.split("/", 1)[1]: t for t in ANNOTATION_CLASSES},
}

_KIND_NAMES = {
    "str": "a string",
    "id": "a string or integer",
    "num": "a number",
    "int": "an integer",
    "bool": "a boolean",
    "reasons": "reason ids joined by '-'",
    "obj": "an object",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class _BadValue(Exception):
    pass


def _convert(kind: str, value: Any) -> tuple[Any, bool]:
    """Typed value and whether the wire form differed from the canonical one."""
    if kind == "str":
        if isinstance(value, str):
            return value, False
    elif kind == "id":
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value, False
    elif kind == "num":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value, False
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value, False
    elif kind == "bool":
        if isinstance(value, bool):
            return value, False
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true", True
    elif kind == "reasons":
        if isinstance(value, str):
            parts = [p.strip() for p in value.split("-")] if value.strip() else []
            if all(p.isdecimal() and len(p) <= limits.MAX_NUMBER_CHARS for p in parts):
                ids = [int(p) for p in parts]
                return ids, "-".join(map(str, ids)) != value
        elif isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return list(value), True
    elif kind == "obj":
        if isinstance(value, dict):
            return value, False
        if isinstance(value, str):
            try:  # as strict as a line: no NaN, no infinity, no deeper than a line may nest
                parsed = _STRICT.decode(value)
                check_depth(parsed)
            except (ValueError, RecursionError, LimitError):
                parsed = None
            if isinstance(parsed, dict):
                return parsed, True
        raise _BadValue("keep")  # kept verbatim in extra
    raise _BadValue(kind)


def _decode_fields(
    obj: dict[str, Any],
    table: dict[str, tuple[_Field, frozenset[type]]],
    where: str,
    origin: Origin,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    wire: dict[str, Any] = {}
    for key, value in obj.items():
        entry = table.get(key)
        if entry is None:
            extra[key] = value
            continue
        f, fast = entry
        if f.attr in values or value is None:  # a second spelling, or an explicit null: kept as written
            extra[key] = value
            continue
        if type(value) in fast:
            values[f.attr] = value
        else:
            try:
                typed, differs = _convert(f.kind, value)
            except _BadValue as exc:
                if str(exc) == "keep":
                    extra[key] = value
                    continue
                raise FormatError(
                    f"expected {_KIND_NAMES[f.kind]}, got {_json_type(value)}",
                    file=origin.file,
                    line=origin.line,
                    path=f"{where}{key}",
                ) from None
            values[f.attr] = typed
            if differs:
                # a copy: the hint must not follow later in-place edits of the value
                wire.setdefault("raw", {})[f.attr] = (value, copy.deepcopy(typed))
        if key != f.wire:
            wire.setdefault("keys", {})[f.wire] = key
    return values, extra, wire


def _encode_fields(fields: tuple[_Field, ...], obj: Any, out: dict[str, Any]) -> None:
    wire = obj.wire
    keys = wire.get("keys", {}) if wire else {}
    raw = wire.get("raw", {}) if wire else {}
    for f in fields:
        value = getattr(obj, f.attr)
        if value is None:
            continue
        hint = raw.get(f.attr) if raw else None
        if hint is not None and hint[1] == value:
            value = hint[0]
        elif f.kind == "reasons":
            value = "-".join(str(v) for v in value)
        out[keys.get(f.wire, f.wire) if keys else f.wire] = value


def _split_property(cls: type[Annotation], prop: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Lift a subclass's typed ``@modelarts:`` keys out of ``property``."""
    typed: dict[str, Any] = {}
    if not cls.typed_keys or prop is None:
        return typed, prop
    rest = dict(prop)
    for attr, key, pytype in cls.typed_keys:
        v = rest.get(key)
        if isinstance(v, pytype) and not isinstance(v, bool):
            typed[attr] = rest.pop(key)
    if typed and not rest:
        return typed, None
    return typed, rest


def annotation_from_dict(obj: Any, *, where: str, origin: Origin, base: str | None) -> Annotation:
    """Build the annotation subclass for one wire object."""
    if not isinstance(obj, dict):
        raise FormatError(f"expected an object, got {_json_type(obj)}", file=origin.file, line=origin.line, path=where)
    if "type" not in obj:
        raise FormatError("required key 'type' is missing", file=origin.file, line=origin.line, path=f"{where}.type")
    values, extra, wire = _decode_fields(obj, _ANNOTATION_KEYS, where + ".", origin)
    if "type" not in values:
        raise FormatError(
            f"expected a string, got {_json_type(obj['type'])}", file=origin.file, line=origin.line, path=f"{where}.type"
        )
    raw_type = values["type"]
    canonical = TYPE_ALIASES.get(raw_type, raw_type)
    if canonical != raw_type:
        values["type"] = canonical
        wire.setdefault("raw", {})["type"] = (raw_type, canonical)
    cls = ANNOTATION_CLASSES.get(canonical, Annotation)
    typed, rest = _split_property(cls, values.pop("property", None))
    ann = cls(**values, **typed, property=rest, extra=extra)
    ann.wire.update(wire)
    if isinstance(ann, Detection):
        ann.base = base
        ann.origin = origin
    return ann


def annotation_to_dict(ann: Annotation) -> dict[str, Any]:
    """The wire object of one annotation."""
    out: dict[str, Any] = {}
    _encode_fields(ANNOTATION_FIELDS, ann, out)
    typed = {key: getattr(ann, attr) for attr, key, _ in ann.typed_keys if getattr(ann, attr) is not None}
    if typed:
        prop = dict(ann.property or {})
        prop.update(typed)
        was_string = "property" in ann.wire.get("raw", {})
        out["property"] = json.dumps(prop, ensure_ascii=False) if was_string else prop
    for key, value in ann.extra.items():
        out.setdefault(key, value)
    return out


def sample_from_dict(obj: Any, *, origin: Origin | None = None, base: str | None = None) -> Sample:
    """Build a :class:`Sample` from one decoded manifest line.

    Raises:
        FormatError: the object cannot be represented (no ``source``, wrong types).
    """
    origin = origin or Origin(None)
    if not isinstance(obj, dict):
        raise FormatError(f"expected a JSON object, got {_json_type(obj)}", file=origin.file, line=origin.line)
    if "source" not in obj:
        raise FormatError("required key 'source' is missing", file=origin.file, line=origin.line, path="source")
    values, extra, wire = _decode_fields(obj, _SAMPLE_KEYS, "", origin)
    if "source" not in values:
        raise FormatError(
            f"expected a string, got {_json_type(obj['source'])}", file=origin.file, line=origin.line, path="source"
        )
    annotations: list[Annotation] = []
    if "annotation" in obj:
        raw = extra.pop("annotation")
        if raw is None:
            extra["annotation"] = None
        elif not isinstance(raw, list):
            raise FormatError(
                f"expected an array, got {_json_type(raw)}", file=origin.file, line=origin.line, path="annotation"
            )
        else:
            annotations = [
                annotation_from_dict(a, where=f"annotation[{i}]", origin=origin, base=base) for i, a in enumerate(raw)
            ]
            if not raw:
                wire["empty_annotation"] = True
    sample = Sample(**values, annotations=annotations, extra=extra, origin=origin)
    sample.wire.update(wire)
    return sample


def sample_to_dict(sample: Sample, annotations: list[Annotation] | None = None) -> dict[str, Any]:
    """The wire object of one sample (``source`` first), with ``annotations`` in place of its
    own when given."""
    out: dict[str, Any] = {}
    _encode_fields(SAMPLE_FIELDS, sample, out)
    if annotations is None:
        annotations = sample.annotations
    if annotations:
        out["annotation"] = [annotation_to_dict(a) for a in annotations]
    elif sample.wire.get("empty_annotation"):
        out["annotation"] = []
    for key, value in sample.extra.items():
        out.setdefault(key, value)
    return out


#: in a text's digit mask (DIGITS_TO_ZERO): 19 digits in a row may be an integer beyond 64
#: bits, which orjson would turn into a float; 17 a float of 1e16 or more written without an
#: exponent (see manifest_plain.Lines.plain)
_NINETEEN = b"0" * 19
_SEVENTEEN = b"0" * 17
_LOC = b'"annotation-loc"'


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {limits.clip(text, 40)} is too large for a float")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


_STRICT = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant)


def _parse_json(line: str | bytes) -> Any:
    data = line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line
    if _NINETEEN in data.translate(DIGITS_TO_ZERO):
        value = _STRICT.decode(_text(line))
    else:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            # orjson words its errors differently: the standard parser decides and explains
            value = _STRICT.decode(_text(line))
    if data.count(b"[") + data.count(b"{") > limits.MAX_JSON_DEPTH:
        check_depth(value)
    return value


def _text(line: str | bytes) -> str:
    return line if isinstance(line, str) else line.decode("utf-8")


def loads(line: str | bytes, *, origin: Origin | None = None, base: str | None = None) -> Sample:
    """Parse one manifest line.

    Raises:
        FormatError: not JSON (NaN and infinities are not JSON), nested deeper than
            :data:`mafmt.limits.MAX_JSON_DEPTH`, or not a sample.
    """
    origin = origin or Origin(None)
    return sample_from_dict(_decode_line(line, origin), origin=origin, base=base)


def _decode_line(line: str | bytes, origin: Origin) -> Any:
    try:
        obj = _parse_json(line)
    except LimitError as exc:
        raise LimitError(exc.reason, file=origin.file, line=origin.line) from None
    except RecursionError:
        raise LimitError(f"nested deeper than {limits.MAX_JSON_DEPTH} levels", file=origin.file,
                         line=origin.line) from None
    except UnicodeDecodeError as exc:
        raise FormatError(f"cannot decode as utf-8 (byte {exc.start + 1}: {exc.reason})", file=origin.file,
                          line=origin.line) from None
    except ValueError as exc:
        msg = getattr(exc, "msg", str(exc))
        col = getattr(exc, "colno", None)
        raise FormatError(
            f"invalid JSON: {limits.clip(msg, 120)}" + (f" (column {col})" if col else ""), file=origin.file,
            line=origin.line
        ) from None
    return obj


# --------------------------------------------------------------------------- plain lines

class _LineSample(Sample):
    """A sample read from a plain line, built on first use.

    Until one of its fields is read or set it is only the decoded line, and the manifest
    writer writes that line back without building the model (a plain line reads without
    error, so building later changes nothing). Any use builds it with
    :func:`sample_from_dict`, exactly as an eager read would, and from then on it is a
    :class:`Sample` like any other.
    """

    __slots__ = ("_line",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # dataclasses.replace(): an ordinary sample
        object.__setattr__(self, "_line", None)
        super().__init__(*args, **kwargs)

    def _build(self) -> None:
        line = self._line
        if line is None:
            return
        from mafmt import manifest_plain

        built = sample_from_dict(manifest_plain.to_object(line[0]), origin=self.origin, base=line[1])
        for name in _SAMPLE_ATTRS:
            object.__setattr__(self, name, getattr(built, name))
        object.__setattr__(self, "_line", None)

    def plain(self, *, linked: bool = False) -> CompactSample | None:
        """:meth:`Sample.plain`; the compact view of a line not built yet made from its plain
        form (the sample is not built unless its file is not plain)."""
        line = self._line
        if line is None or not linked:
            return Sample.plain(self, linked=linked)
        from mafmt import manifest_plain

        anns = line[0].annotation
        if not anns or len(anns) != 1 or type(anns[0]) not in manifest_plain.DETECTION_STRUCTS or \
                not anns[0].annotation_loc:
            return None  # (what linked_view says of the sample built)
        ann = _plain_detection(anns[0], line[1], self.origin)
        found = read_linked(ann)
        if not isinstance(found, tuple):
            self.annotations[0].document = found  # type: ignore[attr-defined]  # (the detection, built)
            return None
        unset = manifest_plain.UNSET
        fields = {name: None if value is unset else value
                  for name in _VIEW_FIELDS for value in (getattr(line[0], name, None),)}
        fields.update(extra={}, wire={}, origin=self.origin)
        return compact_view(fields, ann, found, lambda: self.annotations)

    def __getattr__(self, name: str) -> Any:  # only for fields not set yet
        line = object.__getattribute__(self, "_line") if name != "_line" else None
        if line is None:
            raise AttributeError(name)
        if name == "origin":  # made when asked for: the writer of a plain line never asks
            origin = Origin(line[3], line[4])
            object.__setattr__(self, "origin", origin)
            return origin
        self._build()
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name != "_line":
            self._build()
        object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sample):
            return NotImplemented
        return _compared(self) == _compared(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        self._build()
        return "Sample" + Sample.__repr__(self)[len(type(self).__qualname__):]

    def __reduce__(self) -> tuple[Any, ...]:
        self._build()
        return (_restore, (tuple(getattr(self, name) for name in _SAMPLE_ATTRS),))


def _plain_detection(ann: Any, base: str | None, origin: Origin | None) -> Detection:
    """The detection :func:`annotation_from_dict` makes of a plain line's detection (its plain form)."""
    from mafmt import manifest_plain

    unset = manifest_plain.UNSET
    detection = Detection(type=type(ann).__struct_config__.tag,
                          **{k: v for k in manifest_plain.ANNOTATION_ATTRS if (v := getattr(ann, k)) is not unset})
    detection.base, detection.origin = base, origin
    return detection


_new_sample = object.__new__
_SAMPLE_ATTRS = tuple(f.name for f in dataclasses.fields(Sample))
_VIEW_FIELDS = tuple(name for name in _SAMPLE_ATTRS if name not in ("annotations", "extra", "wire", "origin"))
_COMPARED = tuple(f.name for f in dataclasses.fields(Sample) if f.compare)


def _compared(sample: Sample) -> tuple[Any, ...]:
    return tuple(getattr(sample, name) for name in _COMPARED)


def _restore(values: tuple[Any, ...]) -> Sample:
    return Sample(**dict(zip(_SAMPLE_ATTRS, values)))


_set_line = _LineSample._line.__set__  # type: ignore[attr-defined]  # (the slot's own setter: the quickest)


#: what a sample read from a plain line holds until it is used: the line's plain form
#: (mafmt.manifest_plain), the base of its links, the base its source is rebased from, the
#: file and line of its origin (made when asked for), the base of its links again when it
#: may hold one (None when its block of text has no "annotation-loc": the writer looks no
#: further), and whether its block of text has no exponent nor run of 17 digits (the
#: writer's ``exact``, mafmt.manifest_plain.Lines.plain)
PlainLine = tuple[Any, str | None, str | None, str | None, int, str | None, bool]


def _plain_line(sample: Sample) -> PlainLine | None:
    """What a sample read from a plain line and not used since holds, else None."""
    return sample._line if type(sample) is _LineSample else None  # type: ignore[attr-defined]


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _encode(obj: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; orjson when it can (integers beyond 64 bits it cannot).

    Raises:
        FormatError: a value UTF-8 cannot hold (a lone surrogate) or that is not JSON data
            (NaN, an infinity), named -- nothing is written that cannot be read back.
    """
    try:
        return orjson.dumps(obj)
    except TypeError:
        pass
    try:
        return _ENCODER.encode(obj).encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[max(0, exc.start - 30):exc.end + 30]
        raise FormatError(f"a value holds a lone surrogate, which UTF-8 cannot hold: {limits.clip(bad, 80)}",
                          path=limits.clip(obj.get("source", ""), 80)) from None
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"a value is not JSON data: {limits.clip(str(exc), 80)}") from None


def dumps(sample: Sample) -> str:
    """One compact JSON line (no newline) for ``sample``."""
    return _encode(sample_to_dict(sample)).decode("utf-8")


# --------------------------------------------------------------------------- reading


def _is_ascii_compatible(encoding: str) -> bool:
    name = codecs.lookup(encoding).name
    return not name.startswith(("utf-16", "utf-32", "utf_16", "utf_32"))


def _display(src: str | IO[bytes]) -> str:
    return src if isinstance(src, str) else getattr(src, "name", "<stream>")


def read(
    src: str | os.PathLike[str] | IO[bytes],
    *,
    encoding: str = "utf-8",
    on_error: ErrorPolicy = "raise",
) -> Stream[Sample]:
    """Stream the samples of a manifest.

    Args:
        src: a path, an ``obs://`` URI, or an open binary file.
        encoding: the file's encoding (``utf-8``, ``gbk``, ...); a UTF-8 BOM is skipped.
        on_error: ``"raise"`` stops at the first bad line with a :class:`FormatError`
            naming file and line; ``"skip"`` leaves bad lines out and counts them in
            the stream's ``report``.

    Returns:
        An iterator of :class:`Sample` with a ``report`` attribute.
    """
    check_policy(on_error)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UsageError(f"unknown encoding {encoding!r}") from None
    if isinstance(src, os.PathLike):
        src = os.fspath(src)
    report = Report()
    return Stream(_iter_samples(src, encoding, on_error, report), report)


def read_span(src: str, span: Any, *, encoding: str = "utf-8", on_error: ErrorPolicy = "raise") -> Stream[Sample]:
    """The samples of the lines of ``src`` in ``span`` (a :class:`mafmt.shards.Span`: a byte
    range starting at a line start, and the number of its first line), exactly as
    :func:`read` gives them for those lines: what a worker of :mod:`mafmt.scale` reads.
    (Encodings that are not ASCII-compatible cannot be cut by bytes: use :func:`read`.)"""
    check_policy(on_error)
    report = Report()
    return Stream(_iter_samples(src, encoding, on_error, report, span), report)


def _iter_samples(src: str | IO[bytes], encoding: str, on_error: str, report: Report,
                  span: Any = None) -> Iterator[Sample]:
    name = _display(src)
    base = storage.parent(src) if isinstance(src, str) else None
    if isinstance(src, str):
        check_complete(src)
    if isinstance(src, str) and not storage.scheme_of(src) and span is None:
        recover(src)  # a commit that a kill interrupted is finished or undone before reading
    if span is not None and isinstance(src, str):
        from mafmt.storage.ranges import open_range

        fh, first = open_range(src, span.start, span.end), span.first_line
    else:
        fh, first = (storage.open_read(src) if isinstance(src, str) else src), 1
    source_base = _folder_of(name) if name else None  # what the writer rebases sources against
    try:
        if codecs.lookup(encoding).name == "utf-8":
            lines, found = yield from _utf8_samples(fh, name, first, base, source_base, on_error, report)
        else:
            lines, found = yield from _decoded_samples(_iter_lines(fh, encoding, name, first), name, base,
                                                       source_base, on_error, report)
    finally:
        if isinstance(src, str):
            fh.close()
    if lines and not found and span is None:  # (for a span, the caller decides for the whole file)
        raise FormatError(f"none of the {lines} lines is a sample (all were skipped as bad)", file=name)


def _utf8_samples(fh: IO[bytes], name: str, first: int, base: str | None, source_base: str | None, on_error: str,
                  report: Report) -> Generator[Sample, None, tuple[int, int]]:
    """The samples of a UTF-8 manifest, read in blocks of lines; returns (lines, samples).

    The usual line (no run of 19 digits in its block) is decoded here: a plain one in one call
    (never deeper than its form), kept in its plain form; any other that orjson reads, within
    the nesting limit by its count of brackets, is built in full. The rest takes
    :func:`_decoded_samples`, which gives the same sample for a usual line (the tests compare
    the two)."""
    from mafmt import manifest_plain

    quick_lane = lanes.PLAIN
    depth = limits.MAX_JSON_DEPTH
    plain, loads, decode_error, new, set_line = manifest_plain.decode, orjson.loads, orjson.JSONDecodeError, \
        _new_sample, _set_line
    lineno, lines, found = first - 1, 0, 0
    for block, too_long in line_blocks(fh):
        if not block:  # (only before a line too long)
            raise _long_line(name, lineno + 1)
        if lineno == 0 and block.startswith(codecs.BOM_UTF8):
            block = block[len(codecs.BOM_UTF8):]
        digits = block.translate(DIGITS_TO_ZERO) if quick_lane else b""
        quick = quick_lane and _NINETEEN not in digits
        exact = b"0e" not in digits and b"0E" not in digits and _SEVENTEEN not in digits  # (see Lines.plain)
        loc_base = base if _LOC in block or b"\\" in block else None  # (a key may be spelled with an escape)
        rows = block.split(b"\n")
        if block.endswith(b"\n"):
            rows.pop()
        crlf = b"\r" in block
        for raw in rows:
            lineno += 1
            if crlf:
                raw = raw.rstrip(b"\r")
            if quick:
                line = plain(raw)  # (never deeper than the plain form: see mafmt.manifest_plain)
                if line is not None:
                    lines += 1
                    found += 1
                    sample = new(_LineSample)
                    set_line(sample, (line, base, source_base, name, lineno, loc_base, exact))
                    yield sample
                    continue
            if quick and raw.count(b"[") + raw.count(b"{") <= depth:
                try:
                    obj = loads(raw)
                except decode_error:
                    pass  # (explained by the standard parser, below)
                else:
                    lines += 1
                    full = _full_sample(obj, Origin(name, lineno), base, on_error, report)
                    if full is not None:
                        found += 1
                        yield full
                    continue
            n, k = yield from _decoded_samples(((lineno, raw),), name, base, source_base, on_error, report)
            lines += n
            found += k
        if too_long:
            raise _long_line(name, lineno + 1)
    return lines, found


def _decoded_samples(rows: Iterable[tuple[int, str | bytes | FormatError]], name: str, base: str | None,
                     source_base: str | None, on_error: str,
                     report: Report) -> Generator[Sample, None, tuple[int, int]]:
    """The samples of numbered lines (or the errors met reading them), each line decoded and
    checked in full; returns (lines, samples)."""
    from mafmt import manifest_plain  # (msgspec: imported when a manifest is read)

    found = lines = 0
    for lineno, text in rows:
        if isinstance(text, FormatError):
            lines += 1
            if on_error == "raise" or isinstance(text, LimitError):
                raise text
            report.skip(text)
            continue
        if not text.strip():
            report.warnings["blank line"] += 1
            continue
        lines += 1
        origin = Origin(name, lineno)
        try:
            obj = _decode_line(text, origin)
        except FormatError as exc:
            if on_error == "raise":
                raise
            report.skip(exc)
            continue
        line = manifest_plain.from_object(obj) if lanes.PLAIN else None
        if line is not None:
            sample: Sample | None = _new_sample(_LineSample)
            _set_line(sample, (line, base, source_base, name, lineno, base, False))
        else:
            sample = _full_sample(obj, origin, base, on_error, report)
        if sample is not None:
            found += 1
            yield sample
    return lines, found


def _full_sample(obj: Any, origin: Origin, base: str | None, on_error: str, report: Report) -> Sample | None:
    """The model of a decoded line that is not plain, its oddities noted; None when it is
    skipped as bad."""
    try:
        sample = sample_from_dict(obj, origin=origin, base=base)
    except FormatError as exc:
        if on_error == "raise":
            raise
        report.skip(exc)
        return None
    _note_oddities(sample, report)
    return sample


def _iter_lines(fh: IO[bytes], encoding: str, name: str,
                first: int = 1) -> Iterator[tuple[int, str | bytes | FormatError]]:
    """(line number, line) pairs; UTF-8 lines stay bytes (the JSON parser takes them as they
    are and checks the encoding), other encodings are decoded here."""
    if not _is_ascii_compatible(encoding):
        import io

        wrapper = io.TextIOWrapper(fh, encoding=encoding, newline=None)
        try:
            lineno = 0
            while True:
                line = wrapper.readline(limits.MAX_LINE_BYTES + 1)
                if not line:
                    break
                lineno += 1
                if len(line) > limits.MAX_LINE_BYTES:
                    yield lineno, _long_line(name, lineno)
                    return
                line = line.rstrip("\n")
                yield lineno, line.lstrip("\ufeff") if lineno == 1 else line
        except UnicodeDecodeError as exc:
            yield 0, FormatError(f"cannot decode as {encoding}: {exc.reason}", file=name)
        finally:
            wrapper.detach()
        return
    lineno = first - 1
    limit = limits.MAX_LINE_BYTES
    utf8 = codecs.lookup(encoding).name == "utf-8"
    while True:
        raw = fh.readline(limit + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            yield lineno, _long_line(name, lineno)
            return
        if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        raw = raw.rstrip(b"\r\n")
        if utf8:
            yield lineno, raw
            continue
        try:
            yield lineno, raw.decode(encoding)
        except UnicodeDecodeError as exc:
            yield lineno, FormatError(
                f"cannot decode as {encoding} (byte {exc.start + 1}: {exc.reason})", file=name, line=lineno
            )


def _long_line(name: str, lineno: int) -> LimitError:
    return LimitError(f"line is longer than the limit of {limits.MAX_LINE_BYTES} bytes", file=name, line=lineno)


def _note_oddities(sample: Sample, report: Report) -> None:
    for obj in (sample, *sample.annotations):
        if not obj.wire:  # type: ignore[attr-defined]
            continue
        raw = obj.wire.get("raw")  # type: ignore[attr-defined]
        if raw and "hard" in raw:
            report.warnings["hard given as a string"] += 1
        if obj.wire.get("keys"):  # type: ignore[attr-defined]
            report.warnings["underscore key spelling"] += 1


# --------------------------------------------------------------------------- writing


def write(
    samples: Iterable[Sample],
    target: str | os.PathLike[str],
    *,
    mode: str = "w",
    encoding: str = "utf-8",
    voc_dir: str | None = None,
    write_voc: bool = False,
    locs: str = "rebase",
    overwrite: bool = False,
    check: Callable[[Report], None] | None = None,
    sizes: Callable[[Sample], tuple[int, int, int | None] | None] | None = None,
) -> Report:
    """Write samples as a manifest, as one transaction with its folder of VOC files.

    Args:
        samples: any iterable; consumed once.
        target: path or URI of the manifest.
        mode: ``"w"`` writes a new manifest (an existing one only with ``overwrite``),
            ``"a"`` appends to it (the explicit append mode).
        encoding: output encoding (UTF-8 unless you must).
        voc_dir: folder for the VOC files of detection annotations that carry an inline
            document (default ``Annotations/<manifest stem>/`` beside the manifest, so two
            manifests in one folder never share their files).
        write_voc: also (re)write documents that were loaded from ``annotation-loc``.
        locs: ``"rebase"`` rewrites relative ``source``/``annotation-loc`` values so they
            still point at the same files from the new manifest's folder; ``"keep"``
            writes them exactly as read.
        overwrite: replace an existing manifest (and its VOC folder) as a whole.
        check: called with the report just before the commit; raising there aborts it.
        sizes: the image size (width, height, depth) of a sample whose VOC document to write
            has none (ModelArts' reader requires ``<size>``; the format registry, and so
            ``mafmt.write`` and ``convert``, pass a size-table / image-header lookup). A sample
            whose size it cannot find is dropped as ``no image size``, with a problem naming
            it. Without ``sizes`` the document is written as it is.

    The manifest and its VOC folder appear together or not at all (a journal undoes a commit
    that a kill interrupted). In append mode the new VOC files are added to the folder under
    names no existing file has, before the lines are appended.

    Returns:
        A :class:`Report` (``written`` = samples; ``outputs`` = files written).
    """
    if mode not in ("w", "a"):
        raise UsageError(f"save mode must be 'w' or 'a', not {mode!r}")
    if locs not in ("rebase", "keep"):
        raise UsageError(f"locs must be 'rebase' or 'keep', not {locs!r}")
    target = os.fspath(target)
    report = Report()
    folder = storage.parent(target)
    side = voc_dir or storage.join(folder, "Annotations", _stem(target))
    utf8 = codecs.lookup(encoding).name == "utf-8"
    docs = _SideFolder(side, append=mode == "a", overwrite=overwrite)
    file_tx = Transaction(target, folder=False, overwrite=overwrite, append=mode == "a",
                          check=(lambda: check(report)) if check is not None else None)
    group = Group(file_tx)
    with group, open(file_tx.path(), "r+b") as fh:
        fh.seek(0, os.SEEK_END)
        if mode == "a" and fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.write(b"\n")
        rebase = _Rebaser(folder) if locs == "rebase" else None
        from mafmt import manifest_plain

        out = manifest_plain.Lines(fh.write if utf8 else _encoded_writer(fh.write, encoding, target), _encode)
        for sample in samples:
            line = _plain_line(sample) if not write_voc else None
            if line is not None:
                out.plain(line[0], line[5], line[2], rebase, line[6])  # (as _prepare and _encode would write it)
            else:
                obj = _prepare(sample, folder, docs, group, write_voc, rebase, report, sizes)
                if obj is None:
                    continue
                out.raw(_encode(obj))
            report.written += 1
        out.flush()
    report.outputs.insert(0, target)
    report.outputs.extend(docs.written)
    return report


def _encoded_writer(write: Callable[[bytes], Any], encoding: str, target: str) -> Callable[[bytearray], None]:
    """``write`` for blocks of UTF-8 lines, the text in ``encoding``.

    Raises (when called):
        FormatError: a character the encoding cannot hold, with the target's line it is on.
    """
    done = 0  # lines written before the block

    def put(block: bytearray) -> None:
        nonlocal done
        text = block.decode("utf-8")
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError as exc:
            at = exc.start
            raise FormatError(f"{encoding} cannot hold {text[at]!r}: "
                              f"{limits.clip(text[max(0, at - 30):at + 30], 80)}",
                              file=target, line=done + text.count("\n", 0, at) + 1) from None
        write(data)
        done += text.count("\n")

    return put


def _stem(target: str) -> str:
    name = target.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return os.path.splitext(name)[0] or name


class _SideFolder:
    """The folder a manifest write puts inline VOC documents in: a folder transaction joined
    to the manifest's group the first time a document is written (no folder otherwise)."""

    def __init__(self, folder: str, *, append: bool, overwrite: bool) -> None:
        self.folder = folder
        self.append = append
        self.overwrite = overwrite
        self.tx: Transaction | None = None
        self.namer = voc.VocNamer("")
        self.written: list[str] = []

    def put(self, doc: VocDocument, sample: Sample, group: Group, report: Report) -> str:
        """Write ``doc`` for ``sample``; returns its final path or URI."""
        image = voc._image_name(sample)
        rel = self.namer.name_for(image, report)
        return self._write(image, rel, voc.document_to_bytes(voc.modelarts_document(doc, image)), group)

    def put_bytes(self, image: str, data: bytes, group: Group, report: Report) -> str:
        """Write the document ``data`` of the image named ``image``; returns its final path or URI."""
        return self._write(image, self.namer.name_for(image, report), data, group)

    def _write(self, image: str, rel: str, data: bytes, group: Group) -> str:
        if self.append:  # new names only: never replace a file of the earlier writes
            path = storage.join(self.folder, rel)
            while storage.exists(path):
                rel = self.namer.name_for(image)
                path = storage.join(self.folder, rel)
            storage.write_bytes(path, data)
            self.written.append(path)
            return path
        if self.tx is None:
            self.tx = group.add(Transaction(self.folder, folder=True, overwrite=self.overwrite))
            self.tx.begin()
        path = self.tx.write_bytes(rel, data)
        self.written.append(path)
        return path


class _Rebaser:
    """Relative references as they must read from the target folder, computed once per
    source folder and folder of references (the folder pair never changes within a file)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._same: dict[str, bool] = {}
        #: (base, folder of a reference) -> that folder as it reads from the target, with its
        #: trailing "/" ("" when unchanged; None when each reference must be worked out)
        self._dirs: dict[tuple[str, str], str | None] = {}

    def __call__(self, ref: str, base: str | None) -> str:
        if base is None:
            return ref
        if "://" in ref:
            if ref.startswith(_URLS):  # the usual link: kept as it is (see _general)
                return ref
        elif "\\" not in ref and ref[:1] != "/" and _POSIX:  # the usual relative path
            head, _, name = ref.rpartition("/")
            if name and name != "." and name != "..":
                key = (base, head)
                try:
                    folder = self._dirs[key]
                except KeyError:
                    folder = self._folder(base, head)
                    if len(self._dirs) < _MAX_FOLDERS:
                        self._dirs[key] = folder
                if folder is not None:
                    return f"{folder}{name}" if folder else ref
        return self._general(ref, base)

    def _folder(self, base: str, head: str) -> str | None:
        if self._is_same(base):
            return ""
        folder = self.direct(head or ".", base)
        if folder.endswith("/"):  # a bucket's root
            return None
        return "./" if folder == "./." else folder + "/"

    def _is_same(self, base: str) -> bool:
        same = self._same.get(base)
        if same is None:
            same = self._same[base] = _same_dir(base, self.folder)
        return same

    def _general(self, ref: str, base: str) -> str:
        if storage.scheme_of(ref) or os.path.isabs(ref) or self._is_same(base):
            return ref
        head, _, name = ref.rpartition("/")
        if name in ("", ".", "..") or "\\" in ref:
            return self.direct(ref, base)
        folder = self._folder(base, head)
        if folder is None:
            return self.direct(ref, base)
        return f"{folder}{name}" if folder else ref

    def direct(self, ref: str, base: str) -> str:
        """``ref`` (relative to ``base``) as it reads from the target folder."""
        return storage.relative_to(storage.resolve(base, ref), self.folder)


_POSIX = os.sep == "/" and not os.altsep
#: the schemes of most links (storage.scheme_of says for the others)
_URLS = ("obs://", "s3://", "https://", "http://")
#: folders of references whose rebased form a writer keeps
_MAX_FOLDERS = 1 << 16


@functools.lru_cache(maxsize=64)
def _folder_of(file: str) -> str:
    return storage.parent(file)


def _same_dir(a: str, b: str) -> bool:
    if storage.scheme_of(a) or storage.scheme_of(b):
        return a.rstrip("/") == b.rstrip("/")
    return os.path.abspath(a) == os.path.abspath(b)


def _prepare(sample: Sample, folder: str, docs: _SideFolder, group: Group, write_voc: bool,
             rebase: _Rebaser | None, report: Report, sizes: Any = None) -> dict[str, Any] | None:
    """The wire object of ``sample`` as it must appear in a manifest in ``folder``:
    inline (or, with ``write_voc``, all) VOC documents written out, relative links rebased;
    None when a document to write has no image size and ``sizes`` finds none."""
    compact = sample.plain()
    if compact is not None:  # its one inline document written from the records (else as any sample)
        shell = compact.shell()
        doc = _sized(shell.document, sample, sizes)  # type: ignore[arg-type]  # (a shell has its document)
        if doc is None:
            report.drop_unsized(sample.source)
            return None
        image = voc._image_name(sample)
        data = voc.modelarts_compact_bytes(compact, doc, image)
        if data is not None:
            obj = sample_to_dict(sample, [shell])
            _rebase_source(obj, sample, rebase)
            obj["annotation"][0]["annotation-loc"] = storage.relative_to(docs.put_bytes(image, data, group, report),
                                                                         folder)
            return obj
    obj = sample_to_dict(sample)
    _rebase_source(obj, sample, rebase)
    anns = obj.get("annotation") or []
    to_write: dict[int, VocDocument] = {}  # every document sized before any is written: no orphan files
    for i, ann in enumerate(sample.annotations):
        if isinstance(ann, Detection) and ((ann.document is not None and not ann.annotation_loc)
                                           or (write_voc and ann.annotation_loc)):
            found = _sized(ann.load(), sample, sizes)
            if found is None:
                report.drop_unsized(sample.source)
                return None
            to_write[i] = found
    for i, ann in enumerate(sample.annotations):
        if not isinstance(ann, Detection):
            continue
        loc_key = ann.wire.get("keys", {}).get("annotation-loc", "annotation-loc")
        if i in to_write:
            path = docs.put(to_write[i], sample, group, report)
            anns[i][loc_key] = storage.relative_to(path, folder)
            if ann.annotation_format is None:
                anns[i]["annotation-format"] = "PASCAL VOC"
        elif rebase is not None and ann.annotation_loc:
            anns[i][loc_key] = rebase(ann.annotation_loc, ann.base)
    return obj


def _sized(doc: VocDocument, sample: Sample, sizes: Any) -> VocDocument | None:
    """``doc`` with the image size ``sizes`` finds for ``sample`` when it has none (as it is
    without ``sizes``); None when it has none and ``sizes`` finds none."""
    if sizes is None or (doc.width is not None and doc.height is not None):
        return doc
    found = sizes(sample)
    if found is None:
        return None
    return dataclasses.replace(doc, width=found[0], height=found[1], depth=doc.depth or found[2])


def _rebase_source(obj: dict[str, Any], sample: Sample, rebase: _Rebaser | None) -> None:
    """Rebase the wire object's relative ``source`` to the target folder (see :class:`_Rebaser`)."""
    if rebase is not None and sample.origin and sample.origin.file and not sample.source.startswith("content://"):
        obj[sample.wire.get("keys", {}).get("source", "source")] = rebase(sample.source, _folder_of(sample.origin.file))


def _sniff(path: str) -> bool:
    try:
        with storage.open_read(path) as fh:
            head = fh.read(4096).lstrip(codecs.BOM_UTF8).lstrip()
    except Exception:  # noqa: BLE001 - sniffing never fails loudly
        return False
    return head.startswith(b"{")


FORMAT = Format(
    name="manifest",
    read=read,
    write=write,
    holds=frozenset(ANNOTATION_CLASSES) | frozenset(SHAPE_KINDS) | {"properties", "hard-example", "unknown-fields"},
    description="ModelArts Manifest (JSON Lines); detection geometry in Pascal VOC files beside it",
    extensions=(".manifest", ".jsonl"),
    aliases=("modelarts-manifest", "jsonl"),
    sniff=_sniff,
)
