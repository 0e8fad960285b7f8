"""Validation time against the number of objects in one VOC XML file (issue 12, item 2).

Writes ModelArts VOC files with more and more objects, up to about 30 MB (under the 32 MiB
read limit), and times ``mafmt.validate(path, format="voc")`` on each, in a fresh child
process (the time excludes the import; peak RSS is the child's own). Three series:

* ``valid``: full objects with a ``<bndbox>`` (no findings);
* ``empty``: bare ``<object/>`` elements (several findings each: the quadratic case of
  ``element_path()`` rebuilding the sibling list for every finding);
* ``mixed``: one empty object in four, the others full.

Linear time means a constant time per object: the "growth ÷ size growth" column (time ratio
divided by object-count ratio between consecutive sizes) is then 1.0; quadratic time makes
it equal to the size step itself (4.0 for a 4x step). One-time costs (lazy imports, schema
compilation) are paid on a one-object file first, in the same process, so they do not
flatter the large files. A point that takes longer than ``--timeout`` is killed and the
larger sizes of that series are skipped.

Run from the repository root: ``python bench/validate_linear.py`` (``--quick`` for a smoke
run, ``--no-write`` to leave ``bench/RESULTS.md`` alone).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from convert import TIME, library_commit, put_section

HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<annotation>\n    <folder>NA</folder>\n'
        "    <filename>big.jpg</filename>\n    <size>\n        <width>8000</width>\n        <height>6000</height>\n"
        "        <depth>3</depth>\n    </size>\n    <segmented>0</segmented>\n")
FULL = ("    <object>\n        <name>c{k}</name>\n        <pose>Unspecified</pose>\n        <truncated>0</truncated>\n"
        "        <occluded>0</occluded>\n        <difficult>0</difficult>\n        <bndbox>\n"
        "            <xmin>{x}</xmin>\n            <ymin>{y}</ymin>\n            <xmax>{x2}</xmax>\n"
        "            <ymax>{y2}</ymax>\n        </bndbox>\n    </object>\n")
EMPTY = "    <object/>\n"
HEADING = "## Validation time against objects per VOC file (issue 12)"
LIMIT = 30_000_000  # bytes: the largest file written (the read limit is 32 MiB)
SERIES = {
    "valid": [1_000, 4_000, 16_000, 64_000, 88_000],
    "empty": [1_000, 4_000, 16_000, 64_000, 256_000, 1_024_000, 2_048_000],
    "mixed": [1_000, 4_000, 16_000, 64_000, 116_000],
}
CHILD = """
import sys, time, json
import mafmt
mafmt.validate(sys.argv[2], format="voc")  # warm-up: lazy imports, compiled schemas
t = time.perf_counter()
problems = mafmt.validate(sys.argv[1], format="voc")
t = time.perf_counter() - t
print(json.dumps({"seconds": t, "problems": len(problems)}))
"""


def write_file(path: Path, series: str, n: int) -> int:
    """Write a VOC file of ``n`` objects of ``series``; returns its size in bytes."""
    with open(path, "w") as fh:
        fh.write(HEAD)
        for k in range(n):
            if series == "empty" or (series == "mixed" and k % 4 == 3):
                fh.write(EMPTY)
            else:
                x, y = k % 7000, (k * 7) % 5000
                fh.write(FULL.format(k=k % 80, x=x, y=y, x2=x + 50, y2=y + 40))
        fh.write("</annotation>\n")
    return path.stat().st_size


@dataclass
class Point:
    """One measured file."""

    series: str
    objects: int
    size: int
    seconds: float | None  # None: killed at the timeout
    problems: int
    rss_mib: float


def measure(path: Path, timeout: float) -> tuple[float | None, int, float]:
    """(validation seconds or None on timeout, problems found, peak RSS MiB) in a child process."""
    stats = str(path) + ".time"
    warm = path.with_name("warm-up.xml")
    if not warm.exists():
        write_file(warm, "valid", 1)
    cmd = [sys.executable, "-c", CHILD, str(path), str(warm)]
    if os.path.exists(TIME):
        cmd = [TIME, "-o", stats, "-f", "%M", *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: /usr/bin/time and the interpreter under it
        proc.communicate()
        return None, 0, 0.0
    if proc.returncode != 0:
        raise RuntimeError(f"validation failed (exit {proc.returncode}) on {path}")
    data = json.loads(out.strip().splitlines()[-1])
    rss = 0.0
    try:
        rss = int(Path(stats).read_text().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return data["seconds"], data["problems"], rss


def run(series: list[str], quick: bool, timeout: float, repeat: int, work: Path) -> list[Point]:
    """Every size of every series (best of ``repeat``), stopping a series at its first timeout."""
    points: list[Point] = []
    for name in series:
        sizes = [n for n in SERIES[name] if n <= 16_000] if quick else SERIES[name]
        for n in sizes:
            path = work / f"{name}-{n}.xml"
            size = write_file(path, name, n)
            if size > LIMIT:
                path.unlink()
                break
            best: tuple[float | None, int, float] = (None, 0, 0.0)
            for _ in range(repeat):
                got = measure(path, timeout)
                if got[0] is None:
                    best = got if best[0] is None else best
                    break
                if best[0] is None or got[0] < best[0]:
                    best = got
            path.unlink()
            p = Point(name, n, size, best[0], best[1], best[2])
            points.append(p)
            secs = f"{p.seconds:.3f} s" if p.seconds is not None else f"> {timeout:.0f} s (killed)"
            print(f"{name:<6} {n:>9,} objects {size / 1e6:6.1f} MB  {secs}  {p.problems:,} problems "
                  f"{p.rss_mib:.0f} MiB", flush=True)
            if p.seconds is None:
                break
    return points


def table(points: list[Point], timeout: float) -> str:
    """The Markdown table."""
    rows = ["| series | objects | file | validation time | per object | growth ÷ size growth | problems | peak RSS |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    prev: Point | None = None
    for p in points:
        if prev is not None and prev.series != p.series:
            prev = None
        if p.seconds is None:
            rows.append(f"| {p.series} | {p.objects:,} | {p.size / 1e6:.1f} MB | > {timeout:.0f} s (killed) | "
                        f"> {timeout / p.objects * 1e6:,.0f} µs | — | — | — |")
        else:
            growth = "—"
            if prev is not None and prev.seconds:
                growth = f"{(p.seconds / prev.seconds) / (p.objects / prev.objects):.2f}"
            rows.append(f"| {p.series} | {p.objects:,} | {p.size / 1e6:.1f} MB | {p.seconds:.3f} s | "
                        f"{p.seconds / p.objects * 1e6:,.1f} µs | {growth} | {p.problems:,} | {p.rss_mib:.0f} MiB |")
        prev = p
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--series", default=",".join(SERIES), help="comma-separated, of: " + ", ".join(SERIES))
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds before one point is killed (default 120)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per point; the fastest counts (default 3)")
    ap.add_argument("--quick", action="store_true", help="sizes up to 16,000 objects, 1 run, no RESULTS.md")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--work", default="/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir())
    ap.add_argument("--results", default=str(HERE / "RESULTS.md"))
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat = 1
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mafmt-linear-", dir=args.work) as tmp:
        points = run(args.series.split(","), args.quick, args.timeout, args.repeat, Path(tmp))
    minutes = (time.perf_counter() - start) / 60
    commit = library_commit()
    text = "\n".join([
        "```",
        "python bench/validate_linear.py " + shlex.join(argv),
        "```",
        "",
        (
            "`mafmt.validate(path, format=\"voc\")` on one ModelArts VOC file, in a fresh process after a warm-up "
            f"call on a one-object file (time of the call only, best of {args.repeat}; peak RSS of the process). "
            "Series: `valid` (full objects with a box), `empty` (bare `<object/>` elements, several findings "
            "each), `mixed` (one in four empty). Growth column: time ratio ÷ object-count ratio to the previous "
            "size; 1.0 is linear, the size step (4.0) is quadratic. "
            f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, mafmt at `{commit}`; "
            f"{minutes:.0f} min."
        ),
        "",
        table(points, args.timeout),
    ])
    print(f"\n{HEADING}\n\n{text}")
    if not (args.quick or args.no_write):
        put_section(Path(args.results), "table", text, group="bench/validate_linear.py", intro=HEADING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
