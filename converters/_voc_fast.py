"""Fast paths for plain standard VOC documents, equal to what :mod:`mafmt.voc` gives.

A standard VOC dataset is thousands of small, regular documents; building them with
lxml elements one leaf at a time dominates a conversion. :func:`standard_bytes` writes
the same bytes with f-strings and :func:`plain_document` reads documents that hold
nothing but the standard fields straight into the model. Anything else returns None and
the caller uses :mod:`mafmt.voc`, with all its checks. Tests assert byte/model equality.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from mafmt import voc
from mafmt.model import BndBox, Origin, VocDocument, VocObject, VocSource

__all__ = ["plain_document", "standard_bytes"]

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True, remove_pis=True, remove_blank_text=True)

_PLAIN_ROOT = frozenset({"folder", "filename", "source", "size", "segmented", "object"})
_PLAIN_OBJECT = frozenset({"name", "pose", "truncated", "occluded", "difficult", "bndbox", "part"})
_INT_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")


class _NotPlain(Exception):
    pass


def _int(text: str | None) -> int:
    """The integer an element holds (surrounding blanks allowed), else :class:`_NotPlain`."""
    if text is not None:
        t = text.strip()
        if t.isdigit() and t.isascii():
            return int(t)
        if _INT_TEXT.match(t):
            return int(t)
    raise _NotPlain


#: any attribute anywhere (mafmt.voc keeps attributes; the plain path has no place for them)
_HAS_ATTRIBUTE = etree.XPath("boolean(//@*)")


def _plain_object(el: Any, top: bool, name: str | None, path: str) -> VocObject:
    obj = VocObject(origin=Origin(name, el.sourceline, path))
    parts = 0
    seen: set[str] = set()
    for c in el:
        tag = c.tag
        if tag not in _PLAIN_OBJECT or (tag in seen and tag != "part") or len(c) and tag not in ("bndbox", "part"):
            raise _NotPlain
        seen.add(tag)
        text = (c.text or "").strip()
        if tag == "name":
            obj.name = text
        elif tag == "pose":
            obj.pose = text
        elif tag == "bndbox":
            vals = {k.tag: k.text for k in c}
            if len(vals) != 4 or len(c) != 4:
                raise _NotPlain
            obj.shape = BndBox(*(_int(vals.get(t)) for t in _BOX))
        elif tag == "part":
            parts += 1
            obj.parts.append(_plain_object(c, False, name, f"{path}/part[{parts}]"))
        else:
            setattr(obj, tag, _int(text))
    if not obj.name or obj.shape is None or (top and obj.difficult is None):
        raise _NotPlain
    return obj


_BOX = ("xmin", "ymin", "xmax", "ymax")


def plain_document(data: bytes, name: str | None = None) -> VocDocument | None:
    """A plain standard VOC document (boxes, integer fields, nothing unknown) read straight
    into the model -- the same result as :func:`mafmt.voc.parse_bytes` gives it, several
    times faster; None for anything else (then mafmt.voc reads it, with all its checks)."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return None
    info: Any = root.getroottree().docinfo
    if root.tag != "annotation" or info.doctype or info.internalDTD is not None:
        return None
    if _HAS_ATTRIBUTE(root) or b"<!" in data or b"&" in data:  # attributes, CDATA, entities
        return None
    doc = VocDocument()
    seen: set[str] = set()
    try:
        for el in root:
            tag = el.tag
            if tag not in _PLAIN_ROOT or (tag in seen and tag != "object"):
                return None
            seen.add(tag)
            if tag == "object":
                doc.objects.append(_plain_object(el, True, name, f"/annotation/object[{len(doc.objects) + 1}]"))
            elif tag == "size":
                vals = {k.tag: (k.text or "") for k in el}
                if len(el) != len(vals) or set(vals) - {"width", "height", "depth"} or not {"width", "height"} <= set(vals):
                    return None
                for k, v in vals.items():
                    if not _INT_TEXT.match(v):
                        return None
                    setattr(doc, k, int(v))
                doc.wire["size"] = True
            elif tag == "source":
                kids = {k.tag: (k.text or "").strip() for k in el}
                if len(el) != len(kids) or set(kids) - {"database", "annotation", "image"} or any(len(k) for k in el):
                    return None
                doc.source = VocSource(database=kids.get("database"), annotation=kids.get("annotation"),
                                       image=kids.get("image"))
            elif len(el):
                return None
            elif tag == "segmented":
                if not _INT_TEXT.match(el.text or ""):
                    return None
                doc.segmented = int(el.text or "")
            else:
                setattr(doc, tag, (el.text or "").strip())
    except _NotPlain:
        return None
    if not doc.folder or not doc.filename or doc.segmented is None:
        return None
    return doc



def escape(text: str) -> str:
    """XML character data: ``&``, ``<`` and ``>`` escaped (as lxml writes text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _num(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _object_xml(o: VocObject, tag: str, pad: str, out: list[str]) -> None:
    b = o.shape
    assert isinstance(b, BndBox)
    out.append(f"{pad}<{tag}>\n{pad}    <name>{escape(o.name or '')}</name>\n")
    if o.pose is not None:
        out.append(f"{pad}    <pose>{escape(o.pose)}</pose>\n")
    for t in ("truncated", "occluded", "difficult"):
        v = getattr(o, t)
        if v is not None:
            out.append(f"{pad}    <{t}>{v}</{t}>\n")
    out.append(f"{pad}    <bndbox>\n{pad}        <xmin>{_num(b.xmin)}</xmin>\n{pad}        <ymin>{_num(b.ymin)}</ymin>\n"
               f"{pad}        <xmax>{_num(b.xmax)}</xmax>\n{pad}        <ymax>{_num(b.ymax)}</ymax>\n{pad}    </bndbox>\n")
    for p in o.parts:
        _object_xml(p, "part", pad + "    ", out)
    out.append(f"{pad}</{tag}>\n")


def standard_bytes(doc: VocDocument) -> bytes | None:
    """The standard document as :func:`mafmt.voc.document_to_bytes` writes it, built with
    f-strings (several times faster); None when the document has extras it cannot write."""
    src = doc.source
    if doc.extra or (src is not None and src.extra):
        return None
    out = [(f"<annotation>\n    <folder>{escape(doc.folder or '')}</folder>\n"
            f"    <filename>{escape(doc.filename or '')}</filename>\n")]
    if src is not None:
        out.append("    <source>\n")
        for t in ("database", "annotation", "image"):
            v = getattr(src, t)
            if v is not None:
                out.append(f"        <{t}>{escape(v)}</{t}>\n")
        out.append("    </source>\n")
    out.append(f"    <size>\n        <width>{doc.width}</width>\n        <height>{doc.height}</height>\n"
               f"        <depth>{doc.depth}</depth>\n    </size>\n    <segmented>{doc.segmented}</segmented>\n")
    for o in doc.objects:
        _object_xml(o, "object", "    ", out)
    out.append("</annotation>\n")
    return voc.XML_DECLARATION + "".join(out).encode("utf-8")
