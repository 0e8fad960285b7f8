"""Byte ranges of a file or object: ``[start, end)`` as one buffered stream (on object
storage one ranged GET), what a shard of a manifest reads (:mod:`mafmt.shards`)."""

from __future__ import annotations

import io
from typing import IO, Any

from mafmt import storage

__all__ = ["open_span"]


def open_span(uri: str, start: int, end: int) -> IO[bytes]:
    """A buffered binary stream over bytes ``[start, end)`` of ``uri`` (``readline(n)`` as
    :func:`mafmt.storage.open_read` gives it); on object storage one ranged GET."""
    if end <= start:
        return io.BufferedReader(io.BytesIO(b""))  # type: ignore[arg-type]
    if storage.scheme_of(uri) in (None, "file"):
        fh = open(uri.removeprefix("file://"), "rb")  # noqa: SIM115 - handed to the caller
        fh.seek(start)
        return io.BufferedReader(_Window(fh, end - start), 1 << 20)  # type: ignore[arg-type]
    return _open_remote_range(uri, start, end)


def _open_remote_range(uri: str, start: int, end: int) -> IO[bytes]:
    from obs import GetObjectHeader  # type: ignore[import-untyped]

    from mafmt.storage.obs import _ObjectReader

    backend: Any = storage.backend_for(uri)
    bucket, key = backend._file_key(uri)
    resp = backend.call("getObject", uri, bucket, key, headers=GetObjectHeader(range=f"{start}-{end - 1}"))
    return io.BufferedReader(_ObjectReader(resp.body.response, uri, backend), 1 << 20)


class _Window(io.RawIOBase):
    """At most ``n`` bytes of an open file, from where it stands."""

    def __init__(self, fh: IO[bytes], n: int) -> None:
        self._fh = fh
        self._left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(b)[: self._left]
        n = self._fh.readinto(view)  # type: ignore[attr-defined]
        self._left -= n or 0
        return n or 0

    def close(self) -> None:
        self._fh.close()
        super().close()
