"""YOLO label files: detection (``class cx cy w h``) and segmentation (``class x1 y1 ...``).

Layouts read (the reader picks by what the root holds):

* ``darknet`` -- the ModelArts ``YOLO`` import layout (and CVAT's "YOLO 1.1"): ``obj.names``,
  ``obj.data``, ``train.txt``/``valid.txt``, images and labels in ``obj_<split>_data/``;
* ``ultralytics`` -- ``data.yaml`` (``names`` as a list or an index map), images in
  ``images/<split>/`` and labels in ``labels/<split>/``;
* ``flat`` -- ``classes.txt`` and label files beside (or apart from) the images.

Values are normalised by the image size; sizes come from ``--size-table``, a
``sizes.csv`` at the root (written with ``write_sizes=True``), or image headers (Pillow,
no decoding), in that order. A missing size is a :class:`FormatError` naming the image.
Values are written with ``precision`` decimals (6, as the vendor example); on reading, a
pixel value within that rounding error of an integer is taken as the integer, so integer
boxes round-trip exactly.

Splits: ``train`` <-> ``TRAIN``, ``val``/``valid`` <-> ``EVAL``, ``test`` <-> ``TEST``.
YOLO holds a class and a box (or polygon) per object and nothing else; every other field
is counted as lost. In ``task="detect"`` polygons become boxes (``polygon->bbox``); in
``task="segment"`` boxes become 4-corner polygons (``bndbox->polygon``); circles become
polygons (segment) or boxes (detect); points and lines become boxes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from mafmt import storage
from mafmt.errors import FormatError, UsageError
from mafmt.formats import Format
from mafmt.model import OBJECT_DETECTION, BndBox, Detection, Polygon, Sample, VocDocument, VocObject
from mafmt.report import ErrorPolicy, Report, check_policy

from ._common import (
    IMAGE_EXTENSIONS,
    DatasetMeta,
    FileWriter,
    MetaStream,
    SizeResolver,
    UniqueNames,
    as_box,
    as_box_or_polygon,
    basename,
    check_options,
    copy_file,
    count_object_losses,
    count_sample_losses,
    detection_objects,
    get_meta,
    header_size,
    image_candidates,
    not_an_image,
    read_text,
    root_origin,
    sample_size,
    stem,
)

__all__ = ["FORMAT", "MODELARTS_FORMAT", "read", "write", "write_modelarts"]

SPLIT_TO_USAGE = {"train": "TRAIN", "val": "EVAL", "valid": "EVAL", "test": "TEST"}
USAGE_TO_SPLIT = {"TRAIN": "train", "EVAL": "val", "TEST": "test"}
_KV = re.compile(r"^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$")


# --------------------------------------------------------------------------- class names


def parse_names_yaml(text: str) -> list[str]:
    """Class names of an ultralytics ``data.yaml``: ``names: [a, b]``, a ``- a`` block or a
    ``0: a`` map.

    Raises:
        FormatError: the text is not YAML.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FormatError(f"not valid YAML: {exc}") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict):
        return [str(names[k]) for k in sorted(names, key=int)]
    if isinstance(names, list):
        return [str(n) for n in names]
    return []


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


# --------------------------------------------------------------------------- reading


def read(
    src: str | os.PathLike[str],
    *,
    on_error: ErrorPolicy = "raise",
    images: str | None = None,
    size_table: str | dict[str, Any] | None = None,
    **options: Any,
) -> MetaStream:
    """Stream the images of a YOLO dataset folder (any of the three layouts) as samples.

    Args:
        images: extra folder to find images in (for their sizes).
        size_table: CSV/JSON of image sizes, or a mapping name -> (w, h).
    """
    check_policy(on_error)
    check_options("yolo", options)
    src = os.fspath(src)
    if not storage.is_dir(src):
        raise UsageError(f"{src}: a YOLO dataset is a folder")
    report = Report()
    meta = DatasetMeta()
    if size_table is None and storage.exists(storage.join(src, "sizes.csv")):
        size_table = storage.join(src, "sizes.csv")
    sizes = SizeResolver(images, size_table)
    return MetaStream(_iter(src, on_error, sizes, report, meta), report, meta)


def _layout(root: str) -> str:
    if storage.exists(storage.join(root, "obj.names")) and storage.exists(storage.join(root, "obj.data")):
        return "darknet"
    if any(storage.exists(storage.join(root, n)) for n in ("data.yaml", "dataset.yaml")):
        return "ultralytics"
    return "flat"


def _units(root: str, meta: DatasetMeta) -> Iterator[tuple[str | None, str, list[str]]]:
    """(split, label folder, image candidates folders) per subset of the dataset."""
    layout = _layout(root)
    if layout == "darknet":
        text, _ = read_text(storage.join(root, "obj.data"))
        conf = {m.group(1).lower(): m.group(2).split("#")[0].strip() for m in map(_KV.match, text.splitlines()) if m}
        names_path = storage.join(root, conf.get("names") or "obj.names")
        meta.labels[:] = _lines(read_text(names_path)[0])
        for split in ("train", "valid"):
            folder = storage.join(root, f"obj_{split}_data")
            if storage.is_dir(folder):
                yield split, folder, [folder]
        return
    if layout == "ultralytics":
        name = "data.yaml" if storage.exists(storage.join(root, "data.yaml")) else "dataset.yaml"
        meta.labels[:] = parse_names_yaml(read_text(storage.join(root, name))[0])
        labels = storage.join(root, "labels")
        for split in ("train", "val", "valid", "test"):
            folder = storage.join(labels, split)
            if storage.is_dir(folder):
                yield split, folder, [storage.join(root, "images", split)]
        if storage.is_dir(labels) and not any(storage.is_dir(storage.join(labels, s)) for s in SPLIT_TO_USAGE):
            yield None, labels, [storage.join(root, "images")]
        return
    for names_file in ("classes.txt", "obj.names"):
        if storage.exists(storage.join(root, names_file)):
            meta.labels[:] = _lines(read_text(storage.join(root, names_file))[0])
            break
    yield None, root, [root]


def _image_index(folders: list[str]) -> dict[str, str]:
    index: dict[str, str] = {}
    for folder in folders:
        if not storage.is_dir(folder):
            continue
        for path in storage.iter_files(folder):
            if path.lower().endswith(IMAGE_EXTENSIONS):
                index.setdefault(stem(path), path)
    return index


def _iter(root: str, on_error: str, sizes: SizeResolver, report: Report, meta: DatasetMeta) -> Iterator[Sample]:
    for split, folder, image_folders in _units(root, meta):
        index = _image_index(image_folders)
        for path in storage.iter_files(folder):
            name = basename(path)
            if not name.lower().endswith(".txt") or name in ("classes.txt", "obj.names", "train.txt", "valid.txt",
                                                              "val.txt", "test.txt", "sizes.csv"):
                continue
            try:
                sample = _sample(root, path, split, index, sizes, meta, report)
            except FormatError as exc:
                if on_error == "raise":
                    raise
                report.skip(exc)
                continue
            yield sample


def _snap(value: float, scale: int, precision: int = 6) -> int | float:
    px = value * scale
    r = round(px)
    if abs(px - r) <= scale * 10.0 ** -precision + 1e-9:
        return int(r)
    return round(px, 4)


def _sample(root: str, label_path: str, split: str | None, index: dict[str, str], sizes: SizeResolver,
            meta: DatasetMeta, report: Report) -> Sample:
    key = stem(label_path)
    image_path = index.get(key)
    image_name = basename(image_path) if image_path else key + ".jpg"
    rel = storage.relative_to(image_path, root).removeprefix("./") if image_path else image_name
    text, _ = read_text(label_path)
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        rows.append((lineno, s.split()))
    found = sizes.lookup(rel)
    if found is None and image_path is not None:
        found = header_size(image_path)
    if found is None and rows:
        raise FormatError(f"image size of {image_name!r} unknown: image not found (give --images DIR or "
                          "--size-table FILE)", file=label_path)
    width, height, depth = found if found else (None, None, None)
    objects = [_object(tokens, width, height, meta, label_path, lineno, report) for lineno, tokens in rows]  # type: ignore[arg-type]
    doc = VocDocument(filename=image_name, width=width, height=height, depth=depth, objects=objects)
    return Sample(
        source=rel,
        usage=SPLIT_TO_USAGE.get(split) if split else None,
        annotations=[Detection(type=OBJECT_DETECTION, annotation_format="PASCAL VOC", document=doc)],
        origin=root_origin(root),
    )


def _object(tokens: list[str], w: int, h: int, meta: DatasetMeta, file: str, line: int, report: Report) -> VocObject:
    try:
        cls = int(tokens[0])
        vals = [float(t) for t in tokens[1:]]
    except ValueError:
        raise FormatError(f"expected an integer class and numbers, got {' '.join(tokens)!r}", file=file, line=line) from None
    if cls < 0:
        raise FormatError(f"negative class index {cls}", file=file, line=line, path="class")
    if meta.labels:
        if cls >= len(meta.labels):
            raise FormatError(f"class index {cls} outside the {len(meta.labels)} class names", file=file, line=line,
                              path="class")
        name = meta.labels[cls]
    else:
        name = str(cls)
        report.warn("no class names: index used as name")
    obj = VocObject(name=name)
    if len(vals) in (4, 5):
        cx, cy, bw, bh = vals[:4]
        obj.shape = BndBox(_snap(cx - bw / 2, w), _snap(cy - bh / 2, h), _snap(cx + bw / 2, w), _snap(cy + bh / 2, h))
        if len(vals) == 5:
            obj.confidence = vals[4]
    elif len(vals) >= 6 and len(vals) % 2 == 0:
        obj.shape = Polygon(tuple((_snap(vals[k], w), _snap(vals[k + 1], h)) for k in range(0, len(vals), 2)))
    else:
        raise FormatError(f"expected 4 box values or 3+ polygon points, got {len(vals)} values", file=file, line=line)
    return obj


# --------------------------------------------------------------------------- writing


def write(
    samples: Iterable[Sample],
    target: str | os.PathLike[str],
    *,
    layout: str = "ultralytics",
    task: str = "detect",
    classes: list[str] | None = None,
    images: str | None = None,
    size_table: str | dict[str, Any] | None = None,
    precision: int = 6,
    write_sizes: bool = False,
    circle_vertices: int = 32,
    **options: Any,
) -> Report:
    """Write a YOLO dataset folder.

    Args:
        layout: ``"ultralytics"`` (``data.yaml``, ``images/``, ``labels/``), ``"darknet"``
            (the ModelArts import layout) or ``"flat"`` (``classes.txt`` + label files).
        task: ``"detect"`` (boxes) or ``"segment"`` (polygons).
        classes: class names in index order; unknown names found later are appended.
            Default: the source's names (YOLO/COCO order), else sorted names -- the
            latter forces holding all label lines until the end (a second pass in memory).
        images: folder of the images, copied into the dataset when found.
        write_sizes: also write ``sizes.csv`` so the dataset reads back without images.
    """
    check_options("yolo", options)
    if layout not in ("ultralytics", "darknet", "flat"):
        raise UsageError(f"layout must be ultralytics, darknet or flat, not {layout!r}")
    if task not in ("detect", "segment"):
        raise UsageError(f"task must be detect or segment, not {task!r}")
    target = os.fspath(target)
    report = Report()
    sizes = SizeResolver(images, size_table)
    names: list[str] = list(classes) if classes else []
    fixed = bool(names)
    pending: list[tuple[str, list[tuple[str, list[float]]]]] = []
    lists: dict[str, list[str]] = {}
    size_rows: list[str] = []
    unique = UniqueNames()
    index = {n: i for i, n in enumerate(names)}
    first = True
    with FileWriter(target, report) as files:
        for sample in samples:
            if first:
                meta = get_meta(samples)
                if not fixed and meta is not None and meta.labels:
                    names[:] = list(dict.fromkeys(meta.labels))
                    index.update({n: i for i, n in enumerate(names)})
                    fixed = True
                first = False
            doc, objects = detection_objects(sample, report, "yolo")
            if not_an_image(sample, doc, report):
                continue
            count_sample_losses(sample, report, frozenset({"usage"}))
            split = _split_for(sample.usage, layout, report)
            w, h = (doc.width, doc.height) if doc is not None else (None, None)
            if (not w or not h) and (objects or write_sizes):
                found = sample_size(sample, sizes)
                if found is None and objects:
                    raise FormatError(f"image size of {sample.source!r} unknown (give --images DIR or --size-table FILE)",
                                      path="size")
                w, h = found[:2] if found else (None, None)
            image_name = unique.take(basename(doc.filename if doc is not None and doc.filename else sample.source) or
                                     "image.jpg", report)
            img_rel, label_rel = _paths(layout, split, image_name)
            lines: list[tuple[str, list[float]]] = []
            for obj in objects:
                if obj.shape is None or not obj.name:
                    report.lose("object without shape or name->dropped")
                    continue
                count_object_losses(obj, report)
                assert w and h  # objects imply a size (checked above)
                lines.append((obj.name, _values(obj, w, h, task, circle_vertices, report)))
            pending.append((label_rel, lines))
            lists.setdefault(split, []).append(img_rel)
            if write_sizes and w and h:
                size_rows.append(f"{image_name},{w},{h}")
            _copy_image(sample, sizes, storage.join(target, img_rel), report)
            report.written += 1
            if fixed:
                _flush(target, pending, names, index, precision, files)
        if not fixed:
            for n in sorted({name for _, lines in pending for name, _ in lines}):
                index[n] = len(names)
                names.append(n)
        _flush(target, pending, names, index, precision, files)
    _write_meta(target, layout, names, lists, report)
    if write_sizes:
        _put(storage.join(target, "sizes.csv"), "filename,width,height\n" + "".join(r + "\n" for r in size_rows), report)
    return report


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


def _values(obj: VocObject, w: int, h: int, task: str, circle_vertices: int, report: Report) -> list[float]:
    assert obj.shape is not None
    if task == "detect":
        box = as_box(obj.shape, report)
        return [(box.xmin + box.xmax) / 2 / w, (box.ymin + box.ymax) / 2 / h, (box.xmax - box.xmin) / w,
                (box.ymax - box.ymin) / h]
    shape = as_box_or_polygon(obj.shape, report, circle_vertices)
    if isinstance(shape, BndBox):
        report.lose("bndbox->polygon")
        pts = [(shape.xmin, shape.ymin), (shape.xmax, shape.ymin), (shape.xmax, shape.ymax), (shape.xmin, shape.ymax)]
    else:
        pts = list(shape.points)
    return [v for x, y in pts for v in (x / w, y / h)]


def _flush(target: str, pending: list[tuple[str, list[tuple[str, list[float]]]]], names: list[str],
           index: dict[str, int], precision: int, files: FileWriter) -> None:
    fmt = f"{{:.{precision}f}}"
    for label_rel, lines in pending:
        out = []
        for name, vals in lines:
            if name not in index:
                index[name] = len(names)
                names.append(name)
            out.append(" ".join([str(index[name]), *(fmt.format(v) for v in vals)]) + "\n")
        files.put(storage.join(target, label_rel), "".join(out).encode("utf-8"))
    pending.clear()


def _put(path: str, text: str, report: Report) -> None:
    with storage.atomic_write(path) as fh:
        fh.write(text.encode("utf-8"))
    report.outputs.append(path)


def _copy_image(sample: Sample, sizes: SizeResolver, dst: str, report: Report) -> None:
    for path in image_candidates(sample, sizes):
        copy_file(path, dst)
        report.outputs.append(dst)
        return
    if sizes.images is not None:
        report.warn("image not found, not copied")


def _write_meta(target: str, layout: str, names: list[str], lists: dict[str, list[str]], report: Report) -> None:
    names_text = "".join(n + "\n" for n in names)
    if layout == "darknet":
        _put(storage.join(target, "obj.names"), names_text, report)
        splits = [s for s in ("train", "valid") if s in lists] or ["train"]
        data = f"classes = {len(names)}\nnames = obj.names\n" + "".join(f"{s} = {s}.txt\n" for s in splits)
        _put(storage.join(target, "obj.data"), data + "backup = backup/\n", report)
        for split in splits:
            _put(storage.join(target, f"{split}.txt"), "".join(p + "\n" for p in lists.get(split, [])), report)
    elif layout == "ultralytics":
        quoted = ", ".join('"' + n.replace("\\", "\\\\").replace('"', '\\"') + '"' for n in names)
        lines = ["path: .", *(f"{s}: images/{s}" for s in ("train", "val", "test") if s in lists)]
        if "train" not in lists:
            lines.insert(1, f"train: images/{next(iter(lists), 'train')}")
        _put(storage.join(target, "data.yaml"), "\n".join([*lines, f"nc: {len(names)}", f"names: [{quoted}]"]) + "\n",
             report)
    else:
        _put(storage.join(target, "classes.txt"), names_text, report)


def write_modelarts(samples: Iterable[Sample], target: str | os.PathLike[str], *, images: str | None = None,
                    size_table: str | dict[str, Any] | None = None, **options: Any) -> Report:
    """Write the ModelArts ``YOLO`` import layout (:func:`write` with ``layout="darknet"``)."""
    return write(samples, target, images=images, size_table=size_table, **{"layout": "darknet", **options})


def _sniff(path: str) -> bool:
    if not storage.is_dir(path):
        return False
    return any(storage.exists(storage.join(path, n)) for n in ("data.yaml", "dataset.yaml", "classes.txt"))


def _sniff_modelarts(path: str) -> bool:
    return storage.is_dir(path) and _layout(path) == "darknet"


_HOLDS = frozenset({OBJECT_DETECTION, "bndbox", "polygon"})

FORMAT = Format(
    name="yolo",
    read=read,
    write=write,
    holds=_HOLDS,
    description="YOLO labels (ultralytics data.yaml, classes.txt or darknet obj.names); boxes, or polygons with "
                "task=segment",
    directory=True,
    aliases=("ultralytics", "yolov8", "yolo-ultralytics"),
    sniff=_sniff,
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
)
