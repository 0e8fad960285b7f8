"""CSV tables: one row per object (detection) or one row per sample (classification).

Detection columns (the first eight always, in this order)::

    filename,width,height,class,xmin,ymin,xmax,ymax[,usage][,pose,truncated,occluded,difficult,confidence]
    [,property:<key>...][,<unknown column>...]

An image without objects is one row with empty ``class`` and box cells. Boxes are
absolute pixels as in the model (no shift). Classification columns::

    filename,label[,usage][,type]

where several labels of one sample are joined by ``;`` and ``type`` (only written when
some sample is not an image classification) is ``text_classification`` etc.

Optional columns appear only when some row needs them; unknown columns read from a CSV
are kept per object (detection) or per sample and written back. Lost on writing: shapes
other than boxes (``<kind>->bbox``), hard-example fields, ``mask_color``, parts.
The csv module is used (faster than pandas at these sizes, and it streams); the reader
groups rows by ``filename`` and the writer collects rows to know the columns, so both
hold the table in memory (a second pass over memory, not over the input).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from mafmt import storage
from mafmt.errors import FormatError, UsageError
from mafmt.formats import Format
from mafmt.model import (
    ANNOTATION_TYPES,
    IMAGE_CLASSIFICATION,
    OBJECT_DETECTION,
    BndBox,
    Classification,
    Detection,
    Number,
    Sample,
    VocDocument,
    VocObject,
)
from mafmt.report import ErrorPolicy, Report, Stream, check_policy

from ._common import (
    as_box,
    basename,
    check_options,
    count_object_losses,
    count_sample_losses,
    detection_objects,
    not_an_image,
)

__all__ = ["FORMAT", "read", "write"]

BOX_COLUMNS = ("filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax")
OBJECT_COLUMNS = ("pose", "truncated", "occluded", "difficult", "confidence")
HOLDS_OBJECT = frozenset({*OBJECT_COLUMNS, "properties", "extra"})
_INT = re.compile(r"^[+-]?\d+$")
_TYPES = {t.split("/", 1)[1]: t for t in ANNOTATION_TYPES}


def _num(text: str, file: str, line: int, col: str) -> Number:
    t = text.strip()
    try:
        return int(t) if _INT.match(t) else float(t)
    except ValueError:
        raise FormatError(f"expected a number, got {text!r}", file=file, line=line, path=col) from None


# --------------------------------------------------------------------------- reading


def read(src: str | os.PathLike[str], *, on_error: ErrorPolicy = "raise", **options: Any) -> Stream[Sample]:
    """Samples of a detection or classification CSV (kind told by the header)."""
    check_policy(on_error)
    check_options("csv", options)
    src = os.fspath(src)
    report = Report()
    return Stream(_iter(src, on_error, report), report)


def _iter(src: str, on_error: str, report: Report) -> Iterator[Sample]:
    text = storage.read_bytes(src).decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    if "filename" not in header:
        raise FormatError("header has no 'filename' column", file=src, line=1, path="filename")
    detect = all(c in header for c in BOX_COLUMNS)
    if not detect and "label" not in header and "class" not in header:
        raise FormatError("header needs the box columns or a 'label' column", file=src, line=1)
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for lineno, row in enumerate(reader, 2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            exc = FormatError(f"{len(row)} cells, header has {len(header)}", file=src, line=lineno)
            if on_error == "raise":
                raise exc
            report.skip(exc)
            continue
        rec = dict(zip(header, row))
        groups.setdefault(rec["filename"], []).append((lineno, rec))
    for filename, rows in groups.items():
        try:
            yield _detection(filename, rows, src) if detect else _classification(filename, rows, src)
        except FormatError as exc:
            if on_error == "raise":
                raise
            report.skip(exc)


def _detection(filename: str, rows: list[tuple[int, dict[str, str]]], src: str) -> Sample:
    line0, first = rows[0]
    width = _num(first["width"], src, line0, "width") if first["width"].strip() else None
    height = _num(first["height"], src, line0, "height") if first["height"].strip() else None
    objects = []
    for lineno, rec in rows:
        if not rec["class"].strip() and not rec["xmin"].strip():
            continue
        box = BndBox(*(_num(rec[c], src, lineno, c) for c in ("xmin", "ymin", "xmax", "ymax")))
        obj = VocObject(name=rec["class"], shape=box)
        for col, value in rec.items():
            if col in BOX_COLUMNS or col == "usage" or value == "":
                continue
            if col in ("truncated", "occluded", "difficult", "confidence"):
                setattr(obj, col, _num(value, src, lineno, col))
            elif col == "pose":
                obj.pose = value
            elif col.startswith("property:"):
                obj.properties = obj.properties or {}
                obj.properties[col[len("property:"):]] = value
            else:
                obj.extra[col] = value
        objects.append(obj)
    doc = VocDocument(filename=basename(filename), width=width, height=height, objects=objects)  # type: ignore[arg-type]
    return Sample(source=filename, usage=first.get("usage") or None,
                  annotations=[Detection(type=OBJECT_DETECTION, annotation_format="PASCAL VOC", document=doc)])


def _classification(filename: str, rows: list[tuple[int, dict[str, str]]], src: str) -> Sample:
    _, first = rows[0]
    col = "label" if "label" in first else "class"
    ann_type = _TYPES.get(first.get("type", "") or "image_classification", IMAGE_CLASSIFICATION)
    names = [n for _, rec in rows for n in rec[col].split(";") if n.strip()]
    extra = {k: v for k, v in first.items() if k not in ("filename", col, "usage", "type") and v != ""}
    return Sample(source=filename, usage=first.get("usage") or None, extra=extra,
                  annotations=[Classification(type=ann_type, name=n.strip()) for n in names])


# --------------------------------------------------------------------------- writing


def write(samples: Iterable[Sample], target: str | os.PathLike[str], *, task: str = "auto", **options: Any) -> Report:
    """Write samples as one CSV file, atomically.

    Args:
        task: ``"detect"`` (a row per object), ``"classify"`` (a row per sample) or
            ``"auto"`` (detect when any sample has a detection annotation).
    """
    check_options("csv", options)
    if task not in ("auto", "detect", "classify"):
        raise UsageError(f"task must be auto, detect or classify, not {task!r}")
    target = os.fspath(target)
    report = Report()
    kept: list[Sample] = list(samples)
    if task == "auto":
        task = "detect" if any(isinstance(a, Detection) for s in kept for a in s.annotations) else "classify"
    rows = _detect_rows(kept, report) if task == "detect" else _classify_rows(kept, report)
    columns: dict[str, None] = dict.fromkeys(BOX_COLUMNS if task == "detect" else ("filename", "label"))
    for row in rows:
        columns.update(dict.fromkeys(row))
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=list(columns), restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with storage.atomic_write(target) as fh:
        fh.write(buf.getvalue().encode("utf-8"))
    report.written = len(kept)
    report.outputs.append(target)
    return report


def _detect_rows(samples: list[Sample], report: Report) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for sample in samples:
        doc, objects = detection_objects(sample, report, "csv")
        if not_an_image(sample, doc, report):
            continue
        count_sample_losses(sample, report, frozenset({"usage"}))
        base = {"filename": sample.source, "width": doc.width if doc else "", "height": doc.height if doc else ""}
        if sample.usage:
            base["usage"] = sample.usage
        written = 0
        for obj in objects:
            if obj.shape is None or not obj.name:
                report.lose("object without shape or name->dropped")
                continue
            count_object_losses(obj, report, HOLDS_OBJECT)
            box = as_box(obj.shape, report)
            row = {**base, "class": obj.name, "xmin": box.xmin, "ymin": box.ymin, "xmax": box.xmax, "ymax": box.ymax}
            for col in OBJECT_COLUMNS:
                value = getattr(obj, col)
                if value is not None:
                    row[col] = value
            for key, value in (obj.properties or {}).items():
                row[f"property:{key}"] = value
            for key, value in obj.extra.items():
                if isinstance(value, (str, int, float)) and key not in row:
                    row[key] = value
                else:
                    report.lose("object unknown fields->dropped")
            rows.append(row)
            written += 1
        if not written:
            rows.append(dict(base))
    return rows


def _classify_rows(samples: list[Sample], report: Report) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for sample in samples:
        count_sample_losses(sample, report, frozenset({"usage", "extra"}))
        names = []
        kinds = set()
        for ann in sample.annotations:
            if isinstance(ann, Classification) and ann.name:
                names.append(ann.name)
                kinds.add(ann.type)
            else:
                report.lose(f"{ann.type}->dropped")
        row: dict[str, Any] = {"filename": sample.source, "label": ";".join(names)}
        if any(";" in n for n in names):
            report.warn("label contains ';'")
        if sample.usage:
            row["usage"] = sample.usage
        kind = next(iter(kinds)) if kinds else IMAGE_CLASSIFICATION
        if kind != IMAGE_CLASSIFICATION:
            row["type"] = kind.split("/", 1)[1]
        for key, value in sample.extra.items():
            if isinstance(value, (str, int, float)) and key not in row:
                row[key] = value
            else:
                report.lose("sample unknown fields->dropped")
        rows.append(row)
    return rows


def _sniff(path: str) -> bool:
    if storage.is_dir(path):
        return False
    try:
        with storage.open_read(path) as fh:
            head = fh.read(4096).lstrip(b"\xef\xbb\xbf")
    except Exception:  # noqa: BLE001 - sniffing never fails loudly
        return False
    return head.split(b"\n", 1)[0].startswith(b"filename,")


FORMAT = Format(
    name="csv",
    read=read,
    write=write,
    holds=frozenset({OBJECT_DETECTION, IMAGE_CLASSIFICATION, "bndbox", "properties", "unknown-fields"}),
    description="CSV: filename,width,height,class,xmin,ymin,xmax,ymax per object, or filename,label per sample",
    extensions=(".csv",),
    aliases=("csv-boxes",),
    sniff=_sniff,
)
