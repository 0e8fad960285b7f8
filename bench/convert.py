"""Conversion and validation benchmark: mafmt against globox, datumaro and the lower bound.

For each dataset size the script writes the inputs with plain Python (``bench/datagen.py``:
one seeded COCO dataset and the same images and objects as standard VOC, ultralytics YOLO
with a size table, a ModelArts manifest with its VOC files, the same manifest with errors,
and an image-classification manifest), then times every case with every tool that does it:

* ``bound``: the lower bound, ``bench/lower_bound.py`` (parse the input, write as many files);
* ``floor``: the Python floor, ``bench/floor.py`` (the shortest straightforward conversion in
  Python: every object visited, nothing checked; what no converter that visits its objects in
  Python can beat);
* ``globox``, ``datumaro``: ``bench/peers.py``, a few lines of each library's API per case;
* ``mafmt``: the ``mafmt`` command line, exactly as a user runs it.

Every run is a whole process started afresh, timed from outside (wall clock around the
process; user and system CPU and peak RSS from ``/usr/bin/time`` when present, so the
figures are the command's own); inputs and outputs live on tmpfs (``/dev/shm``); every run
writes into a new target path; runs are interleaved (round after round over cases and
tools, the tool order rotating) and the best of N is kept. A (case, tool) whose runs have
used up ``--budget`` seconds stops early (at least one run); the table says "best of k"
then. The first run of each (case, tool) is checked: images, objects and polygons in the
output are counted and compared with the input, and ``validate`` must find exactly the
defective lines, so a tool that drops data is flagged in the table instead of looking fast.

Run from the repository root, in a virtualenv with mafmt, globox and datumaro installed::

    python bench/convert.py                     # 20,000 and 100,000 images, best of 5
    python bench/convert.py --sizes 20000       # one size (its table is replaced, others kept)
    python bench/convert.py --quick             # smoke run: 2,000 images, 1 run, no RESULTS.md
    python bench/convert.py --cases coco-yolo,voc-coco --tools bound,mafmt --no-write

The tables go into ``bench/RESULTS.md`` between ``<!-- bench/convert.py ... -->`` markers;
a re-run replaces only its own size's table (and the startup table).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import datagen
import pyc

RESULTS = HERE / "RESULTS.md"
TOOLS = ["bound", "floor", "globox", "datumaro", "mafmt"]
#: the cases bench/floor.py has a naive conversion for
FLOOR_CASES = frozenset({"coco-yolo", "coco-voc", "voc-coco", "yolo-coco", "coco-manifest", "manifest-coco",
                         "manifest-manifest"})
VARIANTS: dict[str, list[str]] = {}  # "mafmt NAME" -> extra mafmt arguments (--variant)
PEERS = ["globox", "datumaro"]
TIME = "/usr/bin/time"


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One benchmark case: what mafmt runs, what the output must hold, the issue's target."""

    name: str
    title: str
    src: Callable[[datagen.Dataset], str]
    out: str  # "dir": a new folder; otherwise the file name inside a new folder
    mafmt: Callable[[datagen.Dataset, str], list[str]]
    check: str  # how the output is counted: yolo, voc, coco, manifest, lines, validate
    target: str  # "peer": <= 2x bound and >= 3x globox; "bound2.5", "bound3", "lines"
    peers: tuple[str, ...] = ()
    aux: Callable[[str, datagen.Dataset], str] = lambda tool, ds: ""


def _convert(src: str, dst: str, src_fmt: str, dst_fmt: str, *extra: str) -> list[str]:
    return ["convert", src, dst, "--from", src_fmt, "--to", dst_fmt, *extra]


CASES = [
    Case("coco-yolo", "COCO → YOLO", lambda d: d.coco, "dir",
         lambda d, o: _convert(d.coco, o, "coco", "yolo"), "yolo", "peer", ("globox", "datumaro"),
         lambda t, d: d.coco_dm if t == "datumaro" else ""),
    Case("coco-voc", "COCO → VOC", lambda d: d.coco, "dir",
         lambda d, o: _convert(d.coco, o, "coco", "voc"), "voc", "peer", ("globox", "datumaro"),
         lambda t, d: d.coco_dm if t == "datumaro" else ""),
    Case("voc-coco", "VOC → COCO", lambda d: d.voc, "out.json",
         lambda d, o: _convert(d.voc, o, "voc", "coco"), "coco", "peer", ("globox", "datumaro")),
    Case("yolo-coco", "YOLO → COCO (sizes given)", lambda d: d.yolo, "out.json",
         lambda d, o: _convert(d.yolo, o, "yolo", "coco", "--size-table", d.sizes_csv), "coco", "peer",
         ("globox", "datumaro"), lambda t, d: d.sizes_csv if t in ("bound", "floor") else d.yolo_images),
    Case("coco-manifest", "COCO → manifest (+ VOC files)", lambda d: d.coco, "train.manifest",
         lambda d, o: _convert(d.coco, o, "coco", "manifest"), "manifest", "bound2.5"),
    Case("manifest-coco", "manifest (+ VOC files) → COCO", lambda d: d.manifest, "out.json",
         lambda d, o: _convert(d.manifest, o, "manifest", "coco"), "coco", "bound2.5"),
    Case("manifest-manifest", "manifest → manifest ({cls} lines)", lambda d: d.cls_manifest, "out.manifest",
         lambda d, o: _convert(d.cls_manifest, o, "manifest", "manifest"), "lines", "bound2.5"),
    Case("validate-valid", "`validate`, valid detection manifest ({n} lines)", lambda d: d.manifest, "",
         lambda d, o: ["validate", d.manifest], "validate", "bound3"),
    Case("validate-errors", "`validate`, {n} lines with errors", lambda d: d.errors_manifest, "",
         lambda d, o: ["validate", d.errors_manifest], "validate", "bound3"),
    Case("validate-cls", "`validate`, classification manifest ({cls} lines)", lambda d: d.cls_manifest, "",
         lambda d, o: ["validate", d.cls_manifest], "validate", "lines"),
]
CASE_BY_NAME = {c.name: c for c in CASES}


def mafmt_argv() -> list[str]:
    """The ``mafmt`` console script of this interpreter's environment (else ``python -m mafmt``)."""
    script = Path(sys.executable).with_name("mafmt")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mafmt"]


def command(case: Case, tool: str, ds: datagen.Dataset, dst: str) -> list[str]:
    """The argv that runs ``case`` with ``tool``, writing to ``dst``."""
    if tool == "mafmt" or tool in VARIANTS:
        return [*mafmt_argv(), *case.mafmt(ds, dst), *VARIANTS.get(tool, [])]
    script = {"bound": "lower_bound.py", "floor": "floor.py"}.get(tool, "peers.py")
    head = [sys.executable, str(HERE / script)] + ([] if tool in ("bound", "floor") else [tool])
    return [*head, case.name, case.src(ds), dst or "-", case.aux(tool, ds)]


# --------------------------------------------------------------------------- one measured run


@dataclass
class Run:
    """One finished process."""

    wall: float
    user: float
    sys: float
    rss_mib: float
    rc: int
    tail: str = ""  # the last line of stderr
    error: str = ""  # set when the run failed


def measure(argv: list[str], stdout: str, timeout: float) -> Run:
    """Run ``argv`` once; its stdout goes to the file ``stdout``. Wall time is taken around the
    process; CPU and peak RSS are the command's own (``/usr/bin/time``), or, without it, from
    ``wait4`` (whose peak RSS may then include this process's own, inherited through fork)."""
    stats = stdout + ".time"
    timed = os.path.exists(TIME)
    full = [TIME, "-o", stats, "-f", "%U %S %M", *argv] if timed else argv
    with open(stdout, "wb") as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=err, start_new_session=True)
        killed: list[bool] = []

        def kill() -> None:  # the whole group: /usr/bin/time and the command under it
            killed.append(True)
            os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill) if timeout > 0 else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)  # blocking: the wall time is exact
        wall = time.perf_counter() - start
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if killed:
            return Run(timeout, 0, 0, 0, -9, error=f"timeout after {timeout:.0f} s")
        rc = proc.returncode
        err.seek(0)
        tail = [ln for ln in err.read().decode(errors="replace").splitlines() if ln.strip()]
    user, sys_, rss = usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 1024
    if timed:
        try:
            u, s, m = Path(stats).read_text().split("\n")[-2].split()
            user, sys_, rss = float(u), float(s), int(m) / 1024
        except (OSError, ValueError, IndexError):
            pass
    return Run(wall, user, sys_, rss, rc, tail[-1][:200] if tail else "")


# --------------------------------------------------------------------------- output checks


def _files(root: str, suffix: str) -> list[str]:
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(suffix)]


_OBJ = re.compile(rb"<object[\s/>]")
YOLO_NOT_LABELS = {"train.txt", "val.txt", "valid.txt", "test.txt", "classes.txt", "labelmap.txt"}


def count_output(kind: str, dst: str, stdout: str) -> dict[str, int]:
    """What the output holds: images, objects (and polygons where the format has them)."""
    if kind == "yolo":
        files = [f for f in _files(dst, ".txt") if os.path.basename(f) not in YOLO_NOT_LABELS]
        objects = 0
        for f in files:
            with open(f, "rb") as fh:
                objects += sum(1 for ln in fh if ln.strip())
        return {"images": len(files), "objects": objects}
    if kind == "voc":
        files = _files(dst, ".xml")
        return {"images": len(files), "objects": sum(len(_OBJ.findall(Path(f).read_bytes())) for f in files)}
    if kind == "coco":
        path = dst if os.path.exists(dst) else max(_files(os.path.dirname(dst), ".json"), key=os.path.getsize,
                                                   default="")
        if not path:
            return {"images": 0, "objects": 0}
        doc = json.loads(Path(path).read_bytes())
        anns = doc.get("annotations", [])
        return {"images": len(doc.get("images", [])), "objects": len(anns),
                "polygons": sum(1 for a in anns if isinstance(a.get("segmentation"), list) and a["segmentation"])}
    if kind == "manifest":
        images = objects = polygons = 0
        base = os.path.dirname(dst)
        with open(dst, "rb") as fh:
            for raw in fh:
                images += 1
                for ann in json.loads(raw).get("annotation", []):
                    loc = ann.get("annotation-loc")
                    if loc:
                        data = Path(base, loc).read_bytes()
                        objects += len(_OBJ.findall(data))
                        polygons += data.count(b"<polygon>")
        return {"images": images, "objects": objects, "polygons": polygons}
    if kind == "lines":
        lines = annotations = 0
        with open(dst, "rb") as fh:
            for raw in fh:
                lines += 1
                annotations += len(json.loads(raw).get("annotation", []))
        return {"lines": lines, "annotations": annotations}
    if kind == "validate":
        text = Path(stdout).read_text(errors="replace")
        m = re.search(r"; (\d+) error\(s\), (\d+) warning\(s\)\)\s*$", text)
        bad = {int(x) for x in re.findall(r"^error: [^\n]*?\.manifest:(\d+):", text, re.MULTILINE)}
        return {"errors": int(m.group(1)) if m else -1, "lines": len(bad)}
    raise ValueError(kind)


def expected(case: Case, ds: datagen.Dataset) -> dict[str, int]:
    """What a lossless output of ``case`` holds."""
    if case.check == "validate":
        return {"lines": ds.error_any} if case.name == "validate-errors" else {"errors": 0}
    if case.check == "lines":
        return {"lines": ds.cls_lines, "annotations": ds.cls_annotations}
    exp = {"images": ds.images, "objects": ds.objects}
    if case.name in ("coco-manifest", "manifest-coco"):
        exp["polygons"] = ds.polygons
    return exp


def check(case: Case, ds: datagen.Dataset, got: dict[str, int]) -> str:
    """'' when the output holds what it should, else what is missing or extra."""
    problems = []
    for key, want in expected(case, ds).items():
        have = got.get(key, 0)
        if have != want:
            note = ""
            if key == "images" and case.check == "yolo" and want - have == ds.empty_images:
                note = " (no label file for images without objects)"
            elif key == "images" and want - have == ds.empty_images:
                note = " (images without objects dropped)"
            problems.append(f"{key} {have:,}/{want:,}{note}")
    return "; ".join(problems)


# --------------------------------------------------------------------------- the benchmark


@dataclass
class Result:
    """Every run of one (size, case, tool)."""

    size: int
    case: str
    tool: str
    runs: list[Run] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    problem: str = ""  # the output check's finding, or why the tool could not run

    def best(self) -> Run | None:
        ok = [r for r in self.runs if not r.error]
        return min(ok, key=lambda r: r.wall) if ok else None

    def spent(self) -> float:
        return sum(r.wall for r in self.runs)


def available(tool: str) -> bool:
    """Whether a peer library can be imported by this interpreter."""
    if tool in ("bound", "floor", "mafmt") or tool in VARIANTS:
        return True
    probe = [sys.executable, "-c", f"import {tool}"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def prepare(size: int, cls_lines: int, work: Path, cache: str | None) -> datagen.Dataset:
    """The inputs for ``size`` images: from the cache folder when it has them, else generated
    (in a child process, so this one stays small)."""
    root = Path(cache) / f"n{size}-c{cls_lines}-s{datagen.SEED}" if cache else work / f"in-{size}"
    if (root / "dataset.json").exists():
        print(f"inputs for {size:,} images: {root} (cached)", flush=True)
        return datagen.load(str(root))
    if root.exists():
        shutil.rmtree(root)
    start = time.perf_counter()
    subprocess.run([sys.executable, str(HERE / "datagen.py"), str(root), "--images", str(size), "--cls-lines",
                    str(cls_lines)], check=True, stdout=subprocess.DEVNULL)
    print(f"inputs for {size:,} images written in {time.perf_counter() - start:.0f} s", flush=True)
    return datagen.load(str(root))


def run_size(size: int, ds: datagen.Dataset, cases: list[Case], tools: list[str], args: argparse.Namespace,
             work: Path) -> list[Result]:
    """Every (case, tool) of one size, interleaved, best of ``args.runs``."""
    results = {(c.name, t): Result(size, c.name, t) for c in cases for t in tools
               if t in ("bound", "mafmt") or t in VARIANTS or t in c.peers or (t == "floor" and c.name in FLOOR_CASES)}
    for c in cases:
        for t in tools:
            if t in PEERS and t not in c.peers and (c.name, t) not in results:
                results[(c.name, t)] = Result(size, c.name, t, problem="does not do this")
    out_root = work / f"out-{size}"
    serial = 0
    for rnd in range(args.runs):
        for c in cases:
            order = tools[rnd % len(tools):] + tools[: rnd % len(tools)]
            for t in order:
                res = results.get((c.name, t))
                if res is None or res.problem == "does not do this" or len(res.runs) > rnd:
                    continue
                if res.runs and (res.best() is None or res.spent() >= args.budget):
                    continue
                serial += 1
                run_dir = out_root / f"{serial:05d}-{c.name}-{t}"
                run_dir.mkdir(parents=True)
                dst = str(run_dir / "t") if c.out == "dir" else (str(run_dir / c.out) if c.out else "")
                stdout = str(run_dir.parent / f"{serial:05d}.stdout")
                run = measure(command(c, t, ds, dst), stdout, args.timeout)
                if run.rc != 0 and not run.error and not (c.check == "validate" and run.rc == 1
                                                             and t.startswith("mafmt")):
                    run.error = run.tail or f"exit {run.rc}"
                res.runs.append(run)
                if run.error:
                    res.problem = f"failed: {run.error}"
                elif len(res.runs) == 1 and t not in ("bound", "floor"):  # (placeholder bytes; the floor is not checked)
                    try:
                        res.counts = count_output(c.check, dst, stdout)
                        res.problem = check(c, ds, res.counts)
                    except (OSError, ValueError) as exc:
                        res.problem = f"output unreadable: {exc}"
                print(f"N={size:>7,} {c.name:<18} {t:<9} run {len(res.runs)}: {run.wall:7.2f} s "
                      f"{run.rss_mib:6.0f} MiB rc={run.rc} {res.problem[:70] if len(res.runs) == 1 else ''}",
                      flush=True)
                shutil.rmtree(run_dir, ignore_errors=True)
                os.unlink(stdout)
                if os.path.exists(stdout + ".time"):
                    os.unlink(stdout + ".time")
    return list(results.values())


def startup(runs: int, timeout: float, work: Path) -> dict[str, Run | None]:
    """Best wall time of ``mafmt --help``, ``python -c "import mafmt"`` and a bare interpreter."""
    cmds = {"mafmt --help": [*mafmt_argv(), "--help"], 'python -c "import mafmt"': [sys.executable, "-c",
                                                                                     "import mafmt"],
            "python -c pass (reference)": [sys.executable, "-c", "pass"]}
    best: dict[str, Run | None] = dict.fromkeys(cmds)
    out = str(work / "startup.stdout")
    for _ in range(max(runs, 1) * 2):
        for name, argv in cmds.items():
            r = measure(argv, out, timeout)
            cur = best[name]
            if r.rc == 0 and (cur is None or r.wall < cur.wall):
                best[name] = r
    return best


# --------------------------------------------------------------------------- reporting


def _secs(t: float) -> str:
    return f"{t:.2f} s" if t < 10 else f"{t:.1f} s" if t < 100 else f"{t:.0f} s"


def _cell(res: Result | None, runs: int) -> str:
    if res is None:
        return "—"
    if res.problem == "does not do this":
        return "—"
    best = res.best()
    if best is None:
        return f"failed ({res.problem.removeprefix('failed: ')[:60]})" if res.problem else "failed"
    text = f"{_secs(best.wall)} ({_secs(best.user + best.sys)} CPU), {best.rss_mib:.0f} MiB"
    if len(res.runs) < runs:
        text += f" (best of {len(res.runs)})"
    if res.problem:
        text += f" ⚠ {res.problem}"
    return text


def _target(case: Case, mafmt: Run | None, bound: Run | None, globox: Run | None, ds: datagen.Dataset) -> str:
    if mafmt is None:
        return "—"
    if case.target == "lines":
        rate = ds.cls_lines / mafmt.wall
        if case.name == "validate-cls":
            return f"≥ 400,000 lines/s: {rate:,.0f} lines/s, {'met' if rate >= 400_000 else 'not met'}"
        return f"≤ 2.5× bound: {'met' if bound and mafmt.wall <= 2.5 * bound.wall else 'not met'}"
    ratio = mafmt.wall / bound.wall if bound else float("inf")
    if case.target == "peer":
        vs = globox.wall / mafmt.wall if globox else 0.0
        ok = ratio <= 2 and vs >= 3
        return f"≤ 2× bound and ≥ 3× globox: {'met' if ok else 'not met'}"
    limit = 2.5 if case.target == "bound2.5" else 3.0
    return f"≤ {limit:g}× bound: {'met' if ratio <= limit else 'not met'}"


def _cpu(run: Run) -> float:
    return max(run.user + run.sys, 0.01)


def table(size: int, ds: datagen.Dataset, results: list[Result], runs: int) -> str:
    """The Markdown table of one size (a column per ``--variant`` after mafmt's)."""
    idx = {(r.case, r.tool): r for r in results if r.size == size}
    variants = list(VARIANTS)
    head = ("| case | lower bound | Python floor | globox | datumaro | mafmt | "
            + "".join(f"{v} (speed-up) | " for v in variants)
            + "mafmt ÷ bound (wall, CPU, RSS) | floor ÷ bound, mafmt ÷ floor (CPU) | mafmt vs fastest peer "
            "| target (issue 13) |\n"
            + "|---|---:|---:|---:|---:|---:|" + "---:|" * len(variants) + "---:|---:|---:|---|")
    rows = [head]
    for c in CASES:
        if not any(k[0] == c.name for k in idx):
            continue
        get = {t: idx.get((c.name, t)) for t in [*TOOLS, *variants]}
        best = {t: (r.best() if r else None) for t, r in get.items()}
        m, b, f = best["mafmt"], best["bound"], best["floor"]
        ratio = (f"{m.wall / b.wall:.1f}×, {_cpu(m) / _cpu(b):.1f}×, {m.rss_mib / b.rss_mib:.1f}×" if m and b else "—")
        floor = f"{_cpu(f) / _cpu(b):.1f}×, {_cpu(m) / _cpu(f):.1f}×" if m and b and f else "—"
        peers = [(best[t].wall, t) for t in PEERS if best[t] is not None]  # type: ignore[union-attr]
        vs = "—"
        if m and peers:
            wall, name = min(peers)
            vs = f"{wall / m.wall:.1f}× faster ({name})" if wall >= m.wall else f"{m.wall / wall:.1f}× slower ({name})"
        extra = ""
        for v in variants:
            r = best[v]
            extra += f"{_cell(get[v], runs)}{f' ({m.wall / r.wall:.2f}×)' if m and r else ''} | "
        title = c.title.format(n=f"{ds.images:,}", cls=f"{ds.cls_lines:,}")
        rows.append(f"| {title} | {_cell(get['bound'], runs)} | {_cell(get['floor'], runs)} | "
                    f"{_cell(get['globox'], runs)} | {_cell(get['datumaro'], runs)} | {_cell(get['mafmt'], runs)} | "
                    f"{extra}{ratio} | {floor} | {vs} | "
                    f"{_target(c, m, b, best['globox'], ds)} |")
    return "\n".join(rows)


#: where the library's code is: ``mafmt/``, and the folders its ``converters`` and ``schemas``
#: links lead to (a change there changes the figures as much as one in ``mafmt/``)
LIBRARY = ("mafmt", "converters", "schemas")


def library_commit() -> str:
    """The last commit that changed the library (:data:`LIBRARY`), not the benchmark."""
    out = subprocess.run(["git", "-C", str(HERE.parent), "log", "-1", "--format=%h %s", "--", *LIBRARY],
                         capture_output=True, text=True, check=False).stdout.strip()
    return out[:90] or "unknown"


def machine() -> str:
    """Cores, CPU, memory, Python and library versions, mafmt's commit, the load."""
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    cpu = "?"
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        kb = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                      if ln.startswith("MemTotal")))
        mem = f", {kb / 1024 ** 2:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    commit = library_commit()
    dirty = subprocess.run(["git", "-C", str(HERE.parent), "status", "--porcelain", "--", *LIBRARY],
                           capture_output=True, text=True, check=False).stdout.strip()
    return (f"{os.cpu_count()} cores ({cpu}){mem}, {platform.system()} {platform.release()}, Python "
            f"{platform.python_version()}; mafmt {ver('mafmt')} at `{commit}`{' + local changes' if dirty else ''}, "
            f"globox {ver('globox')}, datumaro {ver('datumaro')}, orjson {ver('orjson')}, lxml {ver('lxml')}; "
            f"load average at the start {os.getloadavg()[0]:.1f}")


def public_argv(argv: list[str]) -> list[str]:
    """``argv`` without the options that name local paths (they do not change the figures)."""
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a in ("--data-cache", "--work", "--results", "--json"):
            skip = True
        elif not a.startswith(("--data-cache=", "--work=", "--results=", "--json=")):
            out.append(a)
    return out


def size_section(rec: dict[str, Any]) -> str:
    """The Markdown of one size from its record (see :func:`record`): what was run, the data,
    the table, the output checks."""
    size, ds, runs = rec["size"], datagen.Dataset(**rec["dataset"]), rec["runs"]
    results = [_result(r) for r in rec["results"]]
    VARIANTS.update({k: v for k, v in rec.get("variants", {}).items() if k not in VARIANTS})
    checked = [r for r in results if r.counts]
    lines = [
        f"### {size:,} images",
        "",
        "```",
        "python bench/convert.py " + shlex.join(public_argv(rec["argv"])),
        "```",
        "",
        (f"Data: {ds.images:,} images, {ds.objects:,} objects ({ds.objects / ds.images:.1f} per image, "
         f"{ds.polygons:,} polygons = {100 * ds.polygons / max(ds.objects, 1):.0f} %), {ds.empty_images:,} images "
         f"without objects; the error manifest has {ds.error_lines:,} defective lines and {ds.error_files:,} "
         f"defective VOC files ({ds.error_any:,} lines with a defect). Best of {runs}, interleaved, budget "
         f"{rec['budget']:.0f} s per case and tool; {rec['minutes']:.0f} min for this size. Machine: "
         f"{rec['facts']}; at the end {rec['load_end']:.1f}."),
        "",
        table(size, ds, results, runs),
        "",
        "Output checks (first run of each tool; the bound writes placeholder bytes and the Python floor is not checked): "
        + "; ".join(f"{r.tool} {r.case} {', '.join(f'{k} {v:,}' for k, v in r.counts.items())}"
                    + (f" (**{r.problem}**)" if r.problem else "") for r in checked) + ".",
    ]
    return "\n".join(lines)


def record(size: int, ds: datagen.Dataset, results: list[Result], args: argparse.Namespace, argv: list[str],
           facts: str, minutes: float) -> dict[str, Any]:
    """Everything one size's section is made of, as plain data (kept by ``--json``)."""
    return {"size": size, "dataset": asdict(ds), "results": [asdict(r) for r in results], "runs": args.runs,
            "budget": args.budget, "argv": argv, "facts": facts, "minutes": minutes,
            "load_end": os.getloadavg()[0], "variants": dict(VARIANTS)}


def _result(d: dict[str, Any]) -> Result:
    return Result(d["size"], d["case"], d["tool"], [Run(**r) for r in d["runs"]], d["counts"], d["problem"])


def startup_section(best: dict[str, Run | None], runs: int) -> str:
    """The startup table."""
    rows = ["| command | best wall | peak RSS |", "|---|---:|---:|"]
    for name, r in best.items():
        rows.append(f"| `{name}` | {r.wall * 1000:.0f} ms | {r.rss_mib:.0f} MiB |" if r else f"| `{name}` | failed | |")
    return ("### Startup\n\nTargets (issue 13): `mafmt --help` < 0.15 s, `import mafmt` < 0.1 s. Best of "
            f"{2 * runs} interleaved runs.\n\n" + "\n".join(rows))


GROUP = "bench/convert.py"
INTRO = """## Conversion and validation: mafmt against globox, datumaro and the lower bound

Made by `bench/convert.py` (see its docstring; `python bench/convert.py --help`). Every figure is
a whole process started afresh (import time counts, as on the command line), outputs on tmpfs,
best of N interleaved runs, peak RSS of the command itself (`/usr/bin/time`). Inputs are written
with plain Python by `bench/datagen.py` from one seeded COCO dataset (COCO's 80 names and gapped
ids, float boxes, `"segmentation": []` on box-only objects, ~30 % polygons, ~7 objects per image,
~5 % images without objects): the same images and objects as standard VOC (with `labelmap.txt`),
ultralytics YOLO (with `sizes.csv`, given to mafmt as `--size-table`; globox and datumaro read
image headers, so the YOLO folder also holds small JPEGs, hard links to one file per size), a
ModelArts manifest with its VOC files (polygons as `<polygon>`), the same manifest with defects
in the JSON and the XML, and an image-classification manifest (20 lines per image; half the
sources relative, so moving the manifest rebases them). The lower bound (`bench/lower_bound.py`)
parses the input (orjson, lxml) and writes as many output files with placeholder bytes. Peers:
`bench/peers.py`; datumaro writes YOLO in its darknet layout (its ultralytics exporter requires a
val split). A ⚠ marks an output that does not hold what the input held; "best of k" marks a case
whose runs used up the time budget. Profile one case: `python bench/profile_case.py CASE`.

Re-run after a change: `python bench/convert.py --sizes 20000` (44 minutes with every tool on the
2-core machine at a load average of 4-9; datumaro and `validate-errors` dominate; add `--data-cache
DIR` to keep the inputs between runs, `--tools bound,mafmt` to skip the peers). The machine is
shared: when the load is high the wall times inflate, and the CPU times (in brackets) and the
CPU ratio are the steadier figures.
"""


def put_section(path: Path, key: str, text: str, group: str = GROUP, intro: str = INTRO) -> None:
    """Replace the ``key`` section inside the ``group`` section of ``path`` (creating either)."""
    doc = path.read_text() if path.exists() else "# Benchmark results\n"
    g_begin, g_end = f"<!-- {group}:begin -->", f"<!-- {group}:end -->"
    if g_begin not in doc:
        doc = doc.rstrip("\n") + f"\n\n{g_begin}\n{intro.strip()}\n\n{g_end}\n"
    begin, end = f"<!-- {group} {key}:begin -->", f"<!-- {group} {key}:end -->"
    block = f"{begin}\n{text.strip()}\n{end}"
    if begin in doc and end in doc:
        doc = doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.replace(g_end, f"{block}\n\n{g_end}")
    path.write_text(doc)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000], help="dataset sizes in images")
    ap.add_argument("--runs", type=int, default=5, help="runs per case and tool; the fastest counts (default 5)")
    ap.add_argument("--budget", type=float, default=150.0,
                    help="seconds of runs per case and tool after which no more runs start (default 150)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds before one run is killed")
    ap.add_argument("--cases", default=",".join(c.name for c in CASES), help="comma-separated, of: "
                    + ", ".join(c.name for c in CASES))
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated, of: " + ", ".join(TOOLS))
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=ARGS",
                    help="also run mafmt with extra arguments as its own column, e.g. "
                    "--variant '2 workers=--workers 2' (repeatable)")
    ap.add_argument("--cls-lines", type=int, default=0, help="lines of the classification manifest "
                    "(default: 20 per image)")
    ap.add_argument("--work", default="/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
                    help="folder for inputs and outputs (default: /dev/shm, a tmpfs)")
    ap.add_argument("--data-cache", metavar="DIR", help="keep the generated inputs here and reuse them")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2,000 images, 1 run, no RESULTS.md")
    ap.add_argument("--no-write", action="store_true", help="print the tables only")
    ap.add_argument("--results", default=str(RESULTS), help="the Markdown file to update")
    ap.add_argument("--json", metavar="FILE", help="also write every run as JSON")
    ap.add_argument("--render", metavar="FILE", help="no runs: remake the tables from a --json file")
    args = ap.parse_args(argv)
    if args.render:
        for rec in json.loads(Path(args.render).read_text()):
            section = size_section(rec)
            print(section + "\n")
            if not args.no_write:
                put_section(Path(args.results), f"N={rec['size']}", section)
        return 0
    if args.quick:
        args.sizes, args.runs = [2000], 1
    write = not (args.quick or args.no_write)
    cases = [CASE_BY_NAME[n] for n in args.cases.split(",")]
    for spec in args.variant:
        name, sep, extra = spec.partition("=")
        if not sep or not name.strip():
            ap.error(f"--variant needs NAME=ARGS, got {spec!r}")
        VARIANTS[f"mafmt {name.strip()}"] = shlex.split(extra)
    tools = []
    for t in [*args.tools.split(","), *VARIANTS]:
        if t not in TOOLS and t not in VARIANTS:
            ap.error(f"unknown tool {t!r}")
        if available(t):
            tools.append(t)
        else:
            print(f"skip {t}: not installed", flush=True)
    pyc.compile_mafmt()
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="mafmt-bench-", dir=args.work))
    records: list[dict[str, Any]] = []
    try:
        if "mafmt" in tools:
            best = startup(args.runs, args.timeout, work)
            for name, r in best.items():
                print(f"startup {name}: {r.wall * 1000:.0f} ms" if r else f"startup {name}: failed", flush=True)
            if write:
                put_section(Path(args.results), "startup", startup_section(best, args.runs))
        for size in args.sizes:
            ts = time.perf_counter()
            facts = machine()
            ds = prepare(size, args.cls_lines or 20 * size, work, args.data_cache)
            results = run_size(size, ds, cases, tools, args, work)
            minutes = (time.perf_counter() - ts) / 60
            rec = record(size, ds, results, args, argv, facts, minutes)
            records.append(rec)
            if args.json:
                Path(args.json).write_text(json.dumps(records, indent=1))
            section = size_section(rec)
            print("\n" + section + "\n", flush=True)
            if write:
                put_section(Path(args.results), f"N={size}", section)
            if not args.data_cache:
                shutil.rmtree(ds.root, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"total {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
