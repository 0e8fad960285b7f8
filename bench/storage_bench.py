"""Storage benchmark: mafmt's parallel transfers vs a sequential esdk-obs-python loop.

Uploads and downloads 2,000 files of ~20 KB and one 200 MB file against a local
S3-compatible server started here on 127.0.0.1 (SeaweedFS by default, a separate
process; ``--server moto`` runs moto in this process instead), first with the plain
``ObsClient`` loop the ModelArts SDK's ``upload_dir``/``download_dir`` amount to
(``putFile`` / ``getObject(downloadPath=...)`` one file after another), then with
``mafmt.storage.copy``. Every download is compared byte for byte with the source.

``--rtt-ms N`` puts a latency proxy (separate process) between client and server that
delays every byte by N/2 ms each way without limiting bandwidth, to show what the same
code does over a real network to OBS; on plain loopback both sides are CPU-bound.

``--dead-endpoints`` instead measures, with the default timeouts, the time to a clear error
on a closed port, on a port whose SYNs are dropped, on a server that accepts connections and
never answers, and from killing the server (SIGKILL of the SeaweedFS process, or moto's
connections reset) in the middle of a folder upload.

Run from the repository root::

    python bench/storage_bench.py                    # full size, loopback
    python bench/storage_bench.py --rtt-ms 20        # full size, 20 ms round trip
    python bench/storage_bench.py --files 200 --big-mb 20   # quick
    python bench/storage_bench.py --dead-endpoints   # fail-fast figures (about a minute)
"""

from __future__ import annotations

import argparse
import asyncio
import filecmp
import multiprocessing
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from s3servers import (
    MotoServer,
    S3Endpoint,
    SeaweedServer,
    free_port,
    raw_client,
    use_endpoint,
    weed_binary,
)

from mafmt import storage
from mafmt.errors import StorageError


def _proxy_main(listen: int, upstream: int, delay: float) -> None:
    """Forward 127.0.0.1:listen -> 127.0.0.1:upstream, every chunk ``delay`` s late."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def read() -> None:
            try:
                while data := await reader.read(1 << 16):
                    queue.put_nowait((loop.time() + delay, data))
            except OSError:
                pass
            queue.put_nowait((loop.time() + delay, b""))

        async def write() -> None:
            while True:
                due, data = await queue.get()
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            writer.close()

        await asyncio.gather(read(), write(), return_exceptions=True)

    async def handle(cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        sr, sw = await asyncio.open_connection("127.0.0.1", upstream)
        await asyncio.gather(pipe(cr, sw), pipe(sr, cw), return_exceptions=True)

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", listen, backlog=512)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def _start_proxy(ep: S3Endpoint, rtt_ms: float) -> tuple[S3Endpoint, multiprocessing.Process]:
    port = free_port()
    upstream = int(ep.endpoint.rsplit(":", 1)[1])
    proc = multiprocessing.get_context("spawn").Process(target=_proxy_main, args=(port, upstream, rtt_ms / 2000),
                                                        daemon=True)
    proc.start()
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    return S3Endpoint(f"http://127.0.0.1:{port}", ep.access_key, ep.secret_key, ep.region, ep.signature,
                      ep.kind), proc


def _make_files(root: Path, count: int, size: int) -> int:
    total = 0
    for i in range(count):
        path = root / f"d{i % 20:02d}" / f"img_{i:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = os.urandom(size + (i % 512))
        path.write_bytes(data)
        total += len(data)
    return total


def _timed(label: str, fn, nbytes: int, results: list[tuple[str, float, float]]) -> float:
    start = time.perf_counter()
    fn()
    secs = time.perf_counter() - start
    results.append((label, secs, nbytes / secs / 1e6))
    print(f"  {label:<38} {secs:8.2f} s  {nbytes / secs / 1e6:8.1f} MB/s", flush=True)
    return secs


def _same(a: Path, b: Path) -> bool:
    for root, _, files in os.walk(a):
        for name in files:
            p = Path(root) / name
            q = b / p.relative_to(a)
            if not q.exists() or not filecmp.cmp(p, q, shallow=False):
                return False
    return True


def _time_to_error(label: str, fn) -> None:
    start = time.perf_counter()
    try:
        fn()
        outcome = "no error"
    except StorageError as exc:
        outcome = f"StorageError: {str(exc)[:110]}"
    print(f"  {label:<34} {time.perf_counter() - start:6.1f} s  {outcome}", flush=True)


def _dead_endpoints(server, work: Path, files: int) -> None:
    """Time to a clear error on dead and black-hole endpoints, with the default timeouts."""
    print("time to a clear error (default settings: connect 5 s, read 20 s, down after 3):")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    use_endpoint(S3Endpoint(f"http://127.0.0.1:{closed}"), timeout=20, retries=3, backoff=0.5)
    _time_to_error("closed port, obs ls", lambda: list(storage.ls("obs://bench/")))
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)  # the accept queue fills up at once: the kernel drops further SYNs
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(full.getsockname())
        fillers.append(filler)
    time.sleep(0.1)
    use_endpoint(S3Endpoint(f"http://127.0.0.1:{full.getsockname()[1]}"), timeout=20, retries=3, backoff=0.5)
    _time_to_error("SYNs dropped, obs ls", lambda: list(storage.ls("obs://bench/")))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # connections complete and are never answered
    use_endpoint(S3Endpoint(f"http://127.0.0.1:{silent.getsockname()[1]}"), timeout=20, retries=3, backoff=0.5)
    _time_to_error("accepts, never answers, obs ls", lambda: list(storage.ls("obs://bench/")))
    for sock in (full, silent, *fillers):
        sock.close()
    ep = server.start()
    backend = use_endpoint(ep, timeout=20, retries=3, backoff=0.5)
    backend.create_bucket("bench")
    src = work / "dead"
    _make_files(src, files, 2048)
    killed: list[float] = []

    def kill(done: int, total: int | None) -> None:
        if not killed and total and done > total // 10:
            killed.append(time.perf_counter())
            if isinstance(server, SeaweedServer) and server.proc is not None:
                server.proc.kill()
            else:
                server.kill()

    summary = storage.copy(str(src), "obs://bench/dead/", progress=kill, on_error="continue")
    print(f"  {'server killed mid-upload':<34} {time.perf_counter() - killed[0]:6.1f} s  {summary}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=("seaweedfs", "moto"), default="seaweedfs")
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--file-kb", type=int, default=20)
    ap.add_argument("--big-mb", type=int, default=200)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--rtt-ms", type=float, default=0, help="simulated network round trip (0: plain loopback)")
    ap.add_argument("--dead-endpoints", action="store_true", help="measure the time to an error on dead servers")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mafmt-bench-"))
    os.environ.setdefault("MAFMT_CHECKPOINT_DIR", str(work / "checkpoints"))
    server = SeaweedServer(weed_binary() or "weed") if args.server == "seaweedfs" else MotoServer()
    proxy = None
    if args.dead_endpoints:
        try:
            _dead_endpoints(server, work, args.files)
        finally:
            server.stop()
            shutil.rmtree(work, ignore_errors=True)
        return 0
    try:
        ep = server.start()
        if args.rtt_ms:
            ep, proxy = _start_proxy(ep, args.rtt_ms)
        part = 16 * 1024 * 1024
        backend = use_endpoint(ep, workers=args.workers, multipart_threshold=2 * part, part_size=part, retries=3)
        backend.create_bucket("bench")
        client = raw_client(ep, long_conn_mode=True)
        small = work / "small"
        nbytes = _make_files(small, args.files, args.file_kb * 1024)
        big = work / "big.bin"
        with open(big, "wb") as fh:
            fh.writelines(os.urandom(1024 * 1024) for _ in range(args.big_mb))
        big_bytes = big.stat().st_size
        files = sorted(p for p in small.rglob("*") if p.is_file())
        print(f"server {args.server} at {ep.endpoint} (simulated RTT {args.rtt_ms:g} ms); "
              f"{len(files)} files ({nbytes / 1e6:.1f} MB) and one {big_bytes / 1e6:.0f} MB file; "
              f"mafmt workers={args.workers}")
        results: list[tuple[str, float, float]] = []

        def sdk_upload() -> None:
            for p in files:
                key = "sdk/small/" + p.relative_to(small).as_posix()
                resp = client.putFile("bench", key, str(p))
                assert resp.status < 300, resp.errorCode

        def sdk_download() -> None:
            marker = None
            while True:
                resp = client.listObjects("bench", prefix="sdk/small/", marker=marker, max_keys=1000)
                for c in resp.body.contents:
                    out = work / "sdk-down" / c.key[len("sdk/small/"):]
                    out.parent.mkdir(parents=True, exist_ok=True)
                    got = client.getObject("bench", c.key, downloadPath=str(out))
                    assert got.status < 300, got.errorCode
                if not resp.body.is_truncated:
                    break
                marker = resp.body.next_marker or resp.body.contents[-1].key

        t_sdk_up = _timed("small files up, SDK sequential", sdk_upload, nbytes, results)
        t_up = _timed("small files up, mafmt parallel",
                      lambda: storage.copy(str(small), "obs://bench/mafmt/", progress=False), nbytes, results)
        t_sdk_down = _timed("small files down, SDK sequential", sdk_download, nbytes, results)
        t_down = _timed("small files down, mafmt parallel",
                        lambda: storage.copy("obs://bench/mafmt/small", str(work / "mafmt-down"), progress=False),
                        nbytes, results)
        assert _same(small, work / "sdk-down") and _same(small, work / "mafmt-down" / "small")

        t_big_sdk_up = _timed(f"{args.big_mb} MiB up, SDK putFile",
                              lambda: client.putFile("bench", "sdk/big.bin", str(big)), big_bytes, results)
        t_big_up = _timed(f"{args.big_mb} MiB up, mafmt multipart",
                          lambda: storage.copy(str(big), "obs://bench/mafmt/big.bin", progress=False), big_bytes,
                          results)
        t_big_sdk_down = _timed(f"{args.big_mb} MiB down, SDK getObject",
                                lambda: client.getObject("bench", "sdk/big.bin", downloadPath=str(work / "b1.bin")),
                                big_bytes, results)
        t_big_down = _timed(f"{args.big_mb} MiB down, mafmt ranged",
                            lambda: storage.copy("obs://bench/mafmt/big.bin", str(work / "b2.bin"), progress=False),
                            big_bytes, results)
        assert filecmp.cmp(big, work / "b1.bin", shallow=False) and filecmp.cmp(big, work / "b2.bin", shallow=False)
        print("speed-up (SDK time / mafmt time):")
        print(f"  small up {t_sdk_up / t_up:.1f}x, small down {t_sdk_down / t_down:.1f}x, "
              f"big up {t_big_sdk_up / t_big_up:.1f}x, big down {t_big_sdk_down / t_big_down:.1f}x")
        client.close()
        backend.close()
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.join(5)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
