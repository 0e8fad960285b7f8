"""The format registry: one literal table, and ``convert`` = reader -> model -> writer.

Installed as ``mafmt.converters``. Adding a format means writing one module with
``read``/``write``/``FORMAT`` and adding it to :data:`FORMATS` below; there are no
format-pair special cases anywhere.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from mafmt import manifest, storage
from mafmt.errors import FormatError, LossError, UsageError
from mafmt.formats import Format
from mafmt.model import Sample
from mafmt.progress import Progress, Tracked
from mafmt.report import Report

from . import _common, coco, csv_format, import_layouts, pascal_voc, yolo

__all__ = ["FORMATS", "convert", "detect", "get"]

#: name -> format, in the order ``mafmt formats`` lists them; detection tries them in this
#: order too, so specific layouts come before the general ones they resemble.
def _write_manifest(samples: Any, target: Any, *, images: str | None = None, size_table: str | None = None,
                    **options: Any) -> Report:
    """:func:`mafmt.manifest.write`, with image sizes for VOC documents that lack one (from
    ``size_table`` or the image's header, as the other ModelArts writers find them)."""
    from ._sizes import SizeResolver, sample_size

    resolver = SizeResolver(images, size_table)
    return manifest.write(samples, target, sizes=lambda sample: sample_size(sample, resolver), **options)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        dataclasses.replace(manifest.FORMAT, write=_write_manifest),
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


#: targets that keep the source's class list in its order (YOLO names, VOC labelmap.txt)
_CLASS_LIST_TARGETS = frozenset({"yolo", "modelarts-yolo", "voc"})
_YOLO_TARGETS = frozenset({"yolo", "modelarts-yolo"})


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
    with storage.Snapshot():  # (each format's sniffer lists the same folder: once)
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
    overwrite: bool = False,
    read_options: dict[str, Any] | None = None,
    progress: Progress | None = None,
    **write_options: Any,
) -> Report:
    """Convert ``src`` to ``dst`` through the shared model and return the report.

    The target is written as one transaction (see :mod:`mafmt.storage.transaction`): it
    appears complete or not at all, and an existing target is replaced only with
    ``overwrite=True``.

    Args:
        strict: raise :class:`LossError` instead of committing when any sample was dropped,
            any data lost or any identity changed (the target is left untouched).
        on_error: what the reader does with bad records (``"raise"`` or ``"skip"``).
        overwrite: replace an existing target as a whole.
        read_options / write_options: passed to the format's reader / writer.
        progress: ``progress(done, total)`` after each sample (total None when unknown).

    Raises:
        FormatError: the source holds samples but none could be written (the reason is
            named), or a reader/writer error.
        LossError: ``strict`` and something would be lost.
    """
    src, dst = os.fspath(src), os.fspath(dst)
    reader = get(src_format) if src_format else detect(src)
    writer = get(dst_format) if dst_format else target_format(dst)
    read_options = dict(read_options or {})
    if writer.takes_flags and "compact" in _common.accepted(reader.read, {"compact": True}):
        read_options.setdefault("compact", True)  # (the writer takes the reader's compact samples with VOC flags)
    samples = reader.read(src, on_error=on_error, **read_options)
    feed: Tracked[Sample] = Tracked(samples, progress)

    def check(report: Report) -> None:
        check_written(report, getattr(samples, "report", None), feed.count, src=src, dst=dst, writer=writer.name,
                      on_error=on_error, strict=strict)

    report = writer.write(feed, dst, overwrite=overwrite, check=check, **write_options)
    note_source_meta(report, _common.get_meta(samples), writer)
    report.read = feed.count
    report.target, report.format = dst, writer.name
    fold_read_report(report, getattr(samples, "report", None))
    return report


def note_source_meta(report: Report, meta: _common.DatasetMeta | None, writer: Format) -> None:
    """Count the source's class identity that ``writer`` has no place for (after it wrote)."""
    if (meta is not None and ("categories" not in writer.holds or meta.index_labels)
            and not any(kind.startswith(("category ", "class index")) for kind in report.metadata)):
        # the YOLO writers count the COCO ids they cannot keep themselves; they and VOC's
        # labelmap.txt keep the class list in order; only YOLO keeps index labels as indices
        _common.note_categories_not_kept(meta, report, keeps_class_list=writer.name in _CLASS_LIST_TARGETS,
                                         keeps_index_labels=writer.name in _YOLO_TARGETS)


def check_written(report: Report, read_report: Report | None, count: int, *, src: str, dst: str, writer: str,
                  on_error: str, strict: bool) -> None:
    """What :func:`convert` checks just before the commit (``count`` samples were read):
    samples without size, nothing written, and with ``strict`` any loss.

    Raises:
        FormatError: samples without a size (``on_error="raise"``), or none written.
        LossError: ``strict`` and something would be lost.
    """
    unsized = report.dropped.get("no image size", 0)
    if unsized and on_error == "raise":
        first = [p.reason.split(" unknown")[0].removeprefix("image size of ").strip("'\"") for p in report.problems
                 if p.path == "size"][:3]
        raise FormatError(f"{unsized} of the {count} samples have no image size ({', '.join(first)}"
                          f"{', ...' if unsized > len(first) else ''}): give --images DIR (sizes from image "
                          "headers) or --size-table FILE, or --on-error skip to leave them out", file=src)
    if count and not report.written:
        raise FormatError(f"nothing written to {dst}: none of the {count} samples fits {writer} "
                          f"({_common.describe(report)})", file=src)
    if strict:
        losses = {**report.losses(), **(read_report.losses() if read_report is not None else {})}
        if losses:
            raise LossError(losses)


def fold_read_report(report: Report, read_report: Report | None) -> None:
    """Add what the reader could not take from the source to a writer's report."""
    if read_report is not None:
        report.skipped += read_report.skipped
        for mine, theirs in ((report.dropped, read_report.dropped), (report.lost, read_report.lost),
                             (report.changed, read_report.changed), (report.metadata, read_report.metadata),
                             (report.warnings, read_report.warnings)):
            mine.update(theirs)
        report.problems[:0] = read_report.problems
