"""Helpers of tests/test_scale.py that Dask worker processes must import by name: small
datasets and a worker plugin that kills its worker when a task starts."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

LABELS = ("cat", "dog", "bird", "person")


def voc_xml(i: int, objects: int) -> str:
    objs = "".join(
        f"<object><name>{LABELS[(i + j) % len(LABELS)]}</name><pose>Unspecified</pose><truncated>0</truncated>"
        f"<difficult>{j % 2}</difficult><bndbox><xmin>{1 + j}</xmin><ymin>{2 + i % 7}</ymin><xmax>{30 + j * 5}</xmax>"
        f"<ymax>{40 + i % 11}</ymax></bndbox></object>"
        for j in range(objects))
    return (f"<annotation><folder>VOC</folder><filename>img_{i:05d}.jpg</filename><size><width>{320 + i % 5}</width>"
            f"<height>240</height><depth>3</depth></size><segmented>0</segmented>{objs}</annotation>\n")


def voc_dataset(root: Path, n: int) -> Path:
    """A standard VOC folder: n XML files (one without objects), ImageSets/Main lists (with two
    listed images that have no XML file), labelmap.txt; every third image in JPEGImages as a
    PNG, whose name the samples take (not the XML's ``img_*.jpg``), and one of the two listed
    images without an XML file."""
    (root / "Annotations").mkdir(parents=True)
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "JPEGImages").mkdir()
    for i in range(n):
        (root / "Annotations" / f"img_{i:05d}.xml").write_text(voc_xml(i, i % 4))
        if i % 3 == 1:
            _png(root / "JPEGImages" / f"img_{i:05d}.png", 320 + i % 5, 240)
    _png(root / "JPEGImages" / "extra_a.png", 64, 48)
    ids = [f"img_{i:05d}" for i in range(n)]
    (root / "ImageSets" / "Main" / "train.txt").write_text("\n".join(ids[: n // 2] + ["extra_a"]) + "\n")
    (root / "ImageSets" / "Main" / "val.txt").write_text("\n".join(ids[n // 2:] + ["extra_b"]) + "\n")
    (root / "labelmap.txt").write_text("background\n" + "\n".join(LABELS) + "\n")
    return root


def _png(path: Path, width: int, height: int) -> None:
    from PIL import Image

    Image.new("RGB", (width, height), (90, 120, 150)).save(path, format="PNG")


def manifest_dataset(root: Path, n: int, *, errors: bool = False) -> Path:
    """A manifest of n lines beside a folder of VOC files: detection lines (annotation-loc),
    classification lines, ids repeated across the file; with ``errors``, bad lines spread
    over the whole file (bad JSON, a wrong type, an unknown usage, duplicate ids far apart)."""
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n):
        if i % 3 == 0:
            (root / "Annotations" / f"m_{i:05d}.xml").write_text(voc_xml(i, 1 + i % 3))
            ann = [{"type": "modelarts/object_detection", "annotation-loc": f"Annotations/m_{i:05d}.xml",
                    "annotation-format": "PASCAL VOC"}]
        else:
            ann = [{"type": "modelarts/image_classification", "name": LABELS[i % len(LABELS)]}]
        obj: dict[str, Any] = {"source": f"images/m_{i:05d}.jpg", "usage": "TRAIN" if i % 5 else "EVAL",
                               "id": f"s{i % (n - 7) if errors else i}", "annotation": ann}
        text = json.dumps(obj, ensure_ascii=False)
        if errors and i % 37 == 5:
            text = text[:-3]  # broken JSON
        elif errors and i % 41 == 7:
            obj["annotation"][0]["type"] = 5
            text = json.dumps(obj)
        elif errors and i % 43 == 11:
            obj["usage"] = "LATER"
            text = json.dumps(obj)
        elif errors and i % 29 == 13 and "name" in ann[0]:
            ann[0]["name"] = ann[0]["name"].upper() + " "  # another spelling of a label (QA111)
            obj["source"] = f"images/m_{i - 1:05d}.jpg"  # and the source of the line before (QA108)
            text = json.dumps(obj)
        lines.append(text)
    path = root / "train.manifest"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def upload(folder: Path, bucket: str, prefix: str) -> str:
    """Put every file under ``folder`` to ``obs://bucket/prefix/...``; returns that URI."""
    from mafmt import storage

    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            rel = path.relative_to(folder).as_posix()
            storage.write_bytes(f"obs://{bucket}/{prefix}/{rel}", path.read_bytes())
    return f"obs://{bucket}/{prefix}"


class KillOnTask(WorkerPlugin):
    """Kills the worker process (``os._exit``, as the OOM killer would) when a task whose key
    starts with ``prefix`` begins to run; with ``once``, only the first time (a marker file
    shared by the workers says it happened)."""

    name = "mafmt-kill-on-task"

    def __init__(self, prefix: str, marker: str | None = None) -> None:
        self.prefix = prefix
        self.marker = marker

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing" or not str(key).startswith(self.prefix):
            return
        if self.marker is not None:
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.close(fd)
        os._exit(1)


def labelled_dataset(root: Path, n: int) -> Path:
    """A manifest of n lines for the classification layouts, with the images it names: texts
    (``content://``), images with one label, with two labels, and unlabelled ones."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n):
        label = LABELS[i % len(LABELS)]
        if i % 5 == 0:
            obj: dict[str, Any] = {"source": f"content://text number {i}, about a {label}",
                                   "annotation": [{"type": "modelarts/text_classification", "name": label}]}
        else:
            names = [label] if i % 7 else [label, LABELS[(i + 1) % len(LABELS)]]
            obj = {"source": f"images/c_{i:05d}.jpg", "usage": "TRAIN" if i % 3 else "EVAL",
                   "annotation": [{"type": "modelarts/image_classification", "name": n} for n in names]
                   if i % 11 else []}
            (root / "images" / f"c_{i:05d}.jpg").write_bytes(b"\xff\xd8 image %d" % i)
        lines.append(json.dumps(obj))
    path = root / "labels.manifest"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fail_or_sleep(item: tuple[int, str]) -> int:
    """A task: item 0 fails at once; any other sleeps half a second, then leaves a file named
    after it in the given folder."""
    import time

    i, folder = item
    if i == 0:
        raise ValueError("shard 0 fails")
    time.sleep(0.5)
    Path(folder, f"done-{i}").write_text("")
    return i
