"""Large-file transfers: parallel multipart upload and ranged download, both resumable.

A checkpoint (small JSON file) records the transfer's identity and the parts already
done. When a transfer fails or is interrupted, the checkpoint and the server-side
upload (or the local ``.name.mafmt-part`` file) stay; calling the same transfer again
continues from there. A checkpoint whose source changed (size, mtime, ETag) is dropped
and the transfer starts over. Default folder: ``$MAFMT_CHECKPOINT_DIR`` or
``~/.cache/mafmt/transfers``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Protocol

from mafmt.errors import StorageError
from mafmt.storage.base import ObjectInfo

if TYPE_CHECKING:
    from mafmt.storage.config import ObsConfig

Progress = Callable[[int], None]


class ObsBackend(Protocol):
    """What the multipart helpers use of :class:`mafmt.storage.obs.ObsBackend` (declared here,
    so this module does not import the one that imports it)."""

    @property
    def config(self) -> ObsConfig: ...

    def call(self, op: str, uri: str, *args: Any, retry: bool = True, **kwargs: Any) -> Any: ...

    def scrub(self, text: str) -> str: ...

    def no_answer(self, exc: BaseException, uri: str) -> StorageError: ...

    def split(self, uri: str) -> tuple[str, str]: ...

__all__ = ["checkpoint_path", "copy_multipart", "default_checkpoint_dir", "download_ranges", "upload_multipart"]

MAX_PARTS = 10_000


def default_checkpoint_dir() -> str:
    """Where checkpoints go unless a transfer names a folder."""
    env = os.environ.get("MAFMT_CHECKPOINT_DIR")
    if env:
        return env
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "mafmt", "transfers")


def checkpoint_path(folder: str | None, kind: str, src: str, dst: str) -> str:
    """The checkpoint file of one transfer (named by a hash of its two ends)."""
    digest = hashlib.sha256(f"{kind}\0{os.path.abspath(src) if kind == 'up' else src}\0{dst}".encode()).hexdigest()
    return os.path.join(folder or default_checkpoint_dir(), f"{kind}-{digest[:32]}.json")


class _Checkpoint:
    """A JSON record saved atomically after every finished part."""

    def __init__(self, path: str, identity: dict[str, Any]) -> None:
        self.path = path
        self.identity = identity
        self.lock = threading.Lock()  # guards callers' part tables
        self._save_lock = threading.Lock()
        self.data: dict[str, Any] = {}
        self.stale: dict[str, Any] | None = None  # a record for an older version of the source

    def load(self) -> dict[str, Any] | None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return None
        if data.get("identity") != self.identity:
            self.stale = data
            return None
        self.data = data
        return data

    def save(self, **values: Any) -> None:
        with self._save_lock:
            self.data.update(values, identity=self.identity)
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            tmp = f"{self.path}.{threading.get_ident():x}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(self.data, fh)
            os.replace(tmp, self.path)

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except OSError:
            pass


def _part_size(size: int, wanted: int) -> int:
    """``wanted``, doubled until the file fits in 10,000 parts."""
    part = max(wanted, 1)
    while (size + part - 1) // part > MAX_PARTS:
        part *= 2
    return part


def _run_parts(workers: int, jobs: list[Callable[[], None]]) -> None:
    """Run ``jobs`` on a bounded pool; on the first failure cancel the rest and raise it."""
    if not jobs:
        return
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs))), thread_name_prefix="mafmt-part")
    try:
        futures: list[Future[None]] = [pool.submit(job) for job in jobs]
        wait(futures, return_when=FIRST_EXCEPTION)
        for fut in futures:
            if fut.done() and fut.exception() is not None:
                raise fut.exception()  # type: ignore[misc]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _list_parts(backend: ObsBackend, uri: str, bucket: str, key: str, upload_id: str) -> dict[int, tuple[str, int]]:
    parts: dict[int, tuple[str, int]] = {}
    marker: int | None = None
    while True:
        resp = backend.call("listParts", uri, bucket, key, upload_id, partNumberMarker=marker)
        for p in resp.body.parts or []:
            parts[int(p.partNumber)] = (p.etag, int(p.size or 0))
        if not resp.body.isTruncated:
            return parts
        marker = resp.body.nextPartNumberMarker


def upload_multipart(backend: ObsBackend, path: str, bucket: str, key: str, *,
                     progress: Progress | None = None, checkpoint_dir: str | None = None) -> str | None:
    """Upload ``path`` to ``bucket/key`` in parallel parts, resuming a previous attempt.

    ``progress`` is called with each finished part's size (resumed parts count at once);
    if it raises, the upload stops and can be resumed later. Returns the ETag.
    """
    from obs import CompleteMultipartUploadRequest, CompletePart  # type: ignore[import-untyped]

    cfg = backend.config
    uri = f"obs://{bucket}/{key}"
    st = os.stat(path)
    size = st.st_size
    part = _part_size(size, cfg.part_size)
    count = max(1, (size + part - 1) // part)
    identity = {"src": os.path.abspath(path), "bucket": bucket, "key": key, "size": size,
                "mtime_ns": st.st_mtime_ns, "part_size": part}
    ckpt = _Checkpoint(checkpoint_path(checkpoint_dir, "up", path, uri), identity)
    done: dict[int, tuple[str, int]] = {}
    upload_id: str | None = None
    record = ckpt.load()
    if record:
        upload_id = record["upload_id"]
        try:
            done = {n: p for n, p in _list_parts(backend, uri, bucket, key, upload_id).items()
                    if n <= count and p[1] == min(part, size - (n - 1) * part)}
        except StorageError as exc:
            if exc.status != 404:
                raise
            upload_id = None  # upload expired or was aborted: start over
    stale = ckpt.stale or {}
    if stale.get("upload_id") and stale.get("identity", {}).get("key") == key:
        with contextlib.suppress(StorageError):  # the source changed: drop its old parts
            backend.call("abortMultipartUpload", uri, bucket, key, stale["upload_id"], retry=False)
    if upload_id is None:
        upload_id = backend.call("initiateMultipartUpload", uri, bucket, key).body.uploadId
        ckpt.data = {}
        ckpt.save(upload_id=upload_id, parts={})
    if progress and done:
        progress(sum(p[1] for p in done.values()))

    def job(n: int) -> Callable[[], None]:
        def run() -> None:
            offset = (n - 1) * part
            length = min(part, size - offset)
            resp = backend.call("uploadPart", uri, bucket, key, n, upload_id, object=path, isFile=True,
                                offset=offset, partSize=length)
            with ckpt.lock:
                done[n] = (resp.body.etag, length)
                snapshot = {str(k): v[0] for k, v in sorted(done.items())}
            ckpt.save(parts=snapshot)
            if progress:
                progress(length)
        return run

    _run_parts(cfg.workers, [job(n) for n in range(1, count + 1) if n not in done])
    req = CompleteMultipartUploadRequest(parts=[CompletePart(partNum=n, etag=done[n][0]) for n in sorted(done)])
    resp = backend.call("completeMultipartUpload", uri, bucket, key, upload_id, req)
    ckpt.remove()
    etag = getattr(resp.body, "etag", None)
    return etag.strip('"') if etag else None


def download_ranges(backend: ObsBackend, uri: str, path: str, info: ObjectInfo, *,
                    progress: Progress | None = None, checkpoint_dir: str | None = None) -> None:
    """Download a large object with parallel ranged GETs into ``.name.mafmt-part`` and
    rename it to ``path`` at the end; resumes from a checkpoint when the object's size
    and ETag are unchanged."""
    from obs import GetObjectHeader  # type: ignore[import-untyped]

    cfg = backend.config
    bucket, key = backend.split(uri)
    size = info.size
    part = _part_size(size, cfg.part_size)
    count = max(1, (size + part - 1) // part)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.mafmt-part")
    identity = {"src": uri, "dst": os.path.abspath(path), "size": size, "etag": info.etag, "part_size": part}
    ckpt = _Checkpoint(checkpoint_path(checkpoint_dir, "down", uri, os.path.abspath(path)), identity)
    record = ckpt.load()
    done: set[int] = set()
    if record and os.path.exists(tmp) and os.path.getsize(tmp) == size:
        done = {int(n) for n in record.get("done", [])}
    else:
        with open(tmp, "wb") as fh:
            fh.truncate(size)
        ckpt.data = {}
        ckpt.save(done=[])
    if progress and done:
        progress(sum(min(part, size - (n - 1) * part) for n in done))
    fd = os.open(tmp, os.O_WRONLY)

    def job(n: int) -> Callable[[], None]:
        def run() -> None:
            start = (n - 1) * part
            end = min(start + part, size) - 1
            headers = GetObjectHeader(range=f"{start}-{end}", if_match=info.etag or None)
            resp = backend.call("getObject", uri, bucket, key, headers=headers)
            wrapper = resp.body.response
            offset = start
            try:
                while chunk := wrapper.read(1 << 20):
                    os.pwrite(fd, chunk, offset)
                    offset += len(chunk)
            except StorageError:
                raise
            except Exception as exc:  # noqa: BLE001 - the SDK raises bare exceptions
                raise backend.no_answer(exc, uri) from None
            finally:
                wrapper.close()
            if offset != end + 1:
                raise backend.no_answer(ConnectionError(f"short range read ({offset - start} of {end + 1 - start} "
                                                        "bytes)"), uri)
            with ckpt.lock:
                done.add(n)
                snapshot = sorted(done)
            ckpt.save(done=snapshot)
            if progress:
                progress(end + 1 - start)
        return run

    try:
        _run_parts(cfg.workers, [job(n) for n in range(1, count + 1) if n not in done])
    finally:
        os.close(fd)
    os.replace(tmp, path)
    ckpt.remove()


def copy_multipart(backend: ObsBackend, src: str, dst: str, size: int, *, progress: Progress | None = None) -> None:
    """Server-side copy of a large object in parallel ranged parts (``copyPart``); needed
    above the 5 GB limit of a single copy, and faster below it. A failure aborts the
    upload (nothing to resume: no data went through this machine)."""
    from obs import CompleteMultipartUploadRequest, CompletePart  # type: ignore[import-untyped]

    cfg = backend.config
    sb, sk = backend.split(src)
    db, dk = backend.split(dst)
    part = _part_size(size, cfg.part_size)
    count = max(1, (size + part - 1) // part)
    upload_id = backend.call("initiateMultipartUpload", dst, db, dk).body.uploadId
    etags: dict[int, str] = {}
    lock = threading.Lock()

    def job(n: int) -> Callable[[], None]:
        def run() -> None:
            start = (n - 1) * part
            end = min(start + part, size) - 1
            resp = backend.call("copyPart", dst, db, dk, n, upload_id, f"/{sb}/{sk}", copySourceRange=f"{start}-{end}")
            with lock:
                etags[n] = resp.body.etag
            if progress:
                progress(end + 1 - start)
        return run

    try:
        _run_parts(cfg.workers, [job(n) for n in range(1, count + 1)])
        req = CompleteMultipartUploadRequest(parts=[CompletePart(partNum=n, etag=etags[n]) for n in sorted(etags)])
        backend.call("completeMultipartUpload", dst, db, dk, upload_id, req)
    except BaseException:
        with contextlib.suppress(StorageError):
            backend.call("abortMultipartUpload", dst, db, dk, upload_id, retry=False)
        raise
