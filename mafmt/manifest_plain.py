"""The plain form of a manifest line: decoded and checked in one call, written in one call.

A line is *plain* when its keys and its annotations' keys are model fields in their canonical
JSON types, every annotation's type is a known kind (with no ``property`` on the kinds whose
property the model splits into typed keys), a ``property``'s values are scalars, and its
``annotation`` list, when given, is not empty. :func:`mafmt.manifest.sample_from_dict` can
then neither fail nor note anything, and the manifest writer writes the same object back with
its keys in the writer's order.

msgspec's typed decoder checks all of that in C while it decodes (0.52 s for the benchmark's
400,000 classification lines, in-process, against 1.61 s for ``orjson.loads`` and the same
check in Python), and its encoder writes a struct's fields in their declared order, which is
the writer's. As every value of a plain line but the fixed containers is a scalar, no plain
form is deeper than four levels whatever the line holds (the decoder stops at the first value
of another type, or skips a deep one looking for an annotation's ``"type"`` and fails): the
reader checks the nesting limit only for the lines that are not plain.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Annotated, Any

import msgspec

from mafmt.line_blocks import DIGITS_TO_ZERO
from mafmt.model import ANNOTATION_CLASSES, Detection

__all__ = ["ANNOTATION_ATTRS", "BLOCK", "DETECTION_STRUCTS", "UNSET", "Line", "Lines", "decode", "from_object", "rebased",
           "to_object"]

#: the keys of a plain line and of its annotations, in the order the writer puts them
#: (see SAMPLE_FIELDS and ANNOTATION_FIELDS in mafmt.manifest), "type" being the tag
SAMPLE_KEYS = ("source", "usage", "id", "inference-loc", "hard", "hard-coefficient", "property", "source-type",
               "annotation")
ANNOTATION_KEYS = ("name", "id", "property", "annotation-loc", "annotation-format", "annotated-by", "creation-time",
                   "confidence", "hard", "hard-coefficient")
#: the JSON types a key takes as it is (any other: a string)
_TYPES: dict[str, Any] = {"id": str | int, "confidence": int | float, "hard-coefficient": int | float, "hard": bool,
                          "property": dict[str, str | int | float | bool | None]}
_UNSET = UNSET = msgspec.UNSET
#: the model's names of :data:`ANNOTATION_KEYS` (and of a plain annotation's fields)
ANNOTATION_ATTRS = tuple(k.replace("-", "_") for k in ANNOTATION_KEYS)


def _fields(keys: tuple[str, ...]) -> list[tuple[str, Any, Any]]:
    return [(k.replace("-", "_"), _TYPES.get(k, str) | msgspec.UnsetType, _UNSET) for k in keys]


def _renames(keys: tuple[str, ...]) -> dict[str, str]:
    return {k.replace("-", "_"): k for k in keys}


def _annotation_struct(kind: str) -> type[msgspec.Struct]:
    keys = ANNOTATION_KEYS if not ANNOTATION_CLASSES[kind].typed_keys else tuple(k for k in ANNOTATION_KEYS
                                                                                if k != "property")
    return msgspec.defstruct(f"Plain[{kind}]", _fields(keys), tag_field="type", tag=kind, rename=_renames(keys),
                             forbid_unknown_fields=True, gc=False)


#: one struct per kind: the "type" key picks it (an unknown kind is not plain)
_ANNOTATIONS = {kind: _annotation_struct(kind) for kind in ANNOTATION_CLASSES}
DETECTION_STRUCTS = frozenset(s for kind, s in _ANNOTATIONS.items() if issubclass(ANNOTATION_CLASSES[kind], Detection))

_any_annotation = functools.reduce(operator.or_, _ANNOTATIONS.values())
_sample_fields: list[Any] = _fields(SAMPLE_KEYS)
_sample_fields[0] = ("source", str)  # required
_sample_fields[-1] = ("annotation", Annotated[list[_any_annotation], msgspec.Meta(min_length=1)] | msgspec.UnsetType,  # type: ignore[valid-type]
                      _UNSET)
Line: Any = msgspec.defstruct("PlainLine", _sample_fields, rename=_renames(SAMPLE_KEYS), forbid_unknown_fields=True,
                              gc=False)

_decode = msgspec.json.Decoder(Line).decode
_encode_into = msgspec.json.Encoder().encode_into
_convert = msgspec.convert
_to_builtins = msgspec.to_builtins
_replace = msgspec.structs.replace
_DecodeError = msgspec.DecodeError


def decode(raw: bytes) -> Any:
    """The plain form of a line, or None when the line is not plain (or not JSON)."""
    try:
        return _decode(raw)
    except (_DecodeError, RecursionError):  # (deep values where the decoder looks for a "type": not plain)
        return None


def from_object(obj: Any) -> Any:
    """The plain form of a decoded line, or None when it is not plain."""
    if type(obj) is not dict:
        return None
    try:
        return _convert(obj, Line)
    except (_DecodeError, UnicodeError):  # (msgspec.ValidationError; a lone surrogate in what it names)
        return None


def to_object(line: Any) -> dict[str, Any]:
    """The decoded line, its keys in the writer's order."""
    return _to_builtins(line)  # type: ignore[no-any-return]


def rebased(line: Any, base: str | None, source_base: str | None, rebase: Callable[[str, str | None], str]) -> Any:
    """``line`` with its relative links as ``rebase(ref, base)`` gives them: its source against
    ``source_base`` (a ``content://`` source is text, not a link), its detections' document
    links against ``base`` (None: it has none)."""
    if source_base is not None:
        source = line.source
        if not source.startswith("content://"):
            new = rebase(source, source_base)
            if new != source:
                line = _replace(line, source=new)
    anns = line.annotation if base is not None else None
    if anns:  # (UNSET is false)
        moved: list[Any] | None = None
        for i, ann in enumerate(anns):
            loc = ann.annotation_loc
            if loc is not _UNSET and type(ann) in DETECTION_STRUCTS:
                new = rebase(loc, base)
                if new != loc:
                    moved = moved or list(anns)
                    moved[i] = _replace(ann, annotation_loc=new)
        if moved is not None:
            line = _replace(line, annotation=moved)
    return line


class Lines:
    """Manifest lines gathered into blocks of about :data:`BLOCK` bytes, each handed to
    ``write`` whole: a plain line encoded by msgspec straight into the block, any other as
    given. A plain line comes out as ``general(to_object(line))`` would write it (the
    writer's orjson): where msgspec spells a float otherwise (a positive exponent: ``1e20``
    for orjson's ``1e+20``), or cannot write a string (a lone surrogate), the line is
    written by ``general``, which names what it cannot write. A block none of whose lines may
    hold such a float (``exact``) is handed over without a look."""

    __slots__ = ("_block", "_general", "_mend", "_plain", "_write")

    def __init__(self, write: Callable[[bytearray], Any], general: Callable[[Any], bytes]) -> None:
        self._write, self._general = write, general
        self._block = bytearray()
        #: the plain form of each line of the block that may need mending, None for the others
        self._plain: list[Any] = []
        self._mend = False

    def plain(self, line: Any, base: str | None = None, source_base: str | None = None,
              rebase: Callable[[str, str | None], str] | None = None, exact: bool = False) -> None:
        """Add a plain line (its plain form), its relative links rebased (:func:`rebased`)
        when ``rebase`` is given; ``exact``: it holds no float of 1e16 or more (its text had
        no exponent and no run of 17 digits), which msgspec writes as orjson does."""
        if rebase is not None:
            line = rebased(line, base, source_base, rebase)
        block = self._block
        start = len(block)
        try:
            _encode_into(line, block, -1)
        except UnicodeEncodeError:
            del block[start:]
            block += self._general(_to_builtins(line))
        block += b"\n"
        if exact:
            self._plain.append(None)
        else:
            self._plain.append(line)
            self._mend = True
        if len(block) >= BLOCK:
            self.flush()

    def raw(self, data: bytes) -> None:
        """Add a line already encoded (without its newline)."""
        block = self._block
        block += data
        block += b"\n"
        self._plain.append(None)
        if len(block) >= BLOCK:
            self.flush()

    def flush(self) -> None:
        """Hand the lines gathered to ``write``."""
        block = self._block
        if not block:
            return
        # (rare: "0e0" in the digit mask is a positive exponent as msgspec spells it; mend those lines)
        if self._mend and b"0e0" in block.translate(DIGITS_TO_ZERO):
            rows: list[bytes | bytearray] = list(block.split(b"\n"))
            for i, line in enumerate(self._plain):
                if line is not None and b"0e0" in rows[i].translate(DIGITS_TO_ZERO):
                    rows[i] = self._general(_to_builtins(line))
            block = bytearray(b"\n".join(rows))
        self._write(block)
        self._block = bytearray()
        self._plain.clear()
        self._mend = False


#: about how many bytes of lines :class:`Lines` hands over at a time
BLOCK = 1 << 20
