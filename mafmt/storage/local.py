"""The local-file backend."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from mafmt.errors import StorageError
from mafmt.storage.base import ObjectInfo
from mafmt.storage.transaction import Transaction, is_leftover_name

__all__ = ["LocalBackend", "is_temp_name"]


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of our in-progress temporary files or folders (a write
    transaction's staging, journal or leftover, a partial download)."""
    return name.startswith(".") and (name.endswith((".tmp", ".mafmt-part")) or is_leftover_name(name))


def _oserror(exc: OSError, uri: str) -> StorageError:
    code = "NoSuchKey" if isinstance(exc, FileNotFoundError) else None
    return StorageError(exc.strerror or str(exc), uri=uri, code=code)


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
            raise _oserror(exc, uri) from None

    @contextmanager
    def atomic_write(self, uri: str, append: bool) -> Iterator[IO[bytes]]:
        """A file transaction that replaces ``uri`` (or appends to it) only on success."""
        if os.path.isdir(uri):
            raise StorageError("is a directory, not a file", uri=uri)
        tx = Transaction(uri, folder=False, overwrite=True, append=append)
        with tx, open(tx.path(), "r+b" if append else "w+b") as fh:
            fh.seek(0, os.SEEK_END)
            yield fh

    def exists(self, uri: str) -> bool:
        return os.path.exists(uri)

    def is_dir(self, uri: str) -> bool:
        return os.path.isdir(uri)

    def iter_files(self, uri: str, recursive: bool) -> Iterator[str]:
        for info in self.ls(uri, recursive, ""):
            if not info.is_dir:
                yield info.uri

    def stat(self, uri: str) -> ObjectInfo:
        try:
            st = os.stat(uri)
        except OSError as exc:
            raise _oserror(exc, uri) from None
        is_dir = os.path.isdir(uri)
        return ObjectInfo(uri=uri, size=0 if is_dir else st.st_size, mtime=st.st_mtime, is_dir=is_dir)

    def ls(self, uri: str, recursive: bool, prefix: str) -> Iterator[ObjectInfo]:
        """Entries of the folder ``uri`` in name order (a file lists as itself)."""
        if os.path.isfile(uri):
            yield self.stat(uri)
            return
        try:
            entries = sorted(os.scandir(uri), key=lambda e: e.name)
        except OSError as exc:
            raise _oserror(exc, uri) from None
        for entry in entries:
            if prefix and not entry.name.startswith(prefix):
                continue
            if is_temp_name(entry.name):
                continue
            if entry.is_dir():
                if recursive:
                    yield from self.ls(entry.path, True, "")
                else:
                    yield ObjectInfo(uri=entry.path + os.sep, is_dir=True)
            else:
                st = entry.stat()
                yield ObjectInfo(uri=entry.path, size=st.st_size, mtime=st.st_mtime)

    def delete(self, uri: str, recursive: bool) -> int:
        """Remove a file, or a folder with ``recursive``; returns files removed."""
        try:
            if os.path.isdir(uri):
                if not recursive:
                    raise StorageError("is a directory (use recursive=True)", uri=uri)
                count = sum(len(files) for _, _, files in os.walk(uri))
                shutil.rmtree(uri)
                return count
            os.unlink(uri)
            return 1
        except OSError as exc:
            raise _oserror(exc, uri) from None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
