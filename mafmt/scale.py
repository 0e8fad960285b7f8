"""Sharded ``convert``, ``validate``, ``qa`` and ``stats`` on Dask workers, merged into the
single-process result.

The client cuts the source into shards (:mod:`mafmt.shards`), the workers read their shard
themselves and send back **compact results** (findings, counters, and the output bytes or
id-free records of their shard; never model objects, whose pickling costs more than the
parsing saves), and the client merges them in input order. The result is the one a
single process gives, byte for byte:

``validate``
    manifest: byte ranges; a first round counts each range's lines (so every finding keeps
    its ``file:line``), a second validates them. Duplicate sample ids are the one rule that
    crosses lines: each shard also returns the ids it saw, and a shard holding an id first
    seen in an earlier shard is validated again with those ids given (rare; exact).
    VOC folders: runs of files. COCO, YOLO and the import layouts: the schema's findings on
    the client, the reader's by shards (:func:`mafmt.shards.read_findings`). CSV: one process.

``convert``
    sources (:mod:`mafmt.shards`): a manifest (byte ranges), a COCO file (decoded once,
    runs of images), VOC and YOLO folders and the ModelArts import layouts (file lists; on
    OBS cut per listing page as it arrives); CSV is read in one process. The
    writers: **COCO** (workers build each image's and annotation's record without its ids;
    the client numbers images, annotations and categories in input order exactly as the
    writer does, and assembles the one file inside the target's transaction) and
    **manifest** (workers return their lines, the client writes them in order into the
    transaction's staging file). Any other pair, and any case a shard cannot reproduce on
    its own (a manifest whose samples carry inline VOC documents, append mode, an encoding
    that is not ASCII-compatible), runs in one process; ``report.warnings`` says so.

``stats`` / ``qa``
    the same shards; counters are added and lists joined in input order. QA's checks across
    samples (duplicate ids and sources, label spellings) merge like validation's duplicate
    ids: a shard sharing an id or a source with an earlier one is checked again with them.

A failure is the one the single process would have met first: shards are merged in input
order and the first shard's error is raised, before anything is committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from mafmt import shards, storage
from mafmt.distributed import Engine, engine
from mafmt.errors import FormatError, LimitError, MafmtError, UsageError
from mafmt.model import Origin, Sample
from mafmt.report import Report
from mafmt.shards import SHARDS_PER_WORKER, Span, cuttable, read_shard, source_shards, split_list

__all__ = ["ONE_PROCESS", "convert", "qa", "stats", "validate"]

#: the warning a report carries when a job asked for workers ran in one process
ONE_PROCESS = "workers: run in one process"
_INT64 = 1 << 63


# =========================================================================== validate


def validate(path: str, format: str, *, remote: bool = False, read_options: dict[str, Any] | None = None,
             workers: str | int | None = 1, scheduler: Any = None) -> list[FormatError]:
    """Every problem of ``path`` (as :func:`mafmt.validation.iter_errors` gives them), found by
    shards on Dask workers."""
    from mafmt import validation

    encoding = (read_options or {}).get("encoding") or "utf-8"
    if format == "manifest" and cuttable(encoding) and not storage.is_dir(path):
        with engine(workers, scheduler) as eng:
            return _validate_manifest(eng, path, encoding, remote)
    if format in validation.VOC_FORMATS:
        files = list(validation._xml_files(path))
        with engine(workers, scheduler) as eng:
            runs = split_list(files, eng.workers * SHARDS_PER_WORKER)
            found = eng.map(_validate_files, runs, format, name="mafmt-validate")
        return [f for run in found for f in run]
    from mafmt import converters

    fmt = converters.get(format)  # (a UsageError for an unknown format, as in one process)
    if fmt.name in shards.READ_VALIDATED:
        return _validate_read(path, fmt, read_options or {}, workers, scheduler)
    return list(validation.iter_errors(path, format, remote=remote, read_options=read_options))


def _validate_read(path: str, fmt: Any, read_options: dict[str, Any], workers: str | int | None,
                   scheduler: Any) -> list[FormatError]:
    """:func:`mafmt.validation.iter_errors` of a format validated by its schema and its
    reader: the schema's findings on the client, the reader's by shards."""
    from mafmt.converters._common import accepted
    from mafmt.dataset_files import schema_errors
    from mafmt.storage.transaction import check_complete
    from mafmt.validation import _read_errors

    try:
        check_complete(path)
    except FormatError as exc:
        return [exc]
    found = list(schema_errors(path, fmt.name))
    if any(p.severity == "error" for p in found):
        return found  # the reader would only say the same again
    with engine(workers, scheduler) as eng:
        read = shards.read_findings(eng, path, fmt, accepted(fmt.read, read_options))
    return found + (read if read is not None else list(_read_errors(path, fmt, read_options)))


def _validate_manifest(eng: Engine, path: str, encoding: str, remote: bool) -> list[FormatError]:
    spans = shards.spans(eng, path)
    results = eng.map(_validate_span, spans, encoding, remote, name="mafmt-validate")
    out: list[FormatError] = []
    seen: dict[Any, int] = {}
    for span, (found, ids) in zip(spans, results, strict=True):
        earlier = {sid: seen[sid] for sid in ids if sid in seen}
        if earlier:  # an id of an earlier shard again: this shard's duplicate warnings depend on it
            found, _ = _validate_span(span, encoding, remote, earlier)
        for sid, line in ids.items():
            seen.setdefault(sid, line)
        out.extend(found)
        if found and isinstance(found[-1], LimitError) and "longer than the limit" in found[-1].reason:
            break  # a line over the limit ends the file, as in one process
    return out


def _validate_span(span: Span, encoding: str, remote: bool,
                   earlier: dict[Any, int] | None = None) -> tuple[list[FormatError], dict[Any, int]]:
    """Worker: the findings of a span's lines and the first line of each sample id in it."""
    from mafmt.validation import _manifest_errors

    ids: dict[Any, int] = dict(earlier or {})
    found = list(_manifest_errors(span.uri, encoding, remote=remote, span=span, ids=ids))
    if earlier:
        ids = {k: v for k, v in ids.items() if k not in earlier}
    return found, ids


def _validate_files(files: list[str], format: str) -> list[FormatError]:
    """Worker: the findings of a run of VOC files."""
    from mafmt.validation import iter_errors

    return [f for path in files for f in iter_errors(path, format)]


# =========================================================================== convert: what a worker returns


@dataclass(slots=True)
class _Part:
    """What a worker sends back for its shard: the samples read, both reports, the writer's
    compact output for the shard, and the error that stopped it (raised by the client when
    it reaches this shard, as one process would have)."""

    count: int = 0
    read_report: Report = field(default_factory=Report)
    report: Report = field(default_factory=Report)
    records: list[Any] = field(default_factory=list)
    data: bytes = b""
    error: BaseException | None = None
    one_process: str | None = None


class _OneProcess(Exception):
    """A shard cannot be written on its own: the job runs in one process."""


def _convert_shard(shard: Any, job: dict[str, Any]) -> _Part:
    """Worker: read one shard and build the writer's part of it."""
    part = _Part()
    counted = _Counted(())
    try:
        samples, part.read_report = read_shard(shard, job["on_error"], job["read_options"])
        counted = _Counted(samples)
        if job["writer"] == "coco":
            _coco_records(counted, job, part)
        else:
            _manifest_lines(counted, job, part)
    except _OneProcess as exc:
        part.one_process = str(exc)
    except (MafmtError, OSError) as exc:
        part.error = exc
    part.count = counted.count
    return part


def _take(report: Report, part: _Part) -> None:
    """Add a shard's writer report to ``report`` (its problems all kept, as the writers keep them)."""
    problems, part.report.problems = part.report.problems, []
    report.merge(part.report)
    report.problems.extend(problems)


class _Counted:
    __slots__ = ("_it", "count")

    def __init__(self, it: Iterable[Sample]) -> None:
        self._it = iter(it)
        self.count = 0

    def __iter__(self) -> Iterator[Sample]:
        for sample in self._it:
            self.count += 1
            yield sample


# --------------------------------------------------------------------------- COCO


def _coco_records(samples: Iterable[Sample], job: dict[str, Any], part: _Part) -> None:
    """The COCO writer's loop (:func:`mafmt.converters.coco.write`) up to the ids: for each
    image its record and the bytes of its annotations after ``id, image_id, category_id``."""
    from mafmt.converters import coco
    from mafmt.converters._sizes import SizeResolver
    from mafmt.model import Classification

    opts = job["write_options"]
    report = part.report
    sizes = SizeResolver(opts.get("images"), opts.get("size_table"))
    circle_vertices = opts.get("circle_vertices", 32)
    dumps = coco._dumps
    for sample in samples:
        sized = coco.sized_objects(sample, sizes, report)  # the per-sample part of coco.write, shared
        if sized is None:
            continue
        width, height, kept = sized
        anns: list[tuple[Any, str, bytes | None]] = []
        for obj in kept:
            ann = coco._annotation(obj, 0, circle_vertices, report)
            wanted = ann.pop("id")
            del ann["image_id"], ann["category_id"]
            anns.append((wanted, cast(str, obj.name), dumps(ann)))
        for label in (a.name for a in sample.annotations if isinstance(a, Classification) and a.name):
            anns.append((None, label, None))
        origin = sample.origin.file if sample.origin is not None else None
        part.records.append((sample.source, origin, sample.id, width, height, sample.usage,
                             dict(sample.extra) if sample.extra else None, anns))
        report.written += 1


class _Ref:
    """What the COCO writer's name and id choices read of a sample."""

    __slots__ = ("id", "origin", "source")

    def __init__(self, source: str, origin: str | None, sid: Any) -> None:
        self.source = source
        self.origin = Origin(origin) if origin is not None else None
        self.id = sid


def _write_coco(dst: str, parts: list[_Part], job: dict[str, Any], report: Report, meta: Any,
                check: Any) -> None:
    from mafmt.converters import _common, coco

    opts = job["write_options"]
    names = coco._Images(opts.get("image_root"), opts.get("file_names", "keep"), report)
    ann_ids = coco._AnnotationIds()

    holder = SimpleNamespace(meta=meta)  # what coco._start reads of a stream
    dumps = coco._dumps
    with _common.output(dst, report, folder=False, overwrite=job["overwrite"], check=check) as tx:
        staged = tx.path()
        with open(staged, "wb") as out:
            cats = coco._start(out, cast(Any, holder), opts.get("categories"), report)
            first_image = True
            ann_chunks: list[bytes] = []
            for part in parts:
                _take(report, part)
                for source, origin, sid, width, height, usage, extra, anns in part.records:
                    image_id, img = names.image(cast(Sample, _Ref(source, origin, sid)), width, height, usage, extra)
                    if img is not None:
                        out.write(b"" if first_image else b",")
                        out.write(dumps(img))
                        first_image = False
                    for wanted, label, rest in anns:
                        if rest is None:
                            ann_chunks.append(dumps({"id": ann_ids.take(None), "image_id": image_id,
                                                     "category_id": cats.id_of(label)}))
                            continue
                        cid = cats.id_of(label)
                        aid = ann_ids.take(wanted)
                        if not (-_INT64 <= aid < _INT64 and -_INT64 <= image_id < _INT64):
                            raise _OneProcess("an id beyond 64 bits")
                        ann_chunks.append(b'{"id":%d,"image_id":%d,"category_id":%d,' % (aid, image_id, cid)
                                          + rest[1:])
                if part.error is not None:  # after the records before it, as one process meets it
                    raise part.error
            out.write(b'],"annotations":[')
            out.write(b",".join(ann_chunks))
            out.write(b'],"categories":' + dumps(cats.records()) + b"}")
        if opts.get("indent") is not None:
            coco._reindent(staged, opts["indent"])


# --------------------------------------------------------------------------- manifest


def _manifest_lines(samples: Iterable[Sample], job: dict[str, Any], part: _Part) -> None:
    """The manifest writer's lines (:func:`mafmt.manifest.write`) of a shard, as bytes."""
    from mafmt import manifest

    opts = job["write_options"]
    folder = storage.parent(job["dst"])
    rebase = manifest._Rebaser(folder) if opts.get("locs", "rebase") == "rebase" else None
    docs = _NoSideFolder()
    encode = manifest._encode
    chunks: list[bytes] = []
    for sample in samples:
        line = manifest._plain_line(sample)
        obj = (manifest._rebased(*line, rebase) if line is not None
               else manifest._prepare(sample, folder, cast(Any, docs), cast(Any, None), False, rebase, part.report))
        if obj is None:  # (only with a size lookup, which shards do not take: inline documents stay in one process)
            continue
        chunks.append(encode(obj))
        part.report.written += 1
    chunks.append(b"")
    part.data = b"\n".join(chunks) if len(chunks) > 1 else b""


class _NoSideFolder:
    def put(self, *args: Any) -> str:
        raise _OneProcess("samples with inline VOC documents (written to the side folder in one process)")


def _write_manifest(dst: str, parts: list[_Part], job: dict[str, Any], report: Report, check: Any) -> None:
    from mafmt.storage.transaction import Transaction

    tx = Transaction(dst, folder=False, overwrite=job["overwrite"],
                     check=(lambda: check(report)) if check is not None else None)
    with tx, open(tx.path(), "wb") as fh:
        for part in parts:
            _take(report, part)
            fh.write(part.data)
            if part.error is not None:
                raise part.error
    report.outputs.insert(0, dst)


# =========================================================================== convert


_WRITERS = {
    "coco": frozenset({"categories", "circle_vertices", "indent", "images", "size_table", "image_root",
                       "file_names"}),
    "manifest": frozenset({"locs"}),
}


def convert(src: str, dst: str, reader: Any, writer: Any, *, strict: bool, on_error: str, overwrite: bool,
            read_options: dict[str, Any], write_options: dict[str, Any], workers: str | int | None,
            scheduler: Any, one_process: Any) -> Report:
    """:func:`mafmt.converters.convert` with the source's shards read on Dask workers.

    ``one_process()`` is the single-process conversion, used for what is not sharded.
    """
    from mafmt.converters import check_written, fold_read_report

    unknown = set(write_options) - _WRITERS.get(writer.name, frozenset())
    if writer.name not in _WRITERS or unknown:
        return _alone(one_process(), f"{reader.name} -> {writer.name}"
                      + (f" with {', '.join(sorted(unknown))}" if unknown and writer.name in _WRITERS else ""))
    _check_coco_options(writer.name, write_options)
    with engine(workers, scheduler) as eng:
        source = source_shards(eng, src, reader, read_options)
        if source is None:
            return _alone(one_process(), f"{reader.name} source")
        job = {"writer": writer.name, "dst": dst, "on_error": on_error, "overwrite": overwrite,
               "read_options": read_options, "write_options": write_options}
        parts: list[_Part] = eng.map(_convert_shard, source.shards, job, name="mafmt-convert")
    why = next((p.one_process for p in parts if p.one_process), None)
    if why is not None:
        return _alone(one_process(), why)
    count = sum(p.count for p in parts)
    if count == 0 and not any(p.error for p in parts):
        return _alone(one_process(), "an empty source")
    read_report = Report()
    for part in parts:
        read_report.merge(part.read_report)
    shards.settle(read_report)
    read_report.outputs.clear()

    def check(report: Report) -> None:
        check_written(report, read_report, count, src=src, dst=dst, writer=writer.name, on_error=on_error,
                      strict=strict)

    report = Report()
    try:
        if writer.name == "coco":
            _write_coco(dst, parts, job, report, source.meta, check)
        else:
            _write_manifest(dst, parts, job, report, check)
    except _OneProcess as exc:
        return _alone(one_process(), str(exc))
    report.read = count
    report.target, report.format = dst, writer.name
    fold_read_report(report, read_report)
    return report


def _check_coco_options(writer: str, options: dict[str, Any]) -> None:
    if writer != "coco":
        return
    if options.get("circle_vertices", 32) < 3:
        raise UsageError("circle_vertices must be at least 3")
    if options.get("file_names", "keep") not in ("keep", "basename"):
        raise UsageError(f"file_names must be keep or basename, not {options.get('file_names')!r}")


def _alone(report: Report, why: str) -> Report:
    report.warnings[f"{ONE_PROCESS} ({why} is not sharded)"] += 1
    return report



# =========================================================================== stats


def stats(path: str, format: str, *, read_options: dict[str, Any], workers: str | int | None, scheduler: Any,
          one_process: Any) -> Any:
    """:func:`mafmt.stats` over the source's shards: each worker counts its shard, the client
    adds the counters and joins the distributions in input order."""
    from mafmt import converters
    from mafmt.dataset_stats import Stats

    reader = converters.get(format)
    with engine(workers, scheduler) as eng:
        source = source_shards(eng, path, reader, read_options)
        if source is None:
            return one_process()
        parts = eng.map(_stats_shard, source.shards, format, read_options, name="mafmt-stats")
    for _, _, error in parts:
        if error is not None:
            raise error
    if not any(s.samples for s, _, _ in parts):
        return one_process()
    total = Stats(format=format)
    read_report = Report()
    for s, read_problems, _ in parts:
        total.samples += s.samples
        total.annotations += s.annotations
        total.objects += s.objects
        for mine, theirs in ((total.by_type, s.by_type), (total.labels, s.labels), (total.shapes, s.shapes),
                             (total.usage, s.usage)):
            mine.update(theirs)
        total.objects_per_image.extend(s.objects_per_image)
        total.boxes.extend(s.boxes)
        total.problems.extend(s.problems)
        for p in read_problems:
            read_report._keep(p)
    total.problems[:0] = read_report.problems
    return total


def _stats_shard(shard: Any, format: str, read_options: dict[str, Any]) -> tuple[Any, list[FormatError],
                                                                                 BaseException | None]:
    """Worker: the statistics of one shard (counters and distributions, no samples)."""
    from mafmt.dataset_stats import collect

    try:
        samples, read_report = read_shard(shard, "skip", read_options)
        s = collect((sample for sample in samples), format)  # (the read problems go first, below)
    except MafmtError as exc:
        from mafmt.dataset_stats import Stats

        return Stats(format=format), [], exc
    return s, list(read_report.problems), None


# =========================================================================== qa


def qa(path: str, format: str, *, images: str | None, labels: Any, remote: bool, read_options: dict[str, Any],
       workers: str | int | None, scheduler: Any, one_process: Any) -> Any:
    """:func:`mafmt.qa` over the source's shards. The checks that compare samples (duplicate
    ids and sources, label spellings) are merged exactly: each shard returns its ids, sources
    and label spellings; a shard that shares an id or a source with an earlier one is checked
    again with those given and its true first sample index (rare); the others have their
    sample indices shifted."""
    from mafmt import converters
    from mafmt.quality import QaReport, spelling_issues

    reader = converters.get(format)
    opts = {"images": images, "labels": list(labels) if labels is not None else None, "remote": remote}
    with engine(workers, scheduler) as eng:
        source = source_shards(eng, path, reader, read_options)
        if source is None:
            return one_process()
        parts = eng.map(_qa_shard, source.shards, opts, read_options, name="mafmt-qa")
    for part in parts:
        if part[-1] is not None:
            raise part[-1]
    if not any(part[0].samples for part in parts):
        return one_process()  # (an empty source: its reader's own words, in one pass)
    total = QaReport()
    read_report = Report()
    ids: dict[Any, int] = {}
    sources: dict[str, int] = {}
    spellings: dict[str, dict[str, Any]] = {}
    start = 0
    for shard, (report, shard_ids, shard_sources, shard_spellings, read_problems, _) in zip(source.shards, parts,
                                                                                            strict=True):
        earlier_ids = {k: ids[k] for k in shard_ids if k in ids}
        earlier_sources = {k: sources[k] for k in shard_sources if k in sources}
        if start and (earlier_ids or earlier_sources or any(i.check in ("QA107", "QA108") for i in report.issues)):
            report, shard_ids, shard_sources, shard_spellings, _, _ = _qa_shard(
                shard, opts, read_options, start, earlier_ids, earlier_sources)
        elif start:
            for issue in [*report.issues, *(i for v in shard_spellings.values() for i in v.values())]:
                if issue.sample is not None:
                    issue.sample += start
            shard_ids = {k: v + start for k, v in shard_ids.items()}
            shard_sources = {k: v + start for k, v in shard_sources.items()}
        for k, v in shard_ids.items():
            ids.setdefault(k, v)
        for k, v in shard_sources.items():
            sources.setdefault(k, v)
        for norm, variants in shard_spellings.items():
            mine = spellings.setdefault(norm, {})
            for label, issue in variants.items():
                mine.setdefault(label, issue)
        total.samples += report.samples
        total.issues.extend(report.issues)
        for p in read_problems:
            read_report._keep(p)
        start += report.samples
    total.issues.extend(spelling_issues(spellings))
    total.problems.extend(read_report.problems)
    return total


def _qa_shard(shard: Any, opts: dict[str, Any], read_options: dict[str, Any], start: int = 0,
              ids: dict[Any, int] | None = None, sources: dict[str, int] | None = None) -> tuple[Any, ...]:
    """Worker: the QA report of one shard (its sample indices from ``start``), the first sample
    of each id and source in it, its label spellings, and what its reading could not read."""
    from mafmt.quality import QaReport, check_samples

    given_ids, given_sources = dict(ids or {}), dict(sources or {})
    seen_ids, seen_sources = dict(given_ids), dict(given_sources)
    spellings: dict[str, dict[str, Any]] = {}
    try:
        samples, read_report = read_shard(shard, "skip", read_options)
        report = check_samples((s for s in samples), images=opts["images"], labels=opts["labels"],
                               remote=opts["remote"], start=start, ids=seen_ids, sources=seen_sources,
                               spellings=spellings)
    except MafmtError as exc:
        return QaReport(), {}, {}, {}, [], exc
    own_ids = {k: v for k, v in seen_ids.items() if k not in given_ids}
    own_sources = {k: v for k, v in seen_sources.items() if k not in given_sources}
    return report, own_ids, own_sources, spellings, list(read_report.problems), None
