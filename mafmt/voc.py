"""ModelArts Pascal VOC XML: one image's size and labelled objects.

Reading is safe (no DTD, no entities, no network, a size limit) and lenient: whatever
can be represented is kept, including unknown elements and both property encodings,
and oddities are recorded as issues. :func:`validate_bytes` applies the rules
ModelArts' own reader enforces. Writing is atomic and uses the canonical child order
of the spec with 4-space indentation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from lxml import etree

from mafmt import storage
from mafmt.errors import FormatError, UnsafeXmlError, UsageError
from mafmt.formats import Format
from mafmt.losses import count_annotation_losses, count_sample_losses
from mafmt.model import (
    IMAGE_SEGMENTATION,
    OBJECT_DETECTION,
    SHAPE_KINDS,
    BndBox,
    Circle,
    Detection,
    Number,
    Origin,
    Point,
    Sample,
    Shape,
    VocDocument,
    VocObject,
    VocSource,
    set_document_reader,
)
from mafmt.report import ErrorPolicy, Report, Stream, check_policy

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "document_to_bytes",
    "parse_bytes",
    "read",
    "read_document",
    "validate_bytes",
    "write",
    "write_document",
]

#: largest XML document read, in bytes (a VOC file is a few KiB)
MAX_BYTES = 32 * 1024 * 1024
#: deepest nesting of ``part`` elements
MAX_DEPTH = 16

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INT = re.compile(r"^[+-]?\d+$")
_SUFFIX = re.compile(r"^([xy])(\d+)$")
_OBJECT_INTS = ("truncated", "occluded", "difficult")
_OBJECT_TEXTS = ("pose", "hard-reasons", "mask_color")


# --------------------------------------------------------------------------- parsing


def safe_parser() -> etree.XMLParser:
    """An lxml parser that never expands entities, loads a DTD or touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


class _Ctx:
    """Collects issues while one document is parsed."""

    def __init__(self, name: str | None) -> None:
        self.name = name
        self.issues: list[FormatError] = []

    def issue(self, el: Any, reason: str, severity: str = "error", path: str | None = None) -> None:
        self.issues.append(
            FormatError(
                reason,
                file=self.name,
                line=getattr(el, "sourceline", None),
                path=path or element_path(el),
                severity=severity,
            )
        )


def element_path(el: Any) -> str:
    """``/annotation/object[2]/bndbox``: objects and parts always indexed, other repeated
    elements indexed when repeated."""
    parts = []
    while el is not None:
        parent = el.getparent()
        if parent is None:
            parts.append(el.tag)
        else:
            same = [c for c in parent if c.tag == el.tag]
            parts.append(f"{el.tag}[{same.index(el) + 1}]" if len(same) > 1 or el.tag in ("object", "part") else el.tag)
        el = parent
    return "/" + "/".join(reversed(parts))


def _line(el: Any) -> int | None:
    return getattr(el, "sourceline", None)


def _text(el: Any) -> str:
    return (el.text or "").strip()


def _elements(el: Any) -> list[Any]:
    return [c for c in el if isinstance(c.tag, str)]


def _number(text: str) -> Number | None:
    if _INT.match(text):
        return int(text)
    if _NUMBER.match(text):
        return float(text)
    return None


def _format_number(value: Number) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def node_to_value(el: Any) -> Any:
    """An unknown element as plain data: text, or a dict of children (``@attr``,
    ``#text``), repeated children as lists."""
    children = _elements(el)
    text = _text(el)
    if not children and not el.attrib:
        return text
    out: dict[str, Any] = {f"@{k}": v for k, v in el.attrib.items()}
    for c in children:
        _add(out, c.tag, node_to_value(c))
    if text:
        out["#text"] = text
    return out


def _add(extra: dict[str, Any], key: str, value: Any) -> None:
    if key in extra:
        prev = extra[key]
        extra[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
    else:
        extra[key] = value


def parse_bytes(data: bytes, name: str | None = None) -> tuple[VocDocument, list[FormatError]]:
    """Parse a VOC document leniently.

    Returns:
        The document and the issues found (each an error or warning with the file,
        line and element path); issues never stop the parse.

    Raises:
        FormatError: not well-formed XML, empty, or the root is not ``annotation``.
        UnsafeXmlError: a DTD or entity declarations, or larger than :data:`MAX_BYTES`.
    """
    if len(data) > MAX_BYTES:
        raise UnsafeXmlError(f"document is larger than {MAX_BYTES} bytes", file=name)
    if not data.strip():
        raise FormatError("empty file: not a Pascal VOC document", file=name)
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        position: Any = exc.position
        line = position[0] if position else None
        raise FormatError(f"not well-formed XML: {exc.msg}", file=name, line=line) from None
    tree = root.getroottree()
    info: Any = tree.docinfo
    if info.doctype or info.internalDTD is not None:
        raise UnsafeXmlError("DTD and entity declarations are not allowed", file=name, line=1)
    if root.tag != "annotation":
        raise FormatError(f"root element is <{root.tag}>, expected <annotation>", file=name, line=_line(root))
    ctx = _Ctx(name)
    doc = _parse_document(root, ctx)
    doc.origin = Origin(name, None)
    return doc, ctx.issues


def _parse_document(root: Any, ctx: _Ctx) -> VocDocument:
    doc = VocDocument()
    raw: dict[str, str] = {}
    seen: set[str] = set()
    for el in _elements(root):
        tag = el.tag
        if tag in seen and tag != "object":
            _add(doc.extra, tag, node_to_value(el))
            ctx.issue(el, f"repeated <{tag}> kept as an unknown element", "warning")
            continue
        seen.add(tag)
        if tag in ("folder", "filename", "mask_source"):
            setattr(doc, tag, _text(el))
        elif tag == "segmented":
            _set_int(doc, "segmented", el, raw, ctx)
        elif tag == "size":
            size_extra: dict[str, Any] = {}
            for c in _elements(el):
                if c.tag in ("width", "height", "depth") and getattr(doc, c.tag) is None and c.tag not in raw:
                    _set_int(doc, c.tag, c, raw, ctx)
                else:
                    _add(size_extra, c.tag, node_to_value(c))
            if size_extra:
                doc.wire["size_extra"] = size_extra
            doc.wire["size"] = True
        elif tag == "source":
            doc.source = _parse_source(el)
        elif tag == "object":
            doc.objects.append(_parse_object(el, ctx, 0))
        else:
            _add(doc.extra, tag, node_to_value(el))
    if raw:
        doc.wire["raw"] = raw
    if _elements(root):
        _check_document(root, doc, raw, ctx)
    return doc


def _set_int(obj: Any, attr: str, el: Any, raw: dict[str, str], ctx: _Ctx) -> None:
    text = _text(el)
    if _INT.match(text):
        setattr(obj, attr, int(text))
    else:
        raw[el.tag] = text
        ctx.issue(el, "empty value" if not text else f"expected an integer, got {text!r}")


def _parse_source(el: Any) -> VocSource:
    src = VocSource()
    for c in _elements(el):
        if c.tag in ("database", "annotation", "image") and getattr(src, c.tag) is None:
            setattr(src, c.tag, _text(c))
        else:
            _add(src.extra, c.tag, node_to_value(c))
    return src


def _parse_object(el: Any, ctx: _Ctx, depth: int) -> VocObject:
    obj = VocObject()
    raw: dict[str, str] = {}
    shapes = 0
    seen: set[str] = set()
    for c in _elements(el):
        tag = c.tag
        if tag == "part":
            if depth + 1 >= MAX_DEPTH:
                raise FormatError(f"parts nested deeper than {MAX_DEPTH}", file=ctx.name, line=c.sourceline, path=element_path(c))
            obj.parts.append(_parse_object(c, ctx, depth + 1))
            continue
        if tag in SHAPE_KINDS:
            shapes += 1
            shape = _parse_shape(c, obj, ctx) if shapes == 1 else None
            if shape is not None:
                obj.shape = shape
            else:
                _add(obj.extra, tag, node_to_value(c))
                if shapes > 1:
                    ctx.issue(c, "more than one shape element in one object (kept as an unknown element)")
            continue
        if tag in seen:
            _add(obj.extra, tag, node_to_value(c))
            ctx.issue(c, f"repeated <{tag}> kept as an unknown element", "warning")
            continue
        seen.add(tag)
        text = _text(c)
        if tag == "name":
            obj.name = text
        elif tag == "properties":
            _parse_properties(c, obj, ctx)
        elif tag in _OBJECT_TEXTS:
            setattr(obj, tag.replace("-", "_"), text)
        elif tag in _OBJECT_INTS:
            _set_int(obj, tag, c, raw, ctx)
        elif tag in ("confidence", "hard-coefficient", "difficult-coefficient"):
            attr = "confidence" if tag == "confidence" else "hard_coefficient"
            value = _number(text)
            if getattr(obj, attr) is not None:
                _add(obj.extra, tag, text)
            elif value is None:
                raw[tag] = text
                ctx.issue(c, f"expected a number, got {text!r}")
            else:
                setattr(obj, attr, value)
                if tag == "difficult-coefficient":
                    obj.wire["coefficient_tag"] = tag
        else:
            _add(obj.extra, tag, node_to_value(c))
    if raw:
        obj.wire["raw"] = raw
    if shapes == 0:
        ctx.issue(el, "no shape element (bndbox, polygon, ...)")
    return obj


def _coords(el: Any, ctx: _Ctx) -> tuple[dict[str, Number], dict[str, Any]] | None:
    values: dict[str, Number] = {}
    unknown: dict[str, Any] = {}
    ok = True
    for c in _elements(el):
        v = _number(_text(c))
        if v is None or c.tag in values:
            if c.tag in ("xmin", "ymin", "xmax", "ymax", "x", "y", "cx", "cy", "r") or _SUFFIX.match(c.tag):
                ctx.issue(c, f"expected a number, got {_text(c)!r}" if v is None else f"repeated <{c.tag}>")
                ok = False
            else:
                _add(unknown, c.tag, node_to_value(c))
            continue
        values[c.tag] = v
    return (values, unknown) if ok else None


def _parse_shape(el: Any, obj: VocObject, ctx: _Ctx) -> Shape | None:
    parsed = _coords(el, ctx)
    if parsed is None:
        return None
    values, unknown = parsed
    kind = el.tag

    def need(*names: str) -> list[Number] | None:
        missing = [n for n in names if n not in values]
        if missing:
            ctx.issue(el, "missing " + ", ".join(f"<{n}>" for n in missing))
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
            if m:
                pairs.setdefault(int(m.group(2)), {})[m.group(1)] = values.pop(tag)
        bad = [i for i, p in pairs.items() if len(p) != 2]
        if bad:
            ctx.issue(el, f"vertex {bad[0]} has only one coordinate")
            return None
        pts = tuple((pairs[i]["x"], pairs[i]["y"]) for i in sorted(pairs))
        if sorted(pairs) != list(range(1, len(pairs) + 1)):
            ctx.issue(el, "vertex numbers are not 1..n without gaps", "warning")
        need_n = {"line": 2, "dashed": 2, "polyline": 2, "polygon": 3}[kind]
        if len(pts) < need_n or (kind in ("line", "dashed") and len(pts) != 2):
            ctx.issue(el, f"<{kind}> needs {'exactly' if kind in ('line', 'dashed') else 'at least'} {need_n} points, got {len(pts)}")
            if not pts:
                return None
        shape = SHAPE_KINDS[kind](pts)
    if shape is None:
        return None
    for tag, value in values.items():
        _add(unknown, tag, _format_number(value))
    if unknown:
        obj.wire["shape_extra"] = unknown
    return shape


def _parse_properties(el: Any, obj: VocObject, ctx: _Ctx) -> None:
    props: dict[str, str] = {}
    forms: dict[str, str] = {}
    dups: list[tuple[str, str, str]] = []
    for c in _elements(el):
        kids = {k.tag: k for k in _elements(c)}
        if c.tag == "property" and kids:
            key = _text(kids["key"]) if "key" in kids else ""
            value = _text(kids["value"]) if "value" in kids else ""
            form = "B"
        else:
            key, value, form = c.tag, _text(c), "A"
        if not key or not value:
            ctx.issue(c, "empty property " + ("key" if not key else f"value for {key!r}"))
        if key in props:
            dups.append((key, value, form))
            ctx.issue(c, f"duplicate property {key!r}", "warning")
            continue
        props[key] = value
        forms[key] = form
    obj.properties = props
    obj.wire["forms"] = forms
    if dups:
        obj.wire["dup_props"] = dups


def _check_document(root: Any, doc: VocDocument, raw: dict[str, str], ctx: _Ctx) -> None:
    """The document-level rules of ModelArts' reader (objects were checked while parsed)."""
    for tag in ("folder", "filename"):
        if not getattr(doc, tag):
            ctx.issue(root, f"<{tag}> is missing or empty", path=f"/annotation/{tag}")
    for tag in ("width", "height"):
        if getattr(doc, tag) is None and tag not in raw:
            ctx.issue(root, f"<size>/<{tag}> is missing", path=f"/annotation/size/{tag}")
    if doc.segmented is None and "segmented" not in raw:
        ctx.issue(root, "<segmented> is missing", path="/annotation/segmented")
    for el, obj in zip(root.iterfind("object"), doc.objects):
        _check_object(el, obj, ctx, top=True)


def _check_object(el: Any, obj: VocObject, ctx: _Ctx, top: bool) -> None:
    if not obj.name:
        ctx.issue(el, "<name> is missing or empty")
    if top and obj.difficult is None and "difficult" not in obj.wire.get("raw", {}):
        ctx.issue(el, "<difficult> is missing")
    for pel, part in zip(el.iterfind("part"), obj.parts):
        _check_object(pel, part, ctx, top=False)


def read_document(uri: str, *, report: Report | None = None, strict: bool = False) -> VocDocument:
    """Read one VOC file (path or URI).

    Leniently by default: issues go to ``report.warnings`` and everything representable
    is kept. ``strict=True`` raises the first error-level issue instead.
    """
    data = storage.read_bytes(uri)
    doc, issues = parse_bytes(data, uri)
    if strict:
        for issue in issues:
            if issue.severity == "error":
                raise issue
    if report is not None:
        for issue in issues:
            report.warn(issue.reason if issue.severity == "warning" else "voc: " + issue.reason.split(" (")[0], issue)
    return doc


def validate_bytes(data: bytes, name: str | None = None) -> list[FormatError]:
    """All problems of a VOC document under ModelArts' rules; empty when valid."""
    try:
        _, issues = parse_bytes(data, name)
    except FormatError as exc:
        return [exc]
    return issues


# --------------------------------------------------------------------------- writing


def _leaf(parent: Any, tag: str, value: Any) -> None:
    if value is None:
        return
    el = etree.SubElement(parent, tag)
    el.text = _format_number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _value_to_nodes(parent: Any, tag: str, value: Any) -> None:
    if isinstance(value, list):
        for v in value:
            _value_to_nodes(parent, tag, v)
        return
    try:
        el = etree.SubElement(parent, tag)
    except ValueError:
        raise FormatError(f"{tag!r} is not a valid XML element name", path=tag) from None
    if isinstance(value, dict):
        for k, v in value.items():
            if k.startswith("@"):
                el.set(k[1:], str(v))
            elif k == "#text":
                el.text = str(v)
            else:
                _value_to_nodes(el, k, v)
    elif value is not None:
        el.text = str(value)


def _write_extra(parent: Any, extra: dict[str, Any]) -> None:
    for tag, value in extra.items():
        _value_to_nodes(parent, tag, value)


_XML_NAME = re.compile(r"^[^\W\d.-][\w.-]*$", re.UNICODE)


def _is_xml_name(key: str) -> bool:
    return bool(_XML_NAME.match(key)) and not key.lower().startswith("xml") and ":" not in key


def _write_properties(parent: Any, obj: VocObject) -> None:
    if obj.properties is None:
        return
    el = etree.SubElement(parent, "properties")
    forms = obj.wire.get("forms", {})
    entries = [(k, v, forms.get(k, "B")) for k, v in obj.properties.items()]
    entries += obj.wire.get("dup_props", [])
    for key, value, form in entries:
        if form == "A" and _is_xml_name(key):
            _leaf(el, key, value)
        else:
            p = etree.SubElement(el, "property")
            _leaf(p, "key", key)
            _leaf(p, "value", value)


def _write_shape(parent: Any, obj: VocObject) -> None:
    shape = obj.shape
    if shape is None:
        return
    el = etree.SubElement(parent, shape.kind)
    if isinstance(shape, BndBox):
        for tag in ("xmin", "ymin", "xmax", "ymax"):
            _leaf(el, tag, getattr(shape, tag))
    elif isinstance(shape, Circle):
        for tag in ("cx", "cy", "r"):
            _leaf(el, tag, getattr(shape, tag))
    elif isinstance(shape, Point):
        tx, ty = obj.wire.get("point_tags", ("x", "y"))
        _leaf(el, tx, shape.x)
        _leaf(el, ty, shape.y)
    else:
        for i, (x, y) in enumerate(shape.points, 1):
            _leaf(el, f"x{i}", x)
            _leaf(el, f"y{i}", y)
    _write_extra(el, obj.wire.get("shape_extra", {}))


def _write_object(parent: Any, obj: VocObject, tag: str) -> None:
    el = etree.SubElement(parent, tag)
    raw = obj.wire.get("raw", {})
    _leaf(el, "name", obj.name)
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
    """Serialise a document: declaration, canonical child order, 4-space indent."""
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


def write_document(doc: VocDocument, target: str | os.PathLike[str], *, mode: str = "w") -> str:
    """Write one document atomically; returns the target.

    ``mode="a"`` (the SDK's append mode) cannot append to XML: it writes only when the
    target does not exist yet, so no existing file is ever lost.
    """
    target = os.fspath(target)
    if mode not in ("w", "a"):
        raise UsageError(f"save mode must be 'w' or 'a', not {mode!r}")
    if mode == "a" and storage.exists(target):
        raise UsageError(f"{target}: exists; an XML document cannot be appended to (use save_mode='w')")
    data = document_to_bytes(doc)
    with storage.atomic_write(target) as fh:
        fh.write(data)
    return target


# --------------------------------------------------------------------------- samples


def sample_from_document(doc: VocDocument, xml_uri: str) -> Sample:
    """Wrap a document as a sample: ``source`` is the image beside the XML file."""
    folder = storage.parent(xml_uri)
    name = doc.filename or os.path.splitext(os.path.basename(xml_uri))[0]
    segmentation = doc.segmented == 1 or doc.mask_source is not None
    ann = Detection(
        type=IMAGE_SEGMENTATION if segmentation else OBJECT_DETECTION,
        annotation_loc="./" + xml_uri.replace("\\", "/").rsplit("/", 1)[-1],
        annotation_format="PASCAL VOC",
        document=doc,
    )
    ann.base = folder
    ann.origin = Origin(xml_uri)
    sample = Sample(source="./" + name, annotations=[ann], origin=Origin(xml_uri))
    return sample


def _xml_files(src: str) -> Iterator[str]:
    if storage.is_dir(src):
        for path in storage.iter_files(src):
            if path.lower().endswith(".xml"):
                yield path
    else:
        yield src


def read(
    src: str | os.PathLike[str],
    *,
    on_error: ErrorPolicy = "raise",
    strict: bool = False,
) -> Stream[Sample]:
    """Stream samples from one VOC file or a folder of them (name order, not recursive).

    Each sample has one :class:`Detection` with the document inline. Issues that do not
    prevent reading are counted in the stream's ``report.warnings``; with ``strict=True``
    a file with an error-level issue (what ``mafmt validate`` rejects) is an error, handled
    by ``on_error`` like a malformed file.
    """
    check_policy(on_error)
    src = os.fspath(src)
    report = Report()

    def gen() -> Iterator[Sample]:
        for path in _xml_files(src):
            try:
                doc = read_document(path, report=report, strict=strict)
            except FormatError as exc:
                if on_error == "raise":
                    raise
                report.skip(exc)
                continue
            yield sample_from_document(doc, path)

    return Stream(gen(), report)


def sample_documents(sample: Sample, report: Report) -> list[VocDocument]:
    """The VOC documents of a sample's detection annotations (loaded when needed), counting
    in ``report`` everything else of the sample a VOC file cannot hold."""
    count_sample_losses(sample, report)
    docs = []
    for ann in sample.annotations:
        if isinstance(ann, Detection):
            docs.append(ann.load())
            count_annotation_losses(ann, report)
        else:
            report.lose(f"{ann.type}->dropped")
    return docs


def write(samples: Iterable[Sample], target: str | os.PathLike[str], **options: Any) -> Report:
    """Write each sample's VOC document(s) into the folder ``target`` as ``<image>.xml``.

    A target ending in ``.xml`` takes exactly one document. Annotations that are not
    detection or segmentation cannot be held by VOC: they are counted in ``report.lost``
    (e.g. ``"modelarts/text_entity->dropped"``), as are samples without any document
    (``"sample without detection->dropped"``).
    """
    if options:
        raise UsageError(f"unknown option(s) for voc: {', '.join(sorted(options))}")
    target = os.fspath(target)
    report = Report()
    single = target.lower().endswith(".xml")
    namer = VocNamer(target)
    for sample in samples:
        docs = sample_documents(sample, report)
        if not docs:
            report.lose("sample without detection->dropped")
        for doc in docs:
            if single:
                if report.written:
                    raise UsageError(f"{target}: more than one document for a single .xml target; give a folder")
                path = target
            else:
                path = namer.name_for(doc, sample)
            write_document(doc, path)
            report.written += 1
            report.outputs.append(path)
    return report


class VocNamer:
    """Unique ``<image stem>.xml`` paths in a folder for the documents of one write.

    With ``keep_existing`` a name already taken on storage is skipped too, so a write
    never replaces a file it did not create.
    """

    def __init__(self, folder: str, *, keep_existing: bool = False) -> None:
        self.folder = folder
        self.keep_existing = keep_existing
        self.used: set[str] = set()

    def name_for(self, doc: VocDocument, sample: Sample) -> str:
        ref = doc.filename or sample.source.rsplit("/", 1)[-1] or "sample"
        stem = os.path.splitext(os.path.basename(ref))[0] or "sample"
        candidate, n = stem, 1
        while True:
            path = storage.join(self.folder, candidate + ".xml")
            if path not in self.used and not (self.keep_existing and storage.exists(path)):
                self.used.add(path)
                return path
            n += 1
            candidate = f"{stem}_{n}"


def iter_documents(src: str) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of each XML file under ``src`` (a file or a folder)."""
    for path in _xml_files(src):
        yield path, storage.read_bytes(path)


def _sniff(path: str) -> bool:
    if storage.is_dir(path):
        return any(p.lower().endswith(".xml") for p in storage.iter_files(path))
    try:
        with storage.open_read(path) as fh:
            head = fh.read(4096).lstrip(b"\xef\xbb\xbf").lstrip()
    except Exception:  # noqa: BLE001 - sniffing never fails loudly
        return False
    return head.startswith(b"<") and b"<annotation" in head


set_document_reader(read_document)

FORMAT = Format(
    name="voc",
    read=read,
    write=write,
    holds=frozenset({OBJECT_DETECTION, IMAGE_SEGMENTATION}) | frozenset(SHAPE_KINDS) | {"properties", "parts", "hard-example"},
    description="ModelArts Pascal VOC XML: one file per image, or a folder of them",
    extensions=(".xml",),
    directory=True,
    aliases=("pascal-voc", "modelarts-pascal-voc"),
    sniff=_sniff,
)
