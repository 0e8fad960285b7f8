"""Conversion benchmark: mafmt against datumaro, globox and supervision, and a lower bound.

Generates a synthetic COCO instances file (N images, ~7 objects each, 80 categories with
COCO's gapped ids, 30 % of objects with polygons, ~5 % images without objects; no image
files: sizes come from the JSON), derives the VOC and YOLO inputs from it with mafmt, then
times each tool on COCO->VOC, COCO->YOLO, VOC->COCO, YOLO->COCO and COCO->Manifest. Every
run is a fresh subprocess (so import time counts, as on the command line); wall time and
peak RSS come from ``os.wait4``. The lower bound loads the input (``json.loads`` or lxml
over every XML / reading every label file) and writes the same number of output files
with fixed bytes.

Peers that are not installed are skipped (``--install-peers`` pip-installs them first);
a peer that cannot do a pair (e.g. needs image files to learn sizes) is reported as such.

Run from the repository root::

    python bench/convert.py --n 2000 20000
    python bench/convert.py --n 2000 --tools mafmt,lower-bound,globox     # quick
    python bench/convert.py --n 2000 20000 --repeat 3 --tools lower-bound,mafmt,globox
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LAST_SYS = 0.0  # kernel CPU of the last child run (file creation shows up here)
PAIRS = ["coco->voc", "coco->yolo", "voc->coco", "yolo->coco", "coco->manifest"]
TOOLS = ["lower-bound", "mafmt", "globox", "datumaro", "supervision"]
PEER_PACKAGES = {"globox": "globox", "datumaro": "datumaro", "supervision": "supervision"}


# --------------------------------------------------------------------------- data


def make_coco(n: int, path: Path, seed: int = 0) -> None:
    """A synthetic COCO instances file with n images."""
    rng = random.Random(seed)
    cat_ids = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]
    cats = [{"id": c, "name": f"class_{c}", "supercategory": f"super_{c % 12}"} for c in cat_ids]
    images, anns = [], []
    for i in range(1, n + 1):
        w, h = rng.choice([(640, 480), (640, 427), (500, 375), (1280, 720)])
        images.append({"id": i, "file_name": f"{i:012d}.jpg", "width": w, "height": h, "license": 1})
        k = 0 if rng.random() < 0.05 else max(1, int(rng.gauss(7.4, 3)))
        for _ in range(k):
            bw, bh = rng.randint(4, w // 2), rng.randint(4, h // 2)
            x, y = rng.randint(0, w - bw), rng.randint(0, h - bh)
            ann: dict[str, Any] = {"id": len(anns) + 1, "image_id": i, "category_id": rng.choice(cat_ids),
                                   "bbox": [x, y, bw, bh], "area": bw * bh, "iscrowd": 0}
            if rng.random() < 0.3:
                pts = [x, y, x + bw, y + rng.randint(0, bh), x + bw // 2, y + bh, x, y + bh // 2]
                ann["segmentation"] = [pts]
                xs, ys = pts[0::2], pts[1::2]
                ann["area"] = 0.5 * abs(sum(xs[j] * ys[(j + 1) % 4] - xs[(j + 1) % 4] * ys[j] for j in range(4)))
            anns.append(ann)
    path.write_text(json.dumps({"info": {"description": "synthetic"}, "licenses": [{"id": 1, "name": "x"}],
                                "images": images, "annotations": anns, "categories": cats}))


# --------------------------------------------------------------------------- the runs (each in a child process)

CODE: dict[str, dict[str, str]] = {
    "mafmt": {
        "coco->voc": "from mafmt.converters import convert; convert(SRC, DST, 'coco', 'pascal-voc')",
        "coco->yolo": "from mafmt.converters import convert; convert(SRC, DST, 'coco', 'yolo')",
        "voc->coco": "from mafmt.converters import convert; convert(SRC, DST, 'pascal-voc', 'coco')",
        "yolo->coco": "from mafmt.converters import convert; convert(SRC, DST, 'yolo', 'coco')",
        "coco->manifest": "from mafmt.converters import convert; convert(SRC, DST, 'coco', 'manifest')",
    },
    "globox": {
        "coco->voc": "import globox; globox.AnnotationSet.from_coco(SRC).save_pascal_voc(DST)",
        "coco->yolo": "import globox; s=globox.AnnotationSet.from_coco(SRC); "
                      "s.save_yolo_v5(DST, label_to_id={l: i for i, l in enumerate(sorted(s._labels()))})",
        "voc->coco": "import globox; globox.AnnotationSet.from_pascal_voc(SRC + '/Annotations').save_coco(DST, "
                     "auto_ids=True)",
        "yolo->coco": "NEEDS_IMAGES",
        "coco->manifest": "UNSUPPORTED",
    },
    "datumaro": {
        "coco->voc": "import datumaro as dm; dm.Dataset.import_from(DM, 'coco_instances').export(DST, "
                     "'voc_detection')",
        "coco->yolo": "import datumaro as dm; dm.Dataset.import_from(DM, 'coco_instances').export(DST, 'yolo')",
        "voc->coco": "import datumaro as dm; dm.Dataset.import_from(SRC, 'voc_detection').export(DST_DIR, "
                     "'coco_instances')",
        "yolo->coco": "NEEDS_IMAGES",
        "coco->manifest": "UNSUPPORTED",
    },
    "supervision": {
        "coco->voc": "NEEDS_IMAGES",
        "coco->yolo": "NEEDS_IMAGES",
        "voc->coco": "NEEDS_IMAGES",
        "yolo->coco": "NEEDS_IMAGES",
        "coco->manifest": "UNSUPPORTED",
    },
}

LOWER = {
    # read the input as cheaply as possible, write as many files with fixed bytes
    "coco->voc": "import json,os; d=json.loads(open(SRC,'rb').read()); os.makedirs(DST+'/Annotations'); b=b'x'*700\n"
                 "for im in d['images']:\n open(DST+'/Annotations/'+im['file_name'][:-4]+'.xml','wb').write(b)",
    "coco->yolo": "import json,os; d=json.loads(open(SRC,'rb').read()); os.makedirs(DST+'/labels'); b=b'x'*200\n"
                  "for im in d['images']:\n open(DST+'/labels/'+im['file_name'][:-4]+'.txt','wb').write(b)",
    "voc->coco": "import os,json; from lxml import etree; a=SRC+'/Annotations'; out=[]\n"
                 "for f in sorted(os.listdir(a)):\n r=etree.fromstring(open(a+'/'+f,'rb').read()); "
                 "out.append([o.findtext('name') for o in r.iter('object')])\n"
                 "open(DST,'w').write(json.dumps(out))",
    "yolo->coco": "import os,json; out=[]\n"
                  "for dp,_,fs in os.walk(SRC+'/labels'):\n for f in sorted(fs):\n  "
                  "out.append([l.split() for l in open(dp+'/'+f).read().splitlines()])\n"
                  "open(DST,'w').write(json.dumps(out))",
    "coco->manifest": "import json,os; d=json.loads(open(SRC,'rb').read()); os.makedirs(DST_DIR+'/Annotations'); "
                      "b=b'x'*700; m=open(DST,'w')\n"
                      "for im in d['images']:\n open(DST_DIR+'/Annotations/'+im['file_name'][:-4]+'.xml','wb').write(b);"
                      " m.write(json.dumps({'source': im['file_name']})+'\\n')",
}


def run_child(code: str, src: str, dst: str, dm: str = "") -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS MiB, error text) of ``code`` in a fresh interpreter."""
    # VmHWM is the child's own peak (ru_maxrss would include the parent's after exec)
    rss_file = dst.rstrip("/") + ".rss"
    prelude = (f"SRC={src!r}; DST={dst!r}; DST_DIR={os.path.dirname(dst)!r}; DM={dm!r}\n"
               "import atexit\n"
               f"atexit.register(lambda: open({rss_file!r}, 'w').write([l for l in open('/proc/self/status') "
               "if l.startswith('VmHWM')][0].split()[1]))\n")
    start = time.perf_counter()
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: chatty peers would fill a pipe and block
        proc = subprocess.Popen([sys.executable, "-c", prelude + code], stdout=subprocess.DEVNULL, stderr=log)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        log.seek(0)
        err = log.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    try:
        rss = int(Path(rss_file).read_text()) / 1024
    except (OSError, ValueError):
        rss = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime
    global LAST_SYS
    LAST_SYS = usage.ru_stime
    if proc.returncode != 0:
        return wall, cpu, rss, err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"
    return wall, cpu, rss, ""


def prepare(n: int, work: Path) -> dict[str, str]:
    coco = work / "in.json"
    make_coco(n, coco)
    from mafmt.converters import convert

    convert(str(coco), str(work / "voc"), "coco", "pascal-voc")
    convert(str(coco), str(work / "yolo"), "coco", "yolo", write_sizes=True)
    (work / "dm/annotations").mkdir(parents=True)  # the layout datumaro insists on
    (work / "dm/images").mkdir()
    os.link(coco, work / "dm/annotations/instances_default.json")
    return {"coco": str(coco), "voc": str(work / "voc"), "yolo": str(work / "yolo"), "dm": str(work / "dm")}


def target(work: Path, tool: str, pair: str) -> str:
    out = work / "out" / tool / pair.replace("->", "_to_")
    if out.exists():
        shutil.rmtree(out)
    kind = pair.split("->")[1]
    if kind == "coco":
        out.mkdir(parents=True)
        return str(out / "out.json")
    if kind == "manifest":
        out.mkdir(parents=True)
        return str(out / "out.manifest")
    out.parent.mkdir(parents=True, exist_ok=True)
    return str(out)


def available(tool: str, install: bool) -> bool:
    if tool in ("mafmt", "lower-bound"):
        return True
    probe = subprocess.run([sys.executable, "-c", f"import {tool}"], capture_output=True, check=False)
    if probe.returncode == 0:
        return True
    if install:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", PEER_PACKAGES[tool]], check=False)
        return subprocess.run([sys.executable, "-c", f"import {tool}"], capture_output=True, check=False).returncode == 0
    return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[2000, 20000], help="dataset sizes (images)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of " + ",".join(TOOLS))
    ap.add_argument("--pairs", default=",".join(PAIRS))
    ap.add_argument("--install-peers", action="store_true", help="pip-install missing peers first")
    ap.add_argument("--repeat", type=int, default=1, help="runs per (tool, pair); the fastest is reported")
    ap.add_argument("--json", metavar="FILE", help="also write the raw results as JSON")
    args = ap.parse_args(argv)
    tools = [t for t in args.tools.split(",") if available(t, args.install_peers) or print(f"skip {t}: not installed")]
    pairs = args.pairs.split(",")
    results: list[dict[str, Any]] = []
    for n in args.n:
        with tempfile.TemporaryDirectory(prefix="mafmt-bench-") as tmp:
            work = Path(tmp)
            inputs = prepare(n, work)
            for pair in pairs:
                src = inputs[pair.split("->")[0]]
                for tool in tools:
                    code = LOWER[pair] if tool == "lower-bound" else CODE[tool][pair]
                    if code in ("NEEDS_IMAGES", "UNSUPPORTED"):
                        results.append({"n": n, "pair": pair, "tool": tool, "error": code.lower().replace("_", " ")})
                        continue
                    runs = []
                    for _ in range(args.repeat):
                        runs.append((*run_child(code, src, target(work, tool, pair), inputs["dm"]), LAST_SYS))
                    wall, cpu, rss, err, sys_cpu = min(runs)  # the least disturbed run (the file system is noisy)
                    results.append({"n": n, "pair": pair, "tool": tool, "wall": wall, "cpu": cpu, "sys": sys_cpu,
                                    "rss": rss, "error": err})
                    print(f"N={n:>6} {pair:<15} {tool:<12} {wall:7.2f}s {cpu:7.2f}s cpu ({sys_cpu:5.2f}s kernel) "
                          f"{rss:7.0f} MiB {err[:80]}", flush=True)
    print()
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


def table(results: list[dict[str, Any]]) -> str:
    """A Markdown table: time and memory per tool, with mafmt's ratios."""
    head = ("| N | pair | tool | wall s | CPU s | peak MiB | tool / mafmt (wall, CPU, memory) | "
            "mafmt / lower bound (wall, CPU, memory) |")
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    index = {(r["n"], r["pair"], r["tool"]): r for r in results}
    for r in results:
        m = index.get((r["n"], r["pair"], "mafmt"))
        lb = index.get((r["n"], r["pair"], "lower-bound"))
        if r.get("error"):
            lines.append(f"| {r['n']} | {r['pair']} | {r['tool']} | - | - | - | {r['error'][:60]} | |")
            continue

        def ratios(a: dict[str, Any], b: dict[str, Any]) -> str:
            return f"{a['wall'] / b['wall']:.1f}x, {a['cpu'] / b['cpu']:.1f}x, {a['rss'] / b['rss']:.1f}x"

        ok_m = m is not None and not m.get("error")
        vs = ratios(r, m) if ok_m and r["tool"] not in ("mafmt", "lower-bound") else ""  # type: ignore[arg-type]
        lbr = ratios(r, lb) if r["tool"] == "mafmt" and lb and not lb.get("error") else ""
        lines.append(f"| {r['n']} | {r['pair']} | {r['tool']} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['rss']:.0f} | "
                     f"{vs} | {lbr} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
