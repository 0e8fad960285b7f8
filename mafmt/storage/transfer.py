"""File and folder transfers between local paths and OBS, mirroring the ModelArts SDK.

``copy(src, dst, keep_last_dir=True)`` handles every direction (local->OBS, OBS->local,
OBS->OBS server-side, local->local), for files and folders; ``upload_file``,
``upload_dir``, ``download_file`` and ``download_dir`` keep the SDK's path rules
(``obs://`` prefix, folders end with ``/``, empty folders are not created, the source
folder's last component is kept under the destination).

Folder transfers run on a bounded thread pool (``workers``), large files go by resumable
multipart (see :mod:`mafmt.storage.multipart`), transient failures are retried with
exponential backoff (:mod:`mafmt.storage.retry`), progress goes to a ``progress(done,
total)`` callback in bytes or a bar on stderr when it is a terminal, and every call returns
a :class:`TransferSummary` (transferred / skipped / failed / not attempted).

Fail fast: once the endpoint is down (``down_after`` requests in a row got no answer, 3 by
default), files in progress stop retrying and no new file is started; the rest are counted
as ``not_attempted``, so a dead server costs seconds, not one timeout per file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from mafmt.errors import StorageError
from mafmt.progress import Bar, Progress
from mafmt.storage.base import error, split_obs
from mafmt.storage.local import is_temp_name
from mafmt.storage.obs import ObsBackend
from mafmt.storage.retry import NO_ANSWER, Retry

__all__ = [
    "TransferError",
    "TransferSummary",
    "copy",
    "download_dir",
    "download_file",
    "upload_dir",
    "upload_file",
]

OBJECT_SCHEMES = ("obs", "s3", "s3a")


@dataclass
class TransferSummary:
    """What a transfer did. ``errors`` pairs each failed source with its error;
    ``not_attempted`` counts the files never started because the endpoint was down."""

    transferred: int = 0
    skipped: int = 0
    failed: int = 0
    bytes: int = 0
    seconds: float = 0.0
    errors: list[tuple[str, StorageError]] = field(default_factory=list)
    not_attempted: int = 0

    def __str__(self) -> str:
        mb = self.bytes / 1e6
        rest = f", {self.not_attempted} not attempted" if self.not_attempted else ""
        return (f"{self.transferred} transferred, {self.skipped} skipped, {self.failed} failed{rest} "
                f"({mb:.1f} MB in {self.seconds:.1f} s)")

    def add(self, other: TransferSummary) -> None:
        """Add the counts of ``other`` to this summary."""
        self.transferred += other.transferred
        self.skipped += other.skipped
        self.failed += other.failed
        self.not_attempted += other.not_attempted
        self.bytes += other.bytes
        self.seconds += other.seconds
        self.errors += other.errors

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (errors as strings)."""
        return {"transferred": self.transferred, "skipped": self.skipped, "failed": self.failed,
                "not_attempted": self.not_attempted, "bytes": self.bytes, "seconds": round(self.seconds, 3),
                "errors": [{"source": s, "error": str(e), "code": e.code} for s, e in self.errors]}


class TransferError(StorageError):
    """Some files of a transfer failed or were not attempted; ``summary`` says which (the
    others were done)."""

    def __init__(self, summary: TransferSummary) -> None:
        self.summary = summary
        first = summary.errors[0][1] if summary.errors else None
        what = f"{summary.failed} file(s) failed"
        if summary.not_attempted:
            what += f", {summary.not_attempted} not attempted (the endpoint stopped answering)"
        super().__init__(
            f"{what} ({summary}); first: {first}",
            uri=first.uri if first else None, code=first.code if first else None,
            request_id=first.request_id if first else None, status=first.status if first else None,
        )


# --------------------------------------------------------------------------- helpers


def _is_obs(path: str) -> bool:
    return path.partition("://")[0].lower() in OBJECT_SCHEMES and "://" in path


def _backend(uri: str) -> ObsBackend:
    from mafmt import storage

    backend = storage.backend_for(uri)
    if not isinstance(backend, ObsBackend):
        raise StorageError("transfers need the OBS backend for object URIs", uri=uri)
    return backend


def _require_obs(path: str, what: str) -> None:
    if not _is_obs(path):
        raise error(f"{what} must start with obs://", uri=path, code="InvalidPath")


def _require_dir(path: str, what: str) -> None:
    if not path.endswith(("/", os.sep)):
        raise error(f"{what} must end with '/'", uri=path, code="InvalidPath")


def _md5_file(path: str, part_size: int | None = None) -> str:
    """Hex MD5 of a file, or the multipart ETag form ``md5(md5s)-N`` with ``part_size``."""
    digests: list[bytes] = []
    whole = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(part_size or (1 << 20))
            if not chunk:
                break
            if part_size:
                digests.append(hashlib.md5(chunk, usedforsecurity=False).digest())
            else:
                whole.update(chunk)
    if part_size:
        return f"{hashlib.md5(b''.join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"
    return whole.hexdigest()


def _same(local: str, size: int, etag: str | None, part_size: int) -> bool:
    """Whether the local file matches an object's size and ETag."""
    try:
        if os.path.getsize(local) != size:
            return False
    except OSError:
        return False
    if not etag:
        return False
    if "-" in etag:  # multipart ETag: comparable only when our part size gives its part count
        from mafmt.storage.multipart import _part_size

        part = _part_size(size, part_size)
        if etag.rsplit("-", 1)[1] != str(max(1, -(-size // part))):
            return False
        return _md5_file(local, part) == etag
    return _md5_file(local) == etag


def _safe_join(folder: str, rel: str, uri: str) -> str:
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise error("unsafe object key for a local path", uri=uri, code="InvalidPath")
    return os.path.join(folder, *parts)


def _walk_local(folder: str) -> Iterator[tuple[str, str, int]]:
    """``(path, relative key, size)`` of every file below ``folder``, sorted."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if is_temp_name(name):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder).replace(os.sep, "/")
            yield path, rel, os.path.getsize(path)


@dataclass
class _Job:
    src: str
    dst: str
    size: int
    run: Callable[[Callable[[int], None]], None]
    skip: Callable[[], bool] | None = None


def _run_jobs(jobs: list[_Job], *, workers: int, policy: Retry, progress: Progress | None, on_error: str,
              backend: ObsBackend | None) -> TransferSummary:
    summary = TransferSummary()
    total = sum(j.size for j in jobs)
    lock = threading.Lock()
    done = 0
    stopped = threading.Event()  # the endpoint is down: start no new file
    health = policy.health
    start = time.monotonic()

    def advance(n: int) -> None:
        nonlocal done
        if n > 0:
            with lock:
                done += n
                if progress is not None:
                    progress(done, total)

    def failed(job: _Job, exc: StorageError) -> None:
        with lock:
            summary.failed += 1
            summary.errors.append((job.src, backend.explain(exc) if backend is not None else exc))
        if exc.code in NO_ANSWER and health is not None and health.down:
            stopped.set()

    def one(job: _Job) -> None:
        if stopped.is_set():
            with lock:
                summary.not_attempted += 1
            return
        best = 0  # bytes of this file already counted (a retry does not count them twice)
        try:
            if job.skip is not None and job.skip():
                with lock:
                    summary.skipped += 1
                advance(job.size)
                return
            attempt = 0
            while True:
                moved = 0

                def tick(n: int) -> None:
                    nonlocal moved, best
                    moved += n
                    if moved > best:
                        advance(moved - best)
                        best = moved

                seen = health.answers if health is not None else 0
                try:
                    job.run(tick)
                    break
                except StorageError as exc:
                    if not policy.should_retry(exc, attempt, seen):
                        raise
                policy.sleep(attempt)
                attempt += 1
            with lock:
                summary.transferred += 1
                summary.bytes += job.size
            advance(job.size - best)
        except StorageError as exc:
            failed(job, exc)
        except OSError as exc:
            failed(job, error((exc.strerror or str(exc)).lower(), uri=job.src))

    if len(jobs) == 1:
        one(jobs[0])
    elif jobs:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="mafmt-xfer") as pool:
            list(pool.map(one, jobs))
    summary.seconds = time.monotonic() - start
    if (summary.failed or summary.not_attempted) and on_error == "raise":
        raise TransferError(summary)
    return summary


def _progress(progress: Progress | bool | None) -> tuple[Progress | None, Bar | None]:
    """The callback to feed, and the bar to close afterwards (True: a bar on stderr; None: a
    bar when stderr is a terminal; False: nothing)."""
    if callable(progress):
        return progress, None
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None, None
    bar = Bar("copying", unit="B", unit_scale=True, stream=sys.stderr)
    return bar, bar


def _options(backend: ObsBackend | None, workers: int | None, retries: int | None) -> tuple[int, Retry]:
    from mafmt.storage.config import ObsConfig

    if backend is not None:
        return workers or backend.config.workers, backend.retry_policy(retries)
    cfg = ObsConfig()
    return workers or cfg.workers, Retry(cfg.retries if retries is None else retries, cfg.backoff)


# --------------------------------------------------------------------------- the jobs


def _upload_job(backend: ObsBackend, path: str, uri: str, size: int, skip_existing: bool,
                remote: dict[str, tuple[int, str | None]] | None, checkpoint_dir: str | None) -> _Job:
    part = backend.config.part_size

    def skip() -> bool:
        if remote is not None:
            found = remote.get(uri)
        else:
            try:
                info = backend.stat(uri)
                found = (info.size, info.etag) if not info.is_dir else None
            except StorageError as exc:
                if exc.code != "NoSuchKey":
                    raise
                found = None
        return found is not None and _same(path, found[0], found[1], part)

    def run(tick: Callable[[int], None]) -> None:
        backend.upload_file(path, uri, tick, checkpoint_dir=checkpoint_dir, retry=False)

    return _Job(path, uri, size, run, skip if skip_existing else None)


def _download_job(backend: ObsBackend, uri: str, path: str, size: int, etag: str | None, skip_existing: bool,
                  checkpoint_dir: str | None) -> _Job:
    part = backend.config.part_size

    def run(tick: Callable[[int], None]) -> None:
        backend.download_file(uri, path, tick, size=size, checkpoint_dir=checkpoint_dir, retry=False)

    skip = (lambda: _same(path, size, etag, part)) if skip_existing else None
    return _Job(uri, path, size, run, skip)


def _local_copy_job(src: str, dst: str, size: int, skip_existing: bool) -> _Job:
    def run(tick: Callable[[int], None]) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
        shutil.copy2(src, dst)
        tick(size)

    skip = (lambda: os.path.exists(dst) and _md5_file(dst) == _md5_file(src)) if skip_existing else None
    return _Job(src, dst, size, run, skip)


def _server_copy_job(backend: ObsBackend, src: str, dst: str, size: int) -> _Job:
    def run(tick: Callable[[int], None]) -> None:
        backend.copy_object(src, dst, size, tick)

    return _Job(src, dst, size, run)


# --------------------------------------------------------------------------- public API


def upload_file(src_local_file: str, dst_obs_dir: str, **options: Any) -> TransferSummary:
    """Upload one file into the OBS folder ``dst_obs_dir`` (must end with ``/``)."""
    _require_obs(dst_obs_dir, "dst_obs_dir")
    _require_dir(dst_obs_dir, "dst_obs_dir")
    return copy(src_local_file, dst_obs_dir + os.path.basename(src_local_file), **options)


def download_file(src_obs_file: str, dst_local_dir: str, **options: Any) -> TransferSummary:
    """Download one object into the local folder ``dst_local_dir`` (must end with ``/``)."""
    _require_obs(src_obs_file, "src_obs_file")
    _require_dir(dst_local_dir, "dst_local_dir")
    return copy(src_obs_file, os.path.join(dst_local_dir, src_obs_file.rstrip("/").rsplit("/", 1)[-1]), **options)


def upload_dir(src_local_dir: str, dst_obs_dir: str, **options: Any) -> TransferSummary:
    """Upload a folder *with* its last component: ``/home/u/`` -> ``obs://b/dir1/u/...``."""
    _require_obs(dst_obs_dir, "dst_obs_dir")
    _require_dir(dst_obs_dir, "dst_obs_dir")
    if not os.path.isdir(src_local_dir):
        raise error("not a folder", uri=src_local_dir, code="NoSuchKey")
    return copy(src_local_dir, dst_obs_dir, keep_last_dir=True, **options)


def download_dir(src_obs_dir: str, dst_local_dir: str, **options: Any) -> TransferSummary:
    """Download an OBS folder *with* its last component into ``dst_local_dir``; both
    must end with ``/``."""
    _require_obs(src_obs_dir, "src_obs_dir")
    _require_dir(src_obs_dir, "src_obs_dir")
    _require_dir(dst_local_dir, "dst_local_dir")
    return copy(src_obs_dir, dst_local_dir, keep_last_dir=True, **options)


def copy(src_path: str, dst_path: str, keep_last_dir: bool = True, *, workers: int | None = None,
         skip_existing: bool = False, progress: Progress | bool | None = None, retries: int | None = None,
         checkpoint_dir: str | None = None, on_error: str = "raise") -> TransferSummary:
    """Copy a file or folder; either side may be local or ``obs://`` (``s3://`` too).

    A file goes to ``dst_path`` itself, or inside it when ``dst_path`` ends with ``/``
    or is an existing folder. A folder's files go below ``dst_path``, under the source
    folder's own name when ``keep_last_dir`` (the default, as in the ModelArts SDK).

    Args:
        workers: parallel transfers (default: the OBS config's ``workers``).
        skip_existing: leave files whose target has the same size and MD5/ETag.
        progress: a ``progress(done, total)`` callable (bytes, called from worker threads one
            at a time), or True for a bar on stderr, None for one only when stderr is a
            terminal, False for none.
        retries: whole-file retries on transient errors (default: the config's).
        checkpoint_dir: where resumable multipart transfers keep their checkpoints.
        on_error: ``"raise"`` (a :class:`TransferError` after the others finished) or
            ``"continue"`` (failures only in the summary).

    Once the endpoint is down no new file starts; the rest count as ``not_attempted``.
    """
    if on_error not in ("raise", "continue"):
        raise StorageError(f"on_error must be 'raise' or 'continue', not {on_error!r}")
    src_obs, dst_obs = _is_obs(src_path), _is_obs(dst_path)
    backend = _backend(src_path if src_obs else dst_path) if (src_obs or dst_obs) else None
    n_workers, policy = _options(backend, workers, retries)
    jobs = _plan(src_path, dst_path, keep_last_dir, backend, skip_existing, checkpoint_dir)
    callback, bar = _progress(progress)
    try:
        return _run_jobs(jobs, workers=n_workers, policy=policy, progress=callback, on_error=on_error,
                         backend=backend)
    finally:
        if bar is not None:
            bar.close()


def _plan(src: str, dst: str, keep_last_dir: bool, backend: ObsBackend | None, skip_existing: bool,
          checkpoint_dir: str | None) -> list[_Job]:
    src_obs, dst_obs = _is_obs(src), _is_obs(dst)
    # ---- is the source one file?
    if src_obs:
        assert backend is not None
        info = None if src.endswith("/") else _stat_or_none(backend, src)
        if info is None and not backend.is_dir(src):
            raise StorageError("no such object or folder", uri=src, code="NoSuchKey", status=404)
        single = info is not None and not info.is_dir
    else:
        if not os.path.exists(src):
            raise error("no such file or folder", uri=src, code="NoSuchKey")
        single = not os.path.isdir(src)
    if single:
        name = src.rstrip("/").replace(os.sep, "/").rsplit("/", 1)[-1]
        into = (dst.endswith(("/", os.sep)) or (not dst_obs and os.path.isdir(dst))
                or (dst_obs and not split_obs(dst)[2]))  # a bucket root is a folder
        target = (dst.rstrip("/") + "/" + name if dst_obs else os.path.join(dst, name)) if into else dst
        if src_obs and dst_obs:
            return [_server_copy_job(backend, src, target, info.size)]  # type: ignore[arg-type,union-attr]
        if src_obs:
            return [_download_job(backend, src, target, info.size, info.etag,  # type: ignore[arg-type,union-attr]
                                  skip_existing, checkpoint_dir)]
        if dst_obs:
            return [_upload_job(backend, src, target, os.path.getsize(src), skip_existing, None,  # type: ignore[arg-type]
                                checkpoint_dir)]
        return [_local_copy_job(src, target, os.path.getsize(src), skip_existing)]
    # ---- a folder
    last = src.rstrip("/").rstrip(os.sep).replace(os.sep, "/").rsplit("/", 1)[-1]
    if src_obs:
        _, sb, sk = split_obs(src)
        if sk and not sk.endswith("/"):
            sk += "/"
        if not sk:
            last = sb
        entries = [(f"obs://{sb}/{k}", k[len(sk):], size, etag)
                   for k, size, _, etag, _ in backend.list_keys(sb, sk, True, src)]  # type: ignore[union-attr]
    else:
        entries = [(p, rel, size, None) for p, rel, size in _walk_local(src)]
    if dst_obs:
        base = dst.rstrip("/") + "/" + (last + "/" if keep_last_dir else "")
        remote = None
        if skip_existing and not src_obs:
            _, db, dk = split_obs(base)
            remote = {f"obs://{db}/{k}": (size, etag)
                      for k, size, _, etag, _ in backend.list_keys(db, dk, True, base)}  # type: ignore[union-attr]
        jobs = []
        for s, rel, size, _etag in entries:
            target = base + rel
            if src_obs:
                jobs.append(_server_copy_job(backend, s, target, size))  # type: ignore[arg-type]
            else:
                jobs.append(_upload_job(backend, s, target, size, skip_existing, remote,  # type: ignore[arg-type]
                                        checkpoint_dir))
        return jobs
    base_dir = os.path.join(dst, last) if keep_last_dir else dst
    jobs = []
    for s, rel, size, etag in entries:
        target = _safe_join(base_dir, rel, s)
        if src_obs:
            jobs.append(_download_job(backend, s, target, size, etag, skip_existing,  # type: ignore[arg-type]
                                      checkpoint_dir))
        else:
            jobs.append(_local_copy_job(s, target, size, skip_existing))
    return jobs


def _stat_or_none(backend: ObsBackend, uri: str) -> Any:
    try:
        return backend.stat(uri)
    except StorageError as exc:
        if exc.code in ("NoSuchKey", "NotFound"):
            return None
        raise
