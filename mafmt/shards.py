"""Splitting a dataset source into shards that can be read on their own.

A shard is a small, picklable description of a part of a source; a worker opens it itself
(through :mod:`mafmt.storage`, with its own credentials), so a task carries no data and no
secret:

* a manifest splits into **byte ranges aligned to line starts** (:func:`manifest_spans`):
  the client reads a few bytes around each cut, never the file; each worker reads only its
  range (a ranged GET on object storage) and counts its lines, so every shard knows the
  number of its first line and errors keep their ``file:line`` (:func:`count_lines`,
  :func:`open_span`);
* folder formats split by **file lists** (:func:`split_list`), listed once by the client (on
  object storage: one listing, page by page, as :func:`mafmt.storage.iter_files` gives it).

Sources that are one document (COCO) or that this module does not split yet are read in one
piece; :mod:`mafmt.scale` says which.
"""

from __future__ import annotations

import codecs
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from mafmt import storage
from mafmt.model import Sample
from mafmt.report import Report
from mafmt.storage.ranges import open_range as open_span

__all__ = ["SHARDS_PER_WORKER", "Source", "Span", "count_lines", "cuttable", "manifest_spans", "open_span",
           "read_shard", "source_shards", "spans", "split_list"]

T = TypeVar("T")

#: shards per worker (a little more than one evens out uneven shards)
SHARDS_PER_WORKER = 3
#: how many bytes a cut reads at a time while it looks for the next line start
_PROBE = 1 << 16
#: a manifest shard is never smaller than this, a run of files never shorter than
#: MIN_RUN_FILES (a small source is one shard: a task costs milliseconds)
MIN_SPAN_BYTES = 1 << 20
MIN_RUN_FILES = 256


@dataclass(frozen=True, slots=True)
class Span:
    """Bytes ``[start, end)`` of a manifest, starting at a line start; ``first_line`` is the
    1-based number of its first line (0 until :func:`count_lines` ran on the spans before)."""

    uri: str
    index: int
    start: int
    end: int
    first_line: int = 0


def _size(uri: str) -> int:
    if storage.scheme_of(uri) in (None, "file"):
        return os.path.getsize(uri.removeprefix("file://"))
    return int(storage.stat(uri).size)


def manifest_spans(uri: str, parts: int, *, min_bytes: int | None = None) -> list[Span]:
    """``uri`` cut into at most ``parts`` spans of about equal size (none under ``min_bytes``,
    default :data:`MIN_SPAN_BYTES`), each cut moved forward to the next line start (a line
    belongs to the span holding its first byte)."""
    size = _size(uri)
    least = MIN_SPAN_BYTES if min_bytes is None else min_bytes
    parts = max(1, min(parts, size // max(1, least) or 1))
    cuts = [0]
    for k in range(1, parts):
        cut = _line_start_at_or_after(uri, size * k // parts, size)
        if cuts[-1] < cut < size:
            cuts.append(cut)
    cuts.append(size)
    return [Span(uri, i, a, b) for i, (a, b) in enumerate(itertools.pairwise(cuts))]


def _line_start_at_or_after(uri: str, pos: int, size: int) -> int:
    """The first offset >= ``pos`` where a line starts (``size`` when none does)."""
    if pos <= 0:
        return 0
    at = pos - 1  # a line starts at pos exactly when the byte before it is a newline
    while at < size:
        with open_span(uri, at, min(size, at + _PROBE)) as fh:
            chunk = fh.read()
        nl = chunk.find(b"\n")
        if nl >= 0:
            return at + nl + 1
        if not chunk:
            break
        at += len(chunk)
    return size


def count_lines(span: Span) -> int:
    """The number of newlines in ``span`` (the lines that end in it): the next span's first
    line is this one's plus that count. Runs on a worker; reads only the span."""
    n = 0
    with open_span(span.uri, span.start, span.end) as fh:
        while chunk := fh.read(1 << 22):
            n += chunk.count(b"\n")
    return n


def numbered(spans: Sequence[Span], newlines: Sequence[int]) -> list[Span]:
    """The spans with their ``first_line`` set from the newline counts of the spans before."""
    out, line = [], 1
    for span, n in zip(spans, newlines, strict=True):
        out.append(Span(span.uri, span.index, span.start, span.end, line))
        line += n
    return out


def split_list(items: Sequence[T], parts: int, *, min_items: int | None = None) -> list[list[T]]:
    """``items`` in at most ``parts`` consecutive runs of about equal length (input order kept),
    none shorter than ``min_items`` (default :data:`MIN_RUN_FILES`)."""
    n = len(items)
    least = MIN_RUN_FILES if min_items is None else min_items
    parts = max(1, min(parts, n // max(1, least) or 1))
    return [list(items[n * k // parts: n * (k + 1) // parts]) for k in range(parts)]


def cuttable(encoding: str) -> bool:
    """Whether a manifest in ``encoding`` can be cut at newline bytes."""
    name = codecs.lookup(encoding).name
    return not name.startswith(("utf-16", "utf-32", "utf_16", "utf_32"))


def spans(eng: Any, path: str) -> list[Span]:
    """The numbered byte ranges of the manifest ``path`` for the workers of ``eng`` (a
    :class:`mafmt.distributed.Engine`; the lines of each range are counted on them)."""
    cut = manifest_spans(path, eng.workers * SHARDS_PER_WORKER)
    return numbered(cut, eng.map(count_lines, cut, name="mafmt-count")) if len(cut) > 1 else numbered(cut, [0])


# =========================================================================== the shards of a dataset source


@dataclass(frozen=True, slots=True)
class _VocRun:
    """A run of XML files of one part of a VOC dataset; ``tail`` also yields the part's listed
    images without a file (``stems``: every XML stem of the part)."""

    root: str
    part: Any
    files: tuple[str, ...]
    tail: bool = False
    stems: frozenset[str] = frozenset()


@dataclass(slots=True)
class Source:
    reader: Any
    shards: list[Any]
    meta: Any = None


def source_shards(eng: Any, src: str, reader: Any, read_options: dict[str, Any]) -> Source | None:
    """The shards of ``src``, or None when this reader is not cut (it runs in one process)."""
    from mafmt.converters import _common

    if reader.name == "manifest":
        if set(read_options) - {"encoding"} or not cuttable(read_options.get("encoding") or "utf-8"):
            return None
        if storage.is_dir(src):
            return None
        if not storage.scheme_of(src):
            from mafmt.storage.transaction import recover

            recover(src)  # as the reader does: a commit a kill interrupted is finished or undone first
        return Source(reader, spans(eng, src))
    if reader.name == "voc":
        from mafmt.converters import pascal_voc

        if set(read_options) - {"pixel_base"} or not storage.is_dir(src):
            return None
        pascal_voc.check_complete(src)
        parts = pascal_voc._parts(src)
        if not parts:
            return None
        names = pascal_voc._labelmap(src)
        meta = _common.DatasetMeta(categories=[_common.Category(n) for n in names] if names else [])
        shards: list[Any] = []
        for i, part in enumerate(parts):
            files = [p for p in storage.iter_files(part.annotations) if p.lower().endswith(".xml")]
            runs = split_list(files, eng.workers * SHARDS_PER_WORKER)
            stems = frozenset(_common.stem(p) for p in files)
            for j, run in enumerate(runs):
                last = j == len(runs) - 1
                shards.append(_VocRun(src, part, tuple(run), last, stems if last else frozenset()))
            del i
        if not any(s.files for s in shards):
            return None  # no annotation at all: the reader's own error, in one process
        return Source(reader, shards, meta)
    return None


def read_shard(shard: Any, on_error: str, read_options: dict[str, Any]) -> tuple[Iterable[Sample], Report]:
    """Worker: the samples of one shard, and the report their reading fills."""
    if isinstance(shard, Span):
        from mafmt import manifest

        stream = manifest.read_span(shard.uri, shard, encoding=read_options.get("encoding") or "utf-8",
                                    on_error=cast(Any, on_error))
        return stream, stream.report
    from mafmt.converters import _common, pascal_voc

    report = Report()

    def samples() -> Iterator[Sample]:
        yield from pascal_voc._iter_part(shard.root, shard.part, cast(Any, on_error), report, shard.files)
        if shard.tail:
            seen = set(shard.stems)
            yield from pascal_voc._unannotated(shard.part, pascal_voc._images_by_stem(shard.part.images),
                                               _common.root_origin(shard.part.images), seen)

    return pascal_voc._shifted(samples(), -int(read_options.get("pixel_base", 0))), report
