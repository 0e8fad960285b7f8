"""The local-file backend."""

from __future__ import annotations

import io
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO

from mafmt import limits
from mafmt.errors import StorageError
from mafmt.storage.base import Bounded, ObjectInfo, error, over_limit
from mafmt.storage.transaction import Transaction, is_leftover_name

__all__ = ["LISTINGS", "LocalBackend", "is_temp_name"]

#: while set (a :class:`mafmt.storage.Snapshot`), each folder's sorted entries as first listed
LISTINGS: ContextVar[dict[str, list[os.DirEntry[str]]] | None] = ContextVar("mafmt_listings", default=None)

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of our in-progress temporary files or folders (a write
    transaction's staging, journal or leftover, a partial download)."""
    return name.startswith(".") and (name.endswith((".tmp", ".mafmt-part")) or is_leftover_name(name))


def _oserror(exc: OSError, uri: str) -> StorageError:
    if isinstance(exc, FileNotFoundError):
        return error("no such file or folder", uri=uri, code="NoSuchKey")
    return error((exc.strerror or str(exc)).lower(), uri=uri)


def _entry_error(entry: os.DirEntry[str], exc: OSError) -> StorageError:
    """The error for a folder entry that cannot be examined: a symbolic link to nowhere, or to
    itself, is named as one."""
    if not entry.is_symlink():
        return _oserror(exc, entry.path)
    return error(f"a symbolic link that cannot be followed ({(exc.strerror or str(exc)).lower()})", uri=entry.path)


def _entries(uri: str) -> list[os.DirEntry[str]]:
    """The entries of the folder ``uri`` in name order (within a snapshot, as first listed)."""
    seen = LISTINGS.get()
    if seen is not None and (got := seen.get(uri)) is not None:
        return got
    try:
        entries = sorted(os.scandir(uri), key=lambda e: e.name)
    except OSError as exc:
        raise _oserror(exc, uri) from None
    if seen is not None:
        seen[uri] = entries
    return entries


def _bad_name(uri: str) -> StorageError:
    return error("not a file name: it holds a NUL or a lone surrogate", uri=limits.clip(uri), code="NoSuchKey")


def _blocking(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: opened blocking anyway
        return
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_NONBLOCK)


def _open(uri: str) -> tuple[int, os.stat_result]:
    """A file descriptor and the stat of a file that is not a folder (a FIFO is opened without
    waiting for a writer)."""
    try:
        fd = os.open(uri, os.O_RDONLY | _NONBLOCK | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise error("no such file", uri=uri, code="NoSuchKey") from None
    except IsADirectoryError:
        raise error("is a folder, not a file", uri=uri, code="IsFolder") from None
    except OSError as exc:
        raise _oserror(exc, uri) from None
    except ValueError:  # no file name holds a NUL or a lone surrogate
        raise _bad_name(uri) from None
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise _oserror(exc, uri) from None
    if stat.S_ISDIR(st.st_mode):
        os.close(fd)
        raise error("is a folder, not a file", uri=uri, code="IsFolder")
    return fd, st


class LocalBackend:
    """Plain files."""

    def open_read(self, uri: str, limit: int | None = None) -> IO[bytes]:
        """Open a file for reading. With ``limit``, a regular file's size is checked before
        reading, and pipes, FIFOs and devices are read through a :class:`~.base.Bounded` stream.
        A FIFO is opened without waiting for a writer: one with no writer reads as empty."""
        fd, st = _open(uri)
        return self._stream(fd, st, uri, limit)

    def read_bytes(self, uri: str, limit: int | None = None) -> bytes:
        """The content of a file (see :func:`mafmt.storage.read_bytes`); a regular file is read
        with plain ``os.read`` calls (the common case: many small annotation files)."""
        fd, st = _open(uri)
        if not stat.S_ISREG(st.st_mode):
            with self._stream(fd, st, uri, limit) as fh:
                data = fh.read() if limit is None else fh.read(limit + 1)
            if limit is not None and len(data) > limit:
                raise over_limit(uri, limit)
            return data
        try:
            if limit is not None and st.st_size > limit:
                raise over_limit(uri, limit, st.st_size)
            chunks = []
            total = 0
            while chunk := os.read(fd, max(st.st_size - total, 0) + 65536):
                chunks.append(chunk)
                total += len(chunk)
                if limit is not None and total > limit:  # it grew while read
                    raise over_limit(uri, limit)
                if total == st.st_size:  # all of it (a size of 0 may still hold data: /proc files)
                    break
            return b"".join(chunks) if len(chunks) != 1 else chunks[0]
        finally:
            os.close(fd)

    def _stream(self, fd: int, st: os.stat_result, uri: str, limit: int | None) -> IO[bytes]:
        try:
            if _NONBLOCK:
                _blocking(fd)
            regular = stat.S_ISREG(st.st_mode)
            if regular and limit is not None and st.st_size > limit:
                raise over_limit(uri, limit, st.st_size)
            if regular or limit is None:
                return os.fdopen(fd, "rb")
            return io.BufferedReader(Bounded(io.FileIO(fd, "rb"), limit, uri))
        except BaseException:
            os.close(fd)
            raise

    @contextmanager
    def atomic_write(self, uri: str, append: bool) -> Iterator[IO[bytes]]:
        """A file transaction that replaces ``uri`` (or appends to it) only on success."""
        if os.path.isdir(uri):
            raise error("is a folder, not a file", uri=uri, code="IsFolder")
        tx = Transaction(uri, folder=False, overwrite=True, append=append)
        with tx, open(tx.path(), "r+b" if append else "w+b") as fh:
            fh.seek(0, os.SEEK_END)
            yield fh

    def exists(self, uri: str) -> bool:
        return os.path.exists(uri)

    def is_dir(self, uri: str) -> bool:
        return os.path.isdir(uri)

    def iter_files(self, uri: str, recursive: bool) -> Iterator[str]:
        """The files of :meth:`ls`, without the ``stat`` of each (only a symbolic link is
        followed, to refuse one that leads nowhere as :meth:`ls` does)."""
        if os.path.isfile(uri):
            yield uri
            return
        entries = _entries(uri)
        for entry in entries:
            if is_temp_name(entry.name):
                continue
            try:
                if entry.is_symlink():
                    entry.stat()  # one that cannot be followed is refused, as ls refuses it
                is_dir = entry.is_dir()
            except OSError as exc:
                raise _entry_error(entry, exc) from None
            if not is_dir:
                yield entry.path
            elif recursive:
                yield from self.iter_files(entry.path, True)

    def stat(self, uri: str) -> ObjectInfo:
        try:
            st = os.stat(uri)
        except OSError as exc:
            raise _oserror(exc, uri) from None
        except ValueError:
            raise _bad_name(uri) from None
        is_dir = os.path.isdir(uri)
        return ObjectInfo(uri=uri, size=0 if is_dir else st.st_size, mtime=st.st_mtime, is_dir=is_dir)

    def ls(self, uri: str, recursive: bool, prefix: str) -> Iterator[ObjectInfo]:
        """Entries of the folder ``uri`` in name order (a file lists as itself)."""
        if os.path.isfile(uri):
            yield self.stat(uri)
            return
        entries = _entries(uri)
        for entry in entries:
            if prefix and not entry.name.startswith(prefix):
                continue
            if is_temp_name(entry.name):
                continue
            try:
                is_dir = entry.is_dir()
                st = None if is_dir else entry.stat()
            except OSError as exc:
                raise _entry_error(entry, exc) from None
            if st is None:
                if recursive:
                    yield from self.ls(entry.path, True, "")
                else:
                    yield ObjectInfo(uri=entry.path + os.sep, is_dir=True)
            else:
                yield ObjectInfo(uri=entry.path, size=st.st_size, mtime=st.st_mtime)

    def delete(self, uri: str, recursive: bool) -> int:
        """Remove a file, or a folder with ``recursive``; returns files removed."""
        try:
            if os.path.isdir(uri):
                if not recursive:
                    raise error("is a folder (use recursive=True)", uri=uri, code="IsFolder")
                count = sum(len(files) for _, _, files in os.walk(uri))
                shutil.rmtree(uri)
                return count
            os.unlink(uri)
            return 1
        except OSError as exc:
            raise _oserror(exc, uri) from None
