"""One small storage layer: local paths and object-storage URIs behind the same calls.

Readers and writers never call ``open`` themselves; they go through :func:`open_read`
and :func:`atomic_write`, so ``obs://bucket/key`` works wherever a path does once an
object-storage backend is registered for the scheme (``s3://`` and ``s3a://`` are the
same store as ``obs://``).

Writes are atomic: data goes to a temporary file beside the target and replaces it
only after everything was written, so a failure leaves the previous file intact.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Protocol

from mafmt.errors import StorageError

__all__ = [
    "Backend",
    "atomic_write",
    "backend_for",
    "exists",
    "is_dir",
    "iter_files",
    "join",
    "open_read",
    "parent",
    "read_bytes",
    "register_backend",
    "relative_to",
    "resolve",
    "scheme_of",
]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
#: schemes that all mean the same object store
OBJECT_SCHEMES = ("obs", "s3", "s3a")


class Backend(Protocol):
    """What a storage backend provides; local files and OBS implement it."""

    def open_read(self, uri: str) -> IO[bytes]: ...

    def atomic_write(self, uri: str, append: bool) -> Iterator[IO[bytes]]: ...

    def exists(self, uri: str) -> bool: ...

    def is_dir(self, uri: str) -> bool: ...

    def iter_files(self, uri: str, recursive: bool) -> Iterator[str]: ...


def scheme_of(uri: str) -> str | None:
    """The lower-cased URI scheme, or None for a plain path."""
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


def join(base: str, ref: str) -> str:
    """Join a relative reference to a folder path or URI, normalising ``.``/``..``."""
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
    rel = os.path.relpath(os.path.abspath(target), os.path.abspath(folder)).replace(os.sep, "/")
    return rel if rel.startswith("..") else "./" + rel


# --------------------------------------------------------------------------- backends


class LocalBackend:
    """Plain files."""

    def open_read(self, uri: str) -> IO[bytes]:
        try:
            return open(uri, "rb")
        except FileNotFoundError:
            raise StorageError("no such file", uri=uri, code="NoSuchKey") from None
        except IsADirectoryError:
            raise StorageError("is a directory, not a file", uri=uri) from None
        except OSError as exc:
            raise StorageError(exc.strerror or str(exc), uri=uri) from None

    @contextmanager
    def atomic_write(self, uri: str, append: bool) -> Iterator[IO[bytes]]:
        folder = os.path.dirname(os.path.abspath(uri))
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create folder: {exc.strerror or exc}", uri=uri) from None
        if os.path.isdir(uri):
            raise StorageError("is a directory, not a file", uri=uri)
        tmp = os.path.join(folder, f".{os.path.basename(uri)}.{os.getpid()}.{id(self):x}.tmp")
        try:
            with open(tmp, "w+b") as fh:
                if append and os.path.exists(uri):
                    with open(uri, "rb") as old:
                        while chunk := old.read(1 << 20):
                            fh.write(chunk)
                yield fh
            if os.path.exists(uri):
                try:
                    os.chmod(tmp, os.stat(uri).st_mode & 0o7777)
                except OSError:
                    pass
            os.replace(tmp, uri)
        except OSError as exc:
            _unlink(tmp)
            raise StorageError(exc.strerror or str(exc), uri=uri) from None
        except BaseException:
            _unlink(tmp)
            raise

    def exists(self, uri: str) -> bool:
        return os.path.exists(uri)

    def is_dir(self, uri: str) -> bool:
        return os.path.isdir(uri)

    def iter_files(self, uri: str, recursive: bool) -> Iterator[str]:
        try:
            entries = sorted(os.scandir(uri), key=lambda e: e.name)
        except OSError as exc:
            raise StorageError(exc.strerror or str(exc), uri=uri) from None
        for entry in entries:
            if entry.is_dir():
                if recursive:
                    yield from self.iter_files(entry.path, recursive)
            elif not entry.name.startswith(".") or not entry.name.endswith(".tmp"):
                yield entry.path


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


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
    if backend is None:
        raise StorageError(f"no storage backend for {scheme}:// URIs", uri=uri)
    return backend


def _local(uri: str) -> str:
    return uri[len("file://"):] if uri.startswith("file://") else uri


def open_read(uri: str) -> IO[bytes]:
    """Open ``uri`` for streaming binary reading."""
    return backend_for(uri).open_read(_local(uri))


def read_bytes(uri: str) -> bytes:
    """The whole content of ``uri``."""
    with open_read(uri) as fh:
        return fh.read()


def atomic_write(uri: str, mode: str = "w") -> contextmanager[IO[bytes]]:  # type: ignore[valid-type]
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


def iter_files(uri: str, recursive: bool = False) -> Iterator[str]:
    """Files in the folder ``uri`` in name order, lazily."""
    return backend_for(uri).iter_files(_local(uri), recursive)
