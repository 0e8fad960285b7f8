"""``mafmt convert`` and ``mafmt formats``: every pair converts, strict mode, detection, report."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from PIL import Image

from mafmt import converters
from mafmt.cli import main

NAMES = ["manifest", "coco", "modelarts-yolo", "yolo", "csv", "modelarts-voc", "voc",
         "modelarts-image-classification",
         "modelarts-text-classification", "modelarts-text-classification-combine", "modelarts-imagenet",
         "modelarts-audio-classification"]
FILE_TARGETS = {"manifest": "out.manifest", "coco": "out.json", "csv": "out.csv"}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """One small dataset in every format (made by mafmt itself from a COCO file and images)."""
    root = tmp_path_factory.mktemp("src")
    images = root / "images"
    images.mkdir()
    coco = {"images": [], "annotations": [], "categories": [{"id": 3, "name": "cat"}, {"id": 7, "name": "dog"}]}
    for i in range(3):
        Image.new("RGB", (64, 48)).save(images / f"im{i}.png")
        coco["images"].append({"id": i + 1, "file_name": f"im{i}.png", "width": 64, "height": 48})
        coco["annotations"].append({"id": i + 1, "image_id": i + 1, "category_id": 3 if i % 2 else 7,
                                    "bbox": [1, 2, 30, 20], "area": 600, "iscrowd": 0})
    (root / "base.json").write_text(json.dumps(coco))
    out: dict[str, Path] = {"coco": root / "base.json"}
    for name in NAMES:
        if name == "coco" or "classification" in name or name == "modelarts-imagenet":
            continue
        target = root / name / FILE_TARGETS.get(name, "")
        assert run("convert", str(root / "base.json"), str(target), "--to", name, "--images", str(images))[0] == 0
        out[name] = target
    for i in range(3):  # classification sources
        (root / "cls" / ("cat" if i % 2 else "dog")).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8)).save(root / "cls" / ("cat" if i % 2 else "dog") / f"c{i}.png")
        (root / "snd" / "siren").mkdir(parents=True, exist_ok=True)
        (root / "snd" / "siren" / f"s{i}.wav").write_bytes(b"RIFF")
    out["modelarts-imagenet"] = root / "cls"
    out["modelarts-audio-classification"] = root / "snd"
    assert run("convert", str(root / "cls"), str(root / "ic"), "--to", "modelarts-image-classification")[0] == 0
    out["modelarts-image-classification"] = root / "ic"
    (root / "txt").mkdir()
    (root / "txt" / "t.txt").write_text("good\tpos\nbad\tneg\n")
    out["modelarts-text-classification-combine"] = root / "txt"
    assert run("convert", str(root / "txt"), str(root / "txt2"), "--from", "modelarts-text-classification-combine",
               "--to", "modelarts-text-classification")[0] == 0
    out["modelarts-text-classification"] = root / "txt2"
    return images, out


def test_formats_lists_every_format() -> None:
    code, out, _ = run("formats")
    assert code == 0
    for name in NAMES:
        assert f"\n{name}" in "\n" + out
    code, out, _ = run("formats", "--json")
    assert [f["name"] for f in json.loads(out)] == NAMES == list(converters.FORMATS)


DETECTION = {"manifest", "coco", "modelarts-yolo", "yolo", "csv", "modelarts-voc", "voc"}
KIND = {**dict.fromkeys(DETECTION, "detection"), "modelarts-image-classification": "image-labels",
        "modelarts-imagenet": "image-labels", "modelarts-text-classification": "text",
        "modelarts-text-classification-combine": "text", "modelarts-audio-classification": "sound"}
#: targets that hold every kind of sample
UNIVERSAL = {"manifest", "csv"}


@pytest.mark.parametrize("src", NAMES)
def test_every_pair_converts_or_says_why_nothing_fits(src: str, sources: tuple[Path, dict[str, Path]],
                                                      tmp_path: Path) -> None:
    images, paths = sources
    for dst in NAMES:
        target = tmp_path / dst / FILE_TARGETS.get(dst, "")
        code, out, err = run("convert", str(paths[src]), str(target), "--from", src, "--to", dst, "--images",
                             str(images), "--json")
        if dst in UNIVERSAL or KIND[src] == KIND[dst]:
            assert code == 0, (src, dst, err)
            report = json.loads(out)
            assert report["written"] == report["read"] > 0, (src, dst, report)
        elif code:
            assert code == 1 and "nothing written" in err and "fits" in err and "Traceback" not in err, (src, dst, err)
            assert not target.exists(), (src, dst)  # nothing at all is left behind


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("modelarts-text-classification-combine",)])
def test_input_format_is_detected(name: str, sources: tuple[Path, dict[str, Path]]) -> None:
    assert converters.detect(str(sources[1][name])).name == name


def test_detection_pipeline_keeps_boxes(sources: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    _, paths = sources
    for name in ("manifest", "yolo", "modelarts-yolo", "csv", "voc", "modelarts-voc"):
        code, _, err = run("convert", str(paths[name]), str(tmp_path / f"{name}.json"), "--from", name)
        assert code == 0, err
        data = json.loads((tmp_path / f"{name}.json").read_text())
        assert sorted(a["bbox"] for a in data["annotations"]) == [[1, 2, 30, 20]] * 3, name
        assert {c["name"] for c in data["categories"]} == {"cat", "dog"}


def test_voc_layouts(sources: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    _, paths = sources
    # --to voc with a folder target: the standard layout (images copied when found)
    assert (paths["voc"] / "Annotations/im0.xml").exists() and (paths["voc"] / "ImageSets/Main/train.txt").exists()
    assert (paths["voc"] / "JPEGImages/im0.png").exists()
    assert converters.detect(str(paths["voc"])).name == "voc"
    assert converters.get("pascal-voc").name == "voc"
    # layout=flat: lossless ModelArts VOC files in one folder
    assert run("convert", str(paths["coco"]), str(tmp_path / "flat"), "--to", "voc", "-o", "layout=flat")[0] == 0
    assert sorted(p.name for p in (tmp_path / "flat").iterdir()) == ["im0.xml", "im1.xml", "im2.xml"]


def test_strict_fails_on_loss_and_leaves_target_alone(sources: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    _, paths = sources
    code, _, err = run("convert", str(paths["coco"]), str(tmp_path / "x"), "--to", "yolo", "-o", "task=segment",
                       "--strict")
    assert code == 1 and "would lose data" in err and "bndbox->polygon: 3" in err
    assert not (tmp_path / "x").exists() and os.listdir(tmp_path) == []
    code, out, _ = run("convert", str(paths["coco"]), str(tmp_path / "y.json"), "--strict")
    assert code == 0 and "lost: nothing" in out


def test_report_options_and_progress(sources: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    _, paths = sources
    code, out, err = run("convert", str(paths["coco"]), str(tmp_path / "seg"), "--to", "yolo", "-o", "task=segment",
                         "-o", "layout=flat", "--progress")
    assert code == 0 and re.search(r"bndbox->polygon +3", out) and "converting: 100%" in err and "3/3" in err
    assert len((tmp_path / "seg" / "im0.txt").read_text().split()) == 9
    code, _, err = run("convert", str(paths["coco"]), str(tmp_path / "z"), "--to", "yolo", "-o", "nonsense=1")
    assert code == 2 and "unknown option" in err
    code, _, err = run("convert", str(paths["coco"]), str(tmp_path / "z"), "--to", "nope")
    assert code == 2 and "unknown format" in err


def test_yolo_without_images_needs_sizes(sources: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    _, paths = sources
    bare = tmp_path / "bare"
    assert run("convert", str(paths["coco"]), str(bare), "--to", "yolo")[0] == 0
    code, _, err = run("convert", str(bare), str(tmp_path / "o.json"), "--from", "yolo")
    assert code == 1 and "im0.png" in err or "im0" in err
    table = tmp_path / "sizes.csv"
    table.write_text("".join(f"im{i}.png,64,48\n" for i in range(3)) + "".join(f"im{i}.jpg,64,48\n" for i in range(3)))
    code, _, err = run("convert", str(bare), str(tmp_path / "o.json"), "--from", "yolo", "--size-table", str(table))
    assert code == 0, err
