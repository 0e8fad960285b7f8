"""Ctrl-C and kill -9 at random points of a large conversion, into new and existing targets, for
every writer: the target is the old one or the complete new one, never a mix, and nothing is
left beside it but (after kill -9) recognisable leftovers that the next write removes."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mafmt.storage.transaction import is_leftover_name

IMAGES = 800
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
    folder = tmp_path_factory.mktemp("src")
    src = folder / "big.json"
    src.write_text(json.dumps({"images": images, "annotations": anns,
                               "categories": [{"id": c, "name": f"c{c}"} for c in (1, 3, 7)]}))
    (folder / "old.json").write_text(json.dumps({"images": [{"id": 1, "file_name": "old.jpg", "width": 9, "height": 9}],
                                                 "annotations": [], "categories": []}))
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


def _leftovers(folder: Path) -> set[str]:
    return {str(Path(d).relative_to(folder) / n) for d, dirs, files in os.walk(folder)
            for n in dirs + files if is_leftover_name(n)}


def _convert(source: Path, target: Path, fmt: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "mafmt", "convert", str(source), str(target), "--to", fmt,
                             "--quiet", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _interrupt(source: Path, out: Path, rel: str, fmt: str, rnd: random.Random, full: dict[str, str]) -> None:
    """Ctrl-C and then kill -9 a conversion into ``out/rel`` (until one of them comes too late:
    the complete target was already committed)."""
    before = _tree(out)
    killed = _leftovers(out)  # a run stopped before it starts writing keeps what earlier kills left
    for sig in (signal.SIGINT, signal.SIGKILL):
        names = set(os.listdir(out))
        proc = _convert(source, out / rel, fmt, "--overwrite")
        time.sleep(rnd.uniform(0.25, 1.0))
        proc.send_signal(sig)
        code = proc.wait(120)
        err = proc.stderr.read() if proc.stderr else b""
        now = _tree(out)
        if code == 0:
            assert now == full, (fmt, "finished, yet not the complete target")
        if now == full:  # committed before the signal came (it may have hit the printing of the report)
            return
        assert now == before, (fmt, sig, "a partial or mixed target")
        stray = [n for n in os.listdir(out) if n not in (rel, "Annotations") and not is_leftover_name(n)]
        assert stray == [], (fmt, stray)
        if sig == signal.SIGINT:
            assert _leftovers(out) <= killed, (fmt, _leftovers(out))  # Ctrl-C cleans up after itself
            assert set(os.listdir(out)) <= names, (fmt, "a folder made for the target was left")
            # (-2, or 1 with "Fatal Python error: init_import_site": the signal came while Python itself
            # was still starting, before mafmt runs)
            early = code == 1 and err.startswith(b"Fatal Python error: init_import_site")
            assert code in (130, -signal.SIGINT) or early, err
            assert code != 130 or b"Traceback" not in err, err
        killed |= _leftovers(out)


@pytest.mark.parametrize("fmt,rel", WRITERS, ids=[w[0] for w in WRITERS])
def test_interrupted_conversions_leave_the_old_or_the_complete_new_target(source: Path, tmp_path: Path, fmt: str,
                                                                         rel: str) -> None:
    rnd = random.Random(fmt)
    complete = tmp_path / "complete"
    complete.mkdir()
    assert _convert(source, complete / rel, fmt).wait(120) == 0
    full = _tree(complete)
    for existing in (False, True):
        out = tmp_path / ("existing" if existing else "new")
        out.mkdir()
        if existing:
            assert _convert(source.parent / "old.json", out / rel, fmt).wait(120) == 0
        _interrupt(source, out, rel, fmt, rnd, full)
        # the next write into the same place removes every leftover and writes the target whole
        assert _convert(source, out / rel, fmt, "--overwrite").wait(120) == 0
        assert _tree(out) == full and _leftovers(out) == set(), fmt
        shutil.rmtree(out)
