"""One small storage layer: local paths and object-storage URIs behind the same calls.

Readers and writers never call ``open`` themselves; they go through :func:`open_read`
and :func:`atomic_write`, so ``obs://bucket/key`` works wherever a path does
(``s3://`` and ``s3a://`` are the same store as ``obs://``). The OBS backend
(:mod:`mafmt.storage.obs`, on esdk-obs-python) loads on the first ``obs://`` use and is
configured from the environment (:mod:`mafmt.storage.config`) or :func:`configure_obs`.

Writes are atomic: data goes to a temporary file and replaces the target only after
everything was written (on OBS: uploaded only then), so a failure leaves the previous
content intact; ``mode="a"`` keeps the existing content.

Besides reading and writing: :func:`stat`, :func:`ls` (lazily paginated), :func:`delete`,
:func:`glob`, and :func:`copy` for files and folders in any direction (parallel, see
:mod:`mafmt.storage.transfer`). Every failure is a :class:`~mafmt.errors.StorageError`;
a read over its ``limit=`` is a :class:`~mafmt.errors.LimitError`. An OBS endpoint that
stops answering gives an error within seconds (:mod:`mafmt.storage.retry`).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import IO, TYPE_CHECKING, Any, Self

from mafmt.errors import StorageError
from mafmt.storage.base import Backend, ObjectInfo, error, glob_prefix, glob_regex, has_magic, over_limit
from mafmt.storage.local import LISTINGS, LocalBackend

if TYPE_CHECKING:
    from mafmt.storage.transfer import TransferSummary

__all__ = [
    "Backend",
    "LocalBackend",
    "ObjectInfo",
    "Snapshot",
    "atomic_write",
    "backend_for",
    "configure_obs",
    "copy",
    "delete",
    "exists",
    "glob",
    "is_dir",
    "iter_file_pages",
    "iter_files",
    "join",
    "ls",
    "open_read",
    "parent",
    "read_bytes",
    "register_backend",
    "relative_to",
    "resolve",
    "scheme_of",
    "stat",
    "write_bytes",
]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
#: schemes that all mean the same object store
OBJECT_SCHEMES = ("obs", "s3", "s3a")


def scheme_of(uri: str) -> str | None:
    """The lower-cased URI scheme, or None for a plain path."""
    if "://" not in uri:  # most paths: no regex
        return None
    m = _SCHEME.match(uri)
    return m.group(1).lower() if m else None


def resolve(base: str | None, ref: str) -> str:
    """Resolve ``ref`` (as found in a file) against the folder ``base``.

    URIs and absolute paths are returned unchanged; ``./x`` and ``x`` are joined to
    ``base``. Keys are never URL-decoded (real keys contain spaces).
    """
    if scheme_of(ref) or os.path.isabs(ref) or not base:
        return ref
    return join(base, ref)


def join(base: str, ref: str, *more: str) -> str:
    """Join relative references to a folder path or URI, normalising ``.``/``..``."""
    if more:
        return join(join(base, ref), *more)
    if scheme_of(base):
        head, _, rest = base.partition("://")
        bucket, _, key = rest.partition("/")
        joined = posixpath.normpath(posixpath.join("/" + key, ref)).lstrip("/")
        return f"{head}://{bucket}/{joined}"
    return os.path.normpath(os.path.join(base, ref))


def parent(uri: str) -> str:
    """The folder holding ``uri``."""
    if scheme_of(uri):
        head, _, rest = uri.partition("://")
        bucket, _, key = rest.partition("/")
        return f"{head}://{bucket}/{posixpath.dirname(key.rstrip('/'))}".rstrip("/")
    return os.path.dirname(os.path.abspath(uri))


def relative_to(target: str, folder: str) -> str:
    """``target`` as a ``./``-style reference from ``folder`` when both are on the same
    store, else ``target`` unchanged."""
    ts, fs = scheme_of(target), scheme_of(folder)
    if ts or fs:
        if ts in OBJECT_SCHEMES and fs in OBJECT_SCHEMES:
            tb, _, tk = target.partition("://")[2].partition("/")
            fb, _, fk = folder.partition("://")[2].partition("/")
            if tb == fb:
                rel = posixpath.relpath("/" + tk, "/" + fk.rstrip("/"))
                return rel if rel.startswith("..") else "./" + rel
        return target
    if folder and os.sep == "/" and target.startswith(prefix := folder.rstrip("/") + "/"):
        parts = target[len(prefix):].split("/")  # the usual case, a file listed under the folder
        if "" not in parts and "." not in parts and ".." not in parts:
            return "./" + "/".join(parts)
    rel = os.path.relpath(os.path.abspath(target), os.path.abspath(folder)).replace(os.sep, "/")
    return rel if rel.startswith("..") else "./" + rel


# --------------------------------------------------------------------------- backends


_LOCAL = LocalBackend()
_BACKENDS: dict[str, Backend] = {}


def register_backend(scheme: str, backend: Backend) -> None:
    """Serve ``scheme://`` URIs with ``backend`` (used by the object-storage module)."""
    _BACKENDS[scheme.lower()] = backend


def backend_for(uri: str) -> Backend:
    """The backend that serves ``uri``.

    Raises:
        StorageError: no backend for the URI's scheme.
    """
    scheme = scheme_of(uri)
    if scheme is None or scheme == "file":
        return _LOCAL
    backend = _BACKENDS.get(scheme)
    if backend is None and scheme in OBJECT_SCHEMES:
        backend = _BACKENDS.get("obs")
        if backend is None:  # first obs:// use: load the OBS backend, configured from the environment
            from mafmt.storage.obs import register_default

            backend = register_default()
    if backend is None:
        raise error(f"no storage backend for {scheme}:// URIs", uri=uri, code="InvalidURI")
    return backend


def _local(uri: str) -> str:
    return uri.removeprefix("file://")


def open_read(uri: str, limit: int | None = None) -> IO[bytes]:
    """Open ``uri`` for streaming binary reading (a buffered stream: ``readline(n)`` reads
    at most ``n`` bytes, on OBS too).

    With ``limit``, more than ``limit`` bytes raise :class:`~mafmt.errors.LimitError`
    naming the file: before anything is read when the size is known (a local regular
    file's size, an object's Content-Length), otherwise as soon as the stream passes it
    (pipes, FIFOs, devices such as ``/dev/zero``). A FIFO without a writer reads as empty
    instead of blocking.
    """
    return backend_for(uri).open_read(_local(uri), limit)


def read_bytes(uri: str, limit: int | None = None) -> bytes:
    """The whole content of ``uri``; with ``limit``, at most that many bytes are ever read
    and a larger file raises :class:`~mafmt.errors.LimitError` (see :func:`open_read`)."""
    backend = backend_for(uri)
    if isinstance(backend, LocalBackend):
        return backend.read_bytes(_local(uri), limit)
    with open_read(uri, limit) as fh:
        if limit is None:
            return fh.read()
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise over_limit(uri, limit)
    return data


def atomic_write(uri: str, mode: str = "w") -> AbstractContextManager[IO[bytes]]:
    """Context manager yielding a binary file; the target is replaced only on success.

    ``mode="a"`` keeps the existing content and appends after it.
    """
    if mode not in ("w", "a"):
        raise StorageError(f"unknown write mode {mode!r} (use 'w' or 'a')", uri=uri)
    return backend_for(uri).atomic_write(_local(uri), mode == "a")  # type: ignore[return-value]


def exists(uri: str) -> bool:
    """Whether ``uri`` names an existing file or folder."""
    return backend_for(uri).exists(_local(uri))


def is_dir(uri: str) -> bool:
    """Whether ``uri`` names a folder (a prefix, on object storage)."""
    return backend_for(uri).is_dir(_local(uri))


class Snapshot:
    """A view of local folders listed once: within ``with snapshot:``, each folder is
    listed the first time it is asked for and then given as it was (so that a job's
    detection, which asks every format in turn, and the cutting of its source read one
    listing). The same snapshot may be entered again later; a snapshot already active
    stays the one in use. Only for reading a source that does not change meanwhile."""

    __slots__ = ("_listings", "_tokens")

    def __init__(self) -> None:
        self._listings: dict[str, list[os.DirEntry[str]]] = {}
        self._tokens: list[Any] = []

    def __enter__(self) -> Self:
        self._tokens.append(LISTINGS.set(LISTINGS.get() if LISTINGS.get() is not None else self._listings))
        return self

    def __exit__(self, *exc: object) -> None:
        LISTINGS.reset(self._tokens.pop())


def iter_files(uri: str, recursive: bool = False) -> Iterator[str]:
    """Files in the folder ``uri`` in name order, lazily."""
    return backend_for(uri).iter_files(_local(uri), recursive)


#: files per page of :func:`iter_file_pages` where the store does not page its listings
LOCAL_PAGE = 1000


def iter_file_pages(uri: str, recursive: bool = False) -> Iterator[list[str]]:
    """:func:`iter_files` a page at a time, each page as soon as it is listed: on OBS the
    keys of one listing request (``list_page_size``), elsewhere :data:`LOCAL_PAGE` files.
    The pages joined are what :func:`iter_files` gives, in its order."""
    backend = backend_for(uri)
    size = getattr(getattr(backend, "config", None), "list_page_size", None) or LOCAL_PAGE
    page: list[str] = []
    for path in backend.iter_files(_local(uri), recursive):
        page.append(path)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def stat(uri: str) -> ObjectInfo:
    """Size, modification time (and ETag on OBS) of a file or object.

    Raises:
        StorageError: it does not exist (``code="NoSuchKey"``) or cannot be reached.
    """
    return backend_for(uri).stat(_local(uri))


def ls(uri: str, *, recursive: bool = False, prefix: str = "") -> Iterator[ObjectInfo]:
    """Entries of the folder ``uri`` in name order, lazily (OBS pages on demand).

    Sub-folders are listed as entries with ``is_dir=True`` unless ``recursive``, which
    yields every file below instead. ``prefix`` keeps names starting with it. A file
    lists as itself.
    """
    return backend_for(uri).ls(_local(uri), recursive, prefix)


def delete(uri: str, *, recursive: bool = False) -> int:
    """Remove a file, or everything below a folder with ``recursive``; returns the
    number of files removed."""
    return backend_for(uri).delete(_local(uri), recursive)


def glob(pattern: str) -> Iterator[str]:
    """Files matching ``pattern`` in name order: ``*`` and ``?`` stay inside one folder,
    ``**`` crosses folders, ``[...]`` is a character class. Works on local paths and
    ``obs://`` URIs alike (object storage is listed from the literal prefix only)."""
    if not has_magic(pattern):
        if exists(pattern) and not is_dir(pattern):
            yield pattern
        return
    root, added = glob_prefix(pattern), False
    if not root:  # a relative local pattern without a folder part
        root, pattern, added = "./", "./" + pattern, True
    regex = glob_regex(pattern)
    deep = "**" in pattern or "/" in pattern[len(root):]
    if not is_dir(root):
        return
    for info in ls(root, recursive=deep):
        path = info.uri if scheme_of(info.uri) else info.uri.replace(os.sep, "/")
        if not info.is_dir and regex.match(path):
            yield path[2:] if added else info.uri


def write_bytes(uri: str, data: bytes, mode: str = "w") -> None:
    """Write ``data`` to ``uri`` atomically (``mode="a"`` appends)."""
    with atomic_write(uri, mode) as fh:
        fh.write(data)


def copy(src: str, dst: str, keep_last_dir: bool = True, **options: Any) -> TransferSummary:
    """Copy a file or folder between any two locations (local or ``obs://``), like the
    ModelArts SDK's ``session.obs.copy``; see :func:`mafmt.storage.transfer.copy`."""
    from mafmt.storage import transfer

    return transfer.copy(src, dst, keep_last_dir=keep_last_dir, **options)


def configure_obs(config: Any = None, **settings: Any) -> Backend:
    """Serve ``obs://``/``s3://`` with a new OBS backend built from ``config`` (an
    :class:`~mafmt.storage.config.ObsConfig`) or from the environment plus ``settings``
    (``endpoint=``, ``access_key=``, ``signature=`` ...). Returns the backend."""
    from mafmt.storage.obs import ObsBackend, ObsConfig

    cfg = config if config is not None else ObsConfig.from_env(**settings)
    backend = ObsBackend(cfg)
    old = _BACKENDS.get("obs")
    register_backend("obs", backend)
    if old is not None and hasattr(old, "close"):
        old.close()
    return backend
