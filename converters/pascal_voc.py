"""Standard PASCAL VOC datasets: ``Annotations/``, ``ImageSets/Main/``, ``JPEGImages/``.

Two registered names share one reader, which accepts that layout, a flat folder of XML
files, or one XML file (the latter two through :mod:`mafmt.voc`, which keeps every
ModelArts extension):

* ``voc`` (alias ``pascal-voc``) writes the standard layout other VOC readers load when
  the target is a folder, and one ModelArts VOC file, losslessly, when the target ends in
  ``.xml``; ``layout="flat"`` writes lossless ModelArts VOC files into a flat folder
  (``modelarts-voc`` is the ModelArts import layout: images and XML side by side).

Pixel convention: mafmt's model uses continuous 0-based coordinates (as COCO). By default
(``pixel_base=0``) VOC corners are written and read as those numbers unchanged -- what
ModelArts, datumaro and globox do, so their readers agree with mafmt exactly.
``pixel_base=1`` applies the VOC devkit's 1-based inclusive convention (as detectron2
reads it): ``xmin_voc = xmin + 1``, ``ymin_voc = ymin + 1``, ``xmax``/``ymax`` unchanged,
and the inverse on reading. Either way integer boxes round-trip exactly.

Standard VOC holds boxes only (voc.md section 13): other shapes become their bounding box,
a circle's clipped to the image (``<kind>->bbox``); non-integer coordinates are rounded
(``float coordinate->rounded``) unless ``integer=False``. ``pose``, ``truncated``,
``occluded``, ``difficult`` and parts are kept; ``properties``, confidence, hard-example
fields, ``mask_color`` and unknown elements are dropped and counted unless
``keep_extra=True`` keeps them as (ignored) extra children.
Splits: ``TRAIN`` <-> ``train.txt``, ``EVAL`` <-> ``val.txt``, ``TEST`` <-> ``test.txt``
(``trainval.txt`` is written too); samples without usage are listed in ``train.txt``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from mafmt import storage, voc
from mafmt.errors import FormatError, UsageError
from mafmt.formats import Format
from mafmt.model import (
    IMAGE_SEGMENTATION,
    OBJECT_DETECTION,
    BndBox,
    Circle,
    Detection,
    Number,
    Origin,
    Sample,
    VocDocument,
    VocObject,
    VocSource,
)
from mafmt.report import ErrorPolicy, Report, Stream, check_policy

from ._common import (
    FileWriter,
    SizeResolver,
    UniqueNames,
    basename,
    check_options,
    copy_file,
    count_object_losses,
    count_sample_losses,
    detection_objects,
    image_candidates,
    not_an_image,
    root_origin,
    sample_size,
    stem,
)
from ._voc_fast import plain_document, standard_bytes

__all__ = ["FORMAT", "read", "write", "write_voc"]

SPLITS = {"train": "TRAIN", "val": "EVAL", "test": "TEST"}
USAGE_SPLIT = {v: k for k, v in SPLITS.items()}
HOLDS_OBJECT = frozenset({"pose", "truncated", "occluded", "difficult", "parts"})
#: a line of a per-class list: ``<id> <flag>`` with flag -1, 0 or 1 (ids may contain spaces)
_FLAGGED = re.compile(r"^(.*?)\s+(-1|0|1)$")


# --------------------------------------------------------------------------- reading


def read(
    src: str | os.PathLike[str],
    *,
    on_error: ErrorPolicy = "raise",
    pixel_base: int = 0,
    **options: Any,
) -> Stream[Sample]:
    """Stream samples from a standard VOC dataset folder, a folder of XML files, or one file."""
    check_policy(on_error)
    check_options("voc", {k: v for k, v in options.items() if k not in ("images", "size_table")})
    if pixel_base not in (0, 1):
        raise UsageError("pixel_base must be 0 or 1")
    src = os.fspath(src)
    annotations = storage.join(src, "Annotations") if storage.is_dir(src) else None
    if annotations is None or not storage.is_dir(annotations):
        inner = voc.read(src, on_error=on_error)
        return Stream(_shifted(inner, -pixel_base), inner.report)
    report = Report()
    return Stream(_shifted(_iter_dataset(src, annotations, on_error, report), -pixel_base), report)


def _split_usage(root: str) -> dict[str, str]:
    usage: dict[str, str] = {}
    main = storage.join(root, "ImageSets/Main")
    for split in ("train", "val", "test", "trainval"):
        path = storage.join(main, f"{split}.txt")
        if not storage.exists(path):
            continue
        for line in storage.read_bytes(path).decode("utf-8-sig").splitlines():
            m = _FLAGGED.match(line.strip())
            ident = m.group(1) if m else line.strip()
            if not ident or (m and m.group(2) == "-1"):
                continue
            if split == "trainval":
                usage.setdefault(ident, "TRAIN")
            else:
                usage[ident] = SPLITS[split]
    return usage


def _iter_dataset(root: str, annotations: str, on_error: str, report: Report) -> Iterator[Sample]:
    usage = _split_usage(root)
    origin = root_origin(storage.join(root, "JPEGImages"))
    for path in storage.iter_files(annotations):
        if not path.lower().endswith(".xml"):
            continue
        try:
            data = storage.read_bytes(path)
            doc = plain_document(data) if len(data) < voc.MAX_BYTES else None
            if doc is None:
                doc = voc.read_document(path, report=report)
            else:
                doc.origin = Origin(path, None)
        except FormatError as exc:
            if on_error == "raise":
                raise
            report.skip(exc)
            continue
        name = doc.filename or stem(path) + ".jpg"
        seg = doc.segmented == 1 or doc.mask_source is not None
        ann = Detection(type=IMAGE_SEGMENTATION if seg else OBJECT_DETECTION, annotation_format="PASCAL VOC",
                        document=doc)
        yield Sample(source=name, usage=usage.get(stem(path)), annotations=[ann], origin=origin)


def _shift_shape(shape: Any, d: int) -> Any:
    if d and isinstance(shape, BndBox):
        return BndBox(shape.xmin + d, shape.ymin + d, shape.xmax, shape.ymax)
    return shape


def _shifted(samples: Iterable[Sample], d: int) -> Iterator[Sample]:
    for sample in samples:
        if d:
            for ann in sample.annotations:
                if isinstance(ann, Detection) and ann.document is not None:
                    for obj in ann.document.iter_objects():
                        obj.shape = _shift_shape(obj.shape, d)
        yield sample


# --------------------------------------------------------------------------- writing


def write_voc(
    samples: Iterable[Sample],
    target: str | os.PathLike[str],
    *,
    layout: str | None = None,
    images: str | None = None,
    size_table: str | dict[str, Any] | None = None,
    **options: Any,
) -> Report:
    """The ``voc`` writer: the standard dataset (``layout="standard"``, the default for a
    folder, see :func:`write`), or ModelArts VOC files, one ``<image>.xml`` per document
    (``layout="flat"``, lossless, :func:`mafmt.voc.write`; the default for a ``.xml`` target)."""
    if layout is None:
        layout = "flat" if os.fspath(target).lower().endswith(".xml") else "standard"
    if layout == "standard":
        return write(samples, target, images=images, size_table=size_table, **options)
    if layout != "flat":
        raise UsageError(f"layout must be flat or standard, not {layout!r}")
    return voc.write(samples, target, **options)


def write(
    samples: Iterable[Sample],
    target: str | os.PathLike[str],
    *,
    pixel_base: int = 0,
    integer: bool = True,
    keep_extra: bool = False,
    images: str | None = None,
    size_table: str | dict[str, Any] | None = None,
    **options: Any,
) -> Report:
    """Write a standard VOC dataset folder (or one ``.xml`` file).

    Args:
        pixel_base: 0 (coordinates unchanged) or 1 (VOC devkit 1-based corners).
        integer: round coordinates to integers as standard VOC requires (counted).
        keep_extra: keep ModelArts extensions as extra children instead of dropping them.
        images: folder of the images; found ones are copied to ``JPEGImages/``.
        size_table: image sizes for samples without a VOC document.
    """
    check_options("voc", options)
    if pixel_base not in (0, 1):
        raise UsageError("pixel_base must be 0 or 1")
    target = os.fspath(target)
    report = Report()
    single = target.lower().endswith(".xml")
    sizes = SizeResolver(images, size_table)
    unique = UniqueNames()
    splits: dict[str, list[str]] = {s: [] for s in SPLITS}
    labels: set[str] = set()
    with FileWriter(target, report) as files:
        for sample in samples:
            doc, objects = detection_objects(sample, report, "voc")
            if not_an_image(sample, doc, report):
                continue
            count_sample_losses(sample, report, frozenset({"usage"}))
            width, height, depth = (doc.width, doc.height, doc.depth) if doc is not None else (None, None, None)
            if width is None or height is None:
                found = sample_size(sample, sizes)
                if found is None:
                    report.lose("sample without image size->dropped")
                    continue
                width, height, depth = found[0], found[1], depth or found[2]
            name = unique.take(basename(doc.filename if doc is not None and doc.filename else sample.source), report)
            out = VocDocument(
                folder=(doc.folder if doc is not None and doc.folder else "VOC"),
                filename=name,
                source=(doc.source if doc is not None and doc.source is not None else VocSource(database="Unknown")),
                width=width,
                height=height,
                depth=depth if depth is not None else 3,
                segmented=0,
            )
            if doc is not None:
                if doc.mask_source is not None or doc.segmented == 1:
                    report.lose("segmentation mask->dropped")
                if doc.extra:
                    if keep_extra:
                        out.extra = dict(doc.extra)
                    else:
                        report.lose("document unknown fields->dropped")
            for obj in objects:
                converted = _object(obj, width, height, pixel_base, integer, keep_extra, report)
                if converted is not None:
                    out.objects.append(converted)
                    labels.update(o.name for o in converted.iter_tree() if o.name)
            if single:
                if report.written:
                    raise UsageError(f"{target}: more than one document for a single .xml target; give a folder")
                path = target
            else:
                path = storage.join(target, f"Annotations/{stem(name)}.xml")
                usage = (sample.usage or "").upper()
                if usage not in USAGE_SPLIT:
                    report.warn(f"usage {sample.usage or 'none'}: listed in train")
                splits[USAGE_SPLIT.get(usage, "train")].append(stem(name))
                for src_image in image_candidates(sample, sizes):
                    copy_file(src_image, storage.join(target, f"JPEGImages/{name}"))
                    report.outputs.append(storage.join(target, f"JPEGImages/{name}"))
                    break
                else:
                    if images:
                        report.warn("image not found, not copied")
            data = standard_bytes(out) if not keep_extra else None
            files.put(path, data if data is not None else voc.document_to_bytes(out))
            report.written += 1
    if not single:
        # datumaro (and CVAT) read the class list of a VOC dataset from labelmap.txt
        path = storage.join(target, "labelmap.txt")
        with storage.atomic_write(path) as fh:
            fh.write(("# label:color_rgb:parts:actions\n" + "".join(f"{n}:::\n" for n in sorted(labels))).encode())
        report.outputs.append(path)
        splits_out = {**splits, "trainval": splits["train"] + splits["val"]}
        for split, ids in splits_out.items():
            path = storage.join(target, f"ImageSets/Main/{split}.txt")
            with storage.atomic_write(path) as fh:
                fh.write("".join(i + "\n" for i in ids).encode("utf-8"))
            report.outputs.append(path)
    return report


def _coord(v: Number, integer: bool, flag: list[bool]) -> Number:
    if isinstance(v, float):
        if v.is_integer():
            return int(v)
        if integer:
            flag[0] = True
            return round(v)
    return v


def _object(obj: VocObject, w: int, h: int, base: int, integer: bool, keep: bool, report: Report,
            part: bool = False) -> VocObject | None:
    if obj.shape is None or not obj.name:
        report.lose("object without shape or name->dropped")
        return None
    if not part:
        count_object_losses(obj, report, HOLDS_OBJECT | ({"properties", "extra", "confidence", "hard_coefficient",
                                                          "hard_reasons", "mask_color"} if keep else frozenset()))
    shape = obj.shape
    if isinstance(shape, Circle):
        report.lose("circle->bbox")
        x0, y0, x1, y1 = shape.bbox()
        box = BndBox(max(0, x0), max(0, y0), min(w, x1), min(h, y1))
    elif isinstance(shape, BndBox):
        box = shape
    else:
        report.lose(f"{shape.kind}->bbox")
        box = BndBox(*shape.bbox())
    flag = [False]
    box = BndBox(_coord(box.xmin, integer, flag) + base, _coord(box.ymin, integer, flag) + base,
                 _coord(box.xmax, integer, flag), _coord(box.ymax, integer, flag))
    if flag[0]:
        report.lose("float coordinate->rounded")
    out = VocObject(
        name=obj.name,
        shape=box,
        pose=obj.pose if obj.pose is not None else ("Unspecified" if not part else None),
        truncated=obj.truncated if obj.truncated is not None else (0 if not part else None),
        occluded=obj.occluded,
        difficult=obj.difficult if obj.difficult is not None else (0 if not part else None),
    )
    if keep:
        out.properties = obj.properties
        out.confidence = obj.confidence
        out.hard_coefficient = obj.hard_coefficient
        out.hard_reasons = obj.hard_reasons
        out.mask_color = obj.mask_color
        out.extra = dict(obj.extra)
    elif part:
        count_object_losses(obj, report, HOLDS_OBJECT)
    for p in obj.parts:
        converted = _object(p, w, h, base, integer, keep, report, part=True)
        if converted is not None:
            out.parts.append(converted)
    return out


def _sniff_standard(path: str) -> bool:
    return storage.is_dir(path) and storage.is_dir(storage.join(path, "Annotations"))


def _sniff(path: str) -> bool:
    return _sniff_standard(path) or (voc.FORMAT.sniff is not None and voc.FORMAT.sniff(path))


FORMAT = Format(
    name="voc",
    read=read,
    write=write_voc,
    holds=voc.FORMAT.holds,
    description="Pascal VOC: reads standard datasets, flat folders and single ModelArts files; writes the standard "
                "dataset to a folder (boxes; layout=flat: lossless ModelArts files) or one ModelArts file to a .xml target",
    extensions=(".xml",),
    directory=True,
    aliases=("pascal-voc", "voc-dataset", "voc2012", "standard-voc"),
    sniff=_sniff,
)
