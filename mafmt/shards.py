"""Splitting a dataset source into shards that can be read on their own.

A shard is a small, picklable description of a part of a source; a worker opens it itself
(through :mod:`mafmt.storage`, with its own credentials), so a task carries no secret:

* a manifest splits into **byte ranges aligned to line starts** (:func:`manifest_spans`):
  the client reads a few bytes around each cut, never the file; each worker reads only its
  range (a ranged GET on object storage). The first range starts at once; meanwhile the
  lines of the others are counted on the workers, so every shard knows the number of its
  first line and errors keep their ``file:line`` (:func:`spans`, :func:`count_lines`,
  :func:`open_span`). ``validate`` counts nothing first: its workers number each range from 1
  and the client shifts the numbers (:func:`mafmt.scale._validate_manifest`);
* folder formats split by **file lists** listed once by the client: VOC folders (runs of
  each part's XML files), YOLO folders (runs of each split's keys; layout, class names and
  size table resolved by the client and carried by the shard) and the ModelArts import
  layouts (files of a folder per label; image + sidecar pairs and text files paired by the
  client, its warnings carried in order);
* on **OBS** a VOC folder or a folder-per-label layout is cut **per listing page** (or group
  of pages) as the pages arrive (:func:`mafmt.storage.iter_file_pages`, :class:`Arriving`),
  so workers start before the listing ends; a one-page listing is cut as a local one.
  Layouts that pair or sort files across the listing (YOLO keys, sidecars, ``_result``
  files) are listed whole first;
* a **COCO** file is one JSON document: the client decodes it once, checks the categories
  and groups the annotations, and cuts **the images** into runs, each shipped as JSON bytes
  with its annotations and the category names; ids given twice across runs and lost
  annotations come out as in one pass (:func:`settle`).

Each source is cut into :data:`SHARDS_PER_WORKER` shards per worker whose size falls by
rounds (:func:`falling_cuts`): the workers take them in order as they become free, so the
last ones, which decide when the job ends, are short, and a worker slowed by the client
beside it on the same core takes fewer of them.

The single-process readers run the same per-record code (``coco.images``,
``yolo.samples_of``, ``import_layouts.*_samples``), so samples, losses, warnings and
problems (with their file, line or JSON path) are those of one pass, in its order.
Everything else is read in one piece; :mod:`mafmt.scale` says which.
"""

from __future__ import annotations

import codecs
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast

from mafmt import storage
from mafmt.model import Sample
from mafmt.report import Report
from mafmt.storage.ranges import open_range as open_span

__all__ = ["SHARDS_PER_WORKER", "Source", "Span", "count_lines", "cuttable", "falling_cuts", "manifest_spans",
           "open_span", "read_shard", "source_shards", "spans", "split_list"]

T = TypeVar("T")

#: shards per worker (several, of falling size, even out uneven shards and workers)
SHARDS_PER_WORKER = 4
#: how many bytes a cut reads at a time while it looks for the next line start
_PROBE = 1 << 16
#: a manifest shard is never smaller than this, a run of files never shorter than
#: MIN_RUN_FILES (a small source is one shard: a task costs milliseconds)
MIN_SPAN_BYTES = 1 << 20
MIN_RUN_FILES = 256
#: nor larger than this, however few the workers: what a worker holds of one shard (its
#: findings, or its output when it cannot write beside the target) stays bounded
MAX_SPAN_BYTES = 256 << 20


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


def manifest_spans(uri: str, parts: int | None = None, *, workers: int | None = None,
                   min_bytes: int | None = None) -> list[Span]:
    """``uri`` cut into ``parts`` spans whose size falls by rounds of ``workers``
    (:func:`falling_cuts`; fewer when they would be under ``min_bytes`` on average, default
    :data:`MIN_SPAN_BYTES`; more when one would be over :data:`MAX_SPAN_BYTES`), each cut
    moved forward to the next line start (a line belongs to the span holding its first
    byte). ``parts`` defaults to :data:`SHARDS_PER_WORKER` per worker."""
    size = _size(uri)
    least = MIN_SPAN_BYTES if min_bytes is None else min_bytes
    parts = max(1, min(parts or (workers or 1) * SHARDS_PER_WORKER, size // max(1, least) or 1),
                -(-size // MAX_SPAN_BYTES))
    points = falling_cuts(size, parts, workers)
    while max(b - a for a, b in itertools.pairwise(points)) > MAX_SPAN_BYTES:
        parts += workers or 1
        points = falling_cuts(size, parts, workers)
    cuts = [0]
    for at in points[1:-1]:
        cut = _line_start_at_or_after(uri, at, size)
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


def _count_each(spans: list[Span]) -> list[int]:
    return [count_lines(span) for span in spans]


def numbered(spans: Sequence[Span], newlines: Sequence[int]) -> list[Span]:
    """The spans with their ``first_line`` set from the newline counts of the spans before."""
    out, line = [], 1
    for span, n in zip(spans, newlines, strict=True):
        out.append(Span(span.uri, span.index, span.start, span.end, line))
        line += n
    return out


def split_list(items: Sequence[T], parts: int | None = None, *, workers: int | None = None,
               min_items: int | None = None) -> list[list[T]]:
    """``items`` in at most ``parts`` consecutive runs (input order kept) whose length falls
    by rounds of ``workers`` (:func:`falling_cuts`), fewer when they would be shorter than
    ``min_items`` on average (default :data:`MIN_RUN_FILES`). ``parts`` defaults to
    :data:`SHARDS_PER_WORKER` per worker."""
    n = len(items)
    least = MIN_RUN_FILES if min_items is None else min_items
    parts = max(1, min(parts or (workers or 1) * SHARDS_PER_WORKER, n // max(1, least) or 1))
    return [list(items[a:b]) for a, b in itertools.pairwise(falling_cuts(n, parts, workers))]


def falling_cuts(n: int, parts: int, workers: int | None = None) -> list[int]:
    """The cut points (0 first, ``n`` last) of ``n`` items into at most ``parts`` pieces
    whose sizes fall by rounds of ``workers`` pieces (default: one round, equal pieces): of
    R rounds, round r's pieces weigh R - r. The workers take the pieces in order as they
    become free, so the last ones, which decide when the job ends, are short (with 2 workers
    and 8 pieces the last are 5 % of the whole each, against 12.5 % for equal ones). No
    piece is empty: fewer pieces when some would be."""
    per = max(1, min(parts, workers or parts))
    rounds = -(-parts // per)
    weights = [rounds - k // per for k in range(parts)]
    total = sum(weights)
    cuts, weight = [0], 0
    for w in weights[:-1]:
        weight += w
        if 0 < n * weight // total > cuts[-1]:
            cuts.append(n * weight // total)
    return cuts + [n]


def cuttable(encoding: str) -> bool:
    """Whether a manifest in ``encoding`` can be cut at newline bytes."""
    name = codecs.lookup(encoding).name
    return not name.startswith(("utf-16", "utf-32", "utf_16", "utf_32"))


class Arriving(Sequence[Any]):
    """The shards of a source as they are cut (a listing still running): iterating takes them
    as they come, and again from the start once taken; ``len`` waits for all of them."""

    def __init__(self, items: Iterable[Any]) -> None:
        self._it: Iterator[Any] | None = iter(items)
        self._done: list[Any] = []

    def _more(self) -> bool:
        if self._it is None:
            return False
        for item in self._it:
            self._done.append(item)
            return True
        self._it = None
        return False

    def find(self, test: Any) -> Any:
        """The first shard that passes ``test`` (cutting as far as needed), or None."""
        return next((item for item in self if test(item)), None)

    def __iter__(self) -> Iterator[Any]:
        i = 0
        while i < len(self._done) or self._more():
            yield self._done[i]
            i += 1

    def __len__(self) -> int:
        while self._more():
            pass
        return len(self._done)

    def __bool__(self) -> bool:
        return bool(self._done) or self._more()

    def __getitem__(self, index: Any) -> Any:
        len(self)
        return self._done[index]


def spans(eng: Any, path: str) -> Arriving:
    """The numbered byte ranges of the manifest ``path`` for the workers of ``eng`` (a
    :class:`mafmt.distributed.Engine`), as they come: the first at once (its first line is
    1), so that a worker starts on it while the others count the lines of the ranges (the
    next range's first line is this one's plus its count), then the rest."""

    def numbered_spans() -> Iterator[Span]:
        cut = manifest_spans(path, workers=eng.workers)
        yield replace(cut[0], first_line=1)
        if len(cut) > 1:  # one counting task per other worker: each goes to an idle one
            groups = split_list(cut[:-1], max(1, eng.workers - 1), min_items=1)
            counts = [n for group in eng.map(_count_each, groups, name="mafmt-count") for n in group]
            yield from numbered(cut, counts + [0])[1:]

    return Arriving(numbered_spans())


# =========================================================================== the shards of a dataset source


@dataclass(frozen=True, slots=True)
class _VocRun:
    """A run of XML files of one part of a VOC dataset; ``tail`` also yields the part's listed
    images without a file. ``part`` holds only the ``ImageSets`` entries this run reads (the
    tail's: also those images), and ``images`` the paths of its images by stem (the client
    listed the image folder once): a task grows with its run, not with the dataset, and no
    worker lists the image folder again."""

    root: str
    part: Any
    files: tuple[str, ...]
    tail: bool = False
    images: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Source:
    reader: Any
    shards: Sequence[Any]  # (a list, or an Arriving one while a listing still runs)
    meta: Any = None


def source_shards(eng: Any, src: str, reader: Any, read_options: dict[str, Any]) -> Source | None:
    """The shards of ``src``, or None when this reader is not cut (it runs in one process)."""
    if reader.name == "manifest":
        if set(read_options) - {"encoding"} or not cuttable(read_options.get("encoding") or "utf-8"):
            return None
        if storage.is_dir(src):
            return None
        if not storage.scheme_of(src):
            from mafmt.storage.transaction import recover

            recover(src)  # as the reader does: a commit a kill interrupted is finished or undone first
        return Source(reader, spans(eng, src))
    cut = _CUTTERS.get(reader.name)
    if cut is not None:
        source = cut(eng, src, read_options)
        if source is not None:
            source.reader = reader
        return source
    if reader.name == "voc":
        return _voc_shards(eng, src, reader, read_options)
    if reader.name.startswith("modelarts-") and reader.name != "modelarts-yolo":
        return _layout_shards(eng, src, reader, read_options)
    return None


def _voc_shards(eng: Any, src: str, reader: Any, read_options: dict[str, Any]) -> Source | None:
    """A VOC dataset folder cut into runs of each part's XML files (on OBS as the listing
    pages arrive, see :func:`file_runs`)."""
    from mafmt.converters import _common, pascal_voc

    if set(read_options) - {"pixel_base"} or not storage.is_dir(src):
        return None
    pascal_voc.check_complete(src)
    parts = pascal_voc._parts(src)
    if not parts:
        return None
    names = pascal_voc._labelmap(src)
    meta = _common.DatasetMeta(categories=[_common.Category(n) for n in names] if names else [])

    def runs() -> Iterator[_VocRun]:
        for part in parts:
            images = pascal_voc._images_by_stem(part.images)  # (once for the part: each run takes its own)
            stems: set[str] = set()
            held: tuple[tuple[str, ...], list[str]] | None = None
            for run in file_runs(eng, part.annotations, lambda p: p.lower().endswith(".xml")):
                if held is not None:
                    yield _voc_run(src, part, *held, images)
                held = tuple(run), [_common.stem(p) for p in run]
                stems.update(held[1])
            yield _voc_run(src, part, *(held or ((), [])), images, stems)  # the part's last run: its tail

    shards = Arriving(runs())
    if not shards.find(lambda s: bool(s.files)):
        return None  # no annotation at all: the reader's own error, in one process
    return Source(reader, shards, meta)


def _voc_run(src: str, part: Any, files: tuple[str, ...], keys: list[str], images: dict[str, str],
             every_stem: set[str] | None = None) -> _VocRun:
    """The shard of ``files`` (their stems: ``keys``) of ``part``; given ``every_stem`` (of the
    part's XML files), the part's last run, which also yields the listed images without a file
    (in their listed order)."""
    listed = {k: part.listed[k] for k in keys if k in part.listed}
    if every_stem is not None:
        listed.update((k, v) for k, v in part.listed.items() if k not in every_stem)
    return _VocRun(src, replace(part, listed=listed), files, every_stem is not None,
                   {k: images[k] for k in itertools.chain(keys, listed) if k in images})


def file_runs(eng: Any, folder: str, keep: Any, recursive: bool = False) -> Iterator[list[str]]:
    """The files of ``folder`` that ``keep`` keeps, in listing order, in runs for the workers of
    ``eng`` (at least one run, maybe empty): on OBS, when the listing takes several pages,
    one run per page or group of pages (at least :data:`MIN_RUN_FILES` files) cut as the
    pages arrive; otherwise the whole listing in runs of falling length (:func:`split_list`)."""
    if storage.scheme_of(folder) in (None, "file"):
        yield from split_list([p for p in storage.iter_files(folder, recursive) if keep(p)], workers=eng.workers)
        return
    pages = storage.iter_file_pages(folder, recursive)
    first = next(pages, [])
    second = next(pages, None)
    if second is None:  # one page: cut as a local listing
        yield from split_list([p for p in first if keep(p)], workers=eng.workers)
        return
    run: list[str] = []
    cut = False
    for page in itertools.chain([first, second], pages):
        run.extend(p for p in page if keep(p))
        if len(run) >= MIN_RUN_FILES:
            yield run
            run, cut = [], True
    if run or not cut:
        yield run


@dataclass(frozen=True, slots=True)
class _CocoRun:
    """A run of the images of a COCO file, decoded by the client: ``data`` holds their
    ``(index, record)`` pairs, their annotations (``(index, record)`` by image id) and the
    category names by id, as JSON bytes (cheap to ship and to decode; pickled when JSON
    cannot hold them exactly). ``before``: the ids read in earlier runs that come again here;
    ``repeated``: this run's ids that other images share (their lost annotations are counted
    by the client); ``head``: what the reading found before the images (first run only);
    ``orphans``: annotations of no image read (last run only)."""

    src: str
    data: bytes
    pickled: bool
    before: frozenset[Any]
    repeated: frozenset[Any]
    head: Report | None = None
    orphans: int = 0


def _coco_shards(eng: Any, src: str, read_options: dict[str, Any]) -> Source | None:
    """The COCO file ``src`` decoded once and cut into runs of images (:class:`_CocoRun`)."""
    from collections import Counter

    from mafmt.converters import _common, coco
    from mafmt.storage.transaction import check_complete

    if set(read_options) - {"images", "size_table"}:
        return None
    check_complete(src)
    doc = coco.load_instances(src)
    head, meta = Report(), _common.DatasetMeta()
    names, by_image = coco.head(doc, src, "skip", head, meta)
    images = doc["images"]
    ids = [img.get("id") if isinstance(img, dict) and coco._scalar_id(img.get("id")) else _NO_ID for img in images]
    counts = Counter(i for i in ids if i is not _NO_ID)
    repeated = {k for k, n in counts.items() if n > 1}
    valid_first = _coco_first_valid(images, ids, repeated, by_image, names, src)
    orphans = sum(len(v) for k, v in by_image.items() if k not in counts or (k in repeated and k not in valid_first))
    runs = split_list(range(len(images)), workers=eng.workers, min_items=MIN_RUN_IMAGES)
    out: list[Any] = []
    for j, run in enumerate(runs):
        run_ids = {ids[i] for i in run} - {_NO_ID}
        before = frozenset(k for k in run_ids & repeated if k in valid_first and valid_first[k] < run[0])
        data, pickled = _pack([[i, images[i]] for i in run], [[k, by_image[k]] for k in run_ids if k in by_image],
                              list(names.items()))
        out.append(_CocoRun(src, data, pickled, before, frozenset(run_ids & repeated), head if j == 0 else None,
                            orphans if j == len(runs) - 1 else 0))
    return Source(None, out, meta)


_NO_ID = object()
#: a COCO run is never shorter than this many images
MIN_RUN_IMAGES = 2048


def _coco_first_valid(images: list[Any], ids: list[Any], repeated: set[Any], by_image: dict[Any, Any],
                      names: dict[Any, str], src: str) -> dict[Any, int]:
    """For each id that images share, the index of the first of them that reads (the one
    a single pass keeps; the others are duplicates). Read here, on the client: rare."""
    from mafmt.converters import coco
    from mafmt.errors import FormatError

    first: dict[Any, int] = {}
    for i, k in enumerate(ids):
        if k in repeated and k not in first:
            try:
                coco._sample(images[i], i, by_image, names, src, Report())
            except FormatError:
                continue
            first[k] = i
    return first


def _pack(*parts: Any) -> tuple[bytes, bool]:
    import pickle

    import orjson

    try:
        return orjson.dumps(parts), False
    except (TypeError, orjson.JSONEncodeError):  # integers beyond 64 bits, very deep records
        return pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL), True


def _unpack(data: bytes, pickled: bool) -> Any:
    import pickle

    import orjson

    return pickle.loads(data) if pickled else orjson.loads(data)  # (the client's own bytes)


def _read_coco(shard: _CocoRun, on_error: str) -> tuple[Iterable[Sample], Report]:
    """Worker: the samples of a run of COCO images, as the reader gives them."""
    from mafmt.converters import coco

    numbered, groups, name_pairs = _unpack(shard.data, shard.pickled)
    by_image = {k: [tuple(p) for p in v] for k, v in groups}
    names = {k: v for k, v in name_pairs}
    report = Report()
    if shard.head is not None:
        if on_error == "raise" and shard.head.problems:
            raise shard.head.problems[0]
        report.merge(shard.head)

    def samples() -> Iterator[Sample]:
        seen = set(shard.before)
        yield from coco.images(((i, img) for i, img in numbered), by_image, names, shard.src, on_error, report,
                               seen)
        own = {img.get("id") for _, img in numbered if isinstance(img, dict) and coco._scalar_id(img.get("id"))}
        lost = shard.orphans + sum(len(by_image[k]) for k in own - shard.repeated if k in by_image and k not in seen)
        if lost:
            report.lose(coco.ORPHANS_LOST, lost)

    return samples(), report


@dataclass(frozen=True, slots=True)
class _YoloRun:
    """A run of the keys of one split of a YOLO dataset, with their image and label files;
    the client resolved the layout, the class names and the size table (``head``: the
    layout's notes, first run only)."""

    root: str
    split: Any
    keys: tuple[str, ...]
    sizes: Any
    names: list[str] | None
    head: Report | None = None


def _yolo_shards(eng: Any, src: str, read_options: dict[str, Any]) -> Source | None:
    """A YOLO folder cut into runs of each split's keys (in the reader's order)."""
    from mafmt.converters import _common
    from mafmt.converters._sizes import SizeResolver, load_size_table
    from mafmt.converters.yolo_layouts import Split, discover
    from mafmt.storage.transaction import check_complete

    if set(read_options) - {"images", "size_table"} or not storage.is_dir(src):
        return None
    check_complete(src)
    layout = discover(src)
    head = Report()
    for note in layout.notes:
        head.warn(note)
    size_table = read_options.get("size_table")
    own = storage.join(src, "sizes.csv")
    if storage.exists(own):
        size_table = {**load_size_table(own), **(load_size_table(size_table) if size_table is not None else {})}
    sizes = SizeResolver(read_options.get("images"), size_table)
    meta = _common.DatasetMeta()
    if layout.names is not None:
        meta.categories = [_common.Category(n, i) for i, n in enumerate(layout.names)]
        meta.index_ids = True
    else:
        meta.index_labels = True
    out: list[Any] = []
    for split in layout.splits:
        for run in split_list(split.keys(), workers=eng.workers):
            part = Split(split.name, {k: split.images[k] for k in run if k in split.images},
                         {k: split.labels[k] for k in run if k in split.labels}, split.root)
            out.append(_YoloRun(src, part, tuple(run), sizes, layout.names, None if out else head))
    if not any(r.keys for r in out):
        return None  # nothing found: the reader's own error, in one process
    return Source(None, out, meta)


def _read_yolo(shard: _YoloRun, on_error: str) -> tuple[Iterable[Sample], Report]:
    """Worker: the samples of a run of YOLO keys, as the reader gives them."""
    from mafmt.converters import yolo

    report = Report()
    if shard.head is not None:
        report.merge(shard.head)
    return yolo.samples_of(shard.root, shard.split, shard.keys, shard.sizes, shard.names, on_error, report), report


@dataclass(frozen=True, slots=True)
class _LayoutRun:
    """A run of a ModelArts import layout: ``items`` are files (folder per label), events of
    :func:`~mafmt.converters.import_layouts.pair_events` (image + sidecar layouts) or text
    files with their ``_result`` file, as the client listed and paired them."""

    root: str
    layout: str
    items: tuple[Any, ...]
    options: tuple[tuple[str, str], ...] = ()


_TEXT_LAYOUTS = frozenset({"modelarts-text-classification", "modelarts-text-classification-combine"})
_PAIR_LAYOUTS = {"modelarts-image-classification": (".txt", "label file", False),
                 "modelarts-voc": (".xml", "XML file", True)}


def _layout_shards(eng: Any, src: str, reader: Any, read_options: dict[str, Any]) -> Source | None:
    """An import layout folder cut into runs of its files (folder per label: on OBS as the
    listing pages arrive) or of its pairs."""
    from mafmt.converters import import_layouts as il
    from mafmt.storage.transaction import check_complete

    name = reader.name
    allowed = {"sample_separator", "label_separator"} if name in _TEXT_LAYOUTS else set()
    if set(read_options) - allowed or not storage.is_dir(src):
        return None
    check_complete(src)
    runs: Iterable[list[Any]]
    if name in il.FOLDER_KINDS:
        exts = il.FOLDER_KINDS[name][1]
        runs = file_runs(eng, src, lambda p: p.lower().endswith(exts) and il.visible(p, src), recursive=True)
    elif name in _PAIR_LAYOUTS:
        runs = split_list(il.pair_events(il._files(src), *_PAIR_LAYOUTS[name]), workers=eng.workers)
    elif name in _TEXT_LAYOUTS:
        runs = split_list(il.text_files(il._files(src)), workers=eng.workers)
    else:
        return None
    options = tuple(sorted(read_options.items()))
    shards = Arriving(_LayoutRun(src, name, tuple(run), options) for run in runs)
    if not shards.find(lambda s: bool(s.items)):
        return None  # nothing found: the reader's own error, in one process
    return Source(reader, shards)


def _read_layout(shard: _LayoutRun, on_error: str) -> tuple[Iterable[Sample], Report]:
    """Worker: the samples of a run of an import layout, as its reader gives them."""
    from mafmt.converters import import_layouts as il

    report = Report()
    root, name = shard.root, shard.layout
    if name in il.FOLDER_KINDS:
        return il.labelled_files(il.FOLDER_KINDS[name][0], root, shard.items, report), report
    if name == "modelarts-image-classification":
        return il.image_txt_samples(root, il.replay(shard.items, report), report), report
    if name == "modelarts-voc":
        return il.voc_pair_samples(root, il.replay(shard.items, report), on_error, report), report
    opts = dict(shard.options)
    return il.text_samples(shard.items, on_error, report, opts.get("sample_separator", "\t"),
                           opts.get("label_separator", ",")), report


def settle(report: Report) -> None:
    """The merged read report of a sharded source as a single pass leaves it: COCO's lost
    annotations (each run counts its own) last, with the one warning a single pass gives."""
    from mafmt.converters import coco

    lost = report.lost.pop(coco.ORPHANS_LOST, 0)
    if lost:
        report.warnings[coco.ORPHANS] = report.warnings.pop(coco.ORPHANS, 0) or 1
        report.lost[coco.ORPHANS_LOST] = lost


_CUTTERS: dict[str, Any] = {"coco": _coco_shards, "yolo": _yolo_shards, "modelarts-yolo": _yolo_shards}


def read_shard(shard: Any, on_error: str, read_options: dict[str, Any]) -> tuple[Iterable[Sample], Report]:
    """Worker: the samples of one shard, and the report their reading fills."""
    if isinstance(shard, _CocoRun):
        return _read_coco(shard, on_error)
    if isinstance(shard, _YoloRun):
        return _read_yolo(shard, on_error)
    if isinstance(shard, _LayoutRun):
        return _read_layout(shard, on_error)
    if isinstance(shard, Span):
        from mafmt import manifest

        stream = manifest.read_span(shard.uri, shard, encoding=read_options.get("encoding") or "utf-8",
                                    on_error=cast(Any, on_error))
        return stream, stream.report
    from mafmt.converters import _common, pascal_voc

    report = Report()

    def samples() -> Iterator[Sample]:
        yield from pascal_voc._iter_part(shard.root, shard.part, cast(Any, on_error), report, shard.files,
                                         shard.images)
        if shard.tail:  # (its ``listed``: its own files' and the images without a file)
            yield from pascal_voc._unannotated(shard.part, shard.images, _common.root_origin(shard.part.images),
                                               {_common.stem(p) for p in shard.files})

    return pascal_voc._shifted(samples(), -int(read_options.get("pixel_base", 0))), report


# =========================================================================== validation by the reader


#: formats whose validation reads the source with its reader (after their schema), cut here
READ_VALIDATED = frozenset({"coco", "yolo", "modelarts-yolo", "modelarts-imagenet", "modelarts-audio-classification",
                            "modelarts-image-classification", "modelarts-voc", "modelarts-text-classification",
                            "modelarts-text-classification-combine"})


def read_findings(eng: Any, path: str, fmt: Any, options: dict[str, Any]) -> list[Any] | None:
    """What ``fmt``'s reader reports while reading all of ``path`` (as
    :func:`mafmt.validation.iter_errors` gives it after the schema's findings), read by
    shards on the workers of ``eng``; None when this source is not cut or reads no sample
    (one pass then says it, in its words)."""
    from mafmt.errors import FormatError, StorageError

    try:
        source = source_shards(eng, path, fmt, options)
    except FormatError as exc:
        return [exc]
    except StorageError as exc:
        return [FormatError(exc.message, file=path)]
    if source is None:
        return None
    report = Report()
    read = 0
    for problems, error, count in eng.map(read_problems, source.shards, options, path, name="mafmt-validate"):
        if error is not None:
            return [error]  # as one pass: the error that stopped the reading, alone
        read += count
        for p in problems:
            report._keep(p)
    return report.problems if read else None


def read_problems(shard: Any, read_options: dict[str, Any], path: str) -> tuple[list[Any], Any, int]:
    """Worker: what reading ``shard`` reports (skipping bad records), or the error that
    stopped it, and the number of samples read."""
    from mafmt.errors import FormatError, StorageError

    count = 0
    try:
        samples, report = read_shard(shard, "skip", read_options)
        for _ in samples:
            count += 1
    except FormatError as exc:
        return [], exc, count
    except StorageError as exc:
        return [], FormatError(exc.message, file=path), count
    return list(report.problems), None, count
