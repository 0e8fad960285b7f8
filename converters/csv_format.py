"""CSV tables: one row per object (detection) or one row per sample (classification).

Detection columns (the first eight always, in this order)::

    filename,width,height,class,xmin,ymin,xmax,ymax[,usage][,pose,truncated,occluded,difficult,confidence]
    [,property:<key>...][,<unknown column>...]

An image without objects is one row with empty ``class`` and box cells. Boxes are
absolute pixels as in the model (no shift). Classification columns::

    filename,label[,usage][,type]

where several labels of one sample are joined by ``;`` and ``type`` (only written when
some sample is not an image classification) is ``text_classification`` etc.

Optional columns appear only when some row needs them. Unknown columns hold the
unknown fields of objects (detection) or samples, each cell through
:mod:`mafmt.textcodec`: a string as it is, a number, boolean, list or object as JSON
text, so every value comes back with its type (an empty cell is no value; the empty string
is written ``""``). Lost on writing: shapes other than boxes
(``<kind>->bbox``), hard-example fields, ``mask_color``, parts. The reader groups rows by
``filename`` and the writer collects rows to know the columns, so both hold the table in
memory (a second pass over memory, not over the input).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mafmt import limits, storage, textcodec
from mafmt.errors import FormatError, UsageError
from mafmt.formats import Format
from mafmt.losses import count_object_losses, count_sample_losses
from mafmt.model import (
    ANNOTATION_TYPES,
    IMAGE_CLASSIFICATION,
    OBJECT_DETECTION,
    BndBox,
    Classification,
    Detection,
    Number,
    Origin,
    Sample,
    VocDocument,
    VocObject,
)
from mafmt.report import ErrorPolicy, Report, Stream, check_policy
from mafmt.storage.transaction import check_complete

from ._common import basename, check_options, detection_objects, not_an_image, output
from ._geometry import as_box

__all__ = ["FORMAT", "read", "write"]

BOX_COLUMNS = ("filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax")
OBJECT_COLUMNS = ("pose", "truncated", "occluded", "difficult", "confidence")
HOLDS_OBJECT = frozenset({*OBJECT_COLUMNS, "properties", "extra"})
_INT = re.compile(r"^[+-]?\d+$")
_TYPES = {t.split("/", 1)[1]: t for t in ANNOTATION_TYPES}


def _num(text: str, file: str, line: int, col: str, *, integer: bool = False) -> Number:
    t = text.strip()
    try:
        if len(t) > limits.MAX_NUMBER_CHARS:
            raise ValueError
        value: Number = int(t) if _INT.match(t) else float(t)
        if integer and type(value) is not int:
            raise ValueError
        if not math.isfinite(value) or abs(value) > limits.MAX_COORDINATE:
            raise ValueError
    except (ValueError, OverflowError):
        raise FormatError(f"expected {'an integer' if integer else 'a finite number'}, got {limits.clip(text, 60)}",
                          file=file, line=line, path=col) from None
    return value


# --------------------------------------------------------------------------- reading


def read(src: str | os.PathLike[str], *, on_error: ErrorPolicy = "raise", **options: Any) -> Stream[Sample]:
    """Samples of a detection or classification CSV (kind told by the header).

    Raises (while iterating):
        FormatError: not UTF-8, a header without the needed columns, a bad cell (row and
            column named), or no row at all below the header.
    """
    check_policy(on_error)
    check_options("csv", options)
    src = os.fspath(src)
    report = Report()
    return Stream(_iter(src, on_error, report), report)


def _rows(src: str) -> Iterator[tuple[int, list[str]]]:
    csv.field_size_limit(limits.MAX_FIELD_BYTES)
    with storage.open_read(src) as fh:
        # newline="": only \n, \r and \r\n end a row (cells may hold any other character)
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        lineno = 0
        try:
            for row in reader:
                lineno = reader.line_num
                yield lineno, row
        except UnicodeDecodeError as exc:
            raise FormatError(f"not UTF-8 (byte {exc.start + 1} of a chunk)", file=src, line=lineno + 1) from None
        except csv.Error as exc:
            raise FormatError(f"not valid CSV: {limits.clip(str(exc), 120)}", file=src, line=reader.line_num) from None


def _iter(src: str, on_error: str, report: Report) -> Iterator[Sample]:
    check_complete(src)
    rows = _rows(src)
    first = next(rows, None)
    if first is None:
        return
    header = [h.strip() for h in first[1]]
    if "filename" not in header:
        raise FormatError("header has no 'filename' column", file=src, line=1, path="filename")
    if len(set(header)) != len(header):
        raise FormatError("header names a column twice", file=src, line=1)
    detect = all(c in header for c in BOX_COLUMNS)
    if not detect and "label" not in header and "class" not in header:
        raise FormatError("header needs the box columns or a 'label' column", file=src, line=1)
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for lineno, row in rows:
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
    if not groups and not report.skipped:
        raise FormatError("no row below the header", file=src, line=2)
    for filename, recs in groups.items():
        try:
            yield _detection(filename, recs, src) if detect else _classification(filename, recs, src)
        except FormatError as exc:
            if on_error == "raise":
                raise
            report.skip(exc)


def _detection(filename: str, rows: list[tuple[int, dict[str, str]]], src: str) -> Sample:
    line0, first = rows[0]
    if not filename.strip():
        raise FormatError("empty filename", file=src, line=line0, path="filename")
    width = _num(first["width"], src, line0, "width", integer=True) if first["width"].strip() else None
    height = _num(first["height"], src, line0, "height", integer=True) if first["height"].strip() else None
    objects = []
    for lineno, rec in rows:
        if not rec["class"].strip() and not rec["xmin"].strip():
            continue
        box = BndBox(*(_num(rec[c], src, lineno, c) for c in ("xmin", "ymin", "xmax", "ymax")))
        obj = VocObject(name=rec["class"], shape=box, origin=Origin(src, lineno))
        for col, value in rec.items():
            if col in BOX_COLUMNS or col == "usage" or value == "":
                continue
            if col in ("truncated", "occluded", "difficult"):
                setattr(obj, col, _num(value, src, lineno, col, integer=True))
            elif col == "confidence":
                obj.confidence = _num(value, src, lineno, col)
            elif col == "pose":
                obj.pose = value
            elif col.startswith("property:"):
                obj.properties = obj.properties or {}
                obj.properties[col[len("property:"):]] = value
            else:
                obj.extra[col] = _value(value)
        objects.append(obj)
    doc = VocDocument(filename=basename(filename), width=width, height=height, objects=objects)  # type: ignore[arg-type]
    return Sample(source=filename, usage=first.get("usage") or None,
                  annotations=[Detection(type=OBJECT_DETECTION, annotation_format="PASCAL VOC", document=doc)])


def _classification(filename: str, rows: list[tuple[int, dict[str, str]]], src: str) -> Sample:
    line0, first = rows[0]
    if not filename.strip():
        raise FormatError("empty filename", file=src, line=line0, path="filename")
    col = "label" if "label" in first else "class"
    ann_type = _TYPES.get(first.get("type", "") or "image_classification", IMAGE_CLASSIFICATION)
    names = [n for _, rec in rows for n in rec[col].split(";") if n.strip()]
    extra = {k: _value(v) for k, v in first.items() if k not in ("filename", col, "usage", "type") and v != ""}
    return Sample(source=filename, usage=first.get("usage") or None, extra=extra,
                  annotations=[Classification(type=ann_type, name=n.strip()) for n in names])


# --------------------------------------------------------------------------- writing


def _cell(value: Any) -> str:
    # an empty cell is "no value" (columns are the union over all rows): the empty string is ""
    return '""' if value == "" else textcodec.encode(value)


def _value(cell: str) -> Any:
    """What a non-empty cell of an unknown column holds (see :func:`_cell`)."""
    return "" if cell == '""' else textcodec.decode(cell)


def check_task(task: str) -> None:
    """Refuse a ``task`` the writer does not know (a usage error)."""
    if task not in ("auto", "detect", "classify"):
        raise UsageError(f"task must be auto, detect or classify, not {task!r}")


def write(samples: Iterable[Sample], target: str | os.PathLike[str], *, task: str = "auto", overwrite: bool = False,
          check: Callable[[Report], None] | None = None, **options: Any) -> Report:
    """Write samples as one CSV file, as one transaction.

    Args:
        task: ``"detect"`` (a row per object), ``"classify"`` (a row per sample) or
            ``"auto"`` (detect when any sample has a detection annotation).
    """
    check_options("csv", options)
    check_task(task)
    target = os.fspath(target)
    report = Report()
    kept: list[Sample] = list(samples)
    if task == "auto":
        task = "detect" if has_detection(kept) else "classify"
    rows, columns = table(kept, task, report)
    data = encode(rows, columns, target)
    with output(target, report, folder=False, overwrite=overwrite, check=check) as tx, tx.open() as fh:
        fh.write(data)
    return report


def has_detection(samples: Iterable[Sample]) -> bool:
    """What ``task="auto"`` decides on: some sample has a detection annotation."""
    return any(isinstance(a, Detection) for s in samples for a in s.annotations)


def table(samples: list[Sample], task: str, report: Report) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of ``samples`` for ``task`` (``detect`` or ``classify``) and the columns they use,
    in order of first use."""
    rows = _detect_rows(samples, report) if task == "detect" else _classify_rows(samples, report)
    columns: dict[str, None] = dict.fromkeys(BOX_COLUMNS if task == "detect" else ("filename", "label"))
    for row in rows:
        columns.update(dict.fromkeys(row))
    return rows, list(columns)


def encode(rows: list[dict[str, Any]], columns: list[str], target: str, *, header: bool = True) -> bytes:
    """The CSV bytes of ``rows`` under ``columns`` (with the header line unless ``header`` is False).

    Raises:
        FormatError: a cell holds a carriage return or a lone surrogate, or a filename is blank.
    """
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=columns, restval="", lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    if "\r" in buf.getvalue():  # (unknown fields are JSON-escaped: only a label, pose or file name can hold one)
        raise FormatError("a cell holds a carriage return, which CSV readers take as the end of a row", file=target)
    blank = next((r["filename"] for r in rows if not str(r["filename"]).strip()), None)
    if blank is not None:
        raise FormatError(f"a sample's source is blank ({limits.clip(blank)}): a CSV row needs a filename", file=target)
    try:
        return buf.getvalue().encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[max(0, exc.start - 20):exc.end + 20]
        raise FormatError(f"a cell holds a lone surrogate, which UTF-8 cannot hold: ...{limits.clip(bad, 60)}...",
                          file=target) from None


def _detect_rows(samples: list[Sample], report: Report) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for sample in samples:
        doc, objects = detection_objects(sample, report)
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
                if key in row or key in BOX_COLUMNS or key.startswith("property:"):
                    report.lose("object unknown fields->dropped")
                else:
                    row[key] = _cell(value)
            rows.append(row)
            written += 1
        if not written:
            rows.append(dict(base))
        report.written += 1
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
            if key in row:
                report.lose("sample unknown fields->dropped")
            else:
                row[key] = _cell(value)
        rows.append(row)
        report.written += 1
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
