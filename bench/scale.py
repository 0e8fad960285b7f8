"""Scale-out benchmark: mafmt with 1 worker (one process, no Dask) against N Dask workers.

Cases (the inputs of ``bench/datagen.py``, generated once into a cache folder on tmpfs):

* ``voc-coco``: VOC -> COCO, a standard VOC folder of ``--images`` (20,000) XML files;
* ``voc-yolo``: the same folder -> a YOLO folder (a folder writer: the workers write their
  label files into the target's staging, the client the dataset's files);
* ``validate-1m``: ``validate`` of a classification manifest of ``--lines`` (1,000,000) lines;
* ``validate-det``: ``validate`` of a detection manifest of ``--images`` lines, each naming
  its ModelArts VOC file (the same images as the VOC folder);
* ``convert-1m``: the same manifest -> manifest (every line decoded, re-based, encoded).

Every run is a fresh ``python`` process running the library call (so imports and, for N
workers, the start of the ``distributed.LocalCluster`` are inside the wall time; the
cluster's start is also given alone). Peak memory: the client's own peak RSS, and each
worker's peak RSS asked from the workers at the end of the job. Outputs are compared: the
N-worker output must equal the 1-worker output byte for byte (validate: the same findings).

The machine's ceiling (with 2 workers): two one-process runs of the whole job at the same
time, no Dask; ``2 x (one run alone) / (the later of the two)`` is the best speed-up two
workers could give here, with nothing lost to cutting, merging or the scheduler. On a shared
2-core machine it is below 2: the second core, the caches and the memory bus are not free.

Each round runs the one-process job, the N-worker job and the pair back to back; besides the
best of the rounds, the table gives the median of the rounds' own ratios (and their range):
runs minutes apart on this machine differ by up to 30 %, runs seconds apart far less, so a
ratio within a round is the steadier figure (as ``farm-bench`` pairs A and B).

    python bench/scale.py                      # the full sizes, best of --runs 1
    python bench/scale.py --images 2000 --lines 100000 --runs 2   # a quick look

The table is printed as Markdown (paste it into bench/RESULTS.md, section Scale-out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pyc

_CHILD = r"""
import json, os, resource, sys, time
t0 = time.perf_counter()
import mafmt
case, src, dst, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
client = None
start = 0.0
if workers > 1:
    import contextlib, distributed, mafmt.distributed
    t = time.perf_counter()
    stack = contextlib.ExitStack()
    cluster = stack.enter_context(mafmt.distributed.local_cluster(workers))  # as --workers starts it
    client = distributed.Client(cluster)
    start = time.perf_counter() - t
kw = {"scheduler": client} if client is not None else {}
t = time.perf_counter()
if case.startswith("validate"):
    found = mafmt.validate(src, **kw)
    digest = __import__("hashlib").sha256(json.dumps([e.to_dict() for e in found]).encode()).hexdigest()
    extra = {"findings": len(found)}
else:
    import hashlib
    fmt = {"dst_format": "yolo"} if case == "voc-yolo" else {}
    report = mafmt.convert(src, dst, overwrite=True, **fmt, **kw)
    h = hashlib.sha256()
    files = [dst] if os.path.isfile(dst) else sorted(os.path.join(d, f) for d, _, fs in os.walk(dst) for f in fs)
    for f in files:  # (in chunks: the client's peak RSS is mafmt's, not the hash's)
        h.update(os.path.relpath(f, dst).encode() + b"\0")
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    digest = h.hexdigest()
    extra = {"written": report.written, "warnings": dict(report.warnings)}
job = time.perf_counter() - t
def usage():  # (VmHWM, not ru_maxrss: a child keeps the peak its parent had before the exec)
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    with open("/proc/self/status") as fh:
        hwm = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
    return hwm, r.ru_utime + r.ru_stime
peaks, cpus = [], []
if client is not None:
    got = sorted(client.run(usage).values())
    peaks, cpus = [g[0] for g in got], [g[1] for g in got]
total = time.perf_counter() - t0
rss, cpu = usage()
print(json.dumps({"total": total, "job": job, "start": start, "client_rss_kb": rss, "client_cpu": cpu,
                  "worker_rss_kb": peaks, "worker_cpu": cpus, "digest": digest, **extra}))
if client is not None:
    client.close(); stack.close()
"""


def _inputs(cache: Path, images: int, lines: int) -> dict[str, str]:
    import datagen

    voc, det = cache / f"voc-{images}", cache / f"det-{images}"
    coco = None
    if not (voc / "Annotations").is_dir():
        coco = datagen.make_coco(images)
        datagen.write_voc(coco, voc)
    if not (det / "train.manifest").is_file():
        datagen.write_manifest(coco or datagen.make_coco(images), det)
    manifest = cache / f"cls-{lines}.manifest"
    if not manifest.exists():
        datagen.write_cls_manifest(manifest, lines)
    return {"voc-coco": str(voc), "voc-yolo": str(voc), "validate-1m": str(manifest), "convert-1m": str(manifest),
            "validate-det": str(det / "train.manifest")}


def _dst(out: Path, case: str, tag: str) -> Path:
    """Where a run of ``case`` writes: a COCO file, a YOLO folder or a manifest."""
    return out / {"voc-coco": f"{case}-{tag}.json", "voc-yolo": f"{case}-{tag}"}.get(case, f"{case}-{tag}.manifest")


def _run(case: str, src: str, out: Path, workers: int) -> dict[str, Any]:
    dst = _dst(out, case, str(workers))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, case, src, str(dst), str(workers)], capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{case} with {workers} workers failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    if dst.is_dir():
        shutil.rmtree(dst)
    elif dst.exists():
        dst.unlink()
    return result


def _pair(case: str, src: str, out: Path) -> float:
    """The machine's ceiling for two workers on ``case``: two one-process runs at once (no
    Dask, nothing shared), each doing the whole job; returns the later one's job time. Two
    workers that split the job perfectly could at best do it in half that time."""
    dsts = [_dst(out, case, f"pair-{k}") for k in "ab"]
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, case, src, str(d), "1"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for d in dsts]
    jobs = []
    for proc in procs:
        stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"{case}, two one-process runs at once, failed:\n{stderr[-3000:]}")
        jobs.append(json.loads(stdout.strip().splitlines()[-1])["job"])
    for d in dsts:
        shutil.rmtree(d) if d.is_dir() else d.unlink(missing_ok=True)
    return max(jobs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=20000)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1, help="runs per case and worker count (the best is kept)")
    ap.add_argument("--cases", default="voc-coco,voc-yolo,validate-1m,validate-det,convert-1m")
    ap.add_argument("--cache", default=os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
                                                     "mafmt-scale-cache"))
    a = ap.parse_args()
    cache = Path(a.cache)
    cache.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    inputs = _inputs(cache, a.images, a.lines)
    pyc.compile_mafmt()
    print(f"inputs ready in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    out = Path(tempfile.mkdtemp(dir=cache))
    rows = []
    load = os.getloadavg()[0]
    for case in a.cases.split(","):
        best: dict[int, dict[str, Any]] = {}
        pair = float("inf")
        rounds: list[tuple[float, float | None]] = []  # per round: job speed-up, ceiling
        for _ in range(a.runs):
            jobs = {}
            for w in (1, a.workers):  # interleaved
                r = _run(case, inputs[case], out, w)
                print(f"{case} workers={w}: {r['wall']:.1f} s (job {r['job']:.1f} s)", file=sys.stderr, flush=True)
                jobs[w] = r["job"]
                if w not in best or r["wall"] < best[w]["wall"]:
                    best[w] = r
            top = None
            if a.workers == 2:
                this = _pair(case, inputs[case], out)
                pair, top = min(pair, this), 2 * jobs[1] / this
                print(f"{case} two one-process runs at once: job {this:.1f} s", file=sys.stderr, flush=True)
            rounds.append((jobs[1] / jobs[a.workers], top))
        one, many = best[1], best[a.workers]
        same = one["digest"] == many["digest"]
        rows.append((case, one, many, same, pair, rounds))
    out.rmdir() if not any(out.iterdir()) else None
    mib = 1024.0
    print(f"\nMachine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} "
          f"{platform.release()}; load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; "
          f"best of {a.runs}; {a.images:,} VOC files, {a.lines:,} manifest lines.\n")
    print(f"| case | 1 worker (one process): wall, CPU | {a.workers} workers: wall (cluster start) | {a.workers} "
          f"workers: job only | speed-up wall / job | machine's ceiling | job speed-up per round: median (range); "
          f"ceiling | CPU: client, each worker | peak RSS: 1 worker | peak RSS: client, each worker | same output |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for case, one, many, same, pair, rounds in rows:
        ceiling = f"{2 * one['job'] / pair:.2f}x" if pair < float("inf") else "—"
        ups, tops = [r for r, _ in rounds], [c for _, c in rounds if c is not None]
        per_round = (f"{statistics.median(ups):.2f}x ({min(ups):.2f}-{max(ups):.2f}); "
                     + (f"{statistics.median(tops):.2f}x" if tops else "—"))
        print(f"| {case} | {one['wall']:.1f} s, {one['client_cpu']:.1f} s | {many['wall']:.1f} s "
              f"({many['start']:.1f} s) | {many['job']:.1f} s | "
              f"{one['wall'] / many['wall']:.2f}x / {one['job'] / many['job']:.2f}x | {ceiling} | {per_round} | "
              f"{many['client_cpu']:.1f} s, "
              f"{', '.join(f'{c:.1f}' for c in many['worker_cpu'])} s | "
              f"{one['client_rss_kb'] / mib:.0f} MiB | {many['client_rss_kb'] / mib:.0f} MiB, "
              f"{', '.join(f'{k / mib:.0f}' for k in many['worker_rss_kb'])} MiB | {'yes' if same else 'NO'} |")
    for case, _, many, _, _, _ in rows:
        if many.get("warnings"):
            print(f"\n{case}: report warnings with workers: {many['warnings']}")


if __name__ == "__main__":
    main()
