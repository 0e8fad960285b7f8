"""The format registry: one literal table, and ``convert`` = reader -> model -> writer.

Installed as ``mafmt.converters``. Adding a format means writing one module with
``read``/``write``/``FORMAT`` and adding it to :data:`FORMATS` below; there are no
format-pair special cases anywhere.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

from mafmt import manifest, storage
from mafmt.errors import LossError, UsageError
from mafmt.formats import Format
from mafmt.report import Report

from . import _common, coco, csv_format, import_layouts, pascal_voc, yolo

__all__ = ["FORMATS", "convert", "detect", "get"]

#: name -> format, in the order ``mafmt formats`` lists them; detection tries them in this
#: order too, so specific layouts come before the general ones they resemble.
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        manifest.FORMAT,
        coco.FORMAT,
        yolo.MODELARTS_FORMAT,
        yolo.FORMAT,
        csv_format.FORMAT,
        import_layouts.VOC_PAIRS,
        pascal_voc.FORMAT,
        import_layouts.IMAGE_CLASSIFICATION_TXT,
        import_layouts.TEXT,
        import_layouts.TEXT_COMBINE,
        import_layouts.IMAGENET,
        import_layouts.AUDIO,
    )
}


def get(name: str) -> Format:
    """The format called ``name`` (or one of its aliases).

    Raises:
        UsageError: no such format.
    """
    key = name.strip().lower()
    if key in FORMATS:
        return FORMATS[key]
    for fmt in FORMATS.values():
        if key in fmt.aliases:
            return fmt
    raise UsageError(f"unknown format {name!r} (known: {', '.join(FORMATS)})")


def detect(path: str) -> Format:
    """Guess the format of an existing file or folder: extension first, then content.

    Raises:
        UsageError: nothing matches; pass the format explicitly.
    """
    if not storage.exists(path):
        raise UsageError(f"{path}: no such file or folder")
    is_dir = storage.is_dir(path)
    if not is_dir:
        ext = os.path.splitext(path)[1].lower()
        for fmt in FORMATS.values():
            if ext and ext in fmt.extensions:
                return fmt
    for fmt in FORMATS.values():
        if (fmt.directory or not is_dir) and fmt.sniff is not None and fmt.sniff(path):
            return fmt
    raise UsageError(f"{path}: cannot tell its format; pass --from/--format")


def target_format(path: str) -> Format:
    """Guess the format to write from a target path's extension."""
    ext = os.path.splitext(path)[1].lower()
    for fmt in FORMATS.values():
        if ext and ext in fmt.extensions:
            return fmt
    raise UsageError(f"{path}: cannot tell which format to write; pass --to")


def convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    src_format: str | None = None,
    dst_format: str | None = None,
    *,
    strict: bool = False,
    on_error: str = "raise",
    read_options: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    **write_options: Any,
) -> Report:
    """Convert ``src`` to ``dst`` through the shared model and return the report.

    Args:
        strict: raise :class:`LossError` instead of writing when anything would be lost
            (the target is left untouched: the data is checked before anything is written).
        on_error: what the reader does with bad records (``"raise"`` or ``"skip"``).
        read_options / write_options: passed to the format's reader / writer.
        progress: called with the number of samples converted so far, after each one.
    """
    src, dst = os.fspath(src), os.fspath(dst)
    reader = get(src_format) if src_format else detect(src)
    writer = get(dst_format) if dst_format else target_format(dst)
    if strict:
        # A rehearsal into a scratch folder: exact loss counts from the real writer,
        # and the real target is never touched when something would be lost.
        with tempfile.TemporaryDirectory(prefix="mafmt-strict-") as scratch:
            probe_dst = os.path.join(scratch, os.path.basename(dst.rstrip("/\\")) or "out")
            probe = writer.write(reader.read(src, on_error=on_error, **(read_options or {})), probe_dst, **write_options)
        if probe.lost:
            raise LossError(probe.lost)
    samples = reader.read(src, on_error=on_error, **(read_options or {}))
    feed = _common.with_progress(samples, progress) if progress is not None else samples
    report = writer.write(feed, dst, **write_options)
    read_report = getattr(samples, "report", None)
    if read_report is not None:
        report.skipped += read_report.skipped
        report.warnings.update(read_report.warnings)
        report.problems[:0] = read_report.problems
    if strict and report.lost:
        raise LossError(report.lost)
    return report
