"""Types shared by the storage backends: the backend protocol, object metadata, glob,
bounded streams and errors."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import IO, Any, Protocol

from mafmt.errors import LimitError, StorageError

__all__ = ["Backend", "Bounded", "ObjectInfo", "error", "glob_prefix", "glob_regex", "has_magic", "over_limit",
           "split_obs"]


def error(message: str, *, uri: str | None = None, code: str | None = None, status: int | None = None) -> StorageError:
    """A :class:`StorageError` whose ``code`` is set for programs but not shown in the message:
    for mafmt's own codes (``NoSuchKey`` of a local file, ``ConnectionError``); the codes an
    OBS server sends are shown, with the request id."""
    exc = StorageError(message, uri=uri, status=status)
    exc.code = code
    return exc


def over_limit(uri: str, limit: int, size: int | None = None) -> LimitError:
    """The error for a file larger than ``limit`` bytes."""
    known = f" ({size} bytes)" if size is not None else ""
    return LimitError(f"larger than the limit of {limit} bytes{known}", file=uri)


class Bounded(io.RawIOBase):
    """A raw stream over ``raw`` that gives at most ``limit`` bytes and raises
    :class:`LimitError` when a read asks past them and more data is there (for pipes,
    devices and bodies of unknown length). It never reads more than one byte past the limit."""

    def __init__(self, raw: Any, limit: int, uri: str) -> None:
        self._raw = raw
        self._left = limit
        self._limit = limit
        self._uri = uri

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b)
        if not len(view):
            return 0
        if self._left == 0:  # at the limit: is there more?
            if self._raw.readinto(view[:1]):
                raise over_limit(self._uri, self._limit)
            return 0
        n = self._raw.readinto(view[: self._left]) or 0
        self._left -= n
        return n

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


@dataclass(frozen=True)
class ObjectInfo:
    """One entry of a listing or the answer of :func:`mafmt.storage.stat`.

    Attributes:
        uri: full path or URI (folders end with ``/`` on object storage).
        size: bytes (0 for folders).
        mtime: modification time, seconds since the epoch (None when unknown).
        etag: object-storage ETag without quotes (None for local files and folders).
        is_dir: a folder (a common prefix on object storage).
    """

    uri: str
    size: int = 0
    mtime: float | None = None
    etag: str | None = None
    is_dir: bool = False

    @property
    def name(self) -> str:
        """The last path component (without a trailing slash)."""
        return self.uri.rstrip("/").rsplit("/", 1)[-1]


class Backend(Protocol):
    """What a storage backend provides; local files and OBS implement it."""

    def open_read(self, uri: str, limit: int | None = None) -> IO[bytes]:
        """A binary stream; with ``limit``, :class:`LimitError` for more than that many bytes
        (before reading when the size is known)."""
        ...

    def atomic_write(self, uri: str, append: bool) -> AbstractContextManager[IO[bytes]]: ...

    def exists(self, uri: str) -> bool: ...

    def is_dir(self, uri: str) -> bool: ...

    def iter_files(self, uri: str, recursive: bool) -> Iterator[str]: ...

    def stat(self, uri: str) -> ObjectInfo: ...

    def ls(self, uri: str, recursive: bool, prefix: str) -> Iterator[ObjectInfo]: ...

    def delete(self, uri: str, recursive: bool) -> int: ...


def split_obs(uri: str) -> tuple[str, str, str]:
    """``obs://bucket/a/b`` -> ``("obs", "bucket", "a/b")``."""
    scheme, _, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    return scheme.lower(), bucket, key


_MAGIC = re.compile(r"[*?\[]")


def has_magic(pattern: str) -> bool:
    """Whether ``pattern`` contains glob wildcards."""
    return _MAGIC.search(pattern) is not None


def glob_prefix(pattern: str) -> str:
    """The literal folder part of ``pattern`` before its first wildcard (ends with ``/``)."""
    m = _MAGIC.search(pattern)
    head = pattern if m is None else pattern[: m.start()]
    return head[: head.rfind("/") + 1]


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a glob: ``*`` and ``?`` stay inside one folder, ``**`` crosses folders,
    ``[abc]``/``[!abc]`` are character classes."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):  # "**/" matches zero or more folders
                    i += 1
                    out.append("(?:.*/)?")
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 2 if pattern.startswith("[!", i) else i + 1)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                body = "^" + re.escape(body[1:]) if body.startswith("!") else re.escape(body)
                out.append(f"[{body.replace(chr(92) + '-', '-')}]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)
