"""COCO through mafmt's other formats and back: masks equal under pycocotools, numbers stay
numbers, one object per annotation, category ids restored or their renumbering counted."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mafmt.cli import main

pycocotools = pytest.importorskip("pycocotools")
from pycocotools import mask as cocomask
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

W, H = 60, 40


def _rle_of(mask: np.ndarray, compressed: bool) -> dict[str, Any]:
    rle = cocomask.encode(np.asfortranarray(mask.astype(np.uint8)))
    if compressed:
        return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
    flat = mask.reshape(-1, order="F").astype(int)
    runs, cur, n = [], 0, 0
    for v in flat:
        if v != cur:
            runs.append(n)
            cur, n = v, 0
        n += 1
    runs.append(n)
    return {"size": [H, W], "counts": runs}


def _source() -> dict[str, Any]:
    blob = np.zeros((H, W), dtype=np.uint8)
    blob[5:20, 10:30] = 1
    blob[25:35, 40:55] = 1
    crowd = np.zeros((H, W), dtype=np.uint8)
    crowd[0:40, 0:8] = 1
    anns = [
        {"id": 11, "image_id": 1, "category_id": 18, "bbox": [2.5, 3.25, 20.0, 10.5], "area": 140.75, "iscrowd": 0,
         "segmentation": [[2.5, 3.25, 22.5, 3.25, 22.5, 13.75, 2.5, 13.75]]},
        {"id": 12, "image_id": 1, "category_id": 1, "bbox": [30, 5, 25, 30], "area": 300.5, "iscrowd": 0,
         "segmentation": [[30, 5, 40, 5, 40, 15, 30, 15], [45, 20, 55, 20, 55, 35, 45, 35]],
         "keypoints": [35, 10, 2, 50, 30, 1, 0, 0, 0], "num_keypoints": 2},
        {"id": 13, "image_id": 2, "category_id": 1, "bbox": [0, 0, 8, 40], "area": 320, "iscrowd": 1,
         "segmentation": _rle_of(crowd, compressed=False)},
        {"id": 14, "image_id": 2, "category_id": 18, "bbox": [10, 5, 45, 30], "area": int(blob.sum()), "iscrowd": 0,
         "segmentation": _rle_of(blob, compressed=True)},
        {"id": 15, "image_id": 3, "category_id": 44, "bbox": [1.5, 2.5, 3.25, 4.75], "area": 15.4375, "iscrowd": 0,
         "segmentation": []},
    ]
    return {
        "info": {"description": "fidelity test", "year": 2026},
        "licenses": [{"id": 1, "name": "CC"}],
        "images": [{"id": i, "file_name": f"img{i}.jpg", "width": W, "height": H, "license": 1} for i in (1, 2, 3)],
        "annotations": anns,
        "categories": [
            {"id": 1, "name": "person", "supercategory": "person", "keypoints": ["nose", "hand", "foot"],
             "skeleton": [[1, 2], [2, 3]]},
            {"id": 18, "name": "dog", "supercategory": "animal"},
            {"id": 44, "name": "bottle", "supercategory": "kitchen"},
            {"id": 90, "name": "toothbrush", "supercategory": "indoor"},  # unused
        ],
    }


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _coco(path: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "instances.json"
    src.write_text(json.dumps(_source()))
    return src


@pytest.mark.parametrize("middle", [("manifest", "m/data.manifest"), ("modelarts-voc", "mvoc")])
def test_masks_numbers_and_ids_survive_a_round_trip(source: Path, tmp_path: Path, middle: tuple[str, str]) -> None:
    fmt, rel = middle
    mid, back = tmp_path / rel, tmp_path / "back.json"
    code, out, err = _run("convert", str(source), str(mid), "--to", fmt, "--json")
    assert code == 0, err
    assert json.loads(out)["lost"] == {}  # nothing of the annotations is lost: masks, crowd, keypoints, areas
    code, out, err = _run("convert", str(mid), str(back), "--from", fmt, "--to", "coco", "-o", f"categories={source}",
                          "--json")
    assert code == 0, err
    assert json.loads(out)["changed"] == {}  # the map restores every category id
    assert not [k for k in json.loads(out)["warnings"] if "repeated" in k]  # mafmt's own lists read back quietly
    code, out, _ = _run("validate", str(mid), "--format", fmt)
    assert code == 0 and " 0 error(s)" in out and "repeated" not in out, out
    src, got = json.loads(source.read_text()), json.loads(back.read_text())
    assert len(got["annotations"]) == len(src["annotations"])  # one object per annotation
    by_id = {a["id"]: a for a in got["annotations"]}
    assert set(by_id) == {a["id"] for a in src["annotations"]}
    for want in src["annotations"]:
        have = by_id[want["id"]]
        for key in ("category_id", "iscrowd", "area", "bbox", "keypoints", "num_keypoints", "segmentation"):
            if key in want:
                assert have[key] == want[key], (want["id"], key)
                assert json.dumps(have[key]) == json.dumps(want[key]), (want["id"], key)  # the same JSON types
    assert [(c["id"], c["name"], c["supercategory"]) for c in got["categories"]] == [
        (c["id"], c["name"], c["supercategory"]) for c in src["categories"]]
    theirs, ours = _coco(source), _coco(back)
    masked = [a["id"] for a in src["annotations"] if a["segmentation"]]  # pycocotools cannot mask "segmentation": []
    for ann_id in masked:
        a, b = theirs.annToMask(theirs.anns[ann_id]), ours.annToMask(ours.anns[ann_id])
        assert a.shape == b.shape and a.any() and (a == b).all(), ann_id  # IoU 1.0
    for kind, images in (("segm", sorted({theirs.anns[i]["image_id"] for i in masked})), ("bbox", [1, 2, 3])):
        results = [{**a, "score": 1.0} for a in got["annotations"] if a["image_id"] in images]
        ev = COCOeval(theirs, theirs.loadRes(results), kind)
        ev.params.imgIds = images
        with contextlib.redirect_stdout(io.StringIO()):
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        assert ev.stats[0] == pytest.approx(1.0), kind  # AP of the round trip against the source


def test_coco_to_yolo_to_coco_restores_ids_with_a_map_and_counts_them_without(source: Path, tmp_path: Path) -> None:
    boxes_only = _source()
    for a in boxes_only["annotations"]:
        a["segmentation"], a["iscrowd"] = [], 0
    source.write_text(json.dumps(boxes_only))
    code, _, err = _run("convert", str(source), str(tmp_path / "y"), "--to", "yolo", "-o", "write_sizes=true")
    assert code == 0, err
    assert (tmp_path / "y/data.yaml").read_text().strip().endswith(
        'names: ["person", "dog", "bottle", "toothbrush"]')  # by id, unused categories kept
    code, out, err = _run("convert", str(tmp_path / "y"), str(tmp_path / "plain.json"), "--from", "yolo", "--json")
    assert code == 0, err
    assert json.loads(out)["changed"] == {"category id->renumbered (YOLO index + 1)": 4}
    plain = json.loads((tmp_path / "plain.json").read_text())
    assert [(c["id"], c["name"]) for c in plain["categories"]] == [(1, "person"), (2, "dog"), (3, "bottle"),
                                                                   (4, "toothbrush")]
    code, out, err = _run("convert", str(tmp_path / "y"), str(tmp_path / "mapped.json"), "--from", "yolo",
                          "-o", f"categories={source}", "--json")
    assert code == 0, err
    assert json.loads(out)["changed"] == {}
    mapped = json.loads((tmp_path / "mapped.json").read_text())
    assert [(c["id"], c["name"], c["supercategory"]) for c in mapped["categories"]] == [
        (c["id"], c["name"], c["supercategory"]) for c in boxes_only["categories"]]
    names = {c["id"]: c["name"] for c in mapped["categories"]}
    src_names = {c["id"]: c["name"] for c in boxes_only["categories"]}
    got = sorted((a["image_id"], names[a["category_id"]], [round(v, 3) for v in a["bbox"]]) for a in mapped["annotations"])
    want = sorted((a["image_id"], src_names[a["category_id"]], [round(v, 3) for v in a["bbox"]])
                  for a in boxes_only["annotations"])
    assert got == want


def test_coco_written_from_boxes_loads_everywhere(tmp_path: Path) -> None:
    """A COCO file from a source without masks: segmentation [] on every annotation, numeric
    iscrowd/area, unique file names (two manifest lines of one image merged); pycocotools,
    COCOeval (boxes) and globox load it."""
    manifest = tmp_path / "m.manifest"
    (tmp_path / "a.xml").write_text("<annotation><filename>a.jpg</filename><size><width>20</width><height>10</height>"
                                    "</size><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax>"
                                    "<ymax>5</ymax></bndbox></object></annotation>")
    line = {"source": "a.jpg", "annotation": [{"type": "modelarts/object_detection", "annotation-loc": "./a.xml",
                                               "annotation-format": "PASCAL VOC"}]}
    manifest.write_text(json.dumps(line) + "\n" + json.dumps(line) + "\n")
    code, out, err = _run("convert", str(manifest), str(tmp_path / "c.json"), "--json")
    assert code == 0, err
    assert json.loads(out)["changed"] == {"samples of one image merged": 1}
    doc = json.loads((tmp_path / "c.json").read_text())
    assert [i["file_name"] for i in doc["images"]] == ["a.jpg"]
    assert all(a["segmentation"] == [] and a["iscrowd"] == 0 and isinstance(a["area"], (int, float))
               for a in doc["annotations"])
    coco = _coco(tmp_path / "c.json")
    ev = COCOeval(coco, coco.loadRes([{**a, "score": 1.0} for a in doc["annotations"]]), "bbox")
    with contextlib.redirect_stdout(io.StringIO()):
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ev.stats[0] == pytest.approx(1.0)
    globox = pytest.importorskip("globox")
    assert len(globox.AnnotationSet.from_coco(tmp_path / "c.json")) == 1


@pytest.mark.parametrize("target", [("manifest", "m/x.manifest"), ("modelarts-voc", "mvoc"), ("voc", "voc"),
                                    ("csv", "x.csv")], ids=lambda t: t[0])
def test_a_category_table_the_target_cannot_hold_is_counted(source: Path, tmp_path: Path,
                                                            target: tuple[str, str]) -> None:
    """COCO -> manifest -> COCO gives new ids (first appearance); the first leg says so."""
    fmt, rel = target
    code, out, err = _run("convert", str(source), str(tmp_path / rel), "--to", fmt, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["metadata"]["category ids"] == 4  # VOC and CSV also lose the masks, counted as lost
    assert report["metadata"]["category supercategory"] == 1
    assert report["metadata"]["category keys (keypoints, skeleton, ...)"] == 1


def test_yolo_class_indices_a_target_cannot_hold_are_counted(tmp_path: Path) -> None:
    import user_layouts as U

    named, bare = U.ultralytics(tmp_path / "a"), U.yolo_without_names(tmp_path / "b")
    cases = [(named, "manifest", "m1/x.manifest", {"class index (YOLO)": 3}), (named, "voc", "v1", {}),
             (named, "yolo", "y1", {}), (bare, "voc", "v2", {"class index (YOLO, no names)": 1}),
             (bare, "coco", "c2.json", {"class index (YOLO, no names)": 1}), (bare, "yolo", "y2", {})]
    for fx, fmt, rel, want in cases:
        code, out, err = _run("convert", str(fx.root), str(tmp_path / rel), "--from", "yolo", "--to", fmt, "--json")
        assert code == 0, err
        got = {k: v for k, v in json.loads(out)["metadata"].items() if k.startswith(("class index", "category"))}
        assert got == want, (fx.root.name, fmt)
