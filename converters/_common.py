"""Helpers shared by the converter modules: dataset metadata, image sizes, loss counting.

Conventions every converter follows:

* geometry in the model is absolute pixels, continuous, origin top-left (COCO's
  convention); a box ``BndBox(0, 0, 10, 10)`` covers pixels 0..9;
* a writer counts in ``report.lost`` every value it cannot hold, under keys
  ``"<what>-><what became of it>"`` (``"circle->polygon"``, ``"properties->dropped"``);
* "header" fields a writer regenerates anyway (VOC ``folder``/``source``, ``depth``,
  default ``pose`` ``Unspecified`` and 0 flags) are not losses.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mafmt import storage
from mafmt.errors import FormatError, StorageError, UsageError
from mafmt.losses import count_annotation_losses, count_sample_losses
from mafmt.model import (
    BndBox,
    Circle,
    Detection,
    Number,
    Origin,
    Polygon,
    Sample,
    Shape,
    VocDocument,
    VocObject,
)
from mafmt.report import Report, Stream

__all__ = [
    "IMAGE_EXTENSIONS",
    "DatasetMeta",
    "MetaStream",
    "SizeResolver",
    "circle_to_polygon",
    "count_object_losses",
    "count_sample_losses",
    "detection_objects",
    "get_meta",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".wma")

#: VocObject scalar fields and the value that means "not set" for a writer
OBJECT_FIELDS: tuple[tuple[str, Any], ...] = (
    ("pose", "Unspecified"),
    ("truncated", 0),
    ("occluded", 0),
    ("difficult", 0),
    ("confidence", None),
    ("hard_coefficient", None),
    ("hard_reasons", None),
    ("mask_color", None),
)
#: Sample fields other than source / annotations / id / usage



@dataclass(slots=True)
class DatasetMeta:
    """Dataset-level facts a reader knows and a writer may reuse.

    Attributes:
        labels: class names in their source order (YOLO index order, COCO category order).
        label_ids: name -> id of the source (COCO category ids), kept stable on writing.
        supercategories: name -> COCO supercategory.
        categories_extra: name -> unknown keys of the COCO category (keypoints, skeleton...).
        top: other top-level parts of the source (COCO ``info``, ``licenses``, unknown keys).
    """

    labels: list[str] = field(default_factory=list)
    label_ids: dict[str, int] = field(default_factory=dict)
    supercategories: dict[str, str] = field(default_factory=dict)
    categories_extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    top: dict[str, Any] = field(default_factory=dict)


class MetaStream(Stream[Sample]):
    """A :class:`Stream` that also carries the :class:`DatasetMeta` of its source.

    ``meta`` is complete once the first sample was taken (or the stream is exhausted).
    """

    __slots__ = ("meta",)

    def __init__(self, it: Iterator[Sample], report: Report, meta: DatasetMeta) -> None:
        super().__init__(it, report)
        self.meta = meta


def get_meta(samples: Iterable[Sample]) -> DatasetMeta | None:
    """The metadata riding on a reader's stream, if any."""
    meta = getattr(samples, "meta", None)
    return meta if isinstance(meta, DatasetMeta) else None


def check_options(fmt: str, options: dict[str, Any]) -> None:
    """Refuse unknown writer/reader options with a usage error."""
    if options:
        raise UsageError(f"unknown option(s) for {fmt}: {', '.join(sorted(options))}")


# --------------------------------------------------------------------------- samples


def detection_objects(sample: Sample, report: Report, target: str) -> tuple[VocDocument | None, list[VocObject]]:
    """The image document and top-level objects of a sample, for an image-box format.

    Annotations a box format cannot hold are counted as ``"<type>->dropped"``; several
    detection documents of one sample are merged into one image (their objects joined).
    """
    doc: VocDocument | None = None
    objects: list[VocObject] = []
    for ann in sample.annotations:
        if isinstance(ann, Detection):
            d = ann.load()
            if doc is None:
                doc = d
            else:
                report.warn("detection documents merged into one image")
            objects.extend(d.objects)
            count_annotation_losses(ann, report)
        else:
            report.lose(f"{ann.type}->dropped")
    return doc, objects


def not_an_image(sample: Sample, doc: VocDocument | None, report: Report) -> bool:
    """Whether an image-box writer must leave ``sample`` out: it has labels but none is a
    detection (an image-classification sample is no "background image"), or it is a text.
    Counted as ``"sample without detection->dropped"``; unlabelled images are kept."""
    if doc is None and (sample.annotations or sample.source.startswith("content://")):
        report.lose("sample without detection->dropped")
        return True
    return False


def count_object_losses(obj: VocObject, report: Report, holds: frozenset[str] = frozenset()) -> None:
    """Count per-object fields the target cannot hold (``holds`` names the ones it can).

    Parts are counted per part (with everything below them), as ``"part->dropped"``.
    """
    for attr, default in OBJECT_FIELDS:
        value = getattr(obj, attr)
        if attr not in holds and value is not None and value != default:
            report.lose(f"{attr}->dropped")
    if "properties" not in holds and obj.properties:
        report.lose("properties->dropped")
    if "extra" not in holds and obj.extra:
        report.lose("object unknown fields->dropped")
    if "parts" not in holds and obj.parts:
        report.lose("part->dropped", sum(1 for _ in obj.iter_tree()) - 1)


# --------------------------------------------------------------------------- geometry


def circle_to_polygon(c: Circle, vertices: int = 32) -> Polygon:
    """A regular polygon with ``vertices`` corners on the circle (first at angle 0)."""
    pts = tuple(
        (_tidy(c.cx + c.r * math.cos(2 * math.pi * i / vertices)), _tidy(c.cy + c.r * math.sin(2 * math.pi * i / vertices)))
        for i in range(vertices)
    )
    return Polygon(pts)


def _tidy(v: float) -> Number:
    r = round(v, 6)
    return int(r) if float(r).is_integer() else r


def tidy(v: Number) -> Number:
    """A float that is an integer becomes an int; other floats keep 6 decimals."""
    if isinstance(v, float):
        return _tidy(v)
    return v


def box_of(shape: Shape) -> BndBox:
    """The axis-aligned box around any shape."""
    if isinstance(shape, BndBox):
        return shape
    x0, y0, x1, y1 = shape.bbox()
    return BndBox(tidy(x0), tidy(y0), tidy(x1), tidy(y1))


def as_box_or_polygon(shape: Shape, report: Report, circle_vertices: int = 32) -> BndBox | Polygon:
    """Reduce a shape to what box/polygon formats hold, counting each change.

    circle -> polygon (``circle_vertices`` corners); point, line, dashed, polyline -> bbox.
    """
    if isinstance(shape, (BndBox, Polygon)):
        return shape
    if isinstance(shape, Circle):
        report.lose("circle->polygon")
        return circle_to_polygon(shape, circle_vertices)
    report.lose(f"{shape.kind}->bbox")
    return box_of(shape)


def as_box(shape: Shape, report: Report) -> BndBox:
    """Reduce any shape to its bounding box, counting ``"<kind>->bbox"`` for non-boxes."""
    if isinstance(shape, BndBox):
        return shape
    report.lose(f"{shape.kind}->bbox")
    return box_of(shape)


# --------------------------------------------------------------------------- image sizes


class SizeResolver:
    """Image sizes without decoding pixels: a size table first, then image headers.

    Args:
        images: folder where images are looked up (by relative path, then by base name).
        size_table: a CSV (``filename,width,height[,depth]``) or JSON (``{name: [w, h]}``)
            file, or a ready mapping name -> (width, height[, depth]).
    """

    def __init__(self, images: str | None = None, size_table: str | dict[str, Any] | None = None) -> None:
        self.images = os.fspath(images) if images is not None else None
        self.table: dict[str, tuple[int, int, int | None]] = {}
        if size_table is not None:
            self.table = _load_size_table(size_table)

    def lookup(self, name: str, near: Iterable[str] = ()) -> tuple[int, int, int | None] | None:
        """(width, height, depth) of the image ``name`` or None when it cannot be found.

        ``near`` lists extra folders to look in (e.g. the label file's folder).
        """
        key = name.replace("\\", "/")
        base = key.rsplit("/", 1)[-1]
        for k in (key, key.removeprefix("./"), base):
            if k in self.table:
                return self.table[k]
        for path in self.candidates(name, near):
            size = header_size(path)
            if size is not None:
                return size
        return None

    def candidates(self, name: str, near: Iterable[str] = (), *, remote: bool = False) -> Iterator[str]:
        """Paths where the image ``name`` may be found (existing ones only).

        Object-storage URIs are probed only with ``remote=True`` (a probe is a request)."""
        rel = name.replace("\\", "/")
        base = rel.rsplit("/", 1)[-1]
        folders = [*near, *([self.images] if self.images else [])]
        direct = (storage.scheme_of(rel) and (remote or storage.scheme_of(rel) == "file")) or os.path.isabs(rel)
        if direct and _exists(rel):
            yield rel
        for folder in folders:
            for ref in dict.fromkeys((rel.removeprefix("./"), base)):
                if storage.scheme_of(ref) or os.path.isabs(ref):
                    continue
                path = storage.join(folder, ref)
                if _exists(path):
                    yield path

    def require(self, name: str, near: Iterable[str] = (), *, file: str | None = None) -> tuple[int, int, int | None]:
        """Like :meth:`lookup`, but a missing size is a :class:`FormatError` naming the image."""
        size = self.lookup(name, near)
        if size is None:
            raise FormatError(
                f"image size of {name!r} unknown: image not found (give --images DIR or --size-table FILE)",
                file=file,
                path="size",
            )
        return size


def _exists(uri: str) -> bool:
    try:
        return storage.exists(uri)
    except StorageError:  # e.g. no backend for the scheme: the file cannot be reached
        return False


_DEPTH = {"1": 1, "L": 1, "P": 1, "I": 1, "F": 1, "I;16": 1, "LA": 2, "RGB": 3, "YCbCr": 3, "LAB": 3, "HSV": 3,
          "RGBA": 4, "CMYK": 4, "RGBX": 4}


def header_size(path: str) -> tuple[int, int, int | None] | None:
    """(width, height, depth) from an image file's header (Pillow, no pixel decoding)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with storage.open_read(path) as fh, Image.open(fh) as im:
            w, h = im.size
            return int(w), int(h), _DEPTH.get(im.mode)
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    except Exception:  # noqa: BLE001 - a StorageError or an odd decoder: treat as not found
        return None


def _load_size_table(src: str | dict[str, Any]) -> dict[str, tuple[int, int, int | None]]:
    out: dict[str, tuple[int, int, int | None]] = {}
    if isinstance(src, dict):
        items: Iterable[tuple[str, Any]] = src.items()
        name = "<size table>"
    else:
        name = os.fspath(src)
        text = storage.read_bytes(name).decode("utf-8-sig")
        if name.lower().endswith(".json"):
            try:
                items = json.loads(text).items()
            except (ValueError, AttributeError) as exc:
                raise FormatError(f"size table is not a JSON object: {exc}", file=name) from None
        else:
            rows = [r for r in csv.reader(io.StringIO(text)) if r and r[0].strip()]
            if rows and not rows[0][1].strip().isdigit():
                rows = rows[1:]
            items = [(r[0].strip(), r[1:]) for r in rows]
    for i, (key, value) in enumerate(items, 1):
        try:
            vals = [int(str(v).strip()) for v in (value if isinstance(value, (list, tuple)) else [value])]
            w, h = vals[0], vals[1]
            depth = vals[2] if len(vals) > 2 else None
        except (ValueError, IndexError, TypeError):
            raise FormatError(f"bad size entry for {key!r}: {value!r}", file=name, line=i) from None
        out[key.replace("\\", "/")] = (w, h, depth)
    return out


def with_progress(samples: Iterable[Sample], callback: Any) -> Iterable[Sample]:
    """``samples`` with ``callback(n)`` called after each one; a reader's report and
    metadata stay reachable on the result."""
    meta = get_meta(samples)
    report = getattr(samples, "report", None) or Report()

    def gen() -> Iterator[Sample]:
        for n, sample in enumerate(samples, 1):
            yield sample
            callback(n)

    return MetaStream(gen(), report, meta) if meta is not None else Stream(gen(), report)


def accepted(func: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``options`` that ``func`` takes as keyword parameters."""
    import inspect

    params = inspect.signature(func).parameters
    return {k: v for k, v in options.items() if k in params and v is not None}


def root_origin(folder: str) -> Origin:
    """An origin whose folder is ``folder``: relative ``source`` values of samples read from
    a dataset folder resolve against it (the manifest writer rebases them with it)."""
    return Origin(storage.join(folder, "(dataset)"))


def image_candidates(sample: Sample, sizes: SizeResolver, *, remote: bool = False) -> Iterator[str]:
    """Existing files that may be the image (or audio) of ``sample``: its own path, then
    the folder it was read from, then ``--images`` (object storage only with ``remote``)."""
    near = [storage.parent(sample.origin.file)] if sample.origin is not None and sample.origin.file else []
    if not remote:
        near = [f for f in near if not storage.scheme_of(f)]
    return sizes.candidates(sample.source, near, remote=remote)


def sample_size(sample: Sample, sizes: SizeResolver) -> tuple[int, int, int | None] | None:
    """Size of a sample's image from the size table or its header (local files only)."""
    near = [storage.parent(sample.origin.file)] if sample.origin is not None and sample.origin.file else []
    return sizes.lookup(sample.source, [f for f in near if not storage.scheme_of(f)])


class FileWriter:
    """Writes the many small files of a dataset, each atomically through
    :func:`mafmt.storage.atomic_write`, recording them in ``report.outputs``.

    One seam for multi-file targets. A thread pool was measured here and gained nothing
    (file creation is serialised by the sandbox's file system), so writes are sequential.
    """

    def __init__(self, target: str, report: Report) -> None:
        self.target = target
        self.report = report

    def __enter__(self) -> FileWriter:  # noqa: PYI034 - a final class
        return self

    def put(self, path: str, data: bytes) -> None:
        """Write ``data`` to ``path`` (replacing it atomically)."""
        _put_bytes(path, data)
        self.report.outputs.append(path)

    def __exit__(self, *exc: object) -> None:
        return None


def _put_bytes(path: str, data: bytes) -> None:
    with storage.atomic_write(path) as fh:
        fh.write(data)


def copy_file(src: str, dst: str) -> None:
    """Copy one file through the storage layer (atomic at the target)."""
    with storage.open_read(src) as fin, storage.atomic_write(dst) as fout:
        while chunk := fin.read(1 << 20):
            fout.write(chunk)


def read_text(uri: str) -> tuple[str, bool]:
    """Text of a small file: UTF-8 (BOM skipped), else GBK. Returns (text, was_gbk)."""
    data = storage.read_bytes(uri)
    try:
        return data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        try:
            return data.decode("gbk"), True
        except UnicodeDecodeError as exc:
            raise FormatError(f"cannot decode as UTF-8 or GBK (byte {exc.start + 1})", file=uri) from None


def stem(name: str) -> str:
    """File name without folder and extension."""
    return os.path.splitext(name.replace("\\", "/").rsplit("/", 1)[-1])[0]


def basename(name: str) -> str:
    """File name without folder."""
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


class UniqueNames:
    """Hands out unique file names within one write (``a.jpg``, ``a_2.jpg``, ...)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, name: str, report: Report | None = None) -> str:
        root, ext = os.path.splitext(name)
        candidate, n = name, 1
        while candidate.lower() in self.used:
            n += 1
            candidate = f"{root}_{n}{ext}"
        if n > 1 and report is not None:
            report.warn("file name clash renamed")
        self.used.add(candidate.lower())
        return candidate
