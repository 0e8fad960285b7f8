"""COCO instances JSON (``images`` / ``annotations`` / ``categories``), both ways.

Mapping to the model (one :class:`Sample` per COCO image):

* ``images[i]``: ``file_name`` -> ``Sample.source`` (verbatim), ``id`` -> ``Sample.id``,
  ``width``/``height`` -> the VOC document, ``usage`` -> ``Sample.usage``; other keys
  (``license``, ``coco_url``, ...) -> ``Sample.extra``.
* ``annotations``: ``bbox [x, y, w, h]`` -> ``BndBox(x, y, x + w, y + h)`` (continuous
  0-based pixels, no shift); a one-ring polygon ``segmentation`` -> :class:`Polygon`;
  multi-ring polygons and RLE masks (compressed or not) stay verbatim in
  ``VocObject.extra["segmentation"]`` with the box as the shape; ``iscrowd: 1``,
  ``keypoints``, ``num_keypoints`` and unknown keys -> ``extra``; a stored ``area`` or
  ``bbox`` that differs from the shape's own is kept in ``extra`` too, so COCO -> COCO
  rewrites it unchanged. ``attributes`` (string values) <-> ``properties``; ``score``
  <-> ``confidence``; ``pose``, ``truncated``, ``occluded``, ``difficult``,
  ``hard_coefficient``, ``hard_reasons``, ``mask_color`` are plain annotation keys.
* ``categories``: order, ids, ``supercategory`` and unknown keys ride on the stream's
  :class:`DatasetMeta` and are reused by the writer, so ids are stable.

Writing: category ids come from the source (COCO), else from ``categories=`` (names in
order, ids 1..K), else names sorted alphabetically (ids 1..K) -- reproducible whatever
the sample order. Annotation ids are renumbered 1..N in output order; image ids keep an
integer ``Sample.id`` when unique. Lossy: circles become ``circle_vertices``-gon polygons
(``circle->polygon``); point, line, dashed and polyline become their box
(``<kind>->bbox``); parts, non-detection annotations and sample fields COCO has no place
for are counted. COCO needs the whole file: the reader loads the JSON at once and the
writer holds all records until the end (a forced second pass over memory, not over input).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

from mafmt import storage
from mafmt.errors import FormatError, UsageError
from mafmt.formats import Format
from mafmt.model import OBJECT_DETECTION, BndBox, Detection, Number, Polygon, Sample, VocDocument, VocObject
from mafmt.report import ErrorPolicy, Report, check_policy

from ._common import (
    DatasetMeta,
    MetaStream,
    SizeResolver,
    as_box_or_polygon,
    basename,
    check_options,
    count_object_losses,
    count_sample_losses,
    detection_objects,
    get_meta,
    not_an_image,
    sample_size,
    tidy,
)

__all__ = ["FORMAT", "read", "write"]

_IMAGE_KEYS = ("id", "file_name", "width", "height", "usage")
_ANN_KEYS = ("id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation", "attributes", "score")
_OBJ_KEYS = ("pose", "truncated", "occluded", "difficult", "hard_coefficient", "hard_reasons", "mask_color")
_CAT_KEYS = ("id", "name", "supercategory")
_KNOWN = frozenset(_ANN_KEYS) | frozenset(_OBJ_KEYS)
HOLDS_OBJECT = frozenset({"pose", "truncated", "occluded", "difficult", "confidence", "hard_coefficient",
                          "hard_reasons", "mask_color", "properties", "extra"})
HOLDS_SAMPLE = frozenset({"usage", "id", "extra"})


# --------------------------------------------------------------------------- reading


def read(
    src: str | os.PathLike[str],
    *,
    on_error: ErrorPolicy = "raise",
    **options: Any,
) -> MetaStream:
    """Stream the images of a COCO instances file as samples (the JSON is loaded whole).

    Raises (while iterating):
        FormatError: not JSON, or a record that breaks COCO (names the JSON path).
    """
    check_policy(on_error)
    check_options("coco", {k: v for k, v in options.items() if k not in ("images", "size_table")})
    src = os.fspath(src)
    report = Report()
    meta = DatasetMeta()
    return MetaStream(_iter(src, on_error, report, meta), report, meta)


def _load(src: str) -> dict[str, Any]:
    data = storage.read_bytes(src)
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise FormatError(f"invalid JSON: {getattr(exc, 'msg', exc)}", file=src, line=getattr(exc, "lineno", None)) from None
    if not isinstance(doc, dict):
        raise FormatError("top level is not a JSON object", file=src)
    for key in ("images", "annotations", "categories"):
        if key in doc and not isinstance(doc[key], list):
            raise FormatError(f"expected an array, got {type(doc[key]).__name__}", file=src, path=key)
    if "images" not in doc:
        raise FormatError("required key 'images' is missing", file=src, path="images")
    return doc


def _iter(src: str, on_error: str, report: Report, meta: DatasetMeta) -> Iterator[Sample]:
    doc = _load(src)
    names: dict[Any, str] = {}
    for i, cat in enumerate(doc.get("categories", [])):
        if not isinstance(cat, dict) or "id" not in cat or not isinstance(cat.get("name"), str):
            raise FormatError("category needs an 'id' and a string 'name'", file=src, path=f"categories[{i}]")
        name = cat["name"]
        if name in meta.label_ids:
            report.warn("duplicate category name")
        else:
            meta.labels.append(name)
            meta.label_ids[name] = cat["id"]
            if "supercategory" in cat:
                meta.supercategories[name] = cat["supercategory"]
            rest = {k: v for k, v in cat.items() if k not in _CAT_KEYS}
            if rest:
                meta.categories_extra[name] = rest
        names[cat["id"]] = name
    meta.top = {k: v for k, v in doc.items() if k not in ("images", "annotations", "categories")}
    by_image: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
    for i, ann in enumerate(doc.get("annotations", [])):
        if not isinstance(ann, dict) or "image_id" not in ann:
            _fail(FormatError("annotation needs an 'image_id'", file=src, path=f"annotations[{i}]"), on_error, report)
            continue
        by_image.setdefault(ann["image_id"], []).append((i, ann))
    seen: set[Any] = set()
    for i, img in enumerate(doc["images"]):
        try:
            sample = _sample(img, i, by_image, names, src, report)
        except FormatError as exc:
            _fail(exc, on_error, report)
            continue
        seen.add(img.get("id"))
        yield sample
    orphans = sum(len(v) for k, v in by_image.items() if k not in seen)
    if orphans:
        report.warn("annotation of an unknown image ignored")
        report.lose("annotation of unknown image->dropped", orphans)


def _fail(exc: FormatError, on_error: str, report: Report) -> None:
    if on_error == "raise":
        raise exc
    report.skip(exc)


def _sample(img: Any, i: int, by_image: dict[Any, Any], names: dict[Any, str], src: str, report: Report) -> Sample:
    where = f"images[{i}]"
    if not isinstance(img, dict):
        raise FormatError("expected an object", file=src, path=where)
    file_name = img.get("file_name")
    if not isinstance(file_name, str) or not file_name:
        raise FormatError("required string 'file_name' is missing", file=src, path=f"{where}.file_name")
    width, height = img.get("width"), img.get("height")
    for key, value in (("width", width), ("height", height)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise FormatError(f"expected an integer, got {value!r}", file=src, path=f"{where}.{key}")
    objects = [_object(ann, j, names, src, report) for j, ann in by_image.get(img.get("id"), [])]
    document = VocDocument(filename=basename(file_name), width=width, height=height, objects=objects)
    usage = img.get("usage")
    sample = Sample(
        source=file_name,
        id=img.get("id"),
        usage=usage if isinstance(usage, str) else None,
        annotations=[Detection(type=OBJECT_DETECTION, annotation_format="PASCAL VOC", document=document)],
        extra={k: v for k, v in img.items() if k not in _IMAGE_KEYS or (k == "usage" and not isinstance(v, str))},
    )
    return sample


def _numbers(value: Any, n: int | None = None) -> bool:
    if not isinstance(value, list) or (n is not None and len(value) != n):
        return False
    for v in value:
        t = type(v)
        if t is not int and t is not float and (not isinstance(v, (int, float)) or isinstance(v, bool)):
            return False
    return True


def _object(ann: dict[str, Any], j: int, names: dict[Any, str], src: str, report: Report) -> VocObject:
    where = f"annotations[{j}]"
    cat = ann.get("category_id")
    if cat not in names:
        raise FormatError(f"unknown category_id {cat!r}", file=src, path=f"{where}.category_id")
    extra: dict[str, Any] = {k: v for k, v in ann.items() if k not in _KNOWN}
    bbox = ann.get("bbox")
    seg = ann.get("segmentation")
    if seg is None and type(bbox) is list and len(bbox) == 4 and all(type(v) is int for v in bbox):
        # the common case, integer box without mask: nothing to tidy or compare
        x, y, w, h = bbox
        shape: BndBox | Polygon | None = BndBox(x, y, x + w, y + h)
        area = ann.get("area")
        if area is not None and area != max(0, w) * max(0, h):
            extra["area"] = area
    else:
        shape = _shape(ann, bbox, seg, extra, where, src)
    if ann.get("iscrowd", 0) != 0:
        extra["iscrowd"] = ann["iscrowd"]
    obj = VocObject(name=names[cat], shape=shape, extra=extra)
    if len(ann) <= 7 and "attributes" not in ann and "score" not in ann and not any(k in ann for k in _OBJ_KEYS):
        return obj
    return _object_fields(ann, obj, extra)


def _shape(ann: dict[str, Any], bbox: Any, seg: Any, extra: dict[str, Any], where: str, src: str) -> BndBox | Polygon:
    """The shape of an annotation (polygon, or box), keeping what it cannot express in ``extra``."""
    if bbox is not None and not _numbers(bbox, 4):
        raise FormatError(f"bbox must be 4 numbers, got {bbox!r}", file=src, path=f"{where}.bbox")
    shape: BndBox | Polygon | None = None
    if isinstance(seg, list) and len(seg) == 1 and _numbers(seg[0]) and len(seg[0]) >= 6 and len(seg[0]) % 2 == 0:
        ring = seg[0]
        shape = Polygon(tuple((ring[k], ring[k + 1]) for k in range(0, len(ring), 2)))
    elif seg not in (None, []):
        if isinstance(seg, dict):
            if "counts" not in seg or "size" not in seg:
                raise FormatError("RLE needs 'counts' and 'size'", file=src, path=f"{where}.segmentation")
        elif not (isinstance(seg, list) and all(_numbers(r) for r in seg)):
            raise FormatError("segmentation is neither polygons nor RLE", file=src, path=f"{where}.segmentation")
        extra["segmentation"] = seg
    elif seg == []:
        extra["segmentation"] = []
    if shape is None:
        if bbox is None and isinstance(seg, dict):
            from . import rle as rle_codec  # numpy only when an RLE mask needs it

            bbox = rle_codec.to_bbox(seg)
        if bbox is None:
            raise FormatError("annotation has neither bbox nor polygon", file=src, path=f"{where}.bbox")
        x, y, w, h = bbox
        shape = BndBox(tidy(x), tidy(y), tidy(x + w), tidy(y + h))
        if _box_list(shape) != list(bbox):
            extra["bbox"] = bbox
    elif bbox is not None and not _close(_box_list(shape), bbox):
        extra["bbox"] = bbox
    area = ann.get("area")
    if area is not None and not _close([_area(shape)], [area]):
        extra["area"] = area
    return shape


def _object_fields(ann: dict[str, Any], obj: VocObject, extra: dict[str, Any]) -> VocObject:
    """The VOC fields and attributes an annotation carries as keys."""
    attrs = ann.get("attributes")
    if isinstance(attrs, dict) and all(isinstance(v, str) for v in attrs.values()):
        obj.properties = dict(attrs)
    elif attrs is not None:
        extra["attributes"] = attrs
    score = ann.get("score")
    if isinstance(score, (int, float)) and not isinstance(score, bool):
        obj.confidence = score
    elif score is not None:
        extra["score"] = score
    for key in _OBJ_KEYS:
        if key in ann:
            value = ann[key]
            ok = isinstance(value, str) if key in ("pose", "hard_reasons", "mask_color") else (
                isinstance(value, (int, float)) and not isinstance(value, bool)
                and (key == "hard_coefficient" or isinstance(value, int)))
            if ok:
                setattr(obj, key, value)
            else:
                extra[key] = value
    return obj


def _close(a: list[Number], b: list[Number]) -> bool:
    return all(abs(float(x) - float(y)) <= 1e-6 * max(1.0, abs(float(y))) for x, y in zip(a, b))


def _box_list(shape: BndBox | Polygon) -> list[Number]:
    x0, y0, x1, y1 = shape.bbox()
    return [x0, y0, tidy(x1 - x0), tidy(y1 - y0)]


def _area(shape: BndBox | Polygon) -> Number:
    return tidy(shape.area())


# --------------------------------------------------------------------------- writing


def write(
    samples: Iterable[Sample],
    target: str | os.PathLike[str],
    *,
    categories: list[str] | str | None = None,
    circle_vertices: int = 32,
    indent: int | None = None,
    images: str | None = None,
    size_table: str | dict[str, Any] | None = None,
    **options: Any,
) -> Report:
    """Write samples as one COCO instances JSON file, atomically.

    Args:
        categories: class names in id order (ids 1..K), or a COCO JSON / text file of
            names; other names found get the next ids.
        circle_vertices: corners of the polygon that replaces a circle.
        indent: pretty-print with this indent (default: compact).
        images / size_table: where sizes come from for samples without a VOC document.
    """
    check_options("coco", options)
    if circle_vertices < 3:
        raise UsageError("circle_vertices must be at least 3")
    target = os.fspath(target)
    report = Report()
    sizes = SizeResolver(images, size_table)
    out_images: list[dict[str, Any]] = []
    out_anns: list[dict[str, Any]] = []
    labels: list[str] = []
    used_ids: set[int] = set()
    next_id = 1
    seen_labels: set[str] = set()
    for sample in samples:
        doc, objects = detection_objects(sample, report, "coco")
        if not_an_image(sample, doc, report):
            continue
        count_sample_losses(sample, report, HOLDS_SAMPLE)
        width, height = (doc.width, doc.height) if doc is not None else (None, None)
        if width is None or height is None:
            found = sample_size(sample, sizes)
            if found:
                width, height = found[0], found[1]
        if width is None or height is None:
            report.lose("sample without image size->dropped")
            continue
        sid = sample.id
        if isinstance(sid, int) and not isinstance(sid, bool) and sid not in used_ids:
            image_id = sid
        else:
            while next_id in used_ids:
                next_id += 1
            image_id = next_id
            if sid is not None:
                report.warn("image id renumbered")
        used_ids.add(image_id)
        img: dict[str, Any] = {"id": image_id, "file_name": sample.source.removeprefix("./"), "width": width,
                               "height": height}
        if sample.usage is not None:
            img["usage"] = sample.usage
        for k, v in sample.extra.items():
            img.setdefault(k, v)
        out_images.append(img)
        for obj in objects:
            ann = _annotation(obj, image_id, len(out_anns) + 1, circle_vertices, report)
            if ann is None:
                continue
            if obj.name not in seen_labels:
                seen_labels.add(obj.name)  # type: ignore[arg-type]
                labels.append(obj.name)  # type: ignore[arg-type]
            out_anns.append(ann)
        report.written += 1
    cats = _categories(labels, get_meta(samples), categories)
    ids = {c["name"]: c["id"] for c in cats}
    for ann in out_anns:
        ann["category_id"] = ids[ann["category_id"]]
    meta = get_meta(samples)
    top: dict[str, Any] = (dict(meta.top) if meta is not None and meta.top
                           else {"info": {"description": "written by mafmt"}, "licenses": []})
    top.update(images=out_images, annotations=out_anns, categories=cats)
    data = json.dumps(top, ensure_ascii=False, indent=indent, separators=(",", ":") if indent is None else None)
    with storage.atomic_write(target) as fh:
        fh.write(data.encode("utf-8"))
    report.outputs.append(target)
    return report


def _annotation(obj: VocObject, image_id: int, ann_id: int, circle_vertices: int, report: Report) -> dict[str, Any] | None:
    if obj.shape is None or not obj.name:
        report.lose("object without shape or name->dropped")
        return None
    if obj.parts:
        count_object_losses(obj, report, HOLDS_OBJECT)
    shape = as_box_or_polygon(obj.shape, report, circle_vertices)
    extra = obj.extra
    ann: dict[str, Any] = {"id": ann_id, "image_id": image_id, "category_id": obj.name}
    if type(shape) is BndBox and type(shape.xmin) is int and type(shape.ymin) is int and type(shape.xmax) is int \
            and type(shape.ymax) is int:
        w, h = shape.xmax - shape.xmin, shape.ymax - shape.ymin
        box: list[Number] = [shape.xmin, shape.ymin, w, h]
        area: Number = max(0, w) * max(0, h)
    else:
        box, area = _box_list(shape), _area(shape)
    ann["bbox"] = extra.get("bbox", box) if extra else box
    ann["area"] = extra.get("area", area) if extra else area
    ann["iscrowd"] = extra.get("iscrowd", 0) if extra else 0
    if "segmentation" in extra:
        ann["segmentation"] = extra["segmentation"]
    elif isinstance(shape, Polygon):
        ann["segmentation"] = [[c for p in shape.points for c in p]]
    if obj.properties is not None:
        ann["attributes"] = dict(obj.properties)
    if obj.confidence is not None:
        ann["score"] = obj.confidence
    for key in _OBJ_KEYS:
        value = getattr(obj, key)
        if value is not None:
            ann[key] = value
    for k, v in extra.items():
        if k not in ("id", "image_id", "category_id"):
            ann.setdefault(k, v)
    return ann


def _category_names(spec: list[str] | str) -> list[str]:
    if isinstance(spec, list):
        return spec
    text = storage.read_bytes(spec).decode("utf-8-sig")
    if spec.lower().endswith(".json"):
        cats = json.loads(text).get("categories", [])
        return [c["name"] for c in sorted(cats, key=lambda c: c["id"])]
    return [line.strip() for line in text.splitlines() if line.strip()]


def _categories(labels: list[str], meta: DatasetMeta | None, spec: list[str] | str | None) -> list[dict[str, Any]]:
    ids: dict[str, int] = {}
    if spec is not None:
        for i, name in enumerate(_category_names(spec), 1):
            ids.setdefault(name, i)
    elif meta is not None and meta.label_ids:
        ids = {n: i for n, i in meta.label_ids.items() if isinstance(i, int)}
        for name in meta.labels:
            ids.setdefault(name, 0)
    elif meta is not None and meta.labels:
        ids = {name: i for i, name in enumerate(dict.fromkeys(meta.labels), 1)}
    order = list(ids)
    nxt = max([i for i in ids.values()], default=0) + 1
    for name in ids:
        if ids[name] == 0:
            ids[name], nxt = nxt, nxt + 1
    for name in sorted(n for n in labels if n not in ids):
        ids[name], nxt = nxt, nxt + 1
        order.append(name)
    out = []
    for name in order:
        cat: dict[str, Any] = {"id": ids[name], "name": name}
        if meta is not None:
            cat["supercategory"] = meta.supercategories.get(name, "")
            cat.update(meta.categories_extra.get(name, {}))
        else:
            cat["supercategory"] = ""
        out.append(cat)
    return out


def _sniff(path: str) -> bool:
    if storage.is_dir(path):
        return False
    try:
        with storage.open_read(path) as fh:
            head = fh.read(65536).lstrip(b"\xef\xbb\xbf").lstrip()
    except Exception:  # noqa: BLE001 - sniffing never fails loudly
        return False
    return head.startswith(b"{") and (b'"images"' in head or b'"annotations"' in head or b'"categories"' in head)


FORMAT = Format(
    name="coco",
    read=read,
    write=write,
    holds=frozenset({OBJECT_DETECTION, "bndbox", "polygon", "rle", "keypoints", "properties", "confidence",
                     "unknown-fields"}),
    description="COCO instances JSON: boxes, polygons, RLE masks; circles become polygons, other shapes boxes",
    extensions=(".json",),
    aliases=("coco-json", "coco-instances"),
    sniff=_sniff,
)
