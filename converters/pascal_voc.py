"""Standard PASCAL VOC datasets, in every layout users have.

Read (``voc``): the devkit layout (``Annotations/``, ``JPEGImages/``, ``ImageSets/Main/``;
an image listed in ``ImageSets`` without an XML file is kept as an unannotated sample),
``annotations/`` + ``images/`` in either case (Kaggle), split folders ``train/``,
``val``/``valid/``, ``test/`` with images and XML side by side or in their own
``Annotations/`` (Roboflow), a flat folder of XML files, or one XML file. The image of an
XML file is found by the file's stem (as the devkit does; ``<filename>`` is a fallback),
with any image extension. Validation of these follows the devkit: ``folder``, ``size``,
``segmented`` and ``difficult`` are optional. A ``labelmap.txt`` (datumaro, CVAT) gives
the class order.

Write (``voc``): the standard layout when the target is a folder (what other VOC readers
load), one lossless ModelArts VOC file when the target ends in ``.xml``, or lossless
ModelArts VOC files in a flat folder with ``layout="flat"``. Files are named after the
sample's ``source``.

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

import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mafmt import limits, storage, voc
from mafmt.errors import FormatError, UsageError
from mafmt.formats import Format
from mafmt.losses import count_object_losses, count_objects_losses, count_plain_losses, count_sample_losses
from mafmt.model import (
    IMAGE_SEGMENTATION,
    OBJECT_DETECTION,
    Annotation,
    BndBox,
    Circle,
    CompactSample,
    Detection,
    Mask,
    MultiPolygon,
    Number,
    Origin,
    Sample,
    VocDocument,
    VocObject,
    VocSource,
)
from mafmt.report import ErrorPolicy, Report, check_policy
from mafmt.storage.transaction import check_complete

from ._common import (
    IMAGE_EXTENSIONS,
    Category,
    DatasetMeta,
    MetaStream,
    UniqueNames,
    basename,
    check_options,
    detection_objects,
    get_meta,
    not_an_image,
    output,
    read_text,
    root_origin,
    stem,
)
from ._sizes import SizeResolver, copy_image, sample_size

__all__ = ["FORMAT", "read", "write", "write_voc"]

SPLITS = {"train": "TRAIN", "val": "EVAL", "valid": "EVAL", "test": "TEST"}
USAGE_SPLIT = {"TRAIN": "train", "EVAL": "val", "TEST": "test"}
HOLDS_OBJECT = frozenset({"pose", "truncated", "occluded", "difficult", "parts"})
#: a line of a per-class list: ``<id> <flag>`` with flag -1, 0 or 1 (ids may contain spaces)
_FLAGGED = re.compile(r"^(.*?)\s+(-1|0|1)$")
#: what may stand inside an ImageSets line besides its id (ASCII): where a text holds none,
#: ``text.split()`` gives its lines' ids
_INNER_SPACE = re.compile(r"[ \t\x0b\x0c\x1c-\x1f]")


# --------------------------------------------------------------------------- layouts


def _child(folder: str, *names: str) -> str | None:
    """The sub-folder of ``folder`` named one of ``names``, in any letter case."""
    if not storage.is_dir(folder):
        return None
    wanted = {n.lower() for n in names}
    for info in storage.ls(folder):
        if info.is_dir and info.name.lower() in wanted:
            return info.uri.rstrip("/\\")
    return None


@dataclass(slots=True)
class _Part:
    """One subset: where its XML files and images are, and its split."""

    annotations: str
    images: str
    usage: str | None = None
    listed: dict[str, str] = field(default_factory=dict)  # devkit: id -> usage from ImageSets


def _parts(root: str, *, usage: bool = True) -> list[_Part] | None:
    """The subsets of a VOC dataset folder, or None for a flat folder of XML files; without
    ``usage``, the ``ImageSets`` lists are not read (the parts' ``listed`` left empty)."""
    ann = _child(root, "Annotations")
    if ann is not None:
        images = _child(root, "JPEGImages", "images", "Images") or storage.join(root, "JPEGImages")
        return [_Part(ann, images, listed=_split_usage(root) if usage else {})]
    parts = []
    for info in storage.ls(root) if storage.is_dir(root) else []:
        if not info.is_dir or info.name.lower() not in SPLITS:
            continue
        folder = info.uri.rstrip("/\\")
        inner = _child(folder, "Annotations")
        images = (_child(folder, "JPEGImages", "images") or folder) if inner else folder
        parts.append(_Part(inner or folder, images, SPLITS[info.name.lower()]))
    return parts or None


def _split_usage(root: str) -> dict[str, str]:
    usage: dict[str, str] = {}
    main = _child(storage.join(root, "ImageSets"), "Main") if _child(root, "ImageSets") else None
    if main is None:
        return usage
    order = {"trainval": 0, "train": 1, "val": 1, "test": 1}
    for path in storage.iter_files(main):
        name = stem(path)
        split = name if name in order else name.rsplit("_", 1)[-1] if "_" in name else None
        if split not in order or not path.lower().endswith(".txt"):
            continue
        text, _ = read_text(path)
        if text.isascii() and _INNER_SPACE.search(text) is None:  # one id a line, nothing else: no line to look at
            value = "TRAIN" if split == "trainval" else SPLITS[split]
            if split == "trainval":
                usage.update((i, value) for i in text.split() if i not in usage)
            else:
                usage.update(dict.fromkeys(text.split(), value))
            continue
        for line in text.splitlines():
            m = _FLAGGED.match(line.strip())
            ident = m.group(1) if m else line.strip()
            if not ident:
                continue
            if split == "trainval":
                usage.setdefault(ident, "TRAIN")
            else:
                usage[ident] = SPLITS[split]
    return usage


def _images_by_stem(folder: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if storage.is_dir(folder):
        for path in storage.iter_files(folder):
            if path.lower().endswith(IMAGE_EXTENSIONS):
                out.setdefault(stem(path), path)
    return out


def _labelmap(root: str) -> list[str] | None:
    path = storage.join(root, "labelmap.txt")
    if not storage.exists(path):
        return None
    names = []
    for line in read_text(path)[0].splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(line.split(":", 1)[0])
    return names


# --------------------------------------------------------------------------- reading


def read(
    src: str | os.PathLike[str],
    *,
    on_error: ErrorPolicy = "raise",
    pixel_base: int = 0,
    compact: bool = False,
    **options: Any,
) -> MetaStream:
    """Stream samples from a VOC dataset folder (any layout above), a folder of XML files,
    or one file.

    ``compact``: a plain file of a dataset folder is read into a compact sample (its objects'
    records with their VOC flags, :attr:`~mafmt.model.CompactSample.flags`), whose document is
    built only when asked for: for a consumer that writes from them (``Sample.plain(linked=True)``:
    :func:`mafmt.convert` asks for it when the writer does); any other would build each
    document after its records.

    Raises (while iterating):
        FormatError: a folder with no XML file and no listed image (says what it looked for).
    """
    check_policy(on_error)
    check_options("voc", {k: v for k, v in options.items() if k not in ("images", "size_table")})
    if pixel_base not in (0, 1):
        raise UsageError("pixel_base must be 0 or 1")
    src = os.fspath(src)
    report = Report()
    meta = DatasetMeta()
    stream = MetaStream(iter(()), report, meta)
    stream._it = _shifted(_iter(src, on_error, report, meta, stream, compact and not pixel_base), -pixel_base)
    return stream


def _iter(src: str, on_error: ErrorPolicy, report: Report, meta: DatasetMeta, stream: MetaStream,
          compact: bool = False) -> Iterator[Sample]:
    check_complete(src)
    is_dir = storage.is_dir(src)
    parts = _parts(src) if is_dir else None
    names = _labelmap(src) if is_dir else None
    if names:
        meta.categories = [Category(n) for n in names]
    if parts is None:
        # (a standard VOC file is not a ModelArts document: a manifest gets a copy with the fields
        # ModelArts requires, never a link to the file as it is)
        inner = voc.read(src, on_error=on_error, rules="devkit", compact=compact, link=False)
        try:
            yield from inner
        finally:
            report.merge(inner.report)
        return
    found = 0
    for part in parts:
        for sample in _iter_part(src, part, on_error, report, compact=compact):
            found += 1
            yield sample
    if not found:
        raise FormatError("no VOC annotation found: looked for .xml files in "
                          + ", ".join(storage.relative_to(p.annotations, src) for p in parts)
                          + " and for images listed in ImageSets/Main/*.txt", file=src)


def _iter_part(root: str, part: _Part, on_error: ErrorPolicy, report: Report,
               files: Iterable[str] | None = None, images: dict[str, str] | None = None,
               compact: bool = False) -> Iterator[Sample]:
    """The samples of one part; with ``files`` (a run of its XML files, what a worker of
    :mod:`mafmt.scale` reads) of those files only, without the listed images that have no
    file (:func:`_unannotated` gives those). ``images``: the part's images by stem
    (:func:`_images_by_stem`, at least those of ``files``), when the caller listed them.
    ``compact``: see :func:`read`."""
    if images is None:
        images = _images_by_stem(part.images)
    origin = root_origin(part.images)
    seen: set[str] = set()
    for path in storage.iter_files(part.annotations) if files is None else files:
        if not path.lower().endswith(".xml"):
            continue
        key = stem(path)
        seen.add(key)
        quick = None
        try:
            data = storage.read_bytes(path, limit=limits.MAX_XML_BYTES)
            quick = voc.parse.plain_text_read(data, path, rules="devkit") if compact else None
            if quick is not None:
                doc, issues = quick[0], quick[3]
            elif compact:
                doc, issues = voc.parse.parse_tree_bytes(data, path, rules="devkit")
            else:
                doc, issues = voc.parse_bytes(data, path, rules="devkit")
            for issue in issues:
                report.warn(issue.reason if issue.severity == "warning" else "voc: " + issue.reason.split(" (")[0],
                            issue)
        except FormatError as exc:
            if on_error == "raise":
                raise
            report.skip(exc)
            continue
        image = images.get(key)
        name = storage.relative_to(image, part.images).removeprefix("./") if image else _image_name(doc, key, part)
        usage = part.listed.get(key, part.usage)
        kind = IMAGE_SEGMENTATION if doc.segmented == 1 or doc.mask_source is not None else OBJECT_DETECTION
        if quick is None:
            yield Sample(source=name, usage=usage, annotations=[_detection(kind, doc)], origin=origin)
        else:  # its document built when something asks for it
            records = quick[1]
            sample = CompactSample.of(name, None, usage, {}, doc.filename, doc.width, doc.height, records,
                                      None, functools.partial(_built, kind, quick[4]),
                                      doc.depth, origin)
            sample.flags = quick[2]
            yield sample
    if files is None:
        yield from _unannotated(part, images, origin, seen)


def _detection(kind: str, doc: VocDocument) -> Detection:
    return Detection(type=kind, annotation_format="PASCAL VOC", document=doc)


def _built(kind: str, document: Callable[[], VocDocument]) -> list[Annotation]:
    """The annotations of a compact sample read from a standard VOC file."""
    return [_detection(kind, document())]



def _unannotated(part: _Part, images: dict[str, str], origin: Origin, seen: set[str]) -> Iterator[Sample]:
    """The images listed in ImageSets but without annotation file (their stems not in ``seen``)."""
    for key, usage in part.listed.items():
        if key not in seen:
            image = images.get(key)
            name = storage.relative_to(image, part.images).removeprefix("./") if image else key + ".jpg"
            yield Sample(source=name, usage=usage, origin=origin)


def _image_name(doc: VocDocument, key: str, part: _Part) -> str:
    if doc.filename:
        if stem(doc.filename) == key:
            return basename(doc.filename)
        return key + (os.path.splitext(doc.filename)[1] or ".jpg")
    return key + ".jpg"


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
    images: str | None = None,
    size_table: str | dict[str, Any] | None = None,
    overwrite: bool = False,
    check: Callable[[Report], None] | None = None,
    **options: Any,
) -> Report:
    """Write a standard VOC dataset folder, as one transaction (options: :class:`Writer`)."""
    target = os.fspath(target)
    report = Report()
    writer = Writer(report, images=images, size_table=size_table, **options)
    with output(target, report, folder=True, overwrite=overwrite, check=check) as tx:
        first = True
        for sample in samples:
            if first:
                writer.begin(get_meta(samples), report)
                first = False
            writer.add(sample, tx)
        writer.finish(tx)
    return report


class Writer:
    """The standard VOC writer, one sample at a time; what it carries across samples (the file
    names taken, the split lists, the labels seen) is :meth:`part`, which :meth:`absorb`
    merges (the writer of a sharded conversion, :mod:`mafmt.scale`).

    Args:
        pixel_base: 0 (coordinates unchanged) or 1 (VOC devkit 1-based corners).
        integer: round coordinates to integers as standard VOC requires (counted).
        keep_extra: keep ModelArts extensions as extra children instead of dropping them.
        images: folder of the images; found ones are copied to ``JPEGImages/``.
        size_table: image sizes for samples without a VOC document.
    """

    direct = True  #: it writes each sample's files as it goes

    def __init__(self, report: Report, *, pixel_base: int = 0, integer: bool = True, keep_extra: bool = False,
                 images: str | None = None, size_table: str | dict[str, Any] | None = None,
                 **options: Any) -> None:
        check_options("voc", options)
        if pixel_base not in (0, 1):
            raise UsageError("pixel_base must be 0 or 1")
        self.report = report
        self.pixel_base, self.integer, self.keep_extra = pixel_base, integer, keep_extra
        self.sizes = SizeResolver(images, size_table)
        self.unique = UniqueNames()
        self.splits: dict[str, list[str]] = {s: [] for s in ("train", "val", "test")}
        self.labels: dict[str, None] = {}

    def begin(self, meta: DatasetMeta | None, report: Report) -> None:
        """Before the first sample: the source's classes come first in ``labelmap.txt``."""
        self.labels.update(dict.fromkeys(c.name for c in (meta.by_id() if meta is not None else [])))

    def add(self, sample: Sample, tx: Any) -> None:
        """Write one sample's XML file (and image) into ``tx``."""
        report = self.report
        plain = sample.plain() if not self.keep_extra else None
        doc: Any
        doc, objects = detection_objects(sample, report) if plain is None else (plain, [])
        if not_an_image(sample, doc, report):
            return
        count_sample_losses(sample, report, frozenset({"usage"}))
        width, height, depth = (doc.width, doc.height, getattr(doc, "depth", None)) if doc is not None else (None, None,
                                                                                                          None)
        if width is None or height is None:
            found = sample_size(sample, self.sizes)
            if found is None:
                report.drop_unsized(sample.source)
                return
            width, height, depth = found[0], found[1], depth or found[2]
        name = self.unique.take(basename(sample.source) or "image.jpg", report)
        full = doc if plain is None else None
        out = VocDocument(
            folder=(full.folder if full is not None and full.folder else "VOC"),
            filename=name,
            source=(full.source if full is not None and full.source is not None else VocSource(database="Unknown")),
            width=width,
            height=height,
            depth=depth if depth is not None else 3,
            segmented=0,
        )
        boxes = None
        if plain is None:
            self._objects(out, full, objects, width, height)
        else:
            boxes = self._boxes(plain)
        usage = (sample.usage or "").upper()
        if usage not in USAGE_SPLIT:
            report.warn(f"usage {sample.usage or 'none'}: listed in train")
        name_stem = stem(name)
        self.splits[USAGE_SPLIT.get(usage, "train")].append(name_stem)
        copy_image(sample, self.sizes, tx, f"JPEGImages/{name}", report)
        data = voc.document_to_bytes(out) if boxes is None else voc.standard_boxes_to_bytes(out, boxes)
        report.outputs.append(tx.write_bytes(f"Annotations/{name_stem}.xml", data))
        report.written += 1

    def _objects(self, out: VocDocument, doc: VocDocument | None, objects: list[VocObject], width: int,
                 height: int) -> None:
        """Put the converted ``objects`` of ``doc`` into ``out`` (losses counted, labels noted)."""
        report, labels, keep_extra = self.report, self.labels, self.keep_extra
        if doc is not None:
            if doc.mask_source is not None or doc.segmented == 1:
                report.lose("segmentation mask->dropped")
            if doc.extra and keep_extra:
                out.extra = dict(doc.extra)
        count_objects_losses([o for o in objects if o.shape is not None and o.name], report,
                             _KEPT if keep_extra else HOLDS_OBJECT)
        for obj in objects:
            converted = _object(obj, width, height, self.pixel_base, self.integer, keep_extra, report)
            if converted is not None:
                out.objects.append(converted)
                if converted.parts:
                    labels.update(dict.fromkeys(o.name for o in converted.iter_tree() if o.name))
                else:
                    labels[converted.name] = None  # type: ignore[index]  # (named: see _object)

    def _boxes(self, plain: CompactSample) -> list[tuple[str, Number, Number, Number, Number]]:
        """The standard objects of a compact sample's objects, as label and corners (as
        :meth:`_objects` converts their full form: losses counted, labels noted)."""
        report, labels, base, integer = self.report, self.labels, self.pixel_base, self.integer
        count_plain_losses(plain, report, HOLDS_OBJECT)
        objects = plain.objects
        boxes = []
        polygons = rounded = 0
        for name, x0, y0, x1, y1, ring, _ in objects:
            polygons += ring is not None
            if type(x0) is not int or type(y0) is not int or type(x1) is not int or type(y1) is not int:
                (x0, y0, x1, y1), was_rounded = _corners((x0, y0, x1, y1), integer)
                rounded += was_rounded
            boxes.append((name, x0 + base, y0 + base, x1, y1))
            labels[name] = None
        if polygons:
            report.lose("polygon->bbox", polygons)
        if rounded:
            report.lose("float coordinate->rounded", rounded)
        return boxes

    def finish(self, tx: Any) -> None:
        """The dataset's files: ``labelmap.txt`` and the ``ImageSets/Main`` lists."""
        # datumaro (and CVAT) read the class list of a VOC dataset from labelmap.txt
        tx.write_text("labelmap.txt", "# label:color_rgb:parts:actions\n" + "".join(f"{n}:::\n" for n in self.labels))
        splits = self.splits
        for split, ids in {**splits, "trainval": splits["train"] + splits["val"]}.items():
            tx.write_text(f"ImageSets/Main/{split}.txt", "".join(i + "\n" for i in ids))

    def part(self) -> dict[str, Any]:
        """What the samples written so far leave for the dataset's files and the next samples."""
        return {"names": self.unique.used, "splits": self.splits, "labels": list(self.labels)}

    def absorb(self, part: dict[str, Any]) -> str | None:
        """Add the :meth:`part` of the samples that follow the ones written here; returns why
        the result would differ from one writer's (a file name an earlier sample took), or None."""
        if not self.unique.used.isdisjoint(part["names"]):
            return "file names that repeat across shards"
        self.unique.used |= part["names"]
        for split, ids in part["splits"].items():
            self.splits[split].extend(ids)
        self.labels.update(dict.fromkeys(part["labels"]))
        return None


#: what a standard VOC target keeps of an object with ``keep_extra``
_KEPT = HOLDS_OBJECT | {"properties", "extra", "confidence", "hard_coefficient", "hard_reasons", "mask_color"}


def _corners(box: tuple[Number, ...], integer: bool) -> tuple[tuple[Number, ...], bool]:
    """The corners as a standard VOC object holds them (integer floats as ints; with
    ``integer``, every float rounded), and whether one was rounded."""
    x0, y0, x1, y1 = box
    if integer:
        r0, r1, r2, r3 = (round(x0) if type(x0) is float else x0, round(y0) if type(y0) is float else y0,
                          round(x1) if type(x1) is float else x1, round(y1) if type(y1) is float else y1)
        return (r0, r1, r2, r3), r0 != x0 or r1 != y0 or r2 != x1 or r3 != y1
    return (int(x0) if type(x0) is float and x0.is_integer() else x0, int(y0) if type(y0) is float and y0.is_integer()
            else y0, int(x1) if type(x1) is float and x1.is_integer() else x1,
            int(y1) if type(y1) is float and y1.is_integer() else y1), False


def _object(obj: VocObject, w: int, h: int, base: int, integer: bool, keep: bool, report: Report,
            part: bool = False) -> VocObject | None:
    if obj.shape is None or not obj.name:
        report.lose("object without shape or name->dropped")
        return None
    shape = obj.shape  # (a top-level object's losses are counted per sample by the caller)
    if isinstance(shape, Circle):
        report.lose("circle->bbox")
        x0, y0, x1, y1 = shape.bbox()
        box = BndBox(max(0, x0), max(0, y0), min(w, x1), min(h, y1))
    elif isinstance(shape, BndBox):
        box = shape
    else:
        report.lose(f"{shape.kind}->bbox")
        box = BndBox(*shape.bbox())
    (x0, y0, x1, y1), rounded = _corners(box.bbox(), integer)
    box = BndBox(x0 + base, y0 + base, x1, y1)
    if rounded:
        report.lose("float coordinate->rounded")
    out = VocObject.plain(
        obj.name, box,
        obj.pose if obj.pose is not None else ("Unspecified" if not part else None),
        obj.truncated if obj.truncated is not None else (0 if not part else None),
        obj.occluded,
        obj.difficult if obj.difficult is not None else (0 if not part else None),
    )
    if keep:
        out.properties = obj.properties
        out.confidence = obj.confidence
        out.hard_coefficient = obj.hard_coefficient
        out.hard_reasons = obj.hard_reasons
        out.mask_color = obj.mask_color
        out.extra = dict(obj.extra)
        if type(obj.shape) in (Mask, MultiPolygon):
            out.extra["segmentation"] = obj.shape.coco()  # type: ignore[union-attr]
    elif part:
        count_object_losses(obj, report, HOLDS_OBJECT)
    for p in obj.parts:
        converted = _object(p, w, h, base, integer, keep, report, part=True)
        if converted is not None:
            out.parts.append(converted)
    return out


def _sniff_standard(path: str) -> bool:
    if not storage.is_dir(path):
        return False
    parts = _parts(path, usage=False)
    return parts is not None and any(
        any(p.lower().endswith(".xml") for p in storage.iter_files(part.annotations)) for part in parts)


def _sniff(path: str) -> bool:
    return _sniff_standard(path) or (voc.FORMAT.sniff is not None and voc.FORMAT.sniff(path))


FORMAT = Format(
    name="voc",
    read=read,
    write=write_voc,
    holds=voc.FORMAT.holds,
    description="Pascal VOC: reads devkit, Kaggle, Roboflow and flat folders and single files; writes the standard "
                "dataset to a folder (boxes; layout=flat: lossless ModelArts files) or one ModelArts file to a .xml target",
    extensions=(".xml",),
    directory=True,
    aliases=("pascal-voc", "voc-dataset", "voc2012", "standard-voc"),
    sniff=_sniff,
)
