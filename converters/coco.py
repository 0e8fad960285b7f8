"""COCO instances JSON (``images`` / ``annotations`` / ``categories``), both ways.

Mapping to the model (one :class:`Sample` per COCO image):

* ``images[i]``: ``file_name`` -> ``Sample.source`` (verbatim), ``id`` -> ``Sample.id``,
  ``width``/``height`` -> the VOC document, ``usage`` -> ``Sample.usage``; other keys
  (``license``, ``coco_url``, ...) -> ``Sample.extra`` with their JSON types.
* ``annotations``: ``bbox [x, y, w, h]`` -> ``BndBox(x, y, x + w, y + h)`` (continuous
  0-based pixels, no shift); ``segmentation`` is part of the shape: one polygon ->
  :class:`Polygon`, several -> :class:`MultiPolygon`, an RLE (compressed or not) ->
  :class:`Mask`. ``iscrowd``, ``keypoints``, ``num_keypoints``, the annotation ``id`` and
  unknown keys -> ``VocObject.extra`` with their JSON types; a stored ``area`` or ``bbox``
  that differs from the shape's own is kept there too, so COCO -> COCO rewrites it
  unchanged. ``attributes`` (string values) <-> ``properties``; ``score`` <->
  ``confidence``; ``pose``, ``truncated``, ``occluded``, ``difficult``,
  ``hard_coefficient``, ``hard_reasons``, ``mask_color`` are plain annotation keys. An
  annotation with a ``category_id`` and neither ``bbox`` nor ``segmentation`` is an
  image-level label (datumaro's ``coco_labels``): a :class:`Classification` of the sample.
* ``categories``: order, ids, ``supercategory`` and other keys ride on the stream's
  :class:`DatasetMeta`; unused categories are kept.

Writing streams: images and annotations are written as they come (annotations through a
temporary file), categories at the end. Category ids: from ``categories=`` (a COCO file
or a names list / file: restores the original ids), else the source's COCO ids, else YOLO
indices + 1 (counted as ``"category id->renumbered"``), else 1..K in order of first
appearance. Image ``file_name`` is the sample's ``source`` (``./`` removed; relative to
``image_root=`` when given; ``file_names="basename"`` keeps base names), unique: samples
with one source become one image. ``segmentation`` is always present (``[]`` for boxes),
``iscrowd`` and ``area`` are numbers. Lossy: circles become ``circle_vertices``-gon
polygons (``circle->polygon``); point, line, dashed and polyline become their box.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any

import orjson

from mafmt import lanes, limits, storage
from mafmt.errors import FormatError, LimitError, UsageError
from mafmt.formats import Format
from mafmt.limits import check_depth, clip
from mafmt.losses import count_plain_losses, count_sample_losses, writable_objects
from mafmt.model import (
    IMAGE_CLASSIFICATION,
    OBJECT_DETECTION,
    Annotation,
    BndBox,
    Classification,
    CompactSample,
    Flags,
    Mask,
    MultiPolygon,
    Number,
    Origin,
    PlainObject,
    Polygon,
    Sample,
    VocObject,
    image_detection,
    ring_area,
)
from mafmt.report import ErrorPolicy, Report, check_policy
from mafmt.storage.transaction import check_complete

from ._common import (
    Category,
    DatasetMeta,
    MetaStream,
    basename,
    check_options,
    detection_objects,
    get_meta,
    not_an_image,
    output,
)
from ._geometry import as_box_or_polygon, tidy
from ._sizes import SizeResolver, sample_size

__all__ = ["FORMAT", "read", "write"]

_IMAGE_KEYS = ("id", "file_name", "width", "height", "usage")
_ANN_KEYS = ("image_id", "category_id", "bbox", "area", "iscrowd", "segmentation", "attributes", "score")
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
        FormatError: not JSON, not an instances file (a results list, captions, panoptic),
            or a record that breaks COCO (names the JSON path).
    """
    check_policy(on_error)
    check_options("coco", {k: v for k, v in options.items() if k not in ("images", "size_table")})
    src = os.fspath(src)
    report = Report()
    meta = DatasetMeta()
    stream = MetaStream(iter(()), report, meta)
    stream._it = _iter(src, on_error, report, meta, stream)
    return stream


def _strict_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {clip(text, 40)} is too large")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


_STRICT = json.JSONDecoder(parse_float=_strict_float, parse_constant=_no_constant)


def load_json(src: str, what: str) -> Any:
    """A whole JSON document (at most :data:`mafmt.limits.MAX_JSON_BYTES`), numbers exact."""
    data = storage.read_bytes(src, limit=limits.MAX_JSON_BYTES)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass  # integers beyond 64 bits, or an error the standard parser words better
    try:
        return _STRICT.decode(data.decode("utf-8-sig"))
    except RecursionError:
        raise LimitError(f"{what} nested deeper than Python can read", file=src) from None
    except UnicodeDecodeError as exc:
        raise FormatError(f"{what} is not UTF-8 (byte {exc.start + 1})", file=src) from None
    except ValueError as exc:
        raise FormatError(f"invalid JSON: {clip(getattr(exc, 'msg', str(exc)), 120)}", file=src,
                          line=getattr(exc, "lineno", None)) from None


def load_instances(src: str) -> dict[str, Any]:
    """A COCO instances document, its kind checked (results, captions and panoptic files are
    refused with that reason)."""
    doc = load_json(src, "COCO file")
    if isinstance(doc, list):
        if doc and all(isinstance(d, dict) and "image_id" in d for d in doc[:10]):
            raise FormatError(f"a COCO results file (a list of {len(doc)} detections), not an instances file: "
                              "it has no images; evaluate it against its instances file instead", file=src)
        raise FormatError(f"top level is a JSON array of {len(doc)} items, not a COCO instances object", file=src)
    if not isinstance(doc, dict):
        raise FormatError(f"top level is {clip(doc, 40)}, not a COCO instances object", file=src)
    for key in ("images", "annotations", "categories"):
        if key in doc and doc[key] is not None and not isinstance(doc[key], list):
            raise FormatError(f"expected an array, got {type(doc[key]).__name__}", file=src, path=f"$.{key}")
    if not isinstance(doc.get("images"), list):
        raise FormatError("required key 'images' is missing: not a COCO instances file", file=src, path="$.images")
    anns = doc.get("annotations") or []
    first = next((a for a in anns[:50] if isinstance(a, dict)), None)
    if first is not None and "category_id" not in first:
        if "caption" in first:
            raise FormatError("a COCO captions file (annotations have 'caption', no 'category_id'), not an instances "
                              "file: mafmt reads instances (boxes, polygons, masks) and image labels", file=src)
        if "segments_info" in first:
            raise FormatError("a COCO panoptic file (annotations have 'segments_info' and PNG masks), not an instances "
                              "file", file=src)
    return doc


def _scalar_id(value: Any) -> bool:
    return (type(value) is int or type(value) is str) and (type(value) is not int or abs(value) < 1 << 63)


def _iter(src: str, on_error: str, report: Report, meta: DatasetMeta, stream: MetaStream) -> Iterator[Sample]:
    check_complete(src)
    with _held(src) as doc:  # the document's millions of objects: no collection walks them
        stream.total = len(doc["images"])
        names, by_image = head(doc, src, on_error, report, meta)
        seen: set[Any] = set()
        yield from images(enumerate(doc["images"]), by_image, names, src, on_error, report, seen)
    orphans = sum(len(v) for k, v in by_image.items() if k not in seen)
    if orphans:
        report.warn(ORPHANS)
        report.lose(ORPHANS_LOST, orphans)


@contextlib.contextmanager
def _held(src: str) -> Iterator[dict[str, Any]]:
    """The COCO document of ``src``, left out of cyclic collections until the end. It is
    decoded with the collector off (it holds no cycles; a collection would only walk the
    objects made so far, again and again) and frozen before the collector is on again (else
    the first collection after would walk all of its millions of objects: 0.16 s at 20,000
    images)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        doc = load_instances(src)
        gc.freeze()
    finally:
        if enabled:
            gc.enable()
    try:
        yield doc
    finally:
        gc.unfreeze()


#: the warning and the loss of annotations whose image_id names no image read
ORPHANS = "annotation of an unknown image_id"
ORPHANS_LOST = "annotation of unknown image->dropped"


def head(doc: dict[str, Any], src: str, on_error: str, report: Report,
         meta: DatasetMeta) -> tuple[dict[Any, str], dict[Any, list[tuple[int, dict[str, Any]]]]]:
    """What comes before the images: the categories (into ``meta``, with the other top-level
    keys) and the annotations grouped by image id, each with its index; returns the names
    by category id and those groups."""
    names: dict[Any, str] = {}
    known: set[str] = set()
    for i, cat in enumerate(doc.get("categories") or []):
        where = f"$.categories[{i}]"
        if not isinstance(cat, dict) or not _scalar_id(cat.get("id")) or not isinstance(cat.get("name"), str):
            raise FormatError("category needs an integer 'id' and a string 'name'", file=src, path=where)
        name = cat["name"]
        if cat["id"] in names:
            raise FormatError(f"category id {clip(cat['id'])} given twice", file=src, path=f"{where}.id")
        names[cat["id"]] = name
        if name in known:
            report.warn("duplicate category name")
            continue
        known.add(name)
        rest = {k: v for k, v in cat.items() if k not in _CAT_KEYS}
        check_depth(rest, file=src, path=where)
        sup = cat.get("supercategory")
        meta.categories.append(Category(name, cat["id"], sup if isinstance(sup, str) else None, rest))
    meta.top = {k: v for k, v in doc.items() if k not in ("images", "annotations", "categories")}
    check_depth(meta.top, file=src)
    by_image: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
    for i, ann in enumerate(doc.get("annotations") or []):
        if not isinstance(ann, dict) or not _scalar_id(ann.get("image_id")):
            _fail(FormatError("annotation needs an integer 'image_id'", file=src, path=f"$.annotations[{i}]"),
                  on_error, report)
            continue
        by_image.setdefault(ann["image_id"], []).append((i, ann))
    return names, by_image


def images(numbered: Iterable[tuple[int, Any]], by_image: dict[Any, Any], names: dict[Any, str], src: str,
           on_error: str, report: Report, seen: set[Any]) -> Iterator[Sample]:
    """The samples of ``numbered`` images (``(index in $.images, record)``); ``seen`` holds
    the ids of the images read before and takes those read here."""
    for i, img in numbered:
        try:
            sample = _sample(img, i, by_image, names, src, report)
        except FormatError as exc:
            _fail(exc, on_error, report)
            continue
        if img["id"] in seen:
            _fail(FormatError(f"image id {clip(img['id'])} given twice", file=src, path=f"$.images[{i}].id"),
                  on_error, report)
            continue
        seen.add(img["id"])
        yield sample


def _fail(exc: FormatError, on_error: str, report: Report) -> None:
    if on_error == "raise":
        raise exc
    report.skip(exc)


def _sample(img: Any, i: int, by_image: dict[Any, Any], names: dict[Any, str], src: str, report: Report) -> Sample:
    if not isinstance(img, dict):
        raise FormatError("expected an object", file=src, path=f"$.images[{i}]")
    image_id = img.get("id")
    if not _scalar_id(image_id):
        raise FormatError(f"image needs an integer 'id', got {clip(image_id)}", file=src, path=f"$.images[{i}].id")
    file_name = img.get("file_name")
    if not isinstance(file_name, str) or not file_name.strip():
        raise FormatError("required string 'file_name' is missing", file=src, path=f"$.images[{i}].file_name")
    width, height = img.get("width"), img.get("height")
    for key, value in (("width", width), ("height", height)):
        if value is not None and (type(value) is not int or not 0 <= value <= limits.MAX_COORDINATE):
            raise FormatError(f"expected a pixel count, got {clip(value)}", file=src, path=f"$.images[{i}].{key}")
    anns = by_image.get(image_id, ())
    records = _plain_records(anns, names) if lanes.PLAIN else None
    if records is None:
        objects, labels = _objects(anns, names, src)
    usage = img.get("usage")
    usage = usage if isinstance(usage, str) else None
    extra = {k: v for k, v in img.items() if k not in _IMAGE_KEYS or (k == "usage" and not isinstance(v, str))}
    if extra:
        check_depth(extra, file=src, path=f"$.images[{i}]")
    if records is not None:
        build = functools.partial(_compact_annotations, records, anns, file_name, width, height, src)
        return CompactSample.of(file_name, image_id, usage, extra, basename(file_name), width, height, records,
                                [ann for _, ann in anns], build)
    return Sample(source=file_name, id=image_id, usage=usage,
                  annotations=_annotations(objects, labels, file_name, width, height), extra=extra)


def _objects(anns: Iterable[tuple[int, dict[str, Any]]], names: dict[Any, str],
             src: str) -> tuple[list[VocObject], list[str]]:
    """The objects and the image-level labels of an image's annotations (the general path)."""
    objects: list[VocObject] = []
    labels: list[str] = []
    plain = lanes.PLAIN
    for j, ann in anns:
        obj: VocObject | str | None = _plain_object(ann, names) if plain else None
        if obj is None:
            try:
                obj = _object(ann, j, names, src)
            except FormatError as exc:
                if not _scalar_id(ann.get("id")):
                    raise
                raise FormatError(f"annotation {clip(ann['id'])}: {exc.reason}", file=exc.file,
                                  path=exc.path) from None
        if isinstance(obj, str):
            labels.append(obj)
            continue
        obj.origin = _origin(src, j, ann)
        objects.append(obj)
    return objects, labels


def _origin(src: str, j: int, ann: dict[str, Any]) -> Origin:
    return Origin(src, None, f"$.annotations[{j}] (id {ann['id']})" if "id" in ann else f"$.annotations[{j}]")


def _annotations(objects: list[VocObject], labels: list[str], file_name: str, width: int | None,
                 height: int | None) -> list[Annotation]:
    annotations: list[Annotation] = [image_detection(basename(file_name), width, height, objects)]
    annotations += [Classification(type=IMAGE_CLASSIFICATION, name=n) for n in labels]
    return annotations


def _plain_records(anns: Iterable[tuple[int, dict[str, Any]]], names: dict[Any, str]) -> list[PlainObject] | None:
    """The objects of an image whose annotations are all plain, named (:func:`_plain_record`), else None."""
    records = []
    for _, ann in anns:
        record = _plain_record(ann, names)
        if record is None or not record[0]:
            return None
        records.append(record)
    return records


def _compact_annotations(records: list[PlainObject], anns: list[tuple[int, dict[str, Any]]], file_name: str,
                         width: int | None, height: int | None, src: str) -> list[Annotation]:
    """The annotations of a compact sample, as :func:`_objects` reads them."""
    objects = []
    for record, (j, ann) in zip(records, anns):
        obj = _record_object(record, ann)
        obj.origin = _origin(src, j, ann)
        objects.append(obj)
    return _annotations(objects, [], file_name, width, height)


def _numbers(value: Any, n: int | None = None) -> bool:
    if not isinstance(value, list) or (n is not None and len(value) != n):
        return False
    bound = limits.MAX_COORDINATE
    for v in value:
        t = type(v)
        if (t is not int and t is not float) or not -bound <= v <= bound:
            return False
    return True


def _object(ann: dict[str, Any], j: int, names: dict[Any, str], src: str) -> VocObject | str:
    where = f"$.annotations[{j}]"
    cat = ann.get("category_id")
    if not _scalar_id(cat) or cat not in names:
        raise FormatError(f"unknown category_id {clip(cat)}", file=src, path=f"{where}.category_id")
    bbox = ann.get("bbox")
    seg = ann.get("segmentation")
    if bbox is None and seg in (None, []):
        return names[cat]  # an image-level label
    extra: dict[str, Any] = {k: v for k, v in ann.items() if k not in _KNOWN or (k == "iscrowd" and v != 0)}
    if "id" in extra and not _scalar_id(extra["id"]):
        raise FormatError(f"annotation id must be an integer, got {clip(extra['id'])}", file=src, path=f"{where}.id")
    shape = _shape(ann, bbox, seg, extra, where, src)
    if extra:
        check_depth(extra, file=src, path=where)
    obj = VocObject(name=names[cat], shape=shape, extra=extra)
    if "attributes" not in ann and "score" not in ann and not any(k in ann for k in _OBJ_KEYS):
        return obj
    return _object_fields(ann, obj, extra)


_NUMBER_TYPES = frozenset({int, float})
#: the keys of a plain annotation: a box, at most one polygon, nothing per object but its id
_PLAIN_KEYS = frozenset({"id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation"})


def _plain_object(ann: dict[str, Any], names: dict[Any, str]) -> VocObject | None:
    """The common annotation (a box with ``segmentation`` empty or one polygon, an integer
    id, ``iscrowd`` 0) as a plain :class:`VocObject`, exactly as the general path reads it;
    None for anything else (then the general path reads it, with its errors)."""
    record = _plain_record(ann, names)
    return None if record is None else _record_object(record, ann)


def _record_object(record: PlainObject, ann: dict[str, Any]) -> VocObject:
    name, x0, y0, x1, y1, ring, keys = record
    shape = BndBox(x0, y0, x1, y1) if ring is None else Polygon(tuple(zip(ring[0::2], ring[1::2])))
    return VocObject.plain(name, shape, extra={k: ann[k] for k in keys})


#: the extra keys of a plain object: its id, and the stored bbox and area where they differ from the shape's own
_KEYS = (("id",), ("id", "bbox"), ("id", "area"), ("id", "bbox", "area"))


def _plain_record(ann: dict[str, Any], names: dict[Any, str]) -> PlainObject | None:
    """The common annotation as a :data:`PlainObject` (box coordinates tidied as the general
    path reads them; a polygon's box its extent as it is); None for anything else."""
    if not ann.keys() <= _PLAIN_KEYS:
        return None
    cat = ann.get("category_id")
    bbox = ann.get("bbox")
    ann_id = ann.get("id")
    if (type(cat) is not int or type(bbox) is not list or len(bbox) != 4 or type(ann_id) is not int
            or ann.get("iscrowd", 0) != 0 or abs(ann_id) >= 1 << 63):
        return None
    name = names.get(cat)
    if name is None:
        return None
    x, y, w, h = bbox
    seg = ann.get("segmentation")
    bound = limits.MAX_COORDINATE
    micro = _MICRO_BOUND
    if (seg == [] or seg is None) and type(x) is float and type(y) is float and type(w) is float and type(h) is float \
            and -micro < x < micro and -micro < y < micro and -micro < w < micro and -micro < h < micro \
            and bound >= micro:
        # the usual COCO box, four floats of at most 6 decimals, tidied without rounding (each is
        # exactly its millionths; the corners' sums are whole millionths)
        nx, ny, nw, nh = round(x * 1e6), round(y * 1e6), round(w * 1e6), round(h * 1e6)
        if nx / 1000000 == x and ny / 1000000 == y and nw / 1000000 == w and nh / 1000000 == h:
            n1, n2 = nx + nw, ny + nh
            kept = nx % 1000000 == 0 or ny % 1000000 == 0 or nw % 1000000 == 0 or nh % 1000000 == 0
            x0 = x if nx % 1000000 else nx // 1000000
            y0 = y if ny % 1000000 else ny // 1000000
            x1 = n1 // 1000000 if n1 % 1000000 == 0 else n1 / 1000000
            y1 = n2 // 1000000 if n2 % 1000000 == 0 else n2 / 1000000
            return name, x0, y0, x1, y1, None, _kept_keys(ann.get("area"), float(max(0, x1 - x0) * max(0, y1 - y0)),
                                                          kept)  # (the area of the tidied corners, as BndBox.area)
    tx, ty, tw, th = type(x), type(y), type(w), type(h)
    if ((tx is not int and tx is not float) or (ty is not int and ty is not float) or (tw is not int and tw is not float)
            or (th is not int and th is not float) or min(bbox) < -bound or max(bbox) > bound):
        return None
    ring = None
    kept_bbox: bool
    if not seg:
        if seg is not None and seg != []:
            return None
        if tx is int and ty is int and tw is int and th is int:
            return name, x, y, x + w, y + h, None, _kept_keys(ann.get("area"), float(max(0, w) * max(0, h)), False)
        x0, y0, x1, y1, kept_bbox = _tidy_box(x, y, w, h)
        area = float(max(0, x1 - x0) * max(0, y1 - y0))
    else:
        if type(seg) is not list or len(seg) != 1:
            return None
        ring = seg[0]
        if type(ring) is not list or len(ring) < 6 or len(ring) % 2 or not set(map(type, ring)) <= _NUMBER_TYPES:
            return None
        xs, ys = ring[0::2], ring[1::2]
        x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
        if x0 < -bound or y0 < -bound or x1 > bound or y1 > bound:
            return None
        bw, bh = tidy(x1 - x0), tidy(y1 - y0)
        kept_bbox = not (type(x0) is tx and x0 == x and type(y0) is ty and y0 == y and type(bw) is tw and bw == w
                         and type(bh) is th and bh == h)
        area = ring_area(xs, ys)
    return name, x0, y0, x1, y1, ring, _kept_keys(ann.get("area"), area, kept_bbox)


def _tidy_box(x: Number, y: Number, w: Number, h: Number) -> tuple[Number, Number, Number, Number, bool]:
    """The corners of a COCO box as ``tidy()`` makes them, and whether the box they give back
    differs from the stored one."""
    x0, y0, x1, y1 = tidy(x), tidy(y), tidy(x + w), tidy(y + h)
    bw, bh = tidy(x1 - x0), tidy(y1 - y0)
    return x0, y0, x1, y1, not (type(x0) is type(x) and x0 == x and type(y0) is type(y) and y0 == y
                                and type(bw) is type(w) and bw == w and type(bh) is type(h) and bh == h)


#: the bound below which a float's millionths (:func:`_micro`) are exact: far from a rounding
#: boundary of 6 decimals, even after a sum of two
_MICRO_BOUND = 1 << 20


def _micro(v: Number) -> int | None:
    """``v`` as a whole number of millionths when it is exactly one (what ``tidy()`` leaves as
    it is, up to an integer float becoming an int) and small enough, else None."""
    if type(v) is int:
        return v * 1000000 if -_MICRO_BOUND < v < _MICRO_BOUND else None
    n = round(v * 1e6)
    return n if -_MICRO_BOUND < v < _MICRO_BOUND and n / 1000000 == v else None


def _kept_keys(given: Any, area: Number, kept_bbox: bool) -> tuple[str, ...]:
    """The extra keys of a plain object whose shape's area, before ``tidy()``, is ``area``: the
    stored area is kept where it differs from the tidied one (the stored bbox where ``kept_bbox``)."""
    if given is None:
        return _KEYS[kept_bbox]
    if type(given) is float and -1e-9 < area - given < 1e-9 and not given.is_integer() and _micro(given) is not None:
        return _KEYS[kept_bbox]  # tidy(area) is the stored 6-decimal value: no rounding needed to see it
    tidied = tidy(area)
    return _KEYS[kept_bbox + 2 * (type(given) is not type(tidied) or given != tidied)]


def _shape(ann: dict[str, Any], bbox: Any, seg: Any, extra: dict[str, Any], where: str,
           src: str) -> BndBox | Polygon | MultiPolygon | Mask:
    """The shape of an annotation (mask, polygons, or box), keeping what it cannot express in ``extra``."""
    if bbox is not None and not _numbers(bbox, 4):
        raise FormatError(f"bbox must be 4 numbers within +-{limits.MAX_COORDINATE}, got {clip(bbox)}", file=src,
                          path=f"{where}.bbox")
    shape: BndBox | Polygon | MultiPolygon | Mask | None = None
    if isinstance(seg, dict):
        try:
            shape = Mask.from_coco(seg)
        except ValueError as exc:
            raise FormatError(str(exc), file=src, path=f"{where}.segmentation") from None
    elif isinstance(seg, list) and seg:
        if not all(_numbers(r) for r in seg):
            raise FormatError("segmentation is neither polygons (lists of numbers) nor an RLE", file=src,
                              path=f"{where}.segmentation")
        if all(len(r) >= 6 and len(r) % 2 == 0 for r in seg):
            rings = tuple(tuple((r[k], r[k + 1]) for k in range(0, len(r), 2)) for r in seg)
            shape = Polygon(rings[0]) if len(rings) == 1 else MultiPolygon(rings)
        else:
            extra["segmentation"] = seg  # rings too short to be polygons: kept as they are
    elif seg not in (None, []):
        raise FormatError("segmentation is neither polygons nor an RLE", file=src, path=f"{where}.segmentation")
    if shape is None:
        if bbox is None:
            raise FormatError("annotation has neither bbox nor segmentation", file=src, path=f"{where}.bbox")
        x, y, w, h = bbox
        shape = BndBox(tidy(x), tidy(y), tidy(x + w), tidy(y + h))
        if not _same(_box_list(shape), bbox):
            extra["bbox"] = bbox
    elif bbox is not None and not _same(_box_list(shape), bbox):
        extra["bbox"] = bbox
    area = ann.get("area")
    if area is not None and not _same([_area(shape)], [area]):
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
    if type(score) in (int, float):
        obj.confidence = score
    elif score is not None:
        extra["score"] = score
    for key in _OBJ_KEYS:
        if key in ann:
            value = ann[key]
            ok = isinstance(value, str) if key in ("pose", "hard_reasons", "mask_color") else (
                type(value) in (int, float) and (key == "hard_coefficient" or type(value) is int))
            if ok:
                setattr(obj, key, value)
            else:
                extra[key] = value
    return obj


def _same(a: list[Any], b: list[Any]) -> bool:
    """Whether the values a writer would compute are exactly the stored ones, JSON type included
    (``20`` is not ``20.0``): otherwise the stored ones are kept."""
    return len(a) == len(b) and all(type(x) is type(y) and x == y for x, y in zip(a, b))


def _box_list(shape: Any) -> list[Number]:
    x0, y0, x1, y1 = shape.bbox()
    return [x0, y0, tidy(x1 - x0), tidy(y1 - y0)]


def _area(shape: Any) -> Number:
    return tidy(shape.area())


# --------------------------------------------------------------------------- writing


class _Categories:
    """Category ids for the output: a given map, the source's COCO ids, YOLO indices + 1, or
    1..K in order of first appearance; new names get the next free id."""

    def __init__(self, meta: DatasetMeta | None, spec: list[str] | str | None, report: Report) -> None:
        self.report = report
        self.cats: dict[str, Category] = {}
        self.order: list[str] = []
        self.meta = meta
        if spec is not None:
            for cat in _category_spec(spec):
                self._add(cat)
            if meta is not None:  # supercategories and keys the map does not give, from the source
                for src_cat in meta.categories:
                    mapped = self.cats.get(src_cat.name)
                    if mapped is not None:
                        mapped.supercategory = mapped.supercategory or src_cat.supercategory
                        mapped.extra = {**src_cat.extra, **mapped.extra}
        elif meta is not None and meta.categories:
            index_ids = meta.index_ids
            for c in meta.categories:  # the source's order
                cid = c.id + 1 if index_ids and type(c.id) is int else c.id
                if index_ids:
                    report.change("category id->renumbered (YOLO index + 1)")
                if type(cid) is not int or cid in {x.id for x in self.cats.values()}:
                    cid = None
                self._add(Category(c.name, cid, c.supercategory, dict(c.extra)))
        self._next = max([c.id for c in self.cats.values() if type(c.id) is int] or [0]) + 1
        for cat in self.cats.values():
            if cat.id is None:
                cat.id, self._next = self._next, self._next + 1

    def _add(self, cat: Category) -> None:
        if cat.name not in self.cats:
            self.cats[cat.name] = cat
            self.order.append(cat.name)

    def id_of(self, name: str) -> int:
        cat = self.cats.get(name)
        if cat is None:
            if self.meta is not None and self.meta.categories and name not in self.meta.labels:
                self.report.warn("label not among the source's categories: new category id")
            cat = Category(name, self._next)
            self._next += 1
            self._add(cat)
        return cat.id  # type: ignore[return-value]

    def records(self) -> list[dict[str, Any]]:
        out = []
        for name in self.order:
            cat = self.cats[name]
            rec: dict[str, Any] = {"id": cat.id, "name": name, "supercategory": cat.supercategory or ""}
            for k, v in cat.extra.items():
                rec.setdefault(k, v)
            out.append(rec)
        return out


def _category_spec(spec: list[str] | str) -> list[Category]:
    if isinstance(spec, list):
        return [Category(n, i) for i, n in enumerate(spec, 1)]
    if spec.lower().endswith(".json"):
        doc = load_json(spec, "category map")
        cats = doc.get("categories") if isinstance(doc, dict) else doc
        if not isinstance(cats, list) or not all(isinstance(c, dict) and isinstance(c.get("name"), str)
                                                 and type(c.get("id")) is int for c in cats):
            raise FormatError("a category map is a COCO file (or a list) of {'id': int, 'name': str}", file=spec)
        return [Category(c["name"], c["id"], c.get("supercategory"), {k: v for k, v in c.items() if k not in _CAT_KEYS})
                for c in cats]
    from ._common import read_text

    names = [ln.strip() for ln in read_text(spec)[0].splitlines() if ln.strip() and not ln.startswith("#")]
    return [Category(n, i) for i, n in enumerate(names, 1)]


def _dumps(obj: Any) -> bytes:
    try:
        return orjson.dumps(obj)
    except TypeError:  # integers beyond 64 bits, or a lone surrogate (which the next line names)
        pass
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[max(0, exc.start - 30):exc.end + 30]
        raise FormatError(f"a value holds a lone surrogate, which UTF-8 cannot hold: {limits.clip(bad, 80)}") from None


def _dumps_each(records: list[dict[str, Any]]) -> bytes:
    """The records as :func:`_dumps` writes each, joined by commas (one call for the common case)."""
    try:
        return orjson.dumps(records)[1:-1]
    except TypeError:  # one of them needs the standard library: each as _dumps writes it
        return b",".join(_dumps(r) for r in records)


class _Images:
    """File names and ids of the output images: one image per source, ids unique."""

    def __init__(self, image_root: str | None, file_names: str, report: Report) -> None:
        self.root = image_root
        self.file_names = file_names
        self.report = report
        self.by_name: dict[str, int] = {}
        self.used: set[int] = set()
        self.next = 1
        self.sources: dict[str, str] = {}

    def file_name(self, sample: Sample) -> str:
        """The sample's ``source`` as COCO's ``file_name`` (see :func:`write`)."""
        name = sample.source.replace("\\", "/")
        if self.root is not None:
            base = storage.parent(sample.origin.file) if sample.origin is not None and sample.origin.file else None
            absolute = storage.resolve(base, name)
            rel = storage.relative_to(absolute, self.root)
            if rel.startswith("..") or rel == absolute:
                raise UsageError(f"image {name!r} is not below image_root {self.root!r}")
            name = rel
        name = name.removeprefix("./")
        if self.file_names == "basename":
            base_name = basename(name)
            first = self.sources.setdefault(base_name, name)
            if first != name:
                raise FormatError(f"two images have the base name {base_name!r} ({first}, {name}); use "
                                  "file_names=keep or image_root=DIR")
            name = base_name
        return name

    def image(self, sample: Sample, width: int, height: int, usage: str | None,
              extra: dict[str, Any] | None) -> tuple[int, dict[str, Any] | None]:
        """The image id of ``sample`` and its new image record, or None for the record when an
        earlier sample of the same file name made it (counted: the samples are merged)."""
        file_name = self.file_name(sample)
        image_id = self.by_name.get(file_name)
        if image_id is not None:
            self.report.change("samples of one image merged")
            return image_id, None
        image_id = self.by_name[file_name] = self.id_for(sample)
        img: dict[str, Any] = {"id": image_id, "file_name": file_name, "width": width, "height": height}
        if usage is not None:
            img["usage"] = usage
        for k, v in (extra or {}).items():
            img.setdefault(k, v)
        return image_id, img

    def id_for(self, sample: Sample) -> int:
        sid = sample.id
        if type(sid) is int and sid not in self.used and abs(sid) < 1 << 63:
            image_id = sid
        else:
            while self.next in self.used:
                self.next += 1
            image_id = self.next
            if sid is not None:
                self.report.change("image id->renumbered")
        self.used.add(image_id)
        return image_id


def write(
    samples: Iterable[Sample],
    target: str | os.PathLike[str],
    *,
    categories: list[str] | str | None = None,
    circle_vertices: int = 32,
    indent: int | None = None,
    images: str | None = None,
    size_table: str | dict[str, Any] | None = None,
    image_root: str | None = None,
    file_names: str = "keep",
    overwrite: bool = False,
    check: Callable[[Report], None] | None = None,
    **options: Any,
) -> Report:
    """Write samples as one COCO instances JSON file, as one transaction, streaming.

    Args:
        categories: the category map: a COCO JSON file (its ids are used: COCO -> YOLO -> COCO
            gets the original ids back), a text file of names, or a list of names (ids 1..K);
            other names found get the next ids.
        circle_vertices: corners of the polygon that replaces a circle.
        indent: pretty-print with this indent (default: compact, streamed).
        images / size_table: where sizes come from for samples without a VOC document.
        image_root: write ``file_name`` relative to this folder.
        file_names: ``"keep"`` (the source's relative path) or ``"basename"``.
    """
    check_options("coco", options)
    check_values(circle_vertices, file_names)
    target = os.fspath(target)
    report = Report()
    sizes = SizeResolver(images, size_table)
    names = _Images(image_root, file_names, report)
    with output(target, report, folder=False, overwrite=overwrite, check=check) as tx:
        staged = tx.path()
        with open(staged, "wb") as out, tempfile.TemporaryFile(dir=os.path.dirname(staged)) as anns:
            cats: _Categories | None = None
            ann_ids = _AnnotationIds()
            first_image = True
            n_ann = 0
            for sample in samples:
                if cats is None:
                    cats = _start(out, samples, categories, report)
                plain = sample.plain(linked=True)
                if plain is not None:  # (a view of a manifest line stands for it: the line is not built)
                    sample = plain
                sized = sized_objects(sample, sizes, report) if plain is None else _sized_plain(plain, sizes, report)
                if sized is None:
                    continue
                width, height, kept = sized
                image_id, img = names.image(sample, width, height, sample.usage, sample.extra)
                if img is not None:
                    out.write(b"" if first_image else b",")
                    out.write(_dumps(img))
                    first_image = False
                if plain is not None:
                    records = [_plain_annotation(record, values, image_id, cats.id_of(record[0]), ann_ids)
                               for record, values in zip(plain.objects, plain.values, strict=True)]
                    if plain.flags is not None:
                        _add_flags(records, plain.flags)
                else:
                    records = []
                    for obj in kept:
                        ann = _annotation(obj, image_id, circle_vertices, report)
                        ann["category_id"] = cats.id_of(obj.name)  # type: ignore[arg-type]
                        ann["id"] = ann_ids.take(ann["id"])
                        records.append(ann)
                    for label in (a.name for a in sample.annotations if isinstance(a, Classification) and a.name):
                        records.append({"id": ann_ids.take(None), "image_id": image_id,
                                        "category_id": cats.id_of(label)})
                if records:
                    anns.write(b"," if n_ann else b"")
                    anns.write(_dumps_each(records))
                    n_ann += len(records)
                report.written += 1
            if cats is None:
                cats = _start(out, samples, categories, report)
            out.write(b'],"annotations":[')
            anns.seek(0)
            while chunk := anns.read(1 << 20):
                out.write(chunk)
            out.write(b'],"categories":' + _dumps(cats.records()) + b"}")
        if indent is not None:
            _reindent(staged, indent)
    return report


def check_values(circle_vertices: int = 32, file_names: str = "keep") -> None:
    """Refuse the writer's option values it cannot use (a usage error)."""
    if circle_vertices < 3:
        raise UsageError("circle_vertices must be at least 3")
    if file_names not in ("keep", "basename"):
        raise UsageError(f"file_names must be keep or basename, not {file_names!r}")


def sized_objects(sample: Sample, sizes: SizeResolver, report: Report) -> tuple[int, int, list[VocObject]] | None:
    """The image size and the objects of ``sample`` a COCO file holds (what it cannot hold
    counted), or None for a sample that is not written (not an image, or no size: counted)."""
    doc, objects = detection_objects(sample, report)
    if not_an_image(sample, doc, report):
        return None
    count_sample_losses(sample, report, HOLDS_SAMPLE)
    size = _size(sample, doc.width if doc is not None else None, doc.height if doc is not None else None, sizes,
                 report)
    if size is None:
        return None
    return size[0], size[1], writable_objects(objects, report, HOLDS_OBJECT)


def _size(sample: Sample, width: int | None, height: int | None, sizes: SizeResolver,
          report: Report) -> tuple[int, int] | None:
    """The image size of ``sample``: its document's (``width`` and ``height``), else the one
    ``sizes`` finds; None when there is none (counted as unsized)."""
    if width is None or height is None:
        found = sample_size(sample, sizes)
        if found:
            width, height = found[0], found[1]
    if width is None or height is None:
        report.drop_unsized(sample.source)
        return None
    return width, height


def _sized_plain(sample: CompactSample, sizes: SizeResolver, report: Report) -> tuple[int, int, list[VocObject]] | None:
    """:func:`sized_objects` of a compact sample, its objects left in compact form (the list is empty)."""
    if not_an_image(sample, sample, report):
        return None
    count_sample_losses(sample, report, HOLDS_SAMPLE)
    size = _size(sample, sample.width, sample.height, sizes, report)
    if size is None:
        return None
    count_plain_losses(sample, report, HOLDS_OBJECT)
    return size[0], size[1], []


def _plain_annotation(record: PlainObject, values: dict[str, Any], image_id: int, category_id: int,
                      ids: _AnnotationIds) -> dict[str, Any]:
    """The annotation record :func:`_annotation` gives the full form of a compact sample's
    object, its category and id set."""
    _, x0, y0, x1, y1, ring, keys = record
    extra = {k: values[k] for k in keys} if keys else None
    w: Number
    h: Number
    if ring is None and type(x0) is int and type(y0) is int and type(x1) is int and type(y1) is int:
        w, h = x1 - x0, y1 - y0
        area: Number = max(0, w) * max(0, h)
    else:
        w, h = tidy(x1 - x0), tidy(y1 - y0)
        area = tidy(float(max(0, x1 - x0) * max(0, y1 - y0)) if ring is None else ring_area(ring[0::2], ring[1::2]))
    if not extra:
        return {"id": ids.take(None), "image_id": image_id, "category_id": category_id, "bbox": [x0, y0, w, h],
                "area": area, "iscrowd": 0, "segmentation": [] if ring is None else [ring]}
    ann = {"id": ids.take(extra.get("id")), "image_id": image_id, "category_id": category_id,
           "bbox": extra.get("bbox", [x0, y0, w, h]), "area": extra.get("area", area),
           "iscrowd": extra.get("iscrowd", 0),
           "segmentation": extra.get("segmentation", []) if ring is None else [ring]}
    for k, v in extra.items():
        if k not in ("id", "image_id", "category_id"):
            ann.setdefault(k, v)
    return ann


def _add_flags(records: list[dict[str, Any]], flags: list[Flags]) -> None:
    """Put each compact object's VOC flags into its annotation record, as :func:`_annotation`
    puts those of its full form (after ``segmentation``; an object with flags has no extra keys)."""
    for ann, (pose, truncated, occluded, difficult) in zip(records, flags, strict=True):
        if pose is not None:
            ann["pose"] = pose
        if truncated is not None:
            ann["truncated"] = truncated
        if occluded is not None:
            ann["occluded"] = occluded
        if difficult is not None:
            ann["difficult"] = difficult


def _start(out: IO[bytes], samples: Iterable[Sample], spec: list[str] | str | None, report: Report) -> _Categories:
    """Categories (the stream's metadata is complete once a sample was taken) and the document head."""
    meta = get_meta(samples)
    head: dict[str, Any] = (dict(meta.top) if meta is not None and meta.top
                            else {"info": {"description": "written by mafmt"}, "licenses": []})
    for key in ("images", "annotations", "categories"):
        head.pop(key, None)
    out.write(_dumps(head)[:-1] + (b"," if head else b"") + b'"images":[')
    return _Categories(meta, spec, report)


class _AnnotationIds:
    """The source's annotation ids where they are unique integers, else the next free one."""

    def __init__(self) -> None:
        self.used: set[int] = set()
        self.next = 1
        self.high = 0  # the highest id taken

    def take(self, wanted: Any) -> int:
        if type(wanted) is int and wanted not in self.used:
            self.used.add(wanted)
            if wanted > self.high:
                self.high = wanted
            return wanted
        while self.next in self.used:
            self.next += 1
        self.used.add(self.next)
        if self.next > self.high:
            self.high = self.next
        return self.next

    def take_run(self, n: int) -> Sequence[int]:
        """``[self.take(None) for _ in range(n)]``, in one step when no id taken is above the next free one."""
        while self.next in self.used:
            self.next += 1
        if n and self.next > self.high:
            run = range(self.next, self.next + n)
            self.used.update(run)
            self.next = self.high = run[-1]
            return run
        return [self.take(None) for _ in range(n)]


def _reindent(path: str, indent: int) -> None:
    with open(path, "rb") as fh:
        doc = json.loads(fh.read())
    with open(path, "wb") as fh:
        fh.write(json.dumps(doc, ensure_ascii=False, indent=indent).encode("utf-8"))


def _annotation(obj: VocObject, image_id: int, circle_vertices: int, report: Report) -> dict[str, Any]:
    """The annotation record of ``obj`` (which has a shape and a name), keys in COCO's order;
    ``id`` is the source's and ``category_id`` is left for the caller to set."""
    kind = type(obj.shape)
    shape: Any = obj.shape if kind in (Mask, MultiPolygon) else as_box_or_polygon(obj.shape, report,  # type: ignore[arg-type]
                                                                                      circle_vertices)
    extra = obj.extra
    ann: dict[str, Any] = {"id": extra.get("id"), "image_id": image_id, "category_id": None}
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
    if type(shape) is Polygon:
        ann["segmentation"] = [[c for p in shape.points for c in p]]
    elif kind in (Mask, MultiPolygon):
        ann["segmentation"] = shape.coco()
    else:
        ann["segmentation"] = extra.get("segmentation", []) if extra else []
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


def _sniff(path: str) -> bool:
    if storage.is_dir(path):
        return False
    try:
        with storage.open_read(path) as fh:
            head = fh.read(65536).lstrip(b"\xef\xbb\xbf").lstrip()
    except Exception:  # noqa: BLE001 - sniffing never fails loudly
        return False
    return head.startswith((b"{", b"[")) and (b'"images"' in head or b'"annotations"' in head
                                              or b'"categories"' in head or b'"image_id"' in head)


FORMAT = Format(
    name="coco",
    read=read,
    write=write,
    holds=frozenset({OBJECT_DETECTION, IMAGE_CLASSIFICATION, "bndbox", "polygon", "multipolygon", "mask", "rle",
                     "keypoints", "properties", "confidence", "unknown-fields", "categories"}),
    description="COCO instances JSON: boxes, polygons, RLE masks, image labels; circles become polygons, other "
                "shapes boxes",
    extensions=(".json",),
    aliases=("coco-json", "coco-instances"),
    sniff=_sniff,
    takes_flags=True,
)
