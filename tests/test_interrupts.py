"""Ctrl-C and kill -9 at random points of a large conversion, into new and existing targets, for
every writer: the target is the old one or the complete new one, never a mix, and nothing is
left beside it but (after kill -9) recognisable leftovers that the next write removes."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mafmt.storage.transaction import is_leftover_name

IMAGES = 2500
#: (target format, target path below the output folder): every writer of detection data
WRITERS = [("voc", "voc"), ("yolo", "yolo"), ("modelarts-yolo", "darknet"), ("modelarts-voc", "mvoc"),
           ("manifest", "out.manifest"), ("coco", "out.json"), ("csv", "out.csv")]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rnd = random.Random(7)
    images, anns = [], []
    for i in range(1, IMAGES + 1):
        images.append({"id": i, "file_name": f"img{i:05d}.jpg", "width": 640, "height": 480})
        for _ in range(rnd.randint(1, 4)):
            x, y = rnd.uniform(0, 500), rnd.uniform(0, 350)
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": rnd.choice((1, 3, 7)),
                         "bbox": [round(x, 2), round(y, 2), 40.5, 30.25], "area": 1225.125, "iscrowd": 0,
                         "segmentation": []})
    src = tmp_path_factory.mktemp("src") / "big.json"
    src.write_text(json.dumps({"images": images, "annotations": anns,
                               "categories": [{"id": c, "name": f"c{c}"} for c in (1, 3, 7)]}))
    return src


def _tree(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (leftovers of killed runs, which the next write removes, aside)."""
    out = {}
    for d, _, files in os.walk(folder):
        for f in files:
            p = Path(d) / f
            rel = p.relative_to(folder)
            if not any(is_leftover_name(part) for part in rel.parts):
                out[str(rel)] = hashlib.md5(p.read_bytes()).hexdigest()
    return out


def _leftovers(folder: Path) -> list[str]:
    return sorted(str(Path(d).relative_to(folder) / n) for d, dirs, files in os.walk(folder)
                  for n in dirs + files if is_leftover_name(n))


def _convert(source: Path, target: Path, fmt: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "mafmt", "convert", str(source), str(target), "--to", fmt,
                             "--quiet", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.parametrize("fmt,rel", WRITERS, ids=[w[0] for w in WRITERS])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_interrupted_conversions_leave_the_old_or_the_complete_new_target(source: Path, tmp_path: Path, fmt: str,
                                                                         rel: str, existing: bool) -> None:
    rnd = random.Random(f"{fmt}-{existing}")
    out = tmp_path / "out"
    out.mkdir()
    target = out / rel
    complete = tmp_path / "complete"
    complete.mkdir()
    assert _convert(source, complete / rel, fmt).wait(120) == 0
    full = _tree(complete)
    before: dict[str, str] = {}
    if existing:
        old = tmp_path / "old.json"
        old.write_text(json.dumps({"images": [{"id": 1, "file_name": "old.jpg", "width": 9, "height": 9}],
                                   "annotations": [], "categories": []}))
        assert _convert(old, target, fmt).wait(120) == 0
        before = _tree(out)
    killed: set[str] = set()  # leftovers of kill -9 (a later run that is stopped before it starts writing keeps them)
    for sig in (signal.SIGINT, signal.SIGKILL, signal.SIGINT, signal.SIGKILL):
        proc = _convert(source, target, fmt, "--overwrite")
        time.sleep(rnd.uniform(0.3, 2.5))
        proc.send_signal(sig)
        code = proc.wait(120)
        now = _tree(out)
        if code == 0:
            assert now == full, (fmt, "finished, yet not the complete target")
        if now == full:  # committed before the signal came (it may have hit the printing of the report)
            break
        assert now == before, (fmt, sig, "a partial or mixed target")
        stray = sorted(n for n in os.listdir(out) if n not in (rel, "Annotations") and not is_leftover_name(n))
        assert stray == [], (fmt, stray)
        if sig == signal.SIGINT:
            err = proc.stderr.read() if proc.stderr else b""
            assert set(_leftovers(out)) <= killed, (fmt, _leftovers(out))  # Ctrl-C cleans up after itself
            assert code == 130 and b"Traceback" not in err, err
        else:
            killed |= set(_leftovers(out))
    # the next write into the same place removes every leftover and writes the target whole
    assert _convert(source, target, fmt, "--overwrite").wait(120) == 0
    assert _tree(out) == full and _leftovers(out) == []
