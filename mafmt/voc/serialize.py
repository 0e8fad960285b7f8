"""Writing a VOC document: declaration, canonical child order, 4-space indentation.

Known fields are written as their text; a value XML cannot hold (a control character, a lone
surrogate, a NUL, or white space at either end, which XML readers drop) in a label, a pose, a
property or a file name is a :class:`~mafmt.errors.FormatError` naming the field, never a
file that does not read back the same.
Unknown fields (``extra``) go through :mod:`mafmt.textcodec`: strings as text, numbers,
booleans and nested lists as canonical JSON text, so they come back with their type; a list of
two or more scalars is written as repeated elements and an object of such values (an RLE) as
child elements, which the parser reads back as the same list or object.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable
from typing import Any

import orjson
from lxml import etree

from mafmt import lanes, limits, textcodec
from mafmt.errors import FormatError
from mafmt.model import (
    BndBox,
    Circle,
    Dashed,
    Line,
    Mask,
    MultiPolygon,
    Number,
    PlainObject,
    Point,
    Polygon,
    Polyline,
    VocDocument,
    VocObject,
)

__all__ = ["XML_DECLARATION", "document_to_bytes", "is_xml_name", "plain_records_to_bytes", "standard_boxes_to_bytes"]

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
_OBJECT_INTS = ("truncated", "occluded", "difficult")
_PAD3 = " " * 12
_XML_NAME = re.compile(r"^[^\W\d.-][\w.-]*$", re.UNICODE)


def is_xml_name(key: str) -> bool:
    """Whether ``key`` can be an element name (and is not reserved)."""
    return bool(_XML_NAME.match(key)) and not key.lower().startswith("xml") and ":" not in key


def _format_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> str | None:
    """The text of a coordinate as :func:`_text` writes it; None for anything but an int or a float."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is float:
        return str(int(value)) if value.is_integer() else str(value)
    return None


def _text(tag: str, value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _format_number(value)
    text = str(value)
    if textcodec.has_unsafe(text):
        raise FormatError(f"<{tag}> value {limits.clip(text)} holds a character XML cannot hold "
                          "(a control character, NUL or lone surrogate)", path=tag)
    if text != text.strip():
        raise FormatError(f"<{tag}> value {limits.clip(text)} begins or ends with white space, which readers of "
                          "XML text drop", path=tag)
    return text


def _leaf(parent: Any, tag: str, value: Any) -> None:
    if value is None:
        return
    etree.SubElement(parent, tag).text = _text(tag, value)


def _native(value: Any) -> bool:
    """Whether ``value`` can be written as elements (and reads back equal)."""
    if isinstance(value, dict):
        return bool(value) and all(_native_item(k, v) for k, v in value.items())
    if isinstance(value, list):
        return len(value) > 1 and all(not isinstance(v, list) and (not isinstance(v, dict) or _native(v))
                                      for v in value)
    return True


def _native_item(key: Any, value: Any) -> bool:
    if not isinstance(key, str):
        return False
    if key.startswith("@"):
        return is_xml_name(key[1:]) and isinstance(value, str) and textcodec.is_plain(value)
    if key == "#text":
        return not isinstance(value, (list, dict))
    return is_xml_name(key) and (not isinstance(value, (list, dict)) or _native(value))


def _value_to_nodes(parent: Any, tag: str, value: Any) -> None:
    if isinstance(value, list) and _native(value):
        for v in value:
            _value_to_nodes(parent, tag, v)
        return
    try:
        el = etree.SubElement(parent, tag)
    except ValueError:
        raise FormatError(f"{limits.clip(tag)} is not a valid XML element name", path=str(tag)) from None
    if isinstance(value, dict) and _native(value):
        for k, v in value.items():
            if k.startswith("@"):
                el.set(k[1:], v)
            elif k == "#text":
                el.text = textcodec.encode(v)
            else:
                _value_to_nodes(el, k, v)
        return
    try:
        el.text = textcodec.encode(value)
    except ValueError as exc:
        raise FormatError(f"<{tag}> cannot be written: {exc}", path=str(tag)) from None


def _write_extra(parent: Any, extra: dict[str, Any]) -> None:
    for tag, value in extra.items():
        _value_to_nodes(parent, tag, value)


def _write_properties(parent: Any, obj: VocObject) -> None:
    if obj.properties is None:
        return
    el = etree.SubElement(parent, "properties")
    forms = obj.wire.get("forms", {})
    entries = [(k, v, forms.get(k, "B")) for k, v in obj.properties.items()]
    entries += obj.wire.get("dup_props", [])
    for key, value, form in entries:
        if form == "A" and is_xml_name(key):
            _leaf(el, key, value)
        else:
            p = etree.SubElement(el, "property")
            _leaf(p, "key", key)
            _leaf(p, "value", value)


def _write_points(el: Any, points: Any) -> None:
    for i, (x, y) in enumerate(points, 1):
        _leaf(el, f"x{i}", x)
        _leaf(el, f"y{i}", y)


def _write_shape(parent: Any, obj: VocObject) -> None:
    shape = obj.shape
    if shape is None:
        return
    kind = type(shape)
    if kind is MultiPolygon:  # mafmt's extension: the ring ModelArts shows, plus the exact rings
        _write_points(etree.SubElement(parent, "polygon"), shape.largest().points)  # type: ignore[union-attr]
        _value_to_nodes(parent, "segmentation", shape.coco())  # type: ignore[union-attr]
        return
    if kind is Mask:  # ... the mask's box, plus the exact RLE
        x0, y0, x1, y1 = shape.bbox()
        box = etree.SubElement(parent, "bndbox")
        for tag, v in (("xmin", x0), ("ymin", y0), ("xmax", x1), ("ymax", y1)):
            _leaf(box, tag, v)
        _value_to_nodes(parent, "segmentation", shape.coco())  # type: ignore[union-attr]
        return
    el = etree.SubElement(parent, shape.kind)
    if kind is BndBox:
        for tag in ("xmin", "ymin", "xmax", "ymax"):
            _leaf(el, tag, getattr(shape, tag))
    elif kind is Circle:
        for tag in ("cx", "cy", "r"):
            _leaf(el, tag, getattr(shape, tag))
    elif kind is Point:
        tx, ty = obj.wire.get("point_tags", ("x", "y"))
        _leaf(el, tx, shape.x)  # type: ignore[union-attr]
        _leaf(el, ty, shape.y)  # type: ignore[union-attr]
    else:
        _write_points(el, shape.points)  # type: ignore[union-attr]
    _write_extra(el, obj.wire.get("shape_extra", {}))


def _write_object(parent: Any, obj: VocObject, tag: str) -> None:
    el = etree.SubElement(parent, tag)
    raw = obj.wire.get("raw", {})
    try:
        _leaf(el, "name", obj.name)
    except FormatError as exc:
        raise FormatError(f"label {exc.reason}", path=exc.path) from None
    _write_properties(el, obj)
    _leaf(el, "pose", obj.pose)
    for t in _OBJECT_INTS:
        _leaf(el, t, getattr(obj, t) if getattr(obj, t) is not None else raw.get(t))
    _leaf(el, "confidence", obj.confidence if obj.confidence is not None else raw.get("confidence"))
    ctag = obj.wire.get("coefficient_tag", "hard-coefficient")
    coefficient = obj.hard_coefficient
    if coefficient is None:
        ctag = "hard-coefficient" if "hard-coefficient" in raw else "difficult-coefficient"
        coefficient = raw.get(ctag)
    _leaf(el, ctag, coefficient)
    _leaf(el, "hard-reasons", obj.hard_reasons)
    _leaf(el, "mask_color", obj.mask_color)
    _write_shape(el, obj)
    _write_extra(el, obj.extra)
    for part in obj.parts:
        _write_object(el, part, "part")


def document_to_bytes(doc: VocDocument) -> bytes:
    """Serialise a document: declaration, canonical child order, 4-space indent.

    Raises:
        FormatError: a field holds a value XML cannot hold (named in the message).
    """
    plain = _plain_bytes(doc) if lanes.PLAIN else None
    if plain is not None:
        return plain
    raw = doc.wire.get("raw", {})
    root = etree.Element("annotation")
    _leaf(root, "folder", doc.folder)
    _leaf(root, "filename", doc.filename)
    if doc.source is not None:
        src = etree.SubElement(root, "source")
        for tag in ("database", "annotation", "image"):
            _leaf(src, tag, getattr(doc.source, tag))
        _write_extra(src, doc.source.extra)
    size_extra = doc.wire.get("size_extra", {})
    sizes = {t: getattr(doc, t) if getattr(doc, t) is not None else raw.get(t) for t in ("width", "height", "depth")}
    if doc.wire.get("size") or size_extra or any(v is not None for v in sizes.values()):
        size = etree.SubElement(root, "size")
        for tag, value in sizes.items():
            _leaf(size, tag, value)
        _write_extra(size, size_extra)
    _leaf(root, "segmented", doc.segmented if doc.segmented is not None else raw.get("segmented"))
    _leaf(root, "mask_source", doc.mask_source)
    for obj in doc.objects:
        _write_object(root, obj, "object")
    _write_extra(root, doc.extra)
    etree.indent(root, space="    ")
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False) + b"\n"


# --------------------------------------------------------------------------- plain documents

_POINT_LISTS = (Polygon, Polyline, Line, Dashed)


def _escape(text: str) -> str:
    """Character data as lxml writes it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _leaf_line(pad: str, tag: str, value: Any) -> str:
    if type(value) is int:  # (what _text writes of it)
        return f"{pad}<{tag}>{value}</{tag}>\n"
    text = _text(tag, value)
    return f"{pad}<{tag}>{_escape(text) if type(value) is str else text}</{tag}>\n"


#: the longest text (and the most points) the serialiser's caches keep: a longer one is worked
#: out each time, so that no input makes them hold much
_CACHED_CHARS = 256


def _name_line(name: str) -> str:
    """An object's ``<name>`` line; a short one is kept in :data:`_NAME_LINES` (the same few
    labels repeat, and the hot loops look there first)."""
    line = _NAME_LINES.get(name)
    if line is None:
        line = _leaf_line("        ", "name", name)
        if len(name) <= _CACHED_CHARS:
            if len(_NAME_LINES) >= 4096:
                _NAME_LINES.clear()
            _NAME_LINES[name] = line
    return line


_NAME_LINES: dict[str, str] = {}


def _plain_bytes(doc: VocDocument) -> bytes | None:
    """What the general serialiser writes for a plain document (the standard fields; objects
    with a name, the VOC flags and a box or a point list, nothing unknown), built as text in
    one pass; None for anything else, or a value the general path must refuse by name."""
    out = _plain_head(doc)
    try:
        if out is None or not all(_plain_object(obj, out) for obj in doc.objects):
            return None
    except FormatError:
        return None  # the general path names the field
    return _closed(out)


def _closed(out: list[str]) -> bytes | None:
    """The document whose text up to its end is ``out``; None for one with nothing in it
    (the general path writes that one)."""
    if len(out) == 1:
        return None
    out.append("</annotation>\n")
    return XML_DECLARATION + "".join(out).encode("utf-8")


def _plain_head(doc: VocDocument) -> list[str] | None:
    """The text of a plain document up to its objects (see :func:`_plain_bytes`), or None."""
    wire = doc.wire
    src = doc.source
    if doc.extra or doc.mask_source is not None or (wire and wire.keys() - {"size"}) or (src is not None and src.extra):
        return None
    try:
        out = ["<annotation>\n"]
        folder = doc.folder
        if folder is not None:
            out.append(_repeated_line("    ", "folder", folder) if type(folder) is str and len(folder) <= _CACHED_CHARS
                       else _leaf_line("    ", "folder", folder))
        if doc.filename is not None:
            out.append(_leaf_line("    ", "filename", doc.filename))
        if src is not None:
            database, annotation, image = src.database, src.annotation, src.image
            if (type(database) is str or database is None) and (type(annotation) is str or annotation is None) \
                    and (type(image) is str or image is None) and len(database or "") + len(annotation or "") \
                    + len(image or "") <= _CACHED_CHARS:
                out.append(_source_lines(database, annotation, image))  # (the same few sources repeat)
            else:
                out.append(_source_lines.__wrapped__(database, annotation, image))
        width, height, depth = doc.width, doc.height, doc.depth
        if type(width) is int and type(height) is int and type(depth) is int:
            out.append(f"    <size>\n        <width>{width}</width>\n        <height>{height}</height>\n"
                       f"        <depth>{depth}</depth>\n    </size>\n")  # (what _leaf_line writes of ints)
        else:
            sizes = [_leaf_line("        ", t, v) for t, v in (("width", width), ("height", height), ("depth", depth))
                     if v is not None]
            if sizes:
                out.append("    <size>\n" + "".join(sizes) + "    </size>\n")
            elif wire.get("size"):
                out.append("    <size/>\n")
        if doc.segmented is not None:
            out.append(_leaf_line("    ", "segmented", doc.segmented))
    except FormatError:
        return None
    return out


@functools.lru_cache(maxsize=256)
def _repeated_line(pad: str, tag: str, text: str) -> str:
    """:func:`_leaf_line` of a text that repeats from document to document (a folder)."""
    return _leaf_line(pad, tag, text)


@functools.lru_cache(maxsize=256)
def _source_lines(database: Any, annotation: Any, image: Any) -> str:
    """A document's ``<source>`` (the same few repeat)."""
    fields = [_leaf_line("        ", t, v) for t, v in (("database", database), ("annotation", annotation), ("image", image))
              if v is not None]
    return "    <source>\n" + "".join(fields) + "    </source>\n" if fields else "    <source/>\n"


def standard_boxes_to_bytes(doc: VocDocument, boxes: list[tuple[str, Number, Number, Number, Number]]) -> bytes:
    """:func:`document_to_bytes` of ``doc`` (which has no objects) with ``boxes`` (label and
    corners) as standard VOC objects: pose ``Unspecified``, truncated 0, difficult 0, the box;
    written as text without building the objects.

    Raises:
        FormatError: as :func:`document_to_bytes`.
    """
    out = _plain_head(doc)
    flat: list[Any] = []  # every corner of the document, written in one call
    for box in boxes:
        flat += box[1:]
    kinds = set(map(type, flat))
    if out is not None and kinds <= _NUMBERS:
        texts = _number_texts(flat) if float in kinds else flat  # (ints are written as they are)
        try:
            at = 0
            for box in boxes:
                out.append(f"    <object>\n{_NAME_LINES.get(box[0]) or _name_line(box[0])}{_STANDARD_FLAGS}"
                           f"{_box_lines(texts[at], texts[at + 1], texts[at + 2], texts[at + 3])}    </object>\n")
                at += 4
        except FormatError:
            out = None  # the general path names the field
    else:
        out = None
    if out is None:
        objects = [VocObject.plain(name, BndBox(x0, y0, x1, y1), "Unspecified", 0, None, 0)
                   for name, x0, y0, x1, y1 in boxes]
        return document_to_bytes(dataclasses.replace(doc, objects=objects))
    out.append("</annotation>\n")
    return XML_DECLARATION + "".join(out).encode("utf-8")


def plain_records_to_bytes(doc: VocDocument, records: list[PlainObject], values: list[dict[str, Any]],
                           flags: str) -> bytes | None:
    """:func:`document_to_bytes` of ``doc`` (which has no objects) with the objects of a
    compact sample (:class:`~mafmt.model.CompactSample`: ``records`` and the ``values`` of
    their extra keys), each with the flag lines ``flags``, written as text without building
    the objects; None where the general path must write (or refuse by name) a value."""
    out = _plain_head(doc)
    if out is None:
        return None
    flat: list[Any] = []  # every coordinate of the document, written in one call
    for _, x0, y0, x1, y1, ring, _ in records:
        if ring is None:
            flat += (x0, y0, x1, y1)
        else:
            flat += ring
    texts = _number_texts(flat)
    if None in texts:
        return None
    at = 0
    try:
        for (name, _, _, _, _, ring, keys), value in zip(records, values, strict=True):
            if ring is None:
                shape = _box_lines(texts[at], texts[at + 1], texts[at + 2], texts[at + 3])
                at += 4
            else:
                shape = _points_template("polygon", len(ring) // 2) % tuple(texts[at:at + len(ring)])
                at += len(ring)
            extra = ""
            if keys and not _plain_keys(keys):
                return None
            for k in keys:  # (_extra_text, inline for numbers: a COCO id and area need no escaping)
                v = value[k]
                kind = type(v)
                if kind is not int and (kind is not float or v - v != 0.0):  # (inf and nan fail the test)
                    text = _extra_text([(k, value[k]) for k in keys])
                    if text is None:
                        return None
                    extra = text
                    break
                extra += f"        <{k}>{v!r}</{k}>\n"  # (encode: an int's or a finite float's repr)
            out.append(f"    <object>\n{_NAME_LINES.get(name) or _name_line(name)}{flags}{shape}{extra}    </object>\n")
    except FormatError:
        return None  # the general path names the field
    return _closed(out)


_STANDARD_FLAGS = ("        <pose>Unspecified</pose>\n        <truncated>0</truncated>\n"
                   "        <difficult>0</difficult>\n")


def _plain_object(obj: VocObject, out: list[str]) -> bool:
    shape: Any = obj.shape
    kind = type(shape)
    if (obj.name is None or obj.wire or obj.parts or obj.properties is not None
            or obj.confidence is not None or obj.hard_coefficient is not None or obj.hard_reasons is not None
            or obj.mask_color is not None or (kind is not BndBox and kind not in _POINT_LISTS)):
        return False
    out.append("    <object>\n")
    out.append(_leaf_line("        ", "name", obj.name))
    if obj.pose is not None:
        out.append(_leaf_line("        ", "pose", obj.pose))
    for tag in _OBJECT_INTS:
        if (value := getattr(obj, tag)) is not None:
            out.append(_leaf_line("        ", tag, value))
    text = (_box_text(shape.xmin, shape.ymin, shape.xmax, shape.ymax) if kind is BndBox
            else _points_text(shape.kind, shape.points))  # type: ignore[union-attr]
    extra = _extra_text(obj.extra.items()) if obj.extra else ""
    if text is None or extra is None:
        return False
    out.append(text)
    out.append(extra)
    out.append("    </object>\n")
    return True


_SCALARS = frozenset({int, float, str, bool, type(None)})


def _box_text(xmin: Any, ymin: Any, xmax: Any, ymax: Any) -> str | None:
    """A ``<bndbox>`` as :func:`document_to_bytes` writes it; None unless every corner is a number."""
    num = _number
    x0, y0, x1, y1 = num(xmin), num(ymin), num(xmax), num(ymax)
    if x0 is None or y0 is None or x1 is None or y1 is None:
        return None
    return _box_lines(x0, y0, x1, y1)


def _points_text(kind: str, points: Iterable[tuple[Any, Any]]) -> str | None:
    """A point list (``<polygon>``, ``<line>``...) as :func:`document_to_bytes` writes it;
    None when it is empty or a coordinate is not a number."""
    flat = [v for point in points for v in point]
    if not flat or not set(map(type, flat)) <= _NUMBERS:
        return None
    return _flat_points_text(kind, flat)


def _flat_points_text(kind: str, flat: list[Any]) -> str:
    """:func:`_points_text` of points given flat (``[x1, y1, x2, y2, ...]``, ints and floats)."""
    return _points_template(kind, len(flat) // 2) % tuple(_number_texts(flat))


def _number_texts(flat: list[Any]) -> list[Any]:
    """:func:`_number` of each of ``flat`` (ints and floats), in one orjson call: orjson writes
    a float's shortest repr as ``str`` does, except for an exponent (``str`` has one below
    1e-4 and from 1e16) and an integral float's ``.0``, which ``_number`` drops."""
    try:
        text = orjson.dumps(flat).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        return [_number(v) for v in flat]
    if "e" in text or "n" in text or "0.0000" in text:  # (an exponent, null for nan or inf, a tiny float)
        return [_number(v) for v in flat]
    texts = (text[1:-1] + ",").replace(".0,", ",")[:-1].split(",")  # (shortest reprs: only X.0 ends in ".0")
    if "-0" in texts:
        texts = ["0" if t == "-0" else t for t in texts]
    return texts


_NUMBERS = frozenset({int, float})


def _box_lines(xmin: Any, ymin: Any, xmax: Any, ymax: Any) -> str:
    """A ``<bndbox>`` of corner texts (an f-string: a third of ``str.format``'s time)."""
    return (f"        <bndbox>\n{_PAD3}<xmin>{xmin}</xmin>\n{_PAD3}<ymin>{ymin}</ymin>\n{_PAD3}<xmax>{xmax}</xmax>\n"
            f"{_PAD3}<ymax>{ymax}</ymax>\n        </bndbox>\n")


def _points_template(kind: str, n: int) -> str:
    """The lines of ``n`` points of a point list, their coordinates ``%s`` fields (``%`` takes
    them in half the time of ``str.format``)."""
    return _cached_points_template(kind, n) if n <= _CACHED_CHARS else _points_template_of(kind, n)


@functools.lru_cache(maxsize=256)
def _cached_points_template(kind: str, n: int) -> str:
    return _points_template_of(kind, n)


def _points_template_of(kind: str, n: int) -> str:
    lines = "".join(f"{_PAD3}<x{i}>%s</x{i}>\n{_PAD3}<y{i}>%s</y{i}>\n" for i in range(1, n + 1))
    return f"        <{kind}>\n{lines}        </{kind}>\n"


def _extra_text(items: Iterable[tuple[str, Any]]) -> str | None:
    """An object's extra values as the general path writes them: scalars (a COCO id, area,
    iscrowd) as elements of their key's name and lists of two or more scalars (a COCO bbox)
    as repeated elements; None for anything else (the general path writes it)."""
    out: list[str] = []
    for key, value in items:
        if not _plain_key(key):
            return None
        if type(value) is list:
            if len(value) < 2 or not all(type(v) in _SCALARS for v in value):
                return None
            out.extend(f"        <{key}>{_escape(textcodec.encode(v))}</{key}>\n" for v in value)
        elif type(value) in _SCALARS:
            out.append(f"        <{key}>{_escape(textcodec.encode(value))}</{key}>\n")  # (encode quotes the unsafe)
        else:
            return None
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _plain_keys(keys: tuple[str, ...]) -> bool:
    """Whether every key is written as an element of its own name (the same few tuples repeat)."""
    return all(_plain_key(k) for k in keys)


def _plain_key(key: str) -> bool:
    """Whether an extra's key is written as an element of its own name (the same few keys repeat: cached)."""
    return _cached_plain_key(key) if len(key) <= _CACHED_CHARS else key.isascii() and is_xml_name(key)


@functools.lru_cache(maxsize=1024)
def _cached_plain_key(key: str) -> bool:
    return key.isascii() and is_xml_name(key)

