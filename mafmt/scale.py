"""Sharded ``convert``, ``validate``, ``qa`` and ``stats`` on Dask workers, merged into the
single-process result.

The client cuts the source into shards (:mod:`mafmt.shards`), the workers read their shard
themselves and send back **compact results** (findings, counters, and the output bytes or
id-free records of their shard; never model objects, whose pickling costs more than the
parsing saves), and the client merges them in input order, each as it arrives while the
later ones still run (:meth:`mafmt.distributed.Engine.stream`). The result is the one a
single process gives, byte for byte:

``validate``
    manifest: byte ranges; the first is validated at once while the workers count the
    lines of the others (so every finding keeps its ``file:line``), then the rest are.
    Duplicate sample ids are the one rule that crosses lines: each shard also returns the
    ids it saw, and a shard holding an id first seen in an earlier shard is validated again
    with those ids given (rare; exact).
    VOC folders: runs of files. COCO, YOLO and the import layouts: the schema's findings on
    the client, the reader's by shards (:func:`mafmt.shards.read_findings`). CSV: one process.

``convert``
    sources (:mod:`mafmt.shards`): a manifest (byte ranges), a COCO file (decoded once,
    runs of images), VOC and YOLO folders and the ModelArts import layouts (file lists; on
    OBS cut per listing page as it arrives); CSV is read in one process. Every writer:

    * **COCO**: workers build each image's and annotation's record without its ids; the
      client numbers images, annotations and categories in input order exactly as the writer
      does, and assembles the one file inside the target's transaction;
    * **manifest**: workers return their lines, or, for a local target whose folder they see,
      write them beside it (named as this process's staging, so a killed job's parts are
      recognised as leftovers); the client puts them in order into the transaction's staging file.
      Inline VOC documents (COCO, YOLO, VOC and the import layouts as sources) go to the side
      folder beside the manifest, as in one process: the client begins its transaction in the
      manifest's group, the workers write their documents into its staging (or send them back,
      as the folder writers below do) and return the names they took; a name two shards took
      (one process renames the second ``_2``) makes the job run in one process; the manifest and
      the side folder are committed together;
    * **CSV**: workers return their rows as bytes under their own columns; a shard whose task
      (``auto``) or columns are not the whole table's is written again with them; the client
      writes the header and the parts in order;
    * **folder writers** (standard VOC, YOLO and ModelArts YOLO, the import layouts): the
      client opens the target's transaction; each worker runs the writer's
      :class:`~mafmt.converters.pascal_voc.Writer`-like object over its shard and writes its
      samples' files straight into the staging folder (a local folder; for an object-storage
      target the local folder the commit uploads) when it sees it (a probe file there holds
      the job's token), else into a folder of its own whose files it sends back. It returns
      what the writer carries across samples (file names taken, split lists, class tables,
      texts); the client merges those in input order, renumbers YOLO class indices a shard met
      in another order, writes the dataset's files (class lists, ``data.yaml``, labelmap,
      ``ImageSets`` lists, ...) and commits. A file name or file that an earlier shard also
      took (one process would rename it ``_2``) makes the job run in one process.

    Any case a shard cannot reproduce on its own runs in one process, and ``report.warnings``
    says so: repeated file names across shards (the folder writers' files, the manifest's side
    files), YOLO index labels, VOC's flat layout, a CSV cell that cannot be written (one process
    names the first), append mode, the manifest writer's ``voc_dir``, ``write_voc`` or
    ``encoding``, a side folder whose transaction cannot begin (an existing one without
    ``overwrite``: one process names it at its first document), an encoding that is not
    ASCII-compatible.

``stats`` / ``qa``
    the same shards; counters are added and lists joined in input order. QA's checks across
    samples (duplicate ids and sources, label spellings) merge like validation's duplicate
    ids: a shard sharing an id or a source with an earlier one is checked again with them.

A failure is the one the single process would have met first: shards are merged in input
order and the first shard's error is raised, before anything is committed.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import secrets
import shutil
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any, cast

from mafmt import shards, storage
from mafmt.distributed import JOB_MODULES, Engine, engine
from mafmt.errors import FormatError, LimitError, MafmtError, StorageError
from mafmt.model import Origin, Sample
from mafmt.report import Report
from mafmt.shards import Span, cuttable, read_shard, source_shards, split_list
from mafmt.storage.transaction import Group, Transaction

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
            runs = split_list(files, workers=eng.workers)
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
    """The findings of a sharded manifest, as one process gives them. Its byte ranges are not
    counted first: each worker numbers its lines from 1, and the client shifts the numbers by
    the lines of the ranges before (a range whose findings name an earlier line, or whose ids
    came before, is checked again here with its real numbers)."""
    from mafmt.validation import FIRST_ON_LINE

    eng.prepare(*JOB_MODULES["validate"])
    spans = shards.manifest_spans(path, workers=eng.workers)
    out: list[FormatError] = []
    seen: dict[Any, int] = {}
    first = 1
    with eng.stream(_validate_span, spans, encoding, remote, name="mafmt-validate") as results:
        for span, (found, ids, lines) in zip(spans, results, strict=True):
            shift = first - 1
            earlier = {sid: seen[sid] for sid in ids if sid in seen}
            if earlier or any(FIRST_ON_LINE in f.reason for f in found):
                found, ids, _ = _validate_span(replace(span, first_line=first), encoding, remote, earlier)
                shift = 0
            if shift:  # (a finding in a VOC file keeps its XML line)
                found = [type(f)(f.reason, file=f.file, line=f.line + shift, path=f.path, severity=f.severity)
                         if f.line is not None and f.file == path else f for f in found]
            for sid, line in ids.items():
                seen.setdefault(sid, line + shift)
            out.extend(found)
            if found and isinstance(found[-1], LimitError) and "longer than the limit" in found[-1].reason:
                break  # a line over the limit ends the file, as in one process
            first += lines
    return out


def _validate_span(span: Span, encoding: str, remote: bool,
                   earlier: dict[Any, int] | None = None) -> tuple[list[FormatError], dict[Any, int], int]:
    """Worker: the findings of a span's lines, the first line of each sample id in it, and its
    number of lines (numbered from ``span.first_line``, or from 1 when that is 0)."""
    from mafmt.validation import _manifest_errors

    ids: dict[Any, int] = dict(earlier or {})
    found: list[FormatError] = []
    check = _manifest_errors(span.uri, encoding, remote=remote, span=span, ids=ids)
    try:
        while True:
            found.append(next(check))
    except StopIteration as stop:
        after = stop.value
    if earlier:
        ids = {k: v for k, v in ids.items() if k not in earlier}
    return found, ids, after - (span.first_line or 1)


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
    state: dict[str, Any] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    blobs: list[tuple[str, bytes]] = field(default_factory=list)
    coco: _CocoAnns | None = None


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
        elif job["writer"] == "manifest":
            _manifest_lines(counted, job, part)
        elif job["writer"] == "csv":
            _csv_rows(counted, job, part)
        else:
            _folder_part(counted, job, part)
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


@dataclass(slots=True)
class _CocoAnns:
    """A shard's COCO annotations as one bytes template: each annotation's record with
    ``%d`` holes for its ``id``, ``image_id`` and ``category_id`` (filled by the client in one
    ``%`` call), the shard's labels in their first-seen order, and for each annotation the
    index of its image in the shard, of its label, and the id the source gave it (None: none
    gave one)."""

    template: bytes = b""
    labels: list[str] = field(default_factory=list)
    image_of: array = field(default_factory=lambda: array("q"))
    label_of: array = field(default_factory=lambda: array("q"))
    wanted: list[Any] | None = None


_HOLES = b'{"id":%d,"image_id":%d,"category_id":%d'
_HOLES_COMMA = _HOLES + b","


def _coco_records(samples: Iterable[Sample], job: dict[str, Any], part: _Part) -> None:
    """The COCO writer's loop (:func:`mafmt.converters.coco.write`) up to the ids: for each
    image its record, and its annotations into a :class:`_CocoAnns`."""
    from mafmt.converters import coco
    from mafmt.converters._sizes import SizeResolver
    from mafmt.model import Classification

    opts = job["write_options"]
    report = part.report
    sizes = SizeResolver(opts.get("images"), opts.get("size_table"))
    circle_vertices = opts.get("circle_vertices", 32)
    dumps = coco._dumps
    pieces: list[bytes] = []
    label_index: dict[str, int] = {}
    image_of, label_of, wanted = array("q"), array("q"), []
    for sample in samples:
        sized = coco.sized_objects(sample, sizes, report)  # the per-sample part of coco.write, shared
        if sized is None:
            continue
        width, height, kept = sized
        index = len(part.records)
        for obj in kept:
            ann = coco._annotation(obj, 0, circle_vertices, report)
            wanted.append(ann.pop("id"))
            del ann["image_id"], ann["category_id"]
            rest = dumps(ann)
            if b"%" in rest:
                rest = rest.replace(b"%", b"%%")
            pieces.append(_HOLES_COMMA + memoryview(rest)[1:])  # (a copy: orjson's own bytes hold 4 KB)
            image_of.append(index)
            label_of.append(label_index.setdefault(cast(str, obj.name), len(label_index)))
        for label in (a.name for a in sample.annotations if isinstance(a, Classification) and a.name):
            wanted.append(None)
            pieces.append(_HOLES + b"}")
            image_of.append(index)
            label_of.append(label_index.setdefault(label, len(label_index)))
        origin = sample.origin.file if sample.origin is not None else None
        part.records.append((sample.source, origin, sample.id, width, height, sample.usage,
                             dict(sample.extra) if sample.extra else None))
        report.written += 1
    part.coco = _CocoAnns(b",".join(pieces), list(label_index), image_of, label_of,
                          wanted if any(w is not None for w in wanted) else None)


class _Ref:
    """What the COCO writer's name and id choices read of a sample."""

    __slots__ = ("id", "origin", "source")

    def __init__(self, source: str, origin: str | None, sid: Any) -> None:
        self.source = source
        self.origin = Origin(origin) if origin is not None else None
        self.id = sid


def _write_coco(dst: str, parts: Iterable[_Part], job: dict[str, Any], report: Report, meta: Any,
                check: Any) -> None:
    from mafmt.converters import _common, coco

    opts = job["write_options"]
    names = coco._Images(opts.get("image_root"), opts.get("file_names", "keep"), report)
    ann_ids = coco._AnnotationIds()

    holder = SimpleNamespace(meta=meta)  # what coco._start reads of a stream
    dumps = coco._dumps
    with _common.output(dst, report, folder=False, overwrite=job["overwrite"], check=check) as tx:
        staged = tx.path()
        with open(staged, "wb") as out, tempfile.TemporaryFile(dir=os.path.dirname(staged)) as anns:
            cats = coco._start(out, cast(Any, holder), opts.get("categories"), report)
            first_image = True
            first_ann = b""
            for part in parts:
                _take(report, part)
                image_ids: list[int] = []
                images: list[bytes] = []
                for source, origin, sid, width, height, usage, extra in part.records:
                    image_id, img = names.image(cast(Sample, _Ref(source, origin, sid)), width, height, usage, extra)
                    image_ids.append(image_id)
                    if img is not None:
                        images.append(dumps(img))
                if images:
                    out.write((b"" if first_image else b",") + b",".join(images))
                    first_image = False
                if part.coco is not None and part.coco.template:
                    anns.write(first_ann + _fill(part.coco, image_ids, cats, ann_ids))
                    first_ann = b","  # (each shard's annotations go to a file as it arrives: the client holds one shard)
                if part.error is not None:  # after the records before it, as one process meets it
                    raise part.error
            out.write(b'],"annotations":[')
            anns.seek(0)
            shutil.copyfileobj(anns, out, 1 << 20)
            out.write(b'],"categories":' + dumps(cats.records()) + b"}")
        if opts.get("indent") is not None:
            coco._reindent(staged, opts["indent"])


def _fill(c: _CocoAnns, image_ids: list[int], cats: Any, ann_ids: Any) -> bytes:
    """A shard's annotations with their ids, as one process numbers them."""
    cids = [cats.id_of(label) for label in c.labels]  # (first-seen order: new categories as one process adds them)
    aids = ann_ids.take_run(len(c.image_of)) if c.wanted is None else [ann_ids.take(w) for w in c.wanted]
    if not (-_INT64 <= min(aids) and max(aids) < _INT64 and -_INT64 <= min(image_ids) and max(image_ids) < _INT64):
        raise _OneProcess("an id beyond 64 bits")
    return c.template % tuple(itertools.chain.from_iterable(
        zip(aids, map(image_ids.__getitem__, c.image_of), map(cids.__getitem__, c.label_of))))


# --------------------------------------------------------------------------- manifest


def _manifest_lines(samples: Iterable[Sample], job: dict[str, Any], part: _Part) -> None:
    """The manifest writer's lines (:func:`mafmt.manifest.write`) of a shard, written in blocks
    as they come into a file beside the target (a worker that sees its folder: nothing goes through
    Dask) or into bytes sent back; its inline VOC documents go into the side folder's staging
    (``job["side"]``), else the job runs in one process."""
    from mafmt import manifest, manifest_plain
    from mafmt.converters._sizes import SizeResolver, sample_size

    opts = job["write_options"]
    folder = storage.parent(job["dst"])
    rebase = manifest._Rebaser(folder) if opts.get("locs", "rebase") == "rebase" else None
    docs: Any = _shard_side(job["side"]) if job.get("side") else _NoSideFolder()
    resolver = SizeResolver(opts.get("images"), opts.get("size_table"))
    encode = manifest._encode
    spill = job.get("spill")
    path = None
    if spill is not None and _staging_seen(spill):  # beside the target: not sent through Dask
        path = os.path.join(spill["folder"], f"{spill['prefix']}{secrets.token_hex(6)}.tmp")
    out: Any
    with open(path, "wb", buffering=1 << 20) if path is not None else io.BytesIO() as out:
        lines = manifest_plain.Lines(out.write, encode)
        try:
            for sample in samples:
                line = manifest._plain_line(sample)
                if line is not None:
                    lines.plain(line[0], line[5], line[2], rebase, line[6])
                else:
                    obj = manifest._prepare(sample, folder, docs, cast(Any, None), False, rebase, part.report,
                                            lambda s: sample_size(s, resolver))
                    if obj is None:  # (a document without an image size)
                        continue
                    lines.raw(encode(obj))
                part.report.written += 1
            lines.flush()
        finally:
            if job.get("side"):
                _side_part(docs, job["side"], part)
            if path is not None:
                part.records = [path]
                if not _staging_seen(cast(dict, spill)):  # the job was undone meanwhile (it removes the probe first)
                    with contextlib.suppress(OSError):
                        os.unlink(path)
            else:
                part.data = out.getvalue()


class _NoSideFolder:
    def put(self, *args: Any) -> str:
        raise _OneProcess("samples with inline VOC documents (written to the side folder in one process)")


def _shard_side(side: dict[str, Any]) -> Any:
    """The manifest writer's side folder (:class:`mafmt.manifest._SideFolder`) on a worker: its
    files go into the client's staging when this worker sees it, else into a folder of its own."""
    from mafmt import manifest

    seen = _staging_seen(side)
    docs = manifest._SideFolder(side["target"], append=False, overwrite=False)
    root = side["staging"] if seen else tempfile.mkdtemp(prefix=".mafmt-shard-")
    docs.tx = _ShardTx(side["target"], root, side["probe"] if seen else None)
    return docs


def _side_part(docs: Any, side: dict[str, Any], part: _Part) -> None:
    """What a shard's side folder sends back: the names it took (as VocNamer keeps them), the
    files' final paths, and (a worker that did not see the staging) the files themselves."""
    tx = docs.tx
    part.state = {"names": set(docs.namer.used), "written": list(docs.written)}
    if tx.probe is None:
        part.blobs = [(rel, _read(os.path.join(tx.staging, rel))) for rel in dict.fromkeys(tx.made)
                      if os.path.isfile(os.path.join(tx.staging, rel))]
        shutil.rmtree(tx.staging, ignore_errors=True)


def _write_manifest(eng: Engine, shards_: Sequence[Any], job: dict[str, Any], report: Report, read_report: Report,
                    check: Any) -> None:
    """The manifest and its side folder of VOC files as one group of transactions, as
    :func:`mafmt.manifest.write` commits them: the workers write their documents into the side
    folder's staging (or send them back), the client puts their lines in order into the
    manifest's staging file (those a worker wrote beside the target are copied from there).

    Raises:
        _OneProcess: a side file name that two shards took (one process renames the second ``_2``).
    """
    dst = job["dst"]
    file_tx = Transaction(dst, folder=False, overwrite=job["overwrite"],
                          check=(lambda: check(report)) if check is not None else None)
    written: list[str] = []
    with Group(file_tx) as group:
        side = _open_side(group, job) if job.get("side_folder") else None
        probe = side["probe"] if side is not None else None
        try:
            with eng.stream(_convert_shard, shards_, {**job, "side": side}, name="mafmt-convert") as parts:
                _merge_manifest(_arrived(parts, read_report), file_tx, group.members[1] if side is not None else None,
                                report, written)
        finally:
            if probe is not None:
                with contextlib.suppress(OSError):
                    os.unlink(probe)
        if side is not None and not written:  # no document: no side folder, as in one process
            group.members[1].abort()
    report.outputs.insert(0, dst)
    report.outputs.extend(written)


def _open_side(group: Group, job: dict[str, Any]) -> dict[str, Any] | None:
    """Begin the side folder's transaction in ``group`` and put a probe file holding the job's
    token in its staging; what the workers are given of it. None when it cannot begin (one
    process meets that error at its first document: the shards then fall back)."""
    from mafmt import manifest

    dst = job["dst"]
    target = storage.join(storage.parent(dst), "Annotations", manifest._stem(dst))
    tx = Transaction(target, folder=True, overwrite=job["overwrite"])
    try:
        tx.begin()
        probe = os.path.join(tx.staging, f".mafmt-probe-{secrets.token_hex(8)}")
        token = secrets.token_hex(16)
        with open(probe, "w", encoding="ascii") as fh:
            fh.write(token)
    except (MafmtError, OSError):
        tx.abort()
        return None
    group.add(tx)
    return {"target": target, "staging": tx.staging, "probe": probe, "token": token}


def _merge_manifest(parts: Iterable[_Part], file_tx: Transaction, side_tx: Transaction | None, report: Report,
                    written: list[str]) -> None:
    """The shards' lines in order into the manifest's staging file, their side files (sent
    back) into the side folder's; the final paths of the side files are added to ``written``."""
    names: set[str] = set()
    with open(file_tx.path(), "wb") as fh:
        for part in parts:
            _take(report, part)
            if part.state:
                if not names.isdisjoint(part.state["names"]):
                    raise _OneProcess("VOC file names that repeat across shards")
                names |= part.state["names"]
                for rel, data in part.blobs:
                    cast(Transaction, side_tx).write_bytes(rel, data)
                written.extend(part.state["written"])
            if part.records:
                with open(part.records[0], "rb") as spilled:
                    shutil.copyfileobj(spilled, fh, 1 << 22)
                os.unlink(part.records[0])
            fh.write(part.data)
            if part.error is not None:
                raise part.error


@contextlib.contextmanager
def _spill(dst: str) -> Iterator[dict[str, Any] | None]:
    """Where workers that see the target's folder write their shard of a manifest (local
    targets): files named as a transaction's staging of this process on the
    target (so a killed job's are recognised and removed, as one process's), all removed at the end."""
    if storage.scheme_of(dst):
        yield None
        return
    folder, name = os.path.split(os.path.abspath(dst))
    if not os.path.isdir(folder):
        yield None
        return
    token = secrets.token_hex(8)
    prefix = f".{name}.mafmt-{os.getpid()}-{token}"
    probe = os.path.join(folder, prefix + ".tmp")
    try:
        with open(probe, "w", encoding="ascii") as fh:
            fh.write(token)
    except OSError:
        yield None
        return
    try:
        yield {"folder": folder, "prefix": prefix, "probe": probe, "token": token}
    finally:
        # the probe first: a shard still running that finds it gone removes its own file, and
        # one that found it there wrote its file before the listing below
        with contextlib.suppress(OSError):
            os.unlink(probe)
        for entry in os.listdir(folder):
            if entry.startswith(prefix):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, entry))


# --------------------------------------------------------------------------- CSV


def _csv_rows(samples: Iterable[Sample], job: dict[str, Any], part: _Part) -> None:
    """The CSV writer's rows of a shard as bytes (:func:`mafmt.converters.csv_format.write`),
    under the shard's own columns, or the task and columns given (``job["csv"]``)."""
    from mafmt.converters import csv_format

    kept = list(samples)
    detects = csv_format.has_detection(kept)
    forced = job.get("csv")
    task = forced[0] if forced else job["write_options"].get("task", "auto")
    if task == "auto":
        task = "detect" if detects else "classify"
    rows, columns = csv_format.table(kept, task, part.report)
    if forced and forced[1] is not None:
        columns = forced[1]
    try:
        part.data = csv_format.encode(rows, columns, job["dst"], header=False)
    except FormatError as exc:  # (the error one process raises names the first such cell of the whole table)
        raise _OneProcess(f"a CSV cell that cannot be written ({exc.reason})") from None
    part.records = [task, columns, detects]


def _write_csv(eng: Engine, shards_: Sequence[Any], parts: list[_Part], job: dict[str, Any], report: Report,
               check: Any) -> None:
    """The header and the shards' rows in order, as the file; a shard whose task or columns are
    not the table's is written again with them (the columns are those of the whole table, in
    order of first use)."""
    from mafmt.converters import csv_format

    for part in parts:
        if part.error is not None:  # one process reads every sample before it writes a row
            raise part.error
    asked = job["write_options"].get("task", "auto")
    task = asked if asked != "auto" else ("detect" if any(p.records[2] for p in parts) else "classify")
    parts = _csv_again(eng, shards_, parts, job, task, None, lambda p: p.records[0] != task)
    columns = list(dict.fromkeys(c for p in parts for c in p.records[1]))
    parts = _csv_again(eng, shards_, parts, job, task, columns, lambda p: p.records[1] != columns)
    with _common_output(job["dst"], report, folder=False, overwrite=job["overwrite"], check=check) as tx, \
            open(tx.path(), "wb") as fh:
        fh.write(csv_format.encode([], columns, job["dst"]))
        for part in parts:
            _take(report, part)
            fh.write(part.data)


def _csv_again(eng: Engine, shards_: Sequence[Any], parts: list[_Part], job: dict[str, Any], task: str,
               columns: list[str] | None, wrong: Any) -> list[_Part]:
    """``parts`` with those ``wrong`` says are not the table's written again with ``task`` and ``columns``."""
    again = [i for i, p in enumerate(parts) if wrong(p)]
    if not again:
        return parts
    redone = eng.map(_convert_shard, [shards_[i] for i in again], {**job, "csv": (task, columns)},
                     name="mafmt-convert")
    parts = list(parts)
    for i, part in zip(again, redone, strict=True):
        if part.one_process or part.error is not None:
            raise _OneProcess(part.one_process or "a shard that failed when written again")
        parts[i] = part
    return parts


def _common_output(*args: Any, **kwargs: Any) -> Any:
    from mafmt.converters import _common

    return _common.output(*args, **kwargs)


# --------------------------------------------------------------------------- folder writers


def _writer_class(name: str, options: dict[str, Any], dst: str) -> Any:
    """The :class:`Writer`-like class of the folder writer ``name`` (see
    :class:`mafmt.converters.pascal_voc.Writer`), or None when its options ask for a layout
    that is not written that way (VOC's flat ModelArts files)."""
    from mafmt.converters import import_layouts as il
    from mafmt.converters import pascal_voc, yolo

    if name == "voc":
        layout = options.get("layout") or ("flat" if dst.lower().endswith(".xml") else "standard")
        return pascal_voc.Writer if layout == "standard" else None
    return {"yolo": yolo.Writer, "modelarts-yolo": yolo.Writer, "modelarts-imagenet": il.FolderWriter,
            "modelarts-audio-classification": il.FolderWriter, "modelarts-image-classification": il.ImageTxtWriter,
            "modelarts-voc": il.VocPairsWriter, "modelarts-text-classification": il.TextWriter,
            "modelarts-text-classification-combine": il.CombinedTextWriter}.get(name)


def _make_writer(job: dict[str, Any], report: Report) -> Any:
    """A new writer for ``job`` (its options checked), with the source's classes given."""
    name, options = job["writer"], dict(job["write_options"])
    cls = _writer_class(name, options, job["dst"])
    if name == "voc":
        options.pop("layout", None)
        w = cls(report, **options)
    elif name in ("yolo", "modelarts-yolo"):
        w = cls(report, **({**options, "layout": "darknet"} if name == "modelarts-yolo" else options))
    else:
        fmt = "modelarts-text-classification" if name.endswith("-combine") else name
        w = cls(report, fmt, **options)
    w.begin(job["meta"], Report())  # (the client's writer notes the classes in the report)
    return w


class _ShardTx(Transaction):
    """A writer's view of the client's folder transaction on a worker: files go into its staging
    (``root``), their final names are the target's; every file made is listed (``made``). With a
    ``probe``, nothing is written once that file is gone (the client ended the job)."""

    def __init__(self, target: str, root: str, probe: str | None = None) -> None:
        super().__init__(target, folder=True)
        self.staging, self._state, self.probe = root, "open", probe
        self.made: list[str] = []

    def path(self, rel: str = "") -> str:
        if self.probe is not None and not os.path.exists(self.probe):
            raise StorageError("the job was ended: not written", uri=self.final(rel))
        path = super().path(rel)
        self.made.append(os.path.relpath(path, self.staging).replace(os.sep, "/"))
        return path

    def _make_folder(self, folder: str) -> None:
        """The folders below the staging, one at a time: never the staging itself, which the
        client removes when it ends the job (a late worker then fails instead of making it
        again beside the target)."""
        below = os.path.relpath(folder, self.staging)
        at = self.staging
        for name in ([] if below == "." else below.split(os.sep)):
            at = os.path.join(at, name)
            with contextlib.suppress(FileExistsError):
                os.mkdir(at)


def _staging_seen(job: dict[str, Any]) -> bool:
    """Whether this worker sees the client's staging folder (the same machine, or a shared
    file system): its probe file holds the job's token."""
    probe = job.get("probe")
    try:
        with open(probe, "rb") as fh:  # type: ignore[arg-type]
            return fh.read() == job["token"].encode()
    except (OSError, TypeError):
        return False


def _folder_part(samples: Iterable[Sample], job: dict[str, Any], part: _Part) -> None:
    """Worker: a folder writer over a shard. Its files go into the client's staging when this
    worker sees it, else into a folder of its own and back as bytes; what the writer carries
    across samples (:meth:`part`) goes back too."""
    w = _make_writer(job, part.report)
    if not w.direct:
        try:
            for sample in samples:
                w.add(sample, None)
        finally:
            part.state = w.part()
        return
    seen = _staging_seen(job)
    root = job["staging"] if seen else tempfile.mkdtemp(prefix=".mafmt-shard-")
    tx = _ShardTx(job["dst"], root, job["probe"] if seen else None)
    try:
        for sample in samples:
            w.add(sample, tx)
    finally:
        part.state, part.paths = w.part(), tx.made
        if not seen:
            part.blobs = [(rel, _read(os.path.join(root, rel))) for rel in dict.fromkeys(tx.made)
                          if os.path.isfile(os.path.join(root, rel))]
            shutil.rmtree(root, ignore_errors=True)


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def _write_folder(eng: Engine, shards_: Sequence[Any], job: dict[str, Any], report: Report, read_report: Report,
                  check: Any) -> None:
    """A folder writer over the shards: the client opens the target's transaction, the workers
    write their samples' files into its staging, the client merges what the writers carry
    across samples (in input order), writes the dataset's files and commits.

    Raises:
        _OneProcess: the shards' output would differ from one process's (file names that repeat
            across shards, ...).
    """
    w = _make_writer(job, report)
    w.begin(job["meta"], report)
    tx = Transaction(job["dst"], folder=True, overwrite=job["overwrite"], check=check)
    if not w.direct:
        with eng.stream(_convert_shard, shards_, job, name="mafmt-convert") as parts:
            for part in _arrived(parts, read_report):
                _absorb(w, report, part, None, set())
        with tx:
            w.finish(tx)
        report.outputs.insert(0, job["dst"])
        return
    tx.begin()
    probe = os.path.join(tx.staging, f".mafmt-probe-{secrets.token_hex(8)}")
    try:
        token = secrets.token_hex(16)
        with open(probe, "w", encoding="ascii") as fh:
            fh.write(token)
        seen: set[str] = set()
        with eng.stream(_convert_shard, shards_, {**job, "staging": tx.staging, "probe": probe, "token": token},
                        name="mafmt-convert") as parts:
            for part in _arrived(parts, read_report):
                _absorb(w, report, part, tx, seen)
        os.unlink(probe)
        _appended_once(w, report)
        w.finish(tx)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(probe)
        tx.abort()
        raise
    tx.commit()
    report.outputs.insert(0, job["dst"])


def _absorb(w: Any, report: Report, part: _Part, tx: Transaction | None, seen: set[str]) -> None:
    """Merge one shard into the client's writer ``w``: what it carries across samples, its
    report, and (files it sent back) its files; its error is raised here, after the shards before.

    Raises:
        _OneProcess: a file or file name of an earlier shard again.
    """
    if part.error is not None and not part.state:  # (its writer could not even start)
        _take(report, part)
        raise part.error
    made = set(part.paths)
    if not seen.isdisjoint(made):
        raise _OneProcess("files that repeat across shards")
    seen |= made
    why = w.absorb(part.state)
    if why is not None:
        raise _OneProcess(why)
    renumber = getattr(w, "renumber", None)
    if renumber and tx is not None:
        from mafmt.converters.yolo import renumber_labels

        labels = set(part.state["labels"])
        blobs = dict(part.blobs)
        for rel in labels:
            if rel in blobs:
                blobs[rel] = renumber_labels(blobs[rel], renumber)
            else:
                path = tx.path(rel)
                data = renumber_labels(_read(path), renumber)
                with open(path, "wb") as fh:
                    fh.write(data)
        part.blobs = list(blobs.items())
    if tx is not None:
        for rel, data in part.blobs:
            tx.write_bytes(rel, data)
    _take(report, part)
    if part.error is not None:
        raise part.error


def _appended_once(w: Any, report: Report) -> None:
    """YOLO warns once for each label the source's classes lack: once in all, not once a shard."""
    from mafmt.converters import yolo

    if isinstance(w, yolo.Writer):
        report.warnings.pop(yolo._APPENDED, None)
        if w.appended():
            report.warnings[yolo._APPENDED] = w.appended()


# =========================================================================== convert


_WRITERS = {
    "coco": frozenset({"categories", "circle_vertices", "indent", "images", "size_table", "image_root",
                       "file_names"}),
    "manifest": frozenset({"locs", "images", "size_table"}),
}


def convert(src: str, dst: str, reader: Any, writer: Any, *, strict: bool, on_error: str, overwrite: bool,
            read_options: dict[str, Any], write_options: dict[str, Any], workers: str | int | None,
            scheduler: Any, one_process: Any, listing: storage.Snapshot | None = None) -> Report:
    """:func:`mafmt.converters.convert` with the source's shards read on Dask workers.

    ``one_process()`` is the single-process conversion, used for what is not sharded;
    ``listing``: the snapshot in which the source's folders were listed for its detection.
    """
    from mafmt.converters import check_written, fold_read_report, note_source_meta

    name = writer.name
    folder = name not in _WRITERS and name != "csv"
    if folder and _writer_class(name, write_options, dst) is None:
        return _alone(one_process(), f"{reader.name} -> {name} ({write_options.get('layout') or 'flat'} layout)")
    unknown = set(write_options) - _WRITERS.get(name, frozenset())
    if name in _WRITERS and unknown:
        return _alone(one_process(), f"{reader.name} -> {name} with {', '.join(sorted(unknown))}")
    _check_options(name, write_options)
    read_report = Report()  # (its ``read``: the samples the shards read, once they did)
    report = Report()

    def check(_: Any = None) -> None:
        check_written(report, read_report, read_report.read or 0, src=src, dst=dst, writer=name,
                      on_error=on_error, strict=strict)

    with engine(workers, scheduler) as eng:
        eng.prepare(*JOB_MODULES["convert"])
        with listing or storage.Snapshot():
            source = source_shards(eng, src, reader, read_options)
        job = {"writer": name, "dst": dst, "on_error": on_error, "overwrite": overwrite,
               "read_options": read_options, "write_options": write_options,
               "meta": source.meta if source is not None else None,
               "side_folder": reader.name != "manifest"}  # (a manifest's lines carry no inline documents)
        fallback = (f"{reader.name} source" if source is None
                    else _write(eng, source.shards, job, folder, report, read_report, check))
    if fallback is not None or source is None:  # (after the cluster closed)
        return _alone(one_process(), fallback or "")
    report.read = read_report.read
    report.target, report.format = dst, name
    note_source_meta(report, source.meta, writer)
    fold_read_report(report, read_report)
    return report


def _write(eng: Engine, shards_: Sequence[Any], job: dict[str, Any], folder: bool, report: Report,
           read_report: Report, check: Any) -> str | None:
    """Write the target from the shards; returns why it must be written in one process instead, or None."""
    name = job["writer"]
    try:
        if folder:
            _write_folder(eng, shards_, job, report, read_report, check)
        elif name == "manifest":
            with _spill(job["dst"]) as spill:
                _write_manifest(eng, shards_, {**job, "spill": spill}, report, read_report, check)
        elif name == "coco":
            with eng.stream(_convert_shard, shards_, job, name="mafmt-convert") as parts:
                _write_coco(job["dst"], _arrived(parts, read_report), job, report, job["meta"], check)
        else:
            with eng.stream(_convert_shard, shards_, job, name="mafmt-convert") as parts:
                kept = list(_arrived(parts, read_report))  # (the CSV table's columns: all shards first)
            _write_csv(eng, shards_, kept, job, report, check)
    except _OneProcess as exc:
        return str(exc)
    return None


def _arrived(parts: Iterable[_Part], read_report: Report) -> Iterator[_Part]:
    """The shards' parts as they arrive, their reading's reports added to ``read_report``;
    once the last is in, its ``read`` is the samples read.

    Raises:
        _OneProcess: a shard cannot be written on its own, or the source is empty.
    """
    count = 0
    failed = False
    for part in parts:
        if part.one_process:
            raise _OneProcess(part.one_process)
        read_report.merge(part.read_report)
        count += part.count
        failed = failed or part.error is not None
        yield part
    if count == 0 and not failed:
        raise _OneProcess("an empty source")
    shards.settle(read_report)
    read_report.outputs.clear()
    read_report.read = count


def _check_options(writer: str, options: dict[str, Any]) -> None:
    """The checks the COCO and CSV writers make of their options before anything is read."""
    if writer == "coco":
        from mafmt.converters import coco

        coco.check_values(options.get("circle_vertices", 32), options.get("file_names", "keep"))
    elif writer == "csv":
        from mafmt.converters import csv_format
        from mafmt.converters._common import check_options

        check_options("csv", {k: v for k, v in options.items() if k != "task"})
        csv_format.check_task(options.get("task", "auto"))


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
        eng.prepare(*JOB_MODULES["stats"])
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
        eng.prepare(*JOB_MODULES["qa"])
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
