"""YOLO label files: detection (``class cx cy w h``) and segmentation (``class x1 y1 ...``).

Layouts read: see :mod:`.yolo_layouts` (darknet / CVAT / ModelArts ``obj.data``,
ultralytics / Roboflow ``data.yaml``, ``classes.txt`` with ``images/`` + ``labels/``, flat,
no names). Values are normalised by the image size; sizes come from ``--size-table``, a
``sizes.csv`` at the root (written with ``write_sizes=True``), or image headers (Pillow,
no decoding), in that order. A missing size is a :class:`FormatError` naming the image.
Values are written with ``precision`` decimals (6, as the vendor example); on reading, a
pixel value within that rounding error of an integer is taken as the integer, so integer
boxes round-trip exactly. Non-finite values (``inf``, ``nan``) are errors naming the line.

Class indices: written in the source's category order (COCO: by id; YOLO: its own order;
a VOC ``labelmap.txt``), else in order of first appearance -- never alphabetically -- and
the same for every split. A source without class names keeps its indices. ``classes=``
fixes the order. Splits: ``train`` <-> ``TRAIN``, ``val``/``valid`` <-> ``EVAL``, ``test``
<-> ``TEST``. YOLO holds a class and a box (or polygon) per object and nothing else; every
other field is counted. In ``task="detect"`` polygons become boxes (``polygon->bbox``); in
``task="segment"`` boxes become 4-corner polygons (``bndbox->polygon``); circles become
polygons (segment) or boxes (detect); points, lines and masks become boxes.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mafmt import lanes, limits, storage
from mafmt.errors import FormatError, UsageError
from mafmt.formats import Format
from mafmt.losses import count_plain_losses, count_sample_losses, writable_objects
from mafmt.model import (
    OBJECT_DETECTION,
    Annotation,
    BndBox,
    CompactSample,
    Number,
    Origin,
    PlainObject,
    Polygon,
    Sample,
    VocObject,
    image_detection,
)
from mafmt.report import ErrorPolicy, Report, check_policy
from mafmt.storage.transaction import check_complete

from ._common import (
    Category,
    DatasetMeta,
    MetaStream,
    UniqueNames,
    as_line,
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
from ._geometry import as_box, as_box_or_polygon, tidy
from ._sizes import SizeResolver, copy_image, header_size, load_size_table, sample_size
from .yolo_layouts import SPLIT_TO_USAGE, Split, discover, looks_like_rows, may_hold_rows, parse_names_yaml

__all__ = ["FORMAT", "MODELARTS_FORMAT", "parse_names_yaml", "read", "write", "write_modelarts"]

USAGE_TO_SPLIT = {"TRAIN": "train", "EVAL": "val", "TEST": "test"}


# --------------------------------------------------------------------------- reading


def read(
    src: str | os.PathLike[str],
    *,
    on_error: ErrorPolicy = "raise",
    images: str | None = None,
    size_table: str | dict[str, Any] | None = None,
    **options: Any,
) -> MetaStream:
    """Stream the images of a YOLO dataset folder (any common layout) as samples.

    Args:
        images: extra folder to find images in (for their sizes).
        size_table: CSV/JSON of image sizes, or a mapping name -> (w, h).

    Raises (while iterating):
        FormatError: no label file or image is found (the message says where it looked), a
            bad label line (file:line), or an image whose size is unknown.
    """
    check_policy(on_error)
    check_options("yolo", options)
    src = os.fspath(src)
    if not storage.is_dir(src):
        raise UsageError(f"{src}: a YOLO dataset is a folder")
    report = Report()
    meta = DatasetMeta()
    stream = MetaStream(iter(()), report, meta)
    stream._it = _iter(src, on_error, images, size_table, report, meta, stream)
    return stream


def _iter(root: str, on_error: str, images: str | None, size_table: str | dict[str, Any] | None, report: Report,
          meta: DatasetMeta, stream: MetaStream) -> Iterator[Sample]:
    check_complete(root)
    layout = discover(root)
    for note in layout.notes:
        report.warn(note)
    own = storage.join(root, "sizes.csv")
    if storage.exists(own):  # the dataset's own table; one given by the user wins where both name an image
        size_table = {**load_size_table(own), **(load_size_table(size_table) if size_table is not None else {})}
    sizes = SizeResolver(images, size_table)
    if layout.names is not None:
        meta.categories = [Category(n, i) for i, n in enumerate(layout.names)]
        meta.index_ids = True
    else:
        meta.index_labels = True
    stream.total = sum(len(s.keys()) for s in layout.splits)
    found = 0
    for split in layout.splits:
        keys = split.keys()
        found += len(keys)
        yield from samples_of(root, split, keys, sizes, layout.names, on_error, report)
    if not found:
        raise FormatError(f"no YOLO label file or image found ({layout.kind} layout); looked for "
                          f"{layout.looked_for}", file=root)


def samples_of(root: str, split: Split, keys: Iterable[str], sizes: SizeResolver, names: list[str] | None,
               on_error: str, report: Report) -> Iterator[Sample]:
    """The samples of ``keys`` of ``split`` (``names``: the layout's class names, if any)."""
    for key in keys:
        try:
            sample = _sample(root, split, key, sizes, names, report)
        except FormatError as exc:
            if on_error == "raise":
                raise
            report.skip(exc)
            continue
        yield sample


def _snapper(scale: int) -> Callable[[float], int | float]:
    """The pixel value of a normalised coordinate along an axis of ``scale`` pixels: a whole
    pixel when it is within a millionth of the axis (what 6 decimals can say), else 4 decimals."""
    tolerance = scale * 1e-6 + 1e-9

    def snap(value: float) -> int | float:
        px = value * scale
        r = round(px)
        if abs(px - r) <= tolerance:
            return r
        s = px * 1e4  # round(px, 4) in binary where that is exact (as tidy() does for 6 decimals):
        if -_BOUND < s < _BOUND:  # below 2**40, off px's exact ten-thousandths by at most 2**-13
            n = round(s)
            if n and -_NEAR_HALF < s - n < _NEAR_HALF:  # far from a tie (and not a zero, whose sign round() keeps)
                return n / 1e4  # (the double nearest n / 10**4)
        return round(px, 4)

    return snap


#: where a snapped coordinate rounds in binary: ``px * 1e4`` below 2**40 and this far from a half
_BOUND = float(1 << 40)
_NEAR_HALF = 0.4995


def _sample(root: str, split: Split, key: str, sizes: SizeResolver, names: list[str] | None, report: Report) -> Sample:
    image_path = split.images.get(key)
    label_path = split.labels.get(key)
    rel = storage.relative_to(image_path, root).removeprefix("./") if image_path else key + ".jpg"
    image_name = basename(rel)
    rows: list[_Row] = []
    linenos: list[int] = []
    if label_path is not None:
        text, _ = read_text(label_path)
        plain = lanes.PLAIN
        for lineno, line in enumerate(text.splitlines(), 1):
            tokens = line.split()
            if tokens and not tokens[0].startswith("#"):
                row = _plain_row(tokens, names) if plain else None
                rows.append(row or _row(tokens, names, label_path, lineno, report))
                linenos.append(lineno)
    found = sizes.lookup(rel) or sizes.lookup(key)
    if found is None and image_path is not None:
        found = header_size(image_path)
    if found is None and rows:
        raise FormatError(f"image size of {image_name!r} unknown: image not found (give --images DIR or "
                          "--size-table FILE)", file=label_path)
    width, height, depth = found if found else (None, None, None)
    usage = SPLIT_TO_USAGE.get(split.name) if split.name else None
    records = _records(rows, width, height) if lanes.PLAIN else None  # type: ignore[arg-type]
    if records is not None:
        build = functools.partial(_annotations, rows, linenos, image_name, width, height, depth, label_path)
        return CompactSample.of(rel, None, usage, {}, image_name, width, height, records, None,
                                build, depth, root_origin(root))
    return Sample(source=rel, usage=usage, annotations=_annotations(rows, linenos, image_name, width, height, depth,
                                                                    label_path), origin=root_origin(root))


def _annotations(rows: list[_Row], linenos: list[int], image_name: str, width: int | None, height: int | None,
                 depth: int | None, file: str | None) -> list[Annotation]:
    """The annotations of an image with a label file's ``rows`` (:func:`_objects`)."""
    objects = _objects(rows, linenos, width, height, file) if rows else []  # type: ignore[arg-type]
    return [image_detection(image_name, width, height, objects, depth)]


def _records(rows: list[_Row], w: int, h: int) -> list[PlainObject] | None:
    """The objects of a label file's rows as :func:`_objects` makes them, in compact form
    (:data:`PlainObject`: a polygon's box its extent); None when a box has a confidence or a
    class has an empty name (the writers drop and count such an object)."""
    if not rows:
        return []
    sx, sy = _snapper(w), _snapper(h)
    out: list[PlainObject] = []
    for name, vals in rows:
        n = len(vals)
        if not name:
            return None
        if n == 4:
            cx, cy, bw, bh = vals
            out.append((name, sx(cx - bw / 2), sy(cy - bh / 2), sx(cx + bw / 2), sy(cy + bh / 2), None, ()))
        elif n == 5:
            return None
        else:
            ring = [sx(vals[k]) if k % 2 == 0 else sy(vals[k]) for k in range(n)]
            xs, ys = ring[0::2], ring[1::2]
            out.append((name, min(xs), min(ys), max(xs), max(ys), ring, ()))
    return out



_EPS = 1e-6
_Row = tuple[str, list[float]]


def _plain_row(tokens: list[str], names: list[str] | None) -> _Row | None:
    """A box line with nothing to say about it (a known class, four values in 0..1, a positive
    size) as :func:`_row` reads it; None for anything else."""
    if len(tokens) != 5:
        return None
    head = tokens[0]
    if not (head.isdecimal() and head.isascii() and len(head) <= 9):
        return None
    cls = int(head)
    if names is not None and cls >= len(names):
        return None
    try:
        vals = [float(tokens[1]), float(tokens[2]), float(tokens[3]), float(tokens[4])]
    except ValueError:
        return None
    total = sum(vals)
    if total != total or min(vals) < -_EPS or max(vals) > 1 + _EPS or vals[2] <= 0 or vals[3] <= 0:  # NaN, range
        return None
    return (names[cls] if names is not None else str(cls)), vals


def _row(tokens: list[str], names: list[str] | None, file: str, line: int, report: Report) -> _Row:
    """(label, values) of one label line, checked: an integer class within the names, 4 box
    values (5 with a confidence) or 3+ polygon points, finite. Values outside 0..1 and box
    sizes that are not positive break ultralytics' rule: an error for ``mafmt validate``,
    read as they are by a conversion."""
    try:
        if len(tokens[0]) > 9:
            raise ValueError
        cls = int(tokens[0])
        vals = [float(t) for t in tokens[1:]]
    except ValueError:
        raise FormatError(f"expected an integer class and numbers, got {limits.clip(' '.join(tokens), 80)}", file=file,
                          line=line) from None
    if not all(math.isfinite(v) and abs(v) <= limits.MAX_COORDINATE for v in vals):
        raise FormatError("coordinates must be finite numbers", file=file, line=line)
    if cls < 0:
        raise FormatError(f"negative class index {cls}", file=file, line=line, path="class")
    if names is not None and cls >= len(names):
        raise FormatError(f"class index {cls} outside the {len(names)} class names", file=file, line=line, path="class")
    box = len(vals) in (4, 5)
    if not box and (len(vals) < 6 or len(vals) % 2):
        raise FormatError(f"expected 4 box values or 3+ polygon points, got {len(vals)} values", file=file, line=line)
    coords = vals[:4] if box else vals
    outside = [v for v in coords if not -_EPS <= v <= 1 + _EPS]
    flat = [v for v in vals[2:4] if v <= 0] if box else []
    if outside or flat:
        reason = f"values must lie in 0..1, got {outside[0]:g}" if outside else f"box sizes must be positive, got {flat[0]:g}"
        report.warn("YOLO value out of 0..1", FormatError(reason, file=file, line=line))
    return (names[cls] if names is not None else str(cls)), vals


def _objects(rows: list[_Row], linenos: list[int], w: int, h: int, file: str) -> list[VocObject]:
    """The objects of a label file's rows, in pixels of a ``w`` x ``h`` image."""
    sx, sy = _snapper(w), _snapper(h)
    plain = VocObject.plain
    objects = []
    for (name, vals), lineno in zip(rows, linenos):
        origin = Origin(file, lineno)
        if len(vals) in (4, 5):
            cx, cy, bw, bh = vals[:4]
            obj = plain(name, BndBox(sx(cx - bw / 2), sy(cy - bh / 2), sx(cx + bw / 2), sy(cy + bh / 2)), origin=origin)
            if len(vals) == 5:
                obj.confidence = vals[4]
        else:
            obj = plain(name, Polygon(tuple((sx(vals[k]), sy(vals[k + 1])) for k in range(0, len(vals), 2))),
                        origin=origin)
        objects.append(obj)
    return objects


# --------------------------------------------------------------------------- writing


class _Classes:
    """Class indices of the output: fixed (``classes=``), the source's (index labels kept,
    category order), or in order of first appearance."""

    def __init__(self, classes: list[str] | str | None, meta: DatasetMeta | None, report: Report) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        self.indices = False
        self.report = report
        self.known: set[str] = set()
        if classes:
            for n in _class_list(classes):
                self._add(n)
        elif meta is not None and meta.index_labels:
            self.indices = True
        elif meta is not None and meta.categories:
            for c in (meta.categories if meta.index_ids else meta.by_id()):
                self._add(c.name)
            if not meta.index_ids and any(c.id is not None for c in meta.categories):
                report.note_metadata("category ids", len(meta.categories))
            if any(c.supercategory for c in meta.categories):
                report.note_metadata("category supercategory")
            if any(c.extra for c in meta.categories):
                report.note_metadata("category keys (keypoints, skeleton, ...)")
        self.known = set(self.names)

    def _add(self, name: str) -> None:
        if name not in self.index:
            self.index[name] = len(self.names)
            self.names.append(name)

    def of(self, name: str) -> int:
        if self.indices:
            if name.isdigit() and len(name) < 10:
                i = int(name)
                while len(self.names) <= i:
                    self.names.append(str(len(self.names)))
                return i
            self.indices = False  # a real name among the indices: number the rest after them
            for n in list(self.names):
                self.index.setdefault(n, int(n))
        if name not in self.index:
            if self.known:
                self.report.warn("label not among the source's classes: appended")
            self._add(name)
        return self.index[name]


def _class_list(classes: list[str] | str) -> list[str]:
    if isinstance(classes, list):
        return classes
    if classes.lower().endswith((".yaml", ".yml")):
        return parse_names_yaml(read_text(classes, limit=limits.MAX_YAML_BYTES)[0], classes)
    if classes.lower().endswith(".json"):
        from .coco import _category_spec

        return [c.name for c in sorted(_category_spec(classes), key=lambda c: c.id or 0)]
    return [ln.strip() for ln in read_text(classes)[0].splitlines() if ln.strip() and not ln.startswith("#")]


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
    """Write a YOLO dataset folder, as one transaction (options: :class:`Writer`)."""
    target = os.fspath(target)
    report = Report()
    writer = Writer(report, images=images, size_table=size_table, **options)
    with output(target, report, folder=True, overwrite=overwrite, check=check) as tx:
        for sample in samples:
            if writer.klass is None:
                writer.begin(get_meta(samples), report)
            writer.add(sample, tx)
        if writer.klass is None:
            writer.begin(get_meta(samples), report)
        writer.finish(tx)
    return report


#: the warning of a label the source's classes do not have
_APPENDED = "label not among the source's classes: appended"


class Writer:
    """The YOLO writer, one sample at a time; what it carries across samples (file names, the
    image lists, the class table) is :meth:`part`, which :meth:`absorb` merges (the writer
    of a sharded conversion, :mod:`mafmt.scale`).

    Args:
        layout: ``"ultralytics"`` (``data.yaml``, ``images/``, ``labels/``), ``"darknet"``
            (the ModelArts import layout) or ``"flat"`` (``classes.txt`` + label files).
        task: ``"detect"`` (boxes) or ``"segment"`` (polygons).
        classes: class names in index order (a list, a names/``data.yaml`` file or a COCO
            file); names found later are appended.
        images: folder of the images, copied into the dataset when found.
        write_sizes: also write ``sizes.csv`` so the dataset reads back without images.
    """

    direct = True  #: it writes each sample's files as it goes

    def __init__(self, report: Report, *, layout: str = "ultralytics", task: str = "detect",
                 classes: list[str] | str | None = None, images: str | None = None,
                 size_table: str | dict[str, Any] | None = None, precision: int = 6, write_sizes: bool = False,
                 circle_vertices: int = 32, **options: Any) -> None:
        check_options("yolo", options)
        if layout not in ("ultralytics", "darknet", "flat"):
            raise UsageError(f"layout must be ultralytics, darknet or flat, not {layout!r}")
        if task not in ("detect", "segment"):
            raise UsageError(f"task must be detect or segment, not {task!r}")
        if not 0 <= precision <= 12:
            raise UsageError("precision must be 0..12")
        self.report = report
        self.layout, self.task, self.classes = layout, task, classes
        self.write_sizes, self.circle_vertices = write_sizes, circle_vertices
        self.sizes = SizeResolver(images, size_table)
        self.lists: dict[str, list[str]] = {}
        self.size_rows: list[str] = []
        self.unique = UniqueNames()
        self.klass: _Classes | None = None
        self.labels: list[str] = []  # the label files written (for a sharded write's renumbering)
        self.renumber: dict[int, int] = {}
        self.fmt = f"%.{precision}f"
        self.box_line = f"%d {self.fmt} {self.fmt} {self.fmt} {self.fmt}\n"
        self.detect = task == "detect" and lanes.PLAIN  # boxes inside the image: the line written inline

    def begin(self, meta: DatasetMeta | None, report: Report) -> None:
        """Before the first sample: the class table (the source's classes noted in ``report``)."""
        self.klass = _Classes(self.classes, meta, report)
        self.klass.report = self.report

    def add(self, sample: Sample, tx: Any) -> None:
        """Write one sample's label file (and image) into ``tx``."""
        report = self.report
        plain = sample.plain(linked=True)
        if plain is not None:  # (a view of a manifest line stands for it: the line is not built)
            sample = plain
        doc: Any
        doc, objects = detection_objects(sample, report) if plain is None else (plain, [])
        has_objects = bool(objects) if plain is None else bool(plain.objects)
        if not_an_image(sample, doc, report):
            return
        count_sample_losses(sample, report, frozenset({"usage"}))
        split = _split_for(sample.usage, self.layout, report)
        w: Any
        h: Any
        w, h = (doc.width, doc.height) if doc is not None else (None, None)
        if (not w or not h) and (has_objects or self.write_sizes):
            found = sample_size(sample, self.sizes)
            if found is None and has_objects:
                report.drop_unsized(sample.source)
                return
            w, h = found[:2] if found else (None, None)
        image_name = self.unique.take(basename(sample.source) or "image.jpg", report)
        img_rel, label_rel = _paths(self.layout, split, image_name)
        out = self._lines(objects, w, h) if plain is None else self._plain_lines(plain, w, h)
        report.outputs.append(tx.write_bytes(label_rel, "".join(out).encode("utf-8")))
        if out:
            self.labels.append(label_rel)
        self.lists.setdefault(split, []).append(img_rel)
        if self.write_sizes and w and h:
            self.size_rows.append(f"{image_name},{w},{h}")
        copy_image(sample, self.sizes, tx, img_rel, report)
        report.written += 1

    def _lines(self, objects: list[VocObject], w: Any, h: Any) -> list[str]:
        """The label lines of a sample's objects."""
        report, klass = self.report, self.klass
        assert klass is not None
        out = []
        detect, box_line, fmt = self.detect, self.box_line, self.fmt
        for obj in writable_objects(objects, report):
            shape: Any = obj.shape
            name: Any = obj.name
            if detect and type(shape) is BndBox and 0 <= shape.xmin < shape.xmax <= w and \
                    0 <= shape.ymin < shape.ymax <= h:  # the common case, inline
                x0, y0, x1, y1 = shape.xmin, shape.ymin, shape.xmax, shape.ymax
                out.append(box_line % (klass.of(name), (x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w,
                                       (y1 - y0) / h))
                continue
            values = _values(obj, w, h, self.task, self.circle_vertices, report)  # type: ignore[arg-type]
            if values is not None:
                out.append(" ".join([str(klass.of(name)), *(fmt % v for v in values)]) + "\n")
        return out

    def _plain_lines(self, plain: CompactSample, w: Any, h: Any) -> list[str]:
        """The label lines of a compact sample's objects (as :meth:`_lines` writes their full form)."""
        report, klass = self.report, self.klass
        assert klass is not None
        count_plain_losses(plain, report)
        objects = plain.objects
        out = []
        detect, box_line, fmt = self.task == "detect", self.box_line, self.fmt
        index = {} if klass.indices else klass.index  # (a name not in it, or index labels: klass.of)
        polygons = boxes = 0
        for name, x0, y0, x1, y1, ring, _ in objects:
            if not detect:
                boxes += ring is None
                pts = list(zip(ring[0::2], ring[1::2])) if ring is not None else [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
                values: list[float] | None = _point_values(pts, w, h, report)
            else:
                if ring is not None:
                    polygons += 1
                    x0, y0, x1, y1 = tidy(x0), tidy(y0), tidy(x1), tidy(y1)
                if 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h:
                    k = index.get(name)
                    out.append(box_line % (klass.of(name) if k is None else k, (x0 + x1) / 2 / w, (y0 + y1) / 2 / h,
                                           (x1 - x0) / w, (y1 - y0) / h))
                    continue
                values = _box_values(x0, y0, x1, y1, w, h, report)
            if values is not None:
                out.append(" ".join([str(klass.of(name)), *(fmt % v for v in values)]) + "\n")
        if polygons:
            report.lose("polygon->bbox", polygons)
        if boxes:
            report.lose("bndbox->polygon", boxes)
        return out

    def finish(self, tx: Any) -> None:
        """The dataset's files: the class list (``data.yaml``, ``obj.names``/``obj.data`` and
        the image lists, or ``classes.txt``) and ``sizes.csv``."""
        assert self.klass is not None
        _write_meta(tx, self.layout, self.klass.names, self.lists, self.report)
        if self.write_sizes:
            tx.write_text("sizes.csv", "filename,width,height\n" + "".join(r + "\n" for r in self.size_rows))

    def part(self) -> dict[str, Any]:
        """What the samples written so far leave for the dataset's files and the next samples."""
        assert self.klass is not None
        return {"names": self.unique.used, "lists": self.lists, "sizes": self.size_rows,
                "classes": self.klass.names, "indices": self.klass.indices, "labels": self.labels}

    def absorb(self, part: dict[str, Any]) -> str | None:
        """Add the :meth:`part` of the samples that follow the ones written here. Returns why the
        result would differ from one writer's (a file name an earlier sample took, class indices
        read as such), or None; :attr:`renumber` is then how that part's class indices change
        here (only those that do: labels it met first that earlier samples met in another order)."""
        klass = self.klass
        assert klass is not None
        self.renumber = {}
        if klass.indices or part["indices"]:
            return "YOLO class indices as labels"
        if not self.unique.used.isdisjoint(part["names"]):
            return "file names that repeat across shards"
        self.unique.used |= part["names"]
        for split, imgs in part["lists"].items():
            self.lists.setdefault(split, []).extend(imgs)
        self.size_rows.extend(part["sizes"])
        for i, name in enumerate(part["classes"]):
            if name not in klass.index:
                klass._add(name)
            if klass.index[name] != i:
                self.renumber[i] = klass.index[name]
        return None

    def appended(self) -> int:
        """How many labels the table took beyond the source's classes (each warned once)."""
        assert self.klass is not None
        return len(self.klass.names) - len(self.klass.known) if self.klass.known else 0


def renumber_labels(data: bytes, renumber: dict[int, int]) -> bytes:
    """A label file written by :class:`Writer` with its class indices renumbered
    (``renumber``: old index -> new, for those that change)."""
    out = []
    for line in data.split(b"\n"):
        if line:
            head, sep, rest = line.partition(b" ")
            i = int(head)
            line = b"%d" % renumber.get(i, i) + sep + rest
        out.append(line)
    return b"\n".join(out)


def _split_for(usage: str | None, layout: str, report: Report) -> str:
    split = USAGE_TO_SPLIT.get((usage or "TRAIN").upper())
    if split is None or (layout == "darknet" and split == "test"):
        report.lose(f"usage {usage}->train")
        return "train"
    return "valid" if layout == "darknet" and split == "val" else split


def _paths(layout: str, split: str, image_name: str) -> tuple[str, str]:
    label = stem(image_name) + ".txt"
    if layout == "darknet":
        return f"obj_{split}_data/{image_name}", f"obj_{split}_data/{label}"
    if layout == "ultralytics":
        return f"images/{split}/{image_name}", f"labels/{split}/{label}"
    return image_name, label


def _values(obj: VocObject, w: int, h: int, task: str, circle_vertices: int, report: Report) -> list[float] | None:
    """The normalised values of one label line; parts outside the image are clipped to it
    (ultralytics refuses values outside 0..1), counted; None for an object wholly outside."""
    assert obj.shape is not None
    if task == "detect":
        box = as_box(obj.shape, report)
        return _box_values(box.xmin, box.ymin, box.xmax, box.ymax, w, h, report)
    shape = as_box_or_polygon(obj.shape, report, circle_vertices)
    if isinstance(shape, BndBox):
        report.lose("bndbox->polygon")
        pts = [(shape.xmin, shape.ymin), (shape.xmax, shape.ymin), (shape.xmax, shape.ymax), (shape.xmin, shape.ymax)]
    else:
        pts = list(shape.points)
    return _point_values(pts, w, h, report)


def _box_values(xmin: Number, ymin: Number, xmax: Number, ymax: Number, w: int, h: int,
                report: Report) -> list[float] | None:
    """A detect line's values of a box, clipped to the image (counted); None for a box wholly outside."""
    x0, y0 = min(max(xmin, 0), w), min(max(ymin, 0), h)
    x1, y1 = min(max(xmax, 0), w), min(max(ymax, 0), h)
    if (x0, y0, x1, y1) != (xmin, ymin, xmax, ymax):
        if x1 <= x0 or y1 <= y0:
            report.lose("object outside the image->dropped")
            return None
        report.lose("box outside the image->clipped")
    return [(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h]


def _point_values(pts: list[tuple[Number, Number]], w: int, h: int, report: Report) -> list[float]:
    """A segment line's values of a polygon's points, clipped to the image (counted)."""
    clipped = [(min(max(x, 0), w), min(max(y, 0), h)) for x, y in pts]
    if clipped != pts:
        report.lose("polygon outside the image->clipped")
    return [v for x, y in clipped for v in (x / w, y / h)]


#: what a YAML double-quoted scalar cannot hold as it is: non-printable characters (refused by
#: YAML readers) and line breaks (folded into spaces)
_YAML_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def _yaml_quote(name: str) -> str:
    text = name.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + '"'


def _write_meta(tx: Any, layout: str, names: list[str], lists: dict[str, list[str]], report: Report) -> None:
    if layout != "ultralytics":  # obj.names / classes.txt: one name a line (data.yaml quotes them)
        names_file = tx.final("obj.names" if layout == "darknet" else "classes.txt")
        names = [as_line(n, names_file, comments=True) for n in names]
    names_text = "".join(n + "\n" for n in names)
    files: dict[str, str] = {}
    if layout == "darknet":
        files["obj.names"] = names_text
        splits = [s for s in ("train", "valid") if s in lists] or ["train"]
        files["obj.data"] = (f"classes = {len(names)}\nnames = obj.names\n" + "".join(f"{s} = {s}.txt\n" for s in splits)
                             + "backup = backup/\n")
        for split in splits:
            files[f"{split}.txt"] = "".join(p + "\n" for p in lists.get(split, []))
    elif layout == "ultralytics":
        lines = ["path: .", *(f"{s}: images/{s}" for s in ("train", "val", "test") if s in lists)]
        if "train" not in lists:
            lines.insert(1, f"train: images/{next(iter(lists), 'train')}")
        quoted = ", ".join(_yaml_quote(n) for n in names)
        files["data.yaml"] = "\n".join([*lines, f"nc: {len(names)}", f"names: [{quoted}]"]) + "\n"
    else:
        files["classes.txt"] = names_text
    for rel, text in files.items():
        report.outputs.append(tx.write_text(rel, text))


def write_modelarts(samples: Iterable[Sample], target: str | os.PathLike[str], *, images: str | None = None,
                    size_table: str | dict[str, Any] | None = None, **options: Any) -> Report:
    """Write the ModelArts ``YOLO`` import layout (:func:`write` with ``layout="darknet"``)."""
    return write(samples, target, images=images, size_table=size_table, **{**options, "layout": "darknet"})


def _sniff(path: str) -> bool:
    if not storage.is_dir(path):
        return False
    if any(storage.exists(storage.join(path, n)) for n in ("data.yaml", "dataset.yaml", "classes.txt", "obj.names")):
        return True
    if storage.scheme_of(path) in (None, "file") and not storage.exists(storage.join(path, "obj.data")) \
            and not may_hold_rows(path):
        return False  # (no label file of any layout can start with a row; local folders only: their listing is
        # kept by the detection's snapshot, while on OBS the labels may come after every image in the listing)
    try:
        layout = discover(path)
    except FormatError:
        return False
    labels = [p for s in layout.splits for p in list(s.labels.values())[:5]]
    return any(looks_like_rows(p) for p in labels[:5])


def _sniff_modelarts(path: str) -> bool:
    return storage.is_dir(path) and storage.exists(storage.join(path, "obj.data"))


_HOLDS = frozenset({OBJECT_DETECTION, "bndbox", "polygon"})

FORMAT = Format(
    name="yolo",
    read=read,
    write=write,
    holds=_HOLDS,
    description="YOLO labels (ultralytics/Roboflow data.yaml, classes.txt, darknet/CVAT obj.data); boxes, or polygons "
                "with task=segment",
    directory=True,
    aliases=("ultralytics", "yolov8", "yolo-ultralytics"),
    sniff=_sniff,
    takes_flags=True,
)

MODELARTS_FORMAT = Format(
    name="modelarts-yolo",
    read=read,
    write=write_modelarts,
    holds=_HOLDS,
    description="ModelArts 'YOLO' import layout: obj.names, obj.data, train.txt/valid.txt, obj_<split>_data/",
    directory=True,
    aliases=("darknet", "yolo-darknet", "yolo1.1"),
    sniff=_sniff_modelarts,
    takes_flags=True,
)
