"""Dead servers fail fast: a closed port, black holes (a server that accepts TCP and never
answers, one whose SYNs are dropped) and a server killed in the middle of a folder transfer
give a typed error within a hard bound; a transfer stops scheduling files once the endpoint
is down and counts the rest as not attempted. Short timeouts come from the configuration;
the documented defaults are checked separately."""

from __future__ import annotations

import http.server
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from s3servers import MotoServer, S3Endpoint, use_endpoint

from mafmt import storage
from mafmt.errors import StorageError
from mafmt.storage.config import ObsConfig
from mafmt.storage.connection import _HTTPConnection
from mafmt.storage.retry import Health, Retry
from mafmt.storage.transfer import TransferError

FAST = {"connect_timeout": 0.3, "timeout": 0.6, "backoff": 0.01, "retries": 3}


@pytest.fixture()
def restore_obs() -> Iterator[None]:
    previous = storage._BACKENDS.get("obs")
    yield
    current = storage._BACKENDS.pop("obs", None)
    if current is not None and current is not previous:
        current.close()
    if previous is not None:
        storage.register_backend("obs", previous)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SilentServer:
    """Accepts TCP connections and never answers; counts the connections (one per attempt)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def _syn_dropper() -> tuple[int, list[socket.socket]]:
    """A port whose accept queue is full, so the kernel drops further SYNs: connecting hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    held = [listener]
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        held.append(c)
    time.sleep(0.1)
    return port, held


def test_documented_defaults_fail_within_30_seconds() -> None:
    cfg = ObsConfig()
    assert (cfg.connect_timeout, cfg.timeout, cfg.down_after, cfg.retries, cfg.backoff) == (5.0, 20.0, 3, 3, 0.5)
    assert cfg.unreachable_within < 30
    assert ObsConfig(**FAST).unreachable_within < 2


def test_closed_port_with_default_settings(restore_obs) -> None:
    use_endpoint(S3Endpoint(f"http://127.0.0.1:{_closed_port()}"), retries=3, backoff=0.5, timeout=20)
    start = time.monotonic()
    with pytest.raises(StorageError) as err:
        list(storage.ls("obs://bucket/"))
    assert time.monotonic() - start < ObsConfig().unreachable_within
    e = err.value
    assert (e.code, e.status) == ("ConnectionError", None)
    assert "connection refused; gave up after 3 requests in a row got no answer" in str(e)
    assert "Errno" not in str(e) and "ConnectionError" not in str(e)


def test_black_hole_that_accepts_and_never_answers(restore_obs) -> None:
    hole = SilentServer()
    try:
        use_endpoint(S3Endpoint(f"http://127.0.0.1:{hole.port}"), **FAST)
        start = time.monotonic()
        with pytest.raises(StorageError) as err:
            list(storage.ls("obs://bucket/"))
        assert time.monotonic() - start < 5
        assert err.value.code == "Timeout" and "no answer within 0.6 s" in str(err.value)
        assert len(hole.accepted) == 1  # silence is not retried: waiting again only doubles the time
    finally:
        hole.close()


@pytest.mark.filterwarnings("ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning")  # inside the SDK
def test_tls_handshake_counts_as_connecting(restore_obs) -> None:
    hole = SilentServer()  # accepts TCP, never says ServerHello
    try:
        use_endpoint(S3Endpoint(f"https://127.0.0.1:{hole.port}"), **FAST)
        start = time.monotonic()
        with pytest.raises(StorageError) as err:
            storage.stat("obs://bucket/key.txt")
        assert time.monotonic() - start < 5
        assert "no connection within 0.3 s; gave up after 3 requests in a row" in str(err.value)
    finally:
        hole.close()


def test_black_hole_that_drops_syns(restore_obs) -> None:
    port, held = _syn_dropper()
    try:
        use_endpoint(S3Endpoint(f"http://127.0.0.1:{port}"), **FAST)
        start = time.monotonic()
        with pytest.raises(StorageError) as err:
            storage.read_bytes("obs://bucket/key.txt")
        assert time.monotonic() - start < 5
        assert err.value.code == "ConnectionError"
        assert "no connection within 0.3 s; gave up after 3 requests in a row" in str(err.value)
    finally:
        for s in held:
            s.close()


def test_server_killed_in_the_middle_of_a_folder_transfer(tmp_path, restore_obs) -> None:
    server = MotoServer()
    ep = server.start()
    try:
        backend = use_endpoint(ep, **FAST, workers=4)
        backend.create_bucket("killed")
        src = tmp_path / "src"
        src.mkdir()
        for i in range(300):
            (src / f"f{i:03d}.bin").write_bytes(os.urandom(512))
        killed: list[float] = []

        def progress(done: int, total: int | None) -> None:
            if done >= 30 * 512 and not killed:
                killed.append(time.monotonic())
                server.kill()

        summary = storage.copy(str(src), "obs://killed/up/", progress=progress, on_error="continue")
        assert killed and time.monotonic() - killed[0] < 10
        assert summary.transferred >= 30 and summary.failed >= 1 and summary.not_attempted > 100
        assert summary.transferred + summary.failed + summary.not_attempted == 300
        assert summary.to_dict()["not_attempted"] == summary.not_attempted
        assert f"{summary.not_attempted} not attempted" in str(summary)
        assert all(e.code in ("ConnectionError", "Timeout") for _, e in summary.errors)
        # the next transfer to the dead server fails at once and says why
        start = time.monotonic()
        with pytest.raises(TransferError) as err:
            storage.copy(str(src), "obs://killed/again/")
        assert time.monotonic() - start < 5
        assert err.value.summary.not_attempted >= 290 and "stopped answering" in str(err.value)
    finally:
        server.stop()


def test_retry_rules() -> None:
    health = Health(down_after=3)
    retry = Retry(retries=3, backoff=0.0, health=health)
    timeout = StorageError("silent", code="Timeout")
    refused = StorageError("refused", code="ConnectionError")
    assert not retry.should_retry(timeout, 0, health.answers)  # no sign of life: do not wait again
    seen = health.answers
    health.answered()
    assert retry.should_retry(timeout, 0, seen)  # the endpoint answered another request meanwhile
    assert retry.should_retry(StorageError("busy", status=503), 0, 0)
    assert not retry.should_retry(StorageError("gone", code="NoSuchKey", status=404), 0, 0)
    assert not retry.should_retry(StorageError("busy", status=503), 3, 0)  # out of retries
    for _ in range(2):
        health.unanswered()
    assert retry.should_retry(refused, 0, 0) and not health.down
    health.unanswered()
    assert health.down and not retry.should_retry(refused, 0, 0)
    health.answered()
    assert not health.down


class _ClosingHandler(http.server.BaseHTTPRequestHandler):
    """Answers with keep-alive, then closes the connection without saying so (like an idle
    timeout on the server)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


def test_a_pooled_connection_closed_by_the_server_is_reopened_not_failed() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ClosingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = _HTTPConnection("127.0.0.1", server.server_port, timeout=5, connect_timeout=1)
        for _ in range(3):
            conn.request("GET", "/")
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (200, b"ok")
            time.sleep(0.05)  # let the server's close arrive
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
