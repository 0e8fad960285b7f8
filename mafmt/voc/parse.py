"""Parsing a Pascal VOC document into the model, leniently, with every issue located.

Safe (no DTD, no entities, no network; size and depth limits from :mod:`mafmt.limits`) and
lenient: whatever can be represented is kept, including unknown elements (their text
decoded by :mod:`mafmt.textcodec`, so numbers written by mafmt come back as numbers) and
both property encodings. Oddities become issues (:class:`~mafmt.errors.FormatError` with
the file, the line and the element path such as ``/annotation/object[2]/bndbox``); element
paths are built while walking the tree, so each costs O(1).

Two rule sets say which issues are errors: ``"modelarts"`` (ModelArts' own reader:
``folder``, ``filename``, ``size``, ``segmented`` and each top-level object's ``difficult``
are required) and ``"devkit"`` (the PASCAL VOC devkit, where those are optional: a missing
one is a warning).

mafmt's extension for shapes ModelArts VOC has no element for: an object whose shape is a
:class:`~mafmt.model.MultiPolygon` or a :class:`~mafmt.model.Mask` is written with the
ModelArts shape ModelArts shows (the largest ring as ``<polygon>``, the mask's box as
``<bndbox>``) plus a ``<segmentation>`` element holding the exact COCO segmentation as JSON
text; reading such a pair gives the exact shape back.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from itertools import chain
from typing import Any

import orjson
from lxml import etree

from mafmt import lanes, limits, textcodec
from mafmt.errors import FormatError, LimitError, UnsafeXmlError
from mafmt.model import (
    SHAPE_KINDS,
    BndBox,
    Circle,
    Flags,
    Mask,
    MultiPolygon,
    Number,
    Origin,
    PlainObject,
    Point,
    Polygon,
    Shape,
    VocDocument,
    VocObject,
    VocSource,
)

__all__ = ["RULES", "parse_bytes", "parse_root", "parse_tree", "parse_tree_bytes", "plain_text_document",
           "plain_text_read", "plain_text_records", "safe_parser"]

#: the rule sets of :func:`parse_bytes`
RULES = ("modelarts", "devkit")

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INT = re.compile(r"^[+-]?\d+$")
_SUFFIX = re.compile(r"^([xy])(\d+)$")
_OBJECT_INTS = ("truncated", "occluded", "difficult")
_OBJECT_TEXTS = ("pose", "hard-reasons", "mask_color")
#: the fields the parser reads; a second one is ambiguous (ModelArts' reader takes one of them),
#: so it is warned about. A repeated unknown element is a list value (mafmt writes lists of
#: scalars that way) and is kept silently.
_DOCUMENT_TAGS = frozenset({"folder", "filename", "mask_source", "segmented", "size", "source"})
_OBJECT_TAGS = frozenset({"name", "properties", *_OBJECT_TEXTS, *_OBJECT_INTS, "confidence", "hard-coefficient",
                          "difficult-coefficient"})
_COORD_TAGS = frozenset({"xmin", "ymin", "xmax", "ymax", "x", "y", "cx", "cy", "r"})


def safe_parser() -> etree.XMLParser:
    """An lxml parser that never expands entities, loads a DTD or touches the network (one
    per thread: lxml parsers are not shared between threads)."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = _new_parser()
    return parser


_PARSERS = threading.local()


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


class _Ctx:
    """Collects the issues of one document: the first :data:`mafmt.limits.MAX_DOCUMENT_FINDINGS`,
    then only their number (a file of a million bad objects costs no million messages)."""

    def __init__(self, name: str | None, rules: str) -> None:
        self.name = name
        self.rules = rules
        self.issues: list[FormatError] = []
        self.unlisted: dict[str, int] = {}  # severity -> issues past the limit
        self.first_unlisted: int | None = None  # the line of the first of them
        self.plain_objects: list[int] = []  # the top-level objects read by the quick pass (0-based)

    def issue(self, el: Any, path: Any, reason: str, severity: str = "error") -> None:
        self.issue_at(getattr(el, "sourceline", None), path, reason, severity)

    def issue_at(self, line: int | None, path: Any, reason: str, severity: str = "error") -> None:
        if len(self.issues) >= limits.MAX_DOCUMENT_FINDINGS:
            if not self.unlisted:
                self.first_unlisted = line
            self.unlisted[severity] = self.unlisted.get(severity, 0) + 1
            return
        self.issues.append(FormatError(reason, file=self.name, line=line, path=str(path), severity=severity))

    def absorb(self, other: _Ctx) -> None:
        """Take the issues ``other`` collected (a quick pass that succeeded)."""
        self.issues += other.issues
        if other.unlisted:
            self.first_unlisted = self.first_unlisted or other.first_unlisted
            for severity, n in other.unlisted.items():
                self.unlisted[severity] = self.unlisted.get(severity, 0) + n

    def finish(self) -> list[FormatError]:
        """The issues, and one for those past the limit."""
        if self.unlisted:
            self.issues.append(unlisted_note(sum(self.unlisted.values()), self.name, self.first_unlisted,
                                             "error" if "error" in self.unlisted else "warning"))
        return self.issues

    def required(self, el: Any, path: Any, reason: str) -> None:
        """A field ModelArts requires and the devkit does not."""
        self.required_at(getattr(el, "sourceline", None), path, reason)

    def required_at(self, line: int | None, path: Any, reason: str) -> None:
        self.issue_at(line, path, reason, "error" if self.rules == "modelarts" else "warning")


def _text(el: Any) -> str:
    return (el.text or "").strip()


def _elements(el: Any) -> list[Any]:
    return [c for c in el if isinstance(c.tag, str)]


def _paths(parent_path: str, children: list[Any]) -> list[str]:
    """The element path of each child: objects and parts always indexed, other tags when
    repeated (one pass over the siblings)."""
    total = Counter(c.tag for c in children)
    seen: Counter[str] = Counter()
    out = []
    for c in children:
        seen[c.tag] += 1
        indexed = total[c.tag] > 1 or c.tag in ("object", "part")
        out.append(f"{parent_path}/{c.tag}[{seen[c.tag]}]" if indexed else f"{parent_path}/{c.tag}")
    return out


class _Paths:
    """The element paths of one element's children, built on first use (an issue or an
    object's origin needs them; a clean document costs nothing)."""

    __slots__ = ("_list", "kids", "parent")

    def __init__(self, parent: Any, kids: list[Any]) -> None:
        self.parent = parent  # the parent's path: a str, or an _At resolved when needed
        self.kids = kids
        self._list: list[str] | None = None

    def __getitem__(self, i: int) -> str:
        if self._list is None:
            self._list = _paths(str(self.parent), self.kids)
        return self._list[i]


class _At:
    """The path of child ``i`` of a :class:`_Paths`, as a value that becomes text only when used."""

    __slots__ = ("i", "paths")

    def __init__(self, paths: _Paths, i: int) -> None:
        self.paths, self.i = paths, i

    def __str__(self) -> str:
        return self.paths[self.i]


def _number(text: str) -> Number | None:
    if len(text) > limits.MAX_NUMBER_CHARS:
        return None
    if _INT.match(text):
        return int(text)
    if _NUMBER.match(text):
        value = float(text)
        return value if abs(value) < float("inf") else None
    return None


def _format_number(value: Number) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def node_to_value(el: Any) -> Any:
    """An unknown element as plain data: its text decoded (:mod:`mafmt.textcodec`), or a dict
    of children (``@attr``, ``#text``), repeated children as lists."""
    children = _elements(el)
    text = _text(el)
    if not children and not el.attrib:
        return textcodec.decode(text)
    out: dict[str, Any] = {f"@{k}": v for k, v in el.attrib.items()}
    for c in children:
        _add(out, c.tag, node_to_value(c))
    if text:
        out["#text"] = textcodec.decode(text)
    return _finish(out)


def _add(extra: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key``; a repeated element turns it into the list of its values (a marker tells such
    a list from a list value, until :func:`_finish` removes it)."""
    if key in extra:
        prev = extra[key]
        extra[key] = [*prev, value] if isinstance(prev, list) and key in extra.get("\0lists", ()) else [prev, value]
        extra.setdefault("\0lists", set()).add(key)
    else:
        extra[key] = value


def _finish(extra: dict[str, Any]) -> dict[str, Any]:
    extra.pop("\0lists", None)
    return extra


def parse_tree(data: bytes, name: str | None = None) -> Any:
    """The checked lxml root element of a VOC document.

    Raises:
        FormatError: not well-formed XML, empty, or the root is not ``annotation``.
        UnsafeXmlError: a DTD or entity declarations.
        LimitError: larger than :data:`mafmt.limits.MAX_XML_BYTES`.
    """
    if len(data) > limits.MAX_XML_BYTES:
        raise LimitError(f"document is larger than the limit of {limits.MAX_XML_BYTES} bytes", file=name)
    if not data.strip():
        raise FormatError("empty file: not a Pascal VOC document", file=name)
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        position: Any = exc.position
        raise FormatError(f"not well-formed XML: {exc.msg}", file=name, line=position[0] if position else None) from None
    except ValueError as exc:  # lxml refuses some inputs outright
        raise FormatError(f"not a readable XML document: {limits.clip(str(exc), 120)}", file=name) from None
    info: Any = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise UnsafeXmlError("DTD and entity declarations are not allowed", file=name, line=_doctype_line(data))
    if root.tag != "annotation":
        raise FormatError(f"root element is <{str(root.tag)[:60]}>, expected <annotation>", file=name,
                          line=getattr(root, "sourceline", None))
    return root


def parse_root(root: Any, name: str | None = None, *, rules: str = "modelarts") -> tuple[VocDocument, list[FormatError]]:
    """The document of a root element from :func:`parse_tree`, and its issues under ``rules``."""
    ctx = _Ctx(name, rules)
    doc = _plain_document(root, ctx) if lanes.PLAIN else None
    if doc is None:
        doc = _parse_document(root, ctx)
    doc.origin = Origin(name, None)
    return doc, ctx.finish()


def parse_bytes(data: bytes, name: str | None = None, *, rules: str = "modelarts") -> tuple[VocDocument, list[FormatError]]:
    """Parse a VOC document leniently.

    Returns:
        The document and the issues found (errors and warnings under ``rules``); issues
        never stop the parse.

    Raises:
        FormatError: not well-formed XML, empty, or the root is not ``annotation``.
        UnsafeXmlError: a DTD or entity declarations.
        LimitError: larger than :data:`mafmt.limits.MAX_XML_BYTES`.
    """
    found = plain_text_document(data, name, rules)
    if found is not None:
        return found
    return parse_tree_bytes(data, name, rules=rules)


def parse_tree_bytes(data: bytes, name: str | None = None, *,
                     rules: str = "modelarts") -> tuple[VocDocument, list[FormatError]]:
    """:func:`parse_bytes` without the text lane (for a caller whose text lane said no)."""
    return parse_root(parse_tree(data, name), name, rules=rules)


# --------------------------------------------------------------------------- plain documents

#: what a plain document holds: the standard fields, objects with a box or a polygon
_PLAIN_ROOT = frozenset({"folder", "filename", "source", "size", "segmented"})
_PLAIN_SOURCE = frozenset({"database", "annotation", "image"})
_PLAIN_SIZE = frozenset({"width", "height", "depth"})
_PLAIN_OBJECT = frozenset({"name", "pose", "truncated", "occluded", "difficult", "bndbox", "polygon"})
_BOX = frozenset({"xmin", "ymin", "xmax", "ymax"})
_BOX_ORDER = ["xmin", "ymin", "xmax", "ymax"]
_XY_TAGS = [f"{a}{i}" for i in range(1, 1025) for a in "xy"]
_COORDS = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:,-?[0-9]+(?:\.[0-9]+)?)*")  # (ASCII digits only)
#: a bit for each element an object may hold once (a set of the ones seen, as an int)
_OBJECT_BITS = {tag: 1 << i for i, tag in enumerate(sorted(_PLAIN_OBJECT))}
_HAS_ATTRIBUTE = etree.XPath("boolean(//@*)")


_UNLISTED = "in this document are not listed"


def unlisted_note(n: int | None, name: str | None, line: int | None, severity: str = "error") -> FormatError:
    """The finding that stands for the problems of a document past MAX_DOCUMENT_FINDINGS
    (``n`` of them, or None when they were not counted)."""
    what = f"{n} more problem(s)" if n is not None else "More problems"
    return FormatError(f"{what} {_UNLISTED} (at most {limits.MAX_DOCUMENT_FINDINGS} a document: "
                       "MAX_DOCUMENT_FINDINGS)", file=name, line=line, path="/annotation", severity=severity)


def is_unlisted_note(finding: FormatError) -> bool:
    return _UNLISTED in finding.reason and finding.path == "/annotation"


class _NotPlain(Exception):
    """The document needs the general parser."""


def _plain_text(el: Any) -> str:
    if len(el):
        raise _NotPlain
    return (el.text or "").strip()


def _plain_int(el: Any) -> int:
    return _int_of(_plain_text(el))


def _int_of(text: str) -> int:
    if len(text) <= limits.MAX_NUMBER_CHARS and (text.isdecimal() or _INT.match(text)):
        return int(text)
    raise _NotPlain


def _plain_coords(kids: list[Any]) -> list[Number]:
    """:func:`_plain_coord` of each of ``kids``: in one JSON decode when they are written as
    writers write them (digits, a sign, a decimal point: JSON reads ``358`` as an int and
    ``58.89`` as a float, as :func:`_coord_of` does), else one by one."""
    texts = []
    for k in kids:
        if len(k):
            raise _NotPlain
        texts.append((k.text or "").strip())
    joined = ",".join(texts)
    if _COORDS.fullmatch(joined) and max(map(len, texts)) <= limits.MAX_NUMBER_CHARS:
        values = _json_numbers(joined.encode(), len(texts))
        if values is not None:
            if max(map(abs, values)) > limits.MAX_COORDINATE:
                raise _NotPlain
            return values
    return [_coord_of(t) for t in texts]


def _json_numbers(joined: bytes, count: int) -> list[Number] | None:
    """The ``count`` numbers of ``joined`` (digits, a sign, a decimal point, separated by
    commas) in one JSON decode, as :func:`_coord_of` reads each: JSON reads ``358`` as an int
    and ``58.89`` as a float, and its floats are Python's. None where JSON refuses them
    (leading zeros, past 64 bits) or finds another count (a text that held a comma)."""
    try:
        values: list[Number] = orjson.loads(b"[" + joined + b"]")
    except orjson.JSONDecodeError:
        return None
    return values if len(values) == count else None


def _xy_tags(n: int) -> list[str]:
    """``["x1", "y1", ..., "xn", "yn"]``."""
    return _XY_TAGS[:2 * n] if n <= len(_XY_TAGS) // 2 else [f"{a}{i}" for i in range(1, n + 1) for a in "xy"]


def _plain_coord(el: Any) -> Number:
    if len(el):
        raise _NotPlain
    return _coord_of((el.text or "").strip())


def _coord_of(text: str) -> Number:
    if len(text) > limits.MAX_NUMBER_CHARS:
        raise _NotPlain
    if text.isdecimal():
        v: Number | None = int(text)
    else:
        head, dot, tail = text.partition(".")
        v = float(text) if dot and head.isdecimal() and tail.isdecimal() else _number(text)
    if v is None or abs(v) > limits.MAX_COORDINATE:
        raise _NotPlain
    return v


def document_issues(root: Any, name: str | None = None, *,
                    rules: str = "modelarts") -> tuple[list[FormatError], frozenset[int]]:
    """The reader's issues of ``root`` (from :func:`parse_tree`) and the indices (0-based) of
    its plain objects (as :func:`_plain_document` takes them, each read in one quick pass). A
    plain object breaks no rule of the ``voc`` schema's ``object`` items, so validation
    checks only the rest of the document against the schema."""
    ctx = _Ctx(name, rules)
    _parse_document(root, ctx)
    return ctx.finish(), frozenset(ctx.plain_objects)


def _plain_document(root: Any, ctx: _Ctx) -> VocDocument | None:
    """What :func:`_parse_document` gives for a plain document (the standard fields; objects
    with a name, the VOC flags and one box or polygon; no attributes; nothing the ``voc``
    schema refuses), in one quick pass; None for anything else, or anything with an issue
    but a missing ``<difficult>``."""
    if _HAS_ATTRIBUTE(root):
        return None
    doc = VocDocument()
    seen: set[str] = set()
    issues = _Ctx(ctx.name, ctx.rules)  # kept only if the document is plain
    try:
        for el in root:
            tag = el.tag
            if tag == "object":
                doc.objects.append(_plain_object(el, len(doc.objects) + 1, issues))
                continue
            if tag in seen or tag not in _PLAIN_ROOT:
                return None
            seen.add(tag)
            if tag == "size":
                for c in el:
                    if c.tag not in _PLAIN_SIZE or getattr(doc, c.tag) is not None:
                        return None
                    value = _plain_int(c)
                    if not 0 <= value <= limits.MAX_COORDINATE or "-" in c.text:  # "-0": the schema says no
                        return None
                    setattr(doc, c.tag, value)
                doc.wire["size"] = True
            elif tag == "source":
                doc.source = src = VocSource()
                if not len(el) and (el.text or "").strip():  # text where the schema wants elements
                    return None
                for c in el:
                    if c.tag not in _PLAIN_SOURCE or getattr(src, c.tag) is not None:
                        return None
                    setattr(src, c.tag, _plain_text(c))
            elif tag == "segmented":
                text = _plain_text(el)
                if text != "0" and text != "1":  # "+1", "-0": the schema says no
                    return None
                doc.segmented = int(text)
            else:
                setattr(doc, tag, _plain_text(el))
    except _NotPlain:
        return None
    if not doc.folder or not doc.filename or doc.width is None or doc.height is None or doc.segmented is None:
        return None
    ctx.absorb(issues)
    return doc


def _plain_object(el: Any, n: int, ctx: _Ctx) -> VocObject:
    path = f"/annotation/object[{n}]"
    name = pose = truncated = occluded = difficult = None
    shape: BndBox | Polygon | None = None
    seen = 0
    for c in el:
        tag = c.tag
        bit = _OBJECT_BITS.get(tag, 0)
        if not bit or seen & bit:
            raise _NotPlain
        seen |= bit
        if tag == "bndbox":
            if shape is not None:
                raise _NotPlain
            kids = c[:]
            if [k.tag for k in kids] == _BOX_ORDER:  # (as writers give them: one decode)
                shape = BndBox(*_plain_coords(kids))
                continue
            box: dict[str, Number] = {}
            for k in kids:
                ktag = k.tag
                if ktag not in _BOX or ktag in box:
                    raise _NotPlain
                box[ktag] = _plain_coord(k)
            if len(box) != 4:
                raise _NotPlain
            shape = BndBox(box["xmin"], box["ymin"], box["xmax"], box["ymax"])
        elif tag == "polygon":
            if shape is not None:
                raise _NotPlain
            shape = _plain_polygon(c)
        elif tag == "name":
            name = _plain_text(c)
        elif tag == "pose":
            pose = _plain_text(c)
        elif tag == "truncated":
            truncated = _plain_int(c)
        elif tag == "occluded":
            occluded = _plain_int(c)
        else:
            difficult = _plain_int(c)
    if shape is None or not name:
        raise _NotPlain
    if difficult is None:
        ctx.required(el, f"{path}/difficult", "<difficult> is missing")
    return VocObject.plain(name, shape, pose, truncated, occluded, difficult,
                           origin=Origin(ctx.name, el.sourceline, path))


def _quick_object(el: Any, n: int, ctx: _Ctx) -> VocObject | None:
    """What :func:`_parse_object` gives for the ``n``-th object of a document that is not
    plain, when the object itself is (as :func:`_plain_document` takes one, but for
    attributes, which neither path reads on the elements a plain object holds); None
    otherwise. Its issue (a missing ``<difficult>``) comes later, from the document's checks,
    as it does for any object."""
    try:
        return _plain_object(el, n, _Ctx(ctx.name, ctx.rules))
    except _NotPlain:
        return None


def _plain_polygon(el: Any) -> Polygon:
    kids = el[:]
    n = len(kids) >> 1
    if n >= 3 and len(kids) == 2 * n and [k.tag for k in kids] == _xy_tags(n):  # x1 y1 x2 y2 ...: one decode
        values = _plain_coords(kids)
        return Polygon(tuple(zip(values[0::2], values[1::2], strict=True)))
    xs: dict[str, Number] = {}
    ys: dict[str, Number] = {}
    for k in kids:
        tag = k.tag
        axis, index = tag[:1], tag[1:]
        into = xs if axis == "x" else ys if axis == "y" else None
        if into is None or not index.isdecimal() or not index.isascii() or index[0] == "0" or index in into:
            raise _NotPlain
        into[index] = _plain_coord(k)
    return _points_polygon(xs, ys)


# --------------------------------------------------------------------------- plain documents as text

#: the bytes a plain text document is made of: printable ASCII, tabs and newlines, and no ``&``
#: (no entity, no character reference; no carriage return, which XML turns into a newline);
#: ``data.translate(None, _TEXT_LANE_BYTES)`` is what else it holds (10x faster than a regex search)
_TEXT_LANE_BYTES = bytes([0x09, 0x0A, *(c for c in range(0x20, 0x7F) if c != 0x26)])
_T = rb"([^<]*)"  # an element's text (no markup: a comment, CDATA or a child element is not plain)
_DECLARATION = re.compile(
    rb"<\?xml version=(['\"])1\.0\1"
    rb"(?: encoding=(['\"])(?i:utf-8|us-ascii|ascii|iso-8859-1|latin-1|gbk|gb2312|gb18030)\2)?"
    rb"(?: standalone=(['\"])(?:yes|no)\3)?\s*\?>")
_ROOT_OPEN = re.compile(rb"\s*<annotation>")
_SPACE = re.compile(rb"\s*")
_ROOT_FIELD = re.compile(rb"<(folder|filename|segmented)>" + _T + rb"</\1>")
_SIZE = re.compile(rb"<size>((?:\s*<(?:width|height|depth)>[^<]*</(?:width|height|depth)>)*)\s*</size>")
_SIZE_ITEM = re.compile(rb"<(width|height|depth)>([^<]*)</(width|height|depth)>")
_SOURCE = re.compile(rb"<source>((?:\s*<(?:database|annotation|image)>[^<]*</(?:database|annotation|image)>)*)"
                     rb"\s*</source>")
_SOURCE_ITEM = re.compile(rb"<(database|annotation|image)>([^<]*)</(database|annotation|image)>")
#: the fields of a document's head in the order standard writers give them, with the values
#: the quick pass takes (digits for the size, 0 or 1 for segmented): one match for all of them
_HEAD = re.compile(
    rb"\s*<folder>([^<]*)</folder>\s*<filename>([^<]*)</filename>\s*<source>\s*<database>([^<]*)</database>"
    rb"\s*</source>\s*<size>\s*<width>\s*([0-9]+)\s*</width>\s*<height>\s*([0-9]+)\s*</height>"
    rb"\s*<depth>\s*([0-9]+)\s*</depth>\s*</size>\s*<segmented>\s*([01])\s*</segmented>")
_HEAD_TAGS = frozenset({b"folder", b"filename", b"source", b"size", b"segmented"})
_S = rb"([^<]*)"  # a text (stripped by the reader: a lazy pattern that strips it costs the lane 10 %)
_I = rb"\s*([+-]?[0-9]+)\s*"  # an integer
_N = rb"\s*(-?[0-9]+(?:\.[0-9]+)?)\s*"  # a coordinate in the forms writers give (others: the tree)
#: a plain object in the order standard writers give its elements (any other order: the tree)
_OBJECT = re.compile(
    rb"<object>\s*<name>" + _S + rb"</name>"
    rb"(?:\s*<pose>" + _S + rb"</pose>)?"
    rb"(?:\s*<truncated>" + _I + rb"</truncated>)?"
    rb"(?:\s*<occluded>" + _I + rb"</occluded>)?"
    rb"(?:\s*<difficult>" + _I + rb"</difficult>)?"
    rb"\s*(?:<bndbox>\s*<xmin>" + _N + rb"</xmin>\s*<ymin>" + _N + rb"</ymin>\s*<xmax>" + _N + rb"</xmax>"
    rb"\s*<ymax>" + _N + rb"</ymax>\s*</bndbox>"
    rb"|<polygon>((?:\s*<[xy][0-9]+>[^<]*</[xy][0-9]+>)*)\s*</polygon>)"  # (its points: _text_ring)
    rb"\s*</object>")
_POINT = re.compile(rb"<([xy])([0-9]+)>" + _N + rb"</([xy][0-9]+)>")
#: a point as standard writers give it: ``<xK>`` then ``<yK>``
_PAIR = re.compile(rb"<x([0-9]+)>" + _N + rb"</x\1>\s*<y\1>" + _N + rb"</y\1>")
_ORDINALS = [b"%d" % i for i in range(1, 1025)]


def plain_text_document(data: bytes, name: str | None = None,
                        rules: str = "modelarts") -> tuple[VocDocument, list[FormatError]] | None:
    """What :func:`parse_bytes` gives for a plain document written the way standard writers
    write it, read from its text by regular expressions (no element tree, no element
    objects); None for anything else, which then takes the tree.

    It takes a document of printable ASCII (no entity, comment, CDATA, processing instruction,
    attribute or DOCTYPE; an XML declaration in one of the usual forms), whose elements are the
    ones :func:`_plain_document` takes, each object's in the order name, pose, truncated,
    occluded, difficult, then its box or polygon; every value is checked as the tree's quick
    pass checks it. The tests compare the two on generated documents. None for every document
    when the lanes are off (:data:`mafmt.lanes.PLAIN`)."""
    found = _text_matches(data)
    return _document_of(found[0], found[1], data, name, rules) if found is not None else None


def _document_of(doc: VocDocument, matches: list[Any], data: bytes, name: str | None,
                 rules: str) -> tuple[VocDocument, list[FormatError]] | None:
    """:func:`plain_text_document` of the scan of ``data`` (:func:`_text_matches`): ``doc``
    with its objects."""
    ctx = _Ctx(name, rules)
    line, counted = 1, 0
    objects = doc.objects
    try:
        for n, m in enumerate(matches, 1):
            pos = m.start()
            line += data.count(b"\n", counted, pos)
            counted = pos
            objects.append(_text_object(m, n, line, ctx))
    except _NotPlain:
        return None
    doc.origin = Origin(name, None)
    return doc, ctx.finish()


def plain_text_records(data: bytes, name: str | None = None, rules: str = "modelarts") -> tuple[
        VocDocument, list[PlainObject], list[Flags], list[FormatError]] | None:
    """:func:`plain_text_document`'s answer in compact form, for the same documents: the
    document without its objects (``origin`` unset), each object as a
    :data:`~mafmt.model.PlainObject` (no extra keys; a polygon's box is its ring's extent) and
    its :data:`~mafmt.model.Flags`, and the issues."""
    found = plain_text_read(data, name, rules)
    return found[:4] if found is not None else None


def plain_text_read(data: bytes, name: str | None = None, rules: str = "modelarts") -> tuple[
        VocDocument, list[PlainObject], list[Flags], list[FormatError], Callable[[], VocDocument]] | None:
    """:func:`plain_text_records`, and a function that gives the document
    :func:`plain_text_document` gives, built from the same scan of the text when it is called."""
    found = _text_matches(data)
    if found is None:
        return None
    doc, matches = found
    ctx = _Ctx(name, rules)
    records: list[PlainObject] = []
    flags: list[Flags] = []
    known = _FLAGS_READ
    try:
        for n, m in enumerate(matches, 1):
            label, pose, truncated, occluded, difficult, xmin, ymin, xmax, ymax, points = m.groups()
            label = label.strip()
            if not label:
                raise _NotPlain
            if points is None:
                x0, y0, x1, y1 = _corners_bytes(xmin, ymin, xmax, ymax)
                records.append((label.decode(), x0, y0, x1, y1, None, ()))
            else:
                ring = _text_ring(points)
                xs, ys = ring[0::2], ring[1::2]
                records.append((label.decode(), min(xs), min(ys), max(xs), max(ys), ring, ()))
            raw = (pose, truncated, occluded, difficult)
            flag = known.get(raw)
            if flag is None:
                flag = (pose.strip().decode() if pose is not None else None, _int_bytes(truncated), _int_bytes(occluded),
                        _int_bytes(difficult))
                if len(known) < 256 and (pose is None or len(pose) <= 256):  # (short texts only: bounded)
                    known[raw] = flag
            flags.append(flag)
            if difficult is None:
                ctx.required_at(data.count(b"\n", 0, m.start()) + 1, f"/annotation/object[{n}]/difficult",
                                "<difficult> is missing")
    except _NotPlain:
        return None

    def document() -> VocDocument:
        full = doc.copy()
        full.objects, full.wire = [], dict(doc.wire)
        built = _document_of(full, matches, data, name, rules)
        assert built is not None  # (its objects passed the same checks)
        return built[0]

    return doc, records, flags, ctx.finish(), document


#: the flags of the few spellings datasets have, by their bytes (at most 256, with short poses)
_FLAGS_READ: dict[tuple[bytes | None, ...], Flags] = {}


def _text_matches(data: bytes) -> tuple[VocDocument, list[Any]] | None:
    """The document of a plain text without its objects, and the match of each object; None
    for a document that is not plain (see :func:`plain_text_document`)."""
    if not lanes.PLAIN or len(data) > limits.MAX_XML_BYTES:
        return None  # (lanes off; a document over the limit is refused by the tree)
    if data.translate(None, _TEXT_LANE_BYTES) or b"]]>" in data:  # ("]]>" is not allowed in text)
        return None
    pos = 0
    if data.startswith(b"<?"):
        m = _DECLARATION.match(data)
        if m is None:
            return None
        pos = m.end()
    m = _ROOT_OPEN.match(data, pos)
    if m is None:
        return None
    pos = m.end()
    stop = data.rfind(b"</annotation>")
    if stop < pos or data[stop + len(b"</annotation>"):].strip():
        return None
    doc = VocDocument()
    seen: set[bytes] = set()
    m = _HEAD.match(data, pos, stop)
    if m is not None:  # (what the loop below reads of these fields, in one step)
        folder, filename, database, width, height, depth, segmented = m.groups()
        most, bound = limits.MAX_NUMBER_CHARS, limits.MAX_COORDINATE
        if len(width) > most or len(height) > most or len(depth) > most:
            return None
        doc.width, doc.height, doc.depth = int(width), int(height), int(depth)
        if doc.width > bound or doc.height > bound or doc.depth > bound:
            return None
        doc.folder, doc.filename = folder.decode().strip(), filename.decode().strip()
        doc.source = VocSource(database=database.decode().strip())
        doc.segmented = int(segmented)
        doc.wire["size"] = True
        seen |= _HEAD_TAGS
        pos = m.end()
    matches = []
    space, match_object = _SPACE.match, _OBJECT.match
    while True:
        pos = space(data, pos, stop).end()  # type: ignore[union-attr]  # (\s* always matches)
        if pos >= stop:
            break
        if data.startswith(b"<object>", pos):
            m = match_object(data, pos, stop)
            if m is None:
                return None
            matches.append(m)
        else:
            m = _ROOT_FIELD.match(data, pos, stop) or _SIZE.match(data, pos, stop) or _SOURCE.match(data, pos, stop)
            if m is None:
                return None
            tag = data[pos + 1:data.index(b">", pos)]
            if tag in seen:
                return None
            seen.add(tag)
            try:
                if not _text_field(doc, tag, m):
                    return None
            except _NotPlain:
                return None
        pos = m.end()
    if not doc.folder or not doc.filename or doc.width is None or doc.height is None or doc.segmented is None:
        return None
    return doc, matches


def _text_field(doc: VocDocument, tag: bytes, m: Any) -> bool:
    """Set a top-level field of ``doc`` from its match; False where the quick pass says no."""
    if tag == b"size":
        for item in _SIZE_ITEM.finditer(m.group(1)):
            key, raw, close = item.groups()
            if key != close or getattr(doc, key.decode()) is not None or b"-" in raw:  # ("-0": the schema says no)
                return False
            value = _int_of(raw.decode().strip())
            if not 0 <= value <= limits.MAX_COORDINATE:
                return False
            setattr(doc, key.decode(), value)
        doc.wire["size"] = True
    elif tag == b"source":
        doc.source = src = VocSource()
        for item in _SOURCE_ITEM.finditer(m.group(1)):
            key, raw, close = item.groups()
            if key != close or getattr(src, key.decode()) is not None:
                return False
            setattr(src, key.decode(), raw.decode().strip())
    elif tag == b"segmented":
        text = m.group(2).decode().strip()
        if text != "0" and text != "1":  # "+1", "-0": the schema says no
            return False
        doc.segmented = int(text)
    else:
        setattr(doc, tag.decode(), m.group(2).decode().strip())
    return True


def _text_object(m: Any, n: int, line: int, ctx: _Ctx) -> VocObject:
    name, pose, truncated, occluded, difficult, xmin, ymin, xmax, ymax, points = m.groups()
    name = name.strip()
    if not name:
        raise _NotPlain
    path = f"/annotation/object[{n}]"
    shape = BndBox(*_corners_bytes(xmin, ymin, xmax, ymax)) if points is None else _polygon_of(_text_ring(points))
    if difficult is None:
        ctx.required_at(line, f"{path}/difficult", "<difficult> is missing")
    return VocObject.plain(name.decode(), shape, pose.strip().decode() if pose is not None else None,
                           _int_bytes(truncated), _int_bytes(occluded), _int_bytes(difficult),
                           origin=Origin(ctx.name, line, path))


def _int_bytes(raw: bytes | None) -> int | None:
    """:func:`_int_of` of an integer's digits (and sign) as the pattern took them."""
    if raw is None:
        return None
    if len(raw) > limits.MAX_NUMBER_CHARS:
        raise _NotPlain
    return int(raw)


def _corners_bytes(xmin: bytes, ymin: bytes, xmax: bytes, ymax: bytes) -> tuple[Number, Number, Number, Number]:
    """The corners of four coordinates as :data:`_N` took them, each read as :func:`_coord_bytes`
    reads it: in one JSON decode (JSON reads ``358`` as an int and ``58.89`` as a float, as
    Python does), else one by one (leading zeros, numbers past 64 bits). (The checks of a
    polygon's run of numbers, written for four: the shared form cost the lane 7-8 % CPU.)"""
    most = limits.MAX_NUMBER_CHARS
    if len(xmin) <= most and len(ymin) <= most and len(xmax) <= most and len(ymax) <= most:
        try:
            x0, y0, x1, y1 = orjson.loads(b"[%b,%b,%b,%b]" % (xmin, ymin, xmax, ymax))
        except orjson.JSONDecodeError:
            pass
        else:
            bound = limits.MAX_COORDINATE
            if not (-bound <= x0 <= bound and -bound <= y0 <= bound and -bound <= x1 <= bound
                    and -bound <= y1 <= bound):
                raise _NotPlain
            return x0, y0, x1, y1
    return _coord_bytes(xmin), _coord_bytes(ymin), _coord_bytes(xmax), _coord_bytes(ymax)


def _coord_bytes(raw: bytes) -> Number:
    """:func:`_coord_of` of a coordinate as :data:`_N` took it (digits, a sign, a decimal point)."""
    if len(raw) > limits.MAX_NUMBER_CHARS:
        raise _NotPlain
    v: Number = float(raw) if b"." in raw else int(raw)
    if abs(v) > limits.MAX_COORDINATE:
        raise _NotPlain
    return v


def _points_polygon(xs: dict[str, Number], ys: dict[str, Number]) -> Polygon:
    """The polygon of points ``1..n`` (at least 3, each with both coordinates)."""
    n = len(xs)
    if n < 3 or len(ys) != n:
        raise _NotPlain
    try:
        return Polygon(tuple((xs[str(i)], ys[str(i)]) for i in range(1, n + 1)))
    except KeyError:
        raise _NotPlain from None


def _polygon_of(ring: list[Number]) -> Polygon:
    """The polygon of a flat ring ``[x1, y1, x2, y2, ...]``."""
    return Polygon(tuple(zip(ring[0::2], ring[1::2], strict=True)))


def _ordinals(n: int) -> list[bytes]:
    """``[b"1", ..., b"n"]``."""
    return _ORDINALS[:n] if n <= len(_ORDINALS) else [b"%d" % i for i in range(1, n + 1)]


def _text_ring(body: bytes) -> list[Number]:
    """The points of a plain ``<polygon>`` as a flat ring ``[x1, y1, x2, y2, ...]``: in one pass
    when they come as standard writers give them (``x1 y1 x2 y2 ...``, every element in a
    pair), else point by point."""
    pairs = _PAIR.findall(body)
    n = len(pairs)
    if n >= 3 and body.count(b"<") == 4 * n:
        raws = list(chain.from_iterable(pairs))  # (index, x, y, index, x, y, ...)
        if raws[0::3] == _ordinals(n):
            del raws[0::3]
            if max(map(len, raws)) > limits.MAX_NUMBER_CHARS:
                raise _NotPlain
            ring: list[Number] = _numbers(raws) if b"." in body else list(map(int, raws))
            if max(map(abs, ring)) > limits.MAX_COORDINATE:
                raise _NotPlain
            return ring
    return _points_one_by_one(body)


def _numbers(raws: list[bytes]) -> list[Number]:
    """The coordinates as :func:`_coord_bytes` reads them (a decimal point: a float, else an
    int): in one JSON decode (:func:`_json_numbers`), else a number at a time."""
    values = _json_numbers(b",".join(raws), len(raws))
    return values if values is not None else [float(r) if b"." in r else int(r) for r in raws]


def _points_one_by_one(body: bytes) -> list[Number]:
    """The flat ring of a plain ``<polygon>``'s points, its elements read one at a time (any order)."""
    xs: dict[str, Number] = {}
    ys: dict[str, Number] = {}
    points = _POINT.findall(body)
    if 2 * len(points) != body.count(b"<"):  # (an element whose text is not a coordinate)
        raise _NotPlain
    for axis, index, raw, close in points:
        if close != axis + index:
            raise _NotPlain
        into = xs if axis == b"x" else ys
        key = index.decode()
        if key[0] == "0" or key in into:
            raise _NotPlain
        into[key] = _coord_bytes(raw)
    return [c for point in _points_polygon(xs, ys).points for c in point]  # (rare: no need to be quick)


def _doctype_line(data: bytes) -> int:
    at = data.find(b"<!DOCTYPE")
    return data.count(b"\n", 0, at) + 1 if at >= 0 else 1


def _parse_document(root: Any, ctx: _Ctx) -> VocDocument:
    doc = VocDocument()
    raw: dict[str, str] = {}
    seen: set[str] = set()
    children = _elements(root)
    paths = _Paths("/annotation", children)
    objects = 0
    for i, el in enumerate(children):
        path = _At(paths, i)
        tag = el.tag
        if tag in seen and tag != "object":
            _add(doc.extra, tag, node_to_value(el))
            if tag in _DOCUMENT_TAGS:  # a repeated unknown element is a list, as mafmt writes one
                ctx.issue(el, path, f"repeated <{tag}> kept as an unknown element", "warning")
            continue
        seen.add(tag)
        if tag in ("folder", "filename", "mask_source"):
            setattr(doc, tag, _text(el))
        elif tag == "segmented":
            _set_int(doc, "segmented", el, path, raw, ctx)
        elif tag == "size":
            size_extra: dict[str, Any] = {}
            kids = _elements(el)
            kpaths = _Paths(path, kids)
            for j, c in enumerate(kids):
                if c.tag in ("width", "height", "depth") and getattr(doc, c.tag) is None and c.tag not in raw:
                    _set_int(doc, c.tag, c, _At(kpaths, j), raw, ctx, size=True)
                else:
                    _add(size_extra, c.tag, node_to_value(c))
            if size_extra:
                doc.wire["size_extra"] = _finish(size_extra)
            doc.wire["size"] = True
        elif tag == "source":
            doc.source = _parse_source(el)
        elif tag == "object":
            objects += 1
            obj = _quick_object(el, objects, ctx) if lanes.PLAIN else None
            if obj is None:
                obj = _parse_object(el, f"/annotation/object[{objects}]", ctx, 0)
            else:
                ctx.plain_objects.append(objects - 1)
            doc.objects.append(obj)
        else:
            _add(doc.extra, tag, node_to_value(el))
    _finish(doc.extra)
    if raw:
        doc.wire["raw"] = raw
    if children:
        _check_document(root, doc, raw, ctx)
    return doc


def _set_int(obj: Any, attr: str, el: Any, path: Any, raw: dict[str, str], ctx: _Ctx, *, size: bool = False) -> None:
    text = _text(el)
    if _INT.match(text) and len(text) <= limits.MAX_NUMBER_CHARS:
        value = int(text)
        if size and not 0 <= value <= limits.MAX_COORDINATE:
            raw[el.tag] = text
            ctx.issue(el, path, f"{value} is outside 0..{limits.MAX_COORDINATE}")
            return
        setattr(obj, attr, value)
    else:
        raw[el.tag] = text
        ctx.issue(el, path, "empty value" if not text else f"expected an integer, got {limits.clip(text)}")


def _parse_source(el: Any) -> VocSource:
    src = VocSource()
    for c in _elements(el):
        if c.tag in ("database", "annotation", "image") and getattr(src, c.tag) is None:
            setattr(src, c.tag, _text(c))
        else:
            _add(src.extra, c.tag, node_to_value(c))
    _finish(src.extra)
    return src


def _parse_object(el: Any, path: str, ctx: _Ctx, depth: int) -> VocObject:
    obj = VocObject(origin=Origin(ctx.name, getattr(el, "sourceline", None), path))
    raw: dict[str, str] = {}
    shapes = 0
    seen: set[str] = set()
    kids = _elements(el)
    paths = _Paths(path, kids)
    parts = 0
    for i, c in enumerate(kids):
        tag = c.tag
        cpath = _At(paths, i)
        if tag == "part":
            parts += 1
            ppath = f"{path}/part[{parts}]"
            if depth + 1 >= limits.MAX_XML_DEPTH:
                raise LimitError(f"parts nested deeper than {limits.MAX_XML_DEPTH}", file=ctx.name,
                                 line=c.sourceline, path=ppath)
            obj.parts.append(_parse_object(c, ppath, ctx, depth + 1))
            continue
        if tag in SHAPE_KINDS:
            shapes += 1
            shape = _parse_shape(c, cpath, obj, ctx) if shapes == 1 else None
            if shape is not None:
                obj.shape = shape
            else:
                _add(obj.extra, tag, node_to_value(c))
                if shapes > 1:
                    ctx.issue(c, cpath, "more than one shape element in one object (kept as an unknown element)")
            continue
        if tag in seen:
            _add(obj.extra, tag, node_to_value(c))
            if tag in _OBJECT_TAGS:  # a repeated unknown element is a list, as mafmt writes one
                ctx.issue(c, cpath, f"repeated <{tag}> kept as an unknown element", "warning")
            continue
        seen.add(tag)
        text = _text(c)
        if tag == "name":
            obj.name = text
        elif tag == "properties":
            _parse_properties(c, cpath, obj, ctx)
        elif tag in _OBJECT_TEXTS:
            setattr(obj, tag.replace("-", "_"), text)
        elif tag in _OBJECT_INTS:
            _set_int(obj, tag, c, cpath, raw, ctx)
        elif tag in ("confidence", "hard-coefficient", "difficult-coefficient"):
            attr = "confidence" if tag == "confidence" else "hard_coefficient"
            value = _number(text)
            if getattr(obj, attr) is not None:
                _add(obj.extra, tag, text)
            elif value is None:
                raw[tag] = text
                ctx.issue(c, cpath, f"expected a number, got {limits.clip(text)}")
            else:
                setattr(obj, attr, value)
                if tag == "difficult-coefficient":
                    obj.wire["coefficient_tag"] = tag
        else:
            _add(obj.extra, tag, node_to_value(c))
    _finish(obj.extra)
    if raw:
        obj.wire["raw"] = raw
    if shapes == 0:
        ctx.issue(el, path, "no shape element (bndbox, polygon, ...)")
    _lift_segmentation(obj)
    return obj


def _lift_segmentation(obj: VocObject) -> None:
    """mafmt's ``<segmentation>`` beside the shape ModelArts shows -> the exact shape."""
    seg = obj.extra.get("segmentation")
    if seg is None or obj.shape is None:
        return
    if type(obj.shape) is Polygon and isinstance(seg, list) and len(seg) > 1:
        rings = _rings(seg)
        if rings is not None:
            obj.shape = MultiPolygon(rings)
            del obj.extra["segmentation"]
    elif type(obj.shape) is BndBox and isinstance(seg, dict):
        try:
            mask = Mask.from_coco(seg)
        except ValueError:
            return
        obj.shape = mask
        del obj.extra["segmentation"]


def _rings(seg: list[Any]) -> tuple[tuple[tuple[Number, Number], ...], ...] | None:
    rings = []
    for ring in seg:
        if not isinstance(ring, list) or len(ring) < 6 or len(ring) % 2:
            return None
        if not all(type(v) in (int, float) for v in ring):
            return None
        rings.append(tuple((ring[k], ring[k + 1]) for k in range(0, len(ring), 2)))
    return tuple(rings)


def _coords(el: Any, path: Any, ctx: _Ctx) -> tuple[dict[str, Number], dict[str, Any]] | None:
    values: dict[str, Number] = {}
    unknown: dict[str, Any] = {}
    ok = True
    kids = _elements(el)
    paths = _Paths(path, kids)
    for i, c in enumerate(kids):
        cpath = _At(paths, i)
        text = _text(c)
        v = _number(text)
        if v is not None and abs(v) > limits.MAX_COORDINATE:
            ctx.issue(c, cpath, f"{limits.clip(text)} is outside -{limits.MAX_COORDINATE}..{limits.MAX_COORDINATE}")
            ok = False
            continue
        if v is None or c.tag in values:
            if c.tag in _COORD_TAGS or _SUFFIX.match(c.tag):
                ctx.issue(c, cpath, f"expected a number, got {limits.clip(text)}" if v is None else f"repeated <{c.tag}>")
                ok = False
            else:
                _add(unknown, c.tag, node_to_value(c))
            continue
        values[c.tag] = v
    return (values, _finish(unknown)) if ok else None


def _parse_shape(el: Any, path: Any, obj: VocObject, ctx: _Ctx) -> Shape | None:
    parsed = _coords(el, path, ctx)
    if parsed is None:
        return None
    values, unknown = parsed
    kind = el.tag

    def need(*names: str) -> list[Number] | None:
        missing = [n for n in names if n not in values]
        if missing:
            ctx.issue(el, path, "missing " + ", ".join(f"<{n}>" for n in missing))
            return None
        return [values.pop(n) for n in names]

    shape: Shape | None = None
    if kind == "bndbox":
        got = need("xmin", "ymin", "xmax", "ymax")
        shape = BndBox(*got) if got else None
    elif kind == "circle":
        got = need("cx", "cy", "r")
        shape = Circle(*got) if got else None
    elif kind == "point":
        if "x" not in values and "x1" in values and "y1" in values:
            got = [values.pop("x1"), values.pop("y1")]
            obj.wire["point_tags"] = ("x1", "y1")
        else:
            got = need("x", "y")
        shape = Point(*got) if got else None
    else:
        pairs: dict[int, dict[str, Number]] = {}
        for tag in list(values):
            m = _SUFFIX.match(tag)
            if m and len(m.group(2)) < 10:
                pairs.setdefault(int(m.group(2)), {})[m.group(1)] = values.pop(tag)
        bad = [i for i, p in pairs.items() if len(p) != 2]
        if bad:
            ctx.issue(el, path, f"vertex {bad[0]} has only one coordinate")
            return None
        pts = tuple((pairs[i]["x"], pairs[i]["y"]) for i in sorted(pairs))
        if sorted(pairs) != list(range(1, len(pairs) + 1)):
            ctx.issue(el, path, "vertex numbers are not 1..n without gaps", "warning")
        need_n = {"line": 2, "dashed": 2, "polyline": 2, "polygon": 3}[kind]
        exact = kind in ("line", "dashed")
        if len(pts) < need_n or (exact and len(pts) != 2):
            ctx.issue(el, path, f"<{kind}> needs {'exactly' if exact else 'at least'} {need_n} points, got {len(pts)}")
            if not pts:
                return None
        shape = SHAPE_KINDS[kind](pts)
    if shape is None:
        return None
    for tag, value in values.items():
        _add(unknown, tag, _format_number(value))
    if unknown:
        obj.wire["shape_extra"] = _finish(unknown)
    return shape


def _parse_properties(el: Any, path: Any, obj: VocObject, ctx: _Ctx) -> None:
    props: dict[str, str] = {}
    forms: dict[str, str] = {}
    dups: list[tuple[str, str, str]] = []
    kids = _elements(el)
    paths = _Paths(path, kids)
    for i, c in enumerate(kids):
        cpath = _At(paths, i)
        inner = {k.tag: k for k in _elements(c)}
        if c.tag == "property" and inner:
            key = _text(inner["key"]) if "key" in inner else ""
            value = _text(inner["value"]) if "value" in inner else ""
            form = "B"
        else:
            key, value, form = c.tag, _text(c), "A"
        if not key or not value:
            ctx.issue(c, cpath, "empty property " + ("key" if not key else f"value for {limits.clip(key)}"))
        if key in props:
            dups.append((key, value, form))
            ctx.issue(c, cpath, f"duplicate property {limits.clip(key)}", "warning")
            continue
        props[key] = value
        forms[key] = form
    obj.properties = props
    obj.wire["forms"] = forms
    if dups:
        obj.wire["dup_props"] = dups


def _check_document(root: Any, doc: VocDocument, raw: dict[str, str], ctx: _Ctx) -> None:
    """The document-level rules (objects were checked while parsed)."""
    for tag in ("folder", "filename"):
        if not getattr(doc, tag):
            ctx.required(root, f"/annotation/{tag}", f"<{tag}> is missing or empty")
    if not doc.wire.get("size"):
        ctx.required(root, "/annotation/size", "<size> is missing")
    else:
        for tag in ("width", "height"):
            if getattr(doc, tag) is None and tag not in raw:
                ctx.required(root, f"/annotation/size/{tag}", f"<size>/<{tag}> is missing")
    if doc.segmented is None and "segmented" not in raw:
        ctx.required(root, "/annotation/segmented", "<segmented> is missing")
    objects = [c for c in root if c.tag == "object"]
    for i, (el, obj) in enumerate(zip(objects, doc.objects), 1):
        _check_object(el, f"/annotation/object[{i}]", obj, ctx, top=True)


def _check_object(el: Any, path: str, obj: VocObject, ctx: _Ctx, top: bool) -> None:
    if not obj.name:
        name = el.find("name")
        ctx.issue(el if name is None else name, f"{path}/name", "<name> is missing or empty")
    if top and obj.difficult is None and "difficult" not in obj.wire.get("raw", {}):
        ctx.required(el, f"{path}/difficult", "<difficult> is missing")
    parts = [c for c in el if c.tag == "part"]
    for i, (pel, part) in enumerate(zip(parts, obj.parts), 1):
        _check_object(pel, f"{path}/part[{i}]", part, ctx, top=False)
