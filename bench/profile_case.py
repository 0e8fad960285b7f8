"""Where mafmt's time goes in one benchmark case: the top functions by cumulative and own time.

``python bench/profile_case.py CASE [--size N] [--data-cache DIR] [--top 25] [--py-spy]``

Writes the inputs of ``bench/convert.py`` for ``N`` images (or reuses ``--data-cache``), then
runs the case's exact ``mafmt`` command once under cProfile (``python -m cProfile -m mafmt
...``, deterministic, about 1.5-2x slower than a plain run) or, with ``--py-spy`` and py-spy
installed, under the py-spy sampler (no slowdown; own time = samples where the function is
the innermost Python frame, cumulative = samples where it is anywhere on the stack). Prints
both tables. CASE is one of ``bench/convert.py``'s cases, e.g. ``coco-yolo``, ``voc-coco``,
``validate-errors``.
"""

from __future__ import annotations

import argparse
import collections
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import convert


def _cprofile(argv: list[str], top: int, work: Path) -> None:
    prof = work / "case.prof"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "mafmt", *argv]
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
    print(f"wall under cProfile: {time.perf_counter() - start:.2f} s\n")
    for key, title in (("cumulative", "cumulative time"), ("tottime", "own time")):
        print(f"== top {top} by {title}")
        pstats.Stats(str(prof)).strip_dirs().sort_stats(key).print_stats(top)


def _pyspy(argv: list[str], top: int, work: Path) -> None:
    raw = work / "case.txt"
    cmd = ["py-spy", "record", "--rate", "250", "--function", "--format", "raw", "--output", str(raw), "--",
           sys.executable, "-m", "mafmt", *argv]
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    print(f"wall under py-spy: {time.perf_counter() - start:.2f} s\n")
    own: collections.Counter[str] = collections.Counter()
    cum: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f.strip() for f in stack.split(";")]
        own[frames[-1]] += n
        for f in set(frames):
            cum[f] += n
    for title, counter in (("cumulative", cum), ("own", own)):
        print(f"== top {top} by {title} samples (of {total})")
        for frame, n in counter.most_common(top):
            print(f"{100 * n / max(total, 1):6.1f} %  {frame}")
        print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("case", choices=[c.name for c in convert.CASES])
    ap.add_argument("--size", type=int, default=20000, help="images (default 20000)")
    ap.add_argument("--cls-lines", type=int, default=0, help="classification manifest lines (default 20 per image)")
    ap.add_argument("--data-cache", metavar="DIR", help="keep the generated inputs here and reuse them")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--py-spy", action="store_true", help="sample with py-spy instead of cProfile")
    ap.add_argument("--work", default="/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir())
    args = ap.parse_args(argv)
    if args.py_spy and not shutil.which("py-spy"):
        ap.error("py-spy is not installed (pip install py-spy)")
    case = convert.CASE_BY_NAME[args.case]
    work = Path(tempfile.mkdtemp(prefix="mafmt-profile-", dir=args.work))
    try:
        ds = convert.prepare(args.size, args.cls_lines or 20 * args.size, work, args.data_cache)
        run_dir = work / "out"
        run_dir.mkdir()
        dst = str(run_dir / "t") if case.out == "dir" else (str(run_dir / case.out) if case.out else "")
        mafmt_args = case.mafmt(ds, dst)
        print("mafmt " + " ".join(mafmt_args))
        (_pyspy if args.py_spy else _cprofile)(mafmt_args, args.top, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
