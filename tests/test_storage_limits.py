"""Bounded reads: ``read_bytes``/``open_read`` with ``limit=`` check the size before reading
when it is known (a local file's size, an object's Content-Length) and bound the stream
otherwise (``/dev/zero``, FIFOs, pipes); a FIFO without a writer never blocks; OBS streams
read lines with a per-line bound (``readline(n)``) without fetching the whole object."""

from __future__ import annotations

import io
import os
import sys
import threading

import pytest

from mafmt import storage
from mafmt.errors import LimitError, StorageError
from mafmt.storage.base import Bounded

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/zero are POSIX")


def _in_thread(fn, seconds: float = 10.0):
    """``fn()`` in a thread that must finish within ``seconds`` (a hang fails the test)."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still blocked after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_local_file_over_the_limit_is_refused_from_its_size(tmp_path):
    big = tmp_path / "big.xml"
    with open(big, "wb") as fh:
        fh.truncate(3 << 30)  # 3 GiB, sparse: reading it would take seconds and gigabytes
    with pytest.raises(LimitError) as err:
        storage.read_bytes(str(big), limit=1 << 20)
    assert err.value.file == str(big) and f"({3 << 30} bytes)" in str(err.value)
    with pytest.raises(LimitError):
        storage.open_read(str(big), limit=100)
    small = tmp_path / "small.txt"
    small.write_bytes(b"x" * 100)
    assert storage.read_bytes(str(small), limit=100) == b"x" * 100
    with pytest.raises(LimitError):
        storage.read_bytes(str(small), limit=99)
    assert storage.read_bytes("file://" + str(small), limit=100) == b"x" * 100
    with pytest.raises(StorageError, match="is a folder"):
        storage.read_bytes(str(tmp_path), limit=10)


@posix_only
def test_dev_zero_is_bounded_not_read_forever():
    with pytest.raises(LimitError) as err:
        _in_thread(lambda: storage.read_bytes("/dev/zero", limit=1 << 20))
    assert err.value.file == "/dev/zero"
    with storage.open_read("/dev/zero", limit=1000) as fh:
        assert fh.read(1000) == b"\0" * 1000
        with pytest.raises(LimitError):
            fh.read(1)
    with storage.open_read("/dev/zero", limit=50) as fh, pytest.raises(LimitError):
        fh.readline(100)  # a line longer than the whole-file limit


@posix_only
def test_fifo_without_a_writer_does_not_block(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert _in_thread(lambda: storage.read_bytes(str(fifo), limit=100)) == b""
    assert _in_thread(lambda: storage.open_read(str(fifo)).read()) == b""


@posix_only
@pytest.mark.parametrize(("size", "limit"), [(50, 100), (100, 100), (5000, 100)])
def test_fifo_with_a_writer_is_read_up_to_the_limit(tmp_path, size, limit):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = os.urandom(size)
    opened = threading.Event()

    def reader() -> bytes:
        opened.set()
        return storage.read_bytes(str(fifo), limit=limit)

    def writer() -> None:
        with open(fifo, "wb") as fh:  # blocks until the reader has opened the FIFO
            try:
                fh.write(data)
            except BrokenPipeError:  # the reader stopped at its limit
                pass

    w = threading.Thread(target=writer, daemon=True)
    w.start()
    if size <= limit:
        assert _in_thread(reader) == data
    else:
        with pytest.raises(LimitError):
            _in_thread(reader)
    w.join(10)


def test_bounded_stream_stops_one_byte_past_the_limit():
    raw = io.BytesIO(b"a" * 10)
    with io.BufferedReader(Bounded(raw, 10, "mem")) as fh:
        assert fh.read() == b"a" * 10
    raw = io.BytesIO(b"a" * 1000)
    with io.BufferedReader(Bounded(raw, 10, "mem")) as fh:
        assert fh.read(10) == b"a" * 10  # the limit itself is fine
        with pytest.raises(LimitError):
            fh.read()
        assert raw.tell() == 11  # never read further than needed to know


def test_obs_object_over_the_limit_is_refused_from_its_content_length(s3):
    big = s3.uri("big.bin")
    storage.write_bytes(big, os.urandom(3 << 20))
    with pytest.raises(LimitError) as err:
        storage.read_bytes(big, limit=1000)
    assert err.value.file == big and f"({3 << 20} bytes)" in str(err.value)
    with pytest.raises(LimitError):
        storage.open_read(s3.uri("big.bin"), limit=(3 << 20) - 1)
    storage.write_bytes(s3.uri("s.txt"), b"0123456789")
    assert storage.read_bytes(s3.uri("s.txt"), limit=10) == b"0123456789"
    with pytest.raises(LimitError):
        storage.read_bytes(s3.uri("s.txt"), limit=9)


def test_obs_streams_closed_early_leave_the_connection_pool_usable(s3):
    storage.write_bytes(s3.uri("big.bin"), os.urandom(2 << 20))
    storage.write_bytes(s3.uri("small.txt"), b"small")
    for _ in range(20):  # more early closes than pooled connections
        with storage.open_read(s3.uri("big.bin")) as fh:
            assert len(fh.read(10)) == 10
        with pytest.raises(LimitError):
            storage.read_bytes(s3.uri("big.bin"), limit=10)
        assert storage.read_bytes(s3.uri("small.txt")) == b"small"
        assert storage.stat(s3.uri("small.txt")).size == 5
    assert s3.backend.health.unanswered_in_a_row == 0


def test_obs_readline_with_a_bound_reads_only_what_it_needs(s3):
    long_line = b"x" * (8 << 20) + b"\n"
    lines = [b'{"source": "a"}\n', long_line, b'{"source": "b"}\n']
    storage.write_bytes(s3.uri("m.manifest"), b"".join(lines))
    with storage.open_read(s3.uri("m.manifest")) as fh:
        assert fh.readline(1001) == lines[0]
        head = fh.readline(1001)
        assert head == b"x" * 1001  # the bound cut the long line: the reader reports it
        assert fh.raw._w.read_count <= 2 << 20  # only about one buffer fetched, not the 8 MiB line
        fh.readline()  # the rest of the long line
        assert fh.readline(1001) == lines[2] and fh.readline(1001) == b""
