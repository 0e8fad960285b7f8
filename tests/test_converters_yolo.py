"""YOLO: round trips (detect and segment, three layouts), loss counts, sizes, globox interop."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from strategies_converters import detection_dataset, project

from mafmt.converters import coco, yolo
from mafmt.errors import FormatError
from mafmt.model import BndBox, Circle, Detection, Polygon, Sample, VocDocument, VocObject


def _names(samples: list[Sample]) -> dict[str, tuple]:
    return {project(s)[0]: project(s) for s in samples}


@given(detection_dataset(shapes="box"), st.sampled_from(["ultralytics", "darknet", "flat"]))
@settings(max_examples=30)
def test_detect_roundtrip_is_exact(tmp_path_factory: pytest.TempPathFactory, samples: list[Sample], layout: str) -> None:
    tmp = tmp_path_factory.mktemp("y")
    report = yolo.write(samples, tmp, layout=layout, write_sizes=True)
    expected = Counter()
    if layout == "darknet":
        expected["usage TEST->train"] = sum(s.usage == "TEST" for s in samples)
    assert report.lost == +expected
    back = list(yolo.read(tmp))
    want = _names(samples)
    if layout in ("darknet", "flat"):  # no test split / no splits at all
        want = {k: (v[0], {"flat": None}.get(layout, "TRAIN" if v[1] == "TEST" else v[1]), *v[2:])
                for k, v in want.items()}
    assert _names(back) == want


@given(detection_dataset(shapes="polygon"))
@settings(max_examples=30)
def test_segment_roundtrip_is_exact(tmp_path_factory: pytest.TempPathFactory, samples: list[Sample]) -> None:
    tmp = tmp_path_factory.mktemp("y")
    report = yolo.write(samples, tmp, task="segment", write_sizes=True)
    assert report.lost == Counter()
    assert _names(list(yolo.read(tmp))) == _names(samples)


@given(detection_dataset(shapes="any", fields=True))
@settings(max_examples=30)
def test_losses_counted_exactly(tmp_path_factory: pytest.TempPathFactory, samples: list[Sample]) -> None:
    objs = [o for s in samples for o in s.annotations[0].document.objects]
    report = yolo.write(samples, tmp_path_factory.mktemp("y"), write_sizes=True)
    kinds = Counter(o.shape.kind for o in objs)
    expected = Counter({f"{k}->bbox": n for k, n in kinds.items() if k != "bndbox"})
    expected["pose->dropped"] = sum(o.pose not in (None, "Unspecified") for o in objs)
    for f in ("truncated", "occluded", "difficult"):
        expected[f"{f}->dropped"] = sum(getattr(o, f) not in (None, 0) for o in objs)
    expected["confidence->dropped"] = sum(o.confidence is not None for o in objs)
    expected["properties->dropped"] = sum(bool(o.properties) for o in objs)
    sizes = [(s.annotations[0].document.width, s.annotations[0].document.height)
             for s in samples for _ in s.annotations[0].document.objects]
    for o, (w, h) in zip(objs, sizes):  # a circle near the border pokes out of the image: clipped (ultralytics' rule)
        x0, y0, x1, y1 = o.shape.bbox()
        if (x0, y0, x1, y1) != (min(max(x0, 0), w), min(max(y0, 0), h), min(max(x1, 0), w), min(max(y1, 0), h)):
            expected["box outside the image->clipped"] += 1
    assert report.lost == +expected


def test_ultralytics_layout_files(tmp_path: Path) -> None:
    doc = VocDocument(filename="a.jpg", width=1280, height=720, objects=[
        VocObject(name="forklift", shape=BndBox(320, 252, 576, 540)),
        VocObject(name="person", shape=BndBox(1000, 241, 1080, 461)),
    ])
    yolo.write([Sample(source="a.jpg", usage="EVAL", annotations=[Detection(document=doc)])], tmp_path,
               classes=["forklift", "pallet", "person"])
    assert (tmp_path / "labels/val/a.txt").read_text() == (
        "0 0.350000 0.550000 0.200000 0.400000\n2 0.812500 0.487500 0.062500 0.305556\n")
    data = (tmp_path / "data.yaml").read_text()
    assert 'names: ["forklift", "pallet", "person"]' in data and "val: images/val" in data
    assert yolo.parse_names_yaml(data) == ["forklift", "pallet", "person"]
    assert yolo.parse_names_yaml("names:\n  0: a\n  1: b\n") == ["a", "b"]


def test_darknet_layout_is_the_modelarts_import_layout(tmp_path: Path) -> None:
    doc = VocDocument(filename="cam_001.jpg", width=1280, height=720,
                      objects=[VocObject(name="pallet", shape=BndBox(0, 0, 10, 10))])
    yolo.MODELARTS_FORMAT.write([Sample(source="x/cam_001.jpg", annotations=[Detection(document=doc)])], tmp_path)
    assert (tmp_path / "obj.names").read_text() == "pallet\n"
    assert (tmp_path / "obj.data").read_text().startswith("classes = 1\nnames = obj.names\ntrain = train.txt\n")
    assert (tmp_path / "train.txt").read_text() == "obj_train_data/cam_001.jpg\n"
    assert (tmp_path / "obj_train_data/cam_001.txt").exists()
    assert yolo.MODELARTS_FORMAT.sniff(str(tmp_path))


def test_sizes_from_image_headers_and_missing_size_error(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    (root / "obj_train_data").mkdir(parents=True)
    (root / "obj.names").write_text("a\nb\n")
    (root / "obj.data").write_text("classes = 2  # Optional\nnames = obj.names\ntrain = train.txt\n")
    Image.new("RGB", (200, 100)).save(root / "obj_train_data/i1.png")
    (root / "obj_train_data/i1.txt").write_text("1 0.5 0.5 0.5 0.5\n# comment\n\n")
    (root / "obj_train_data/i2.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    stream = yolo.read(root, on_error="skip")
    (sample,) = list(stream)
    doc = sample.annotations[0].document
    assert (sample.source, sample.usage, doc.width, doc.height, doc.depth) == ("obj_train_data/i1.png", "TRAIN", 200,
                                                                                100, 3)
    assert doc.objects[0].name == "b" and doc.objects[0].shape == BndBox(50, 25, 150, 75)
    assert stream.report.skipped == 1 and "i2.jpg" in str(stream.report.problems[0])
    with pytest.raises(FormatError, match="i2"):
        list(yolo.read(root))
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("filename,width,height\ni2.jpg,1000,10\n")
    assert len(list(yolo.read(root, size_table=str(sizes)))) == 2


def test_a_size_table_read_again_is_parsed_once_and_each_caller_gets_its_own_copy(tmp_path: Path,
                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from mafmt.converters import _sizes

    table = tmp_path / "sizes.csv"
    table.write_text("a.jpg,10,20\nb.jpg,30,40,1\n")
    parsed: list[str] = []
    parse = _sizes._parse_table
    monkeypatch.setattr(_sizes, "_parse_table", lambda data, name: parsed.append(name) or parse(data, name))
    first = _sizes.load_size_table(str(table))
    first["a.jpg"] = (1, 1, None)  # (a caller's change stays its own)
    assert _sizes.load_size_table(str(table)) == {"a.jpg": (10, 20, None), "b.jpg": (30, 40, 1)}
    assert len(parsed) == 1
    table.write_text("a.jpg,11,20\n")  # the same name, new bytes: read afresh
    assert _sizes.load_size_table(str(table)) == {"a.jpg": (11, 20, None)}
    table.write_text("a.jpg,11\n")  # and a bad table is refused every time it is read
    for _ in range(2):
        with pytest.raises(FormatError, match="sizes.csv:1"):
            _sizes.load_size_table(str(table))
    assert len(parsed) == 4


def test_bad_lines_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "classes.txt").write_text("a\n")
    (tmp_path / "x.txt").write_text("0 0.5 0.5 0.1 0.1\n3 0.5 0.5 0.1 0.1\n")
    with pytest.raises(FormatError) as exc:
        list(yolo.read(tmp_path, size_table={"x.jpg": (10, 10)}))
    assert "x.txt:2" in str(exc.value) and "class index 3" in str(exc.value)
    (tmp_path / "x.txt").write_text("0 0.5 0.5\n")
    with pytest.raises(FormatError, match="x.txt:1"):
        list(yolo.read(tmp_path, size_table={"x.jpg": (10, 10)}))


def test_circle_becomes_polygon_in_segment_mode(tmp_path: Path) -> None:
    doc = VocDocument(filename="a.jpg", width=100, height=100, objects=[
        VocObject(name="c", shape=Circle(50, 50, 10)), VocObject(name="b", shape=BndBox(1, 2, 3, 4))])
    report = yolo.write([Sample(source="a.jpg", annotations=[Detection(document=doc)])], tmp_path, task="segment",
                        write_sizes=True, circle_vertices=8)
    assert report.lost == Counter({"circle->polygon": 1, "bndbox->polygon": 1})
    objs = next(iter(yolo.read(tmp_path))).annotations[0].document.objects
    assert len(objs[0].shape.points) == 8 and objs[1].shape == Polygon(((1, 2), (3, 2), (3, 4), (1, 4)))


def test_globox_reads_mafmt_yolo_with_same_boxes(tmp_path: Path) -> None:
    globox = pytest.importorskip("globox")
    images = tmp_path / "images"
    images.mkdir()
    samples = []
    for i, (w, h) in enumerate([(640, 480), (333, 517)]):
        Image.new("RGB", (w, h)).save(images / f"im{i}.jpg")
        objs = [VocObject(name="cat", shape=BndBox(10, 20, 100, 200)), VocObject(name="dog", shape=BndBox(3, 4, 5, 6))]
        samples.append(Sample(source=f"im{i}.jpg", annotations=[Detection(document=VocDocument(
            filename=f"im{i}.jpg", width=w, height=h, objects=objs))]))
    out = tmp_path / "yolo"
    yolo.write(samples, out, images=str(images))
    assert (out / "images/train/im0.jpg").exists()
    names = yolo.parse_names_yaml((out / "data.yaml").read_text())
    parsed = globox.AnnotationSet.from_yolo_v5(out / "labels/train", image_folder=out / "images/train")
    for ann in parsed:
        want = {o.name: o.shape.bbox() for s in samples if s.source == ann.image_id
                for o in s.annotations[0].document.objects}
        got = {names[int(b.label)]: b.ltrb for b in ann.boxes}
        assert got.keys() == want.keys()
        for k, box in want.items():
            assert got[k] == pytest.approx(box, abs=1e-3)


def test_yolo_to_coco_keeps_class_order(tmp_path: Path) -> None:
    (tmp_path / "classes.txt").write_text("zebra\nant\n")
    (tmp_path / "x.txt").write_text("1 0.5 0.5 0.2 0.2\n")
    coco.write(yolo.read(tmp_path, size_table={"x.jpg": (10, 10)}), tmp_path / "o.json")
    import json

    cats = json.loads((tmp_path / "o.json").read_text())["categories"]
    assert [(c["id"], c["name"]) for c in cats] == [(1, "zebra"), (2, "ant")]


def test_a_split_naming_another_splits_folder_is_read_once(tmp_path: Path) -> None:
    """coco128.yaml (ultralytics' own example) gives train and val the same folder: each image
    is one sample, read as train, and the reader says why val has none."""
    (tmp_path / "images" / "train2017").mkdir(parents=True)
    (tmp_path / "labels" / "train2017").mkdir(parents=True)
    for i in range(3):
        Image.new("RGB", (20, 10)).save(tmp_path / "images" / "train2017" / f"{i}.jpg")
        (tmp_path / "labels" / "train2017" / f"{i}.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "data.yaml").write_text("path: .\ntrain: images/train2017\nval: images/train2017\nnames:\n  0: person\n")
    stream = yolo.read(tmp_path)
    samples = list(stream)
    assert sorted(s.source for s in samples) == [f"images/train2017/{i}.jpg" for i in range(3)]
    assert {s.usage for s in samples} == {"TRAIN"}
    assert [k for k in stream.report.warnings if "same as train" in k] == [
        "val is the same as train (images/train2017): its images read once, as train"]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="a.b/\\ 车", max_size=10))
def test_a_file_names_stem_is_what_splitext_leaves_of_its_last_part(name: str) -> None:
    """``stem`` (a label file's name, a VOC id) cuts the extension as ``os.path.splitext`` does
    (leading dots are no extension), after the last ``/`` or ``\\``."""
    import os

    from mafmt.converters._common import UniqueNames, stem

    assert stem(name) == os.path.splitext(name.replace("\\", "/").rsplit("/", 1)[-1])[0]
    names = UniqueNames()
    root, ext = os.path.splitext(name)
    assert [names.take(name) for _ in range(3)] == [name, f"{root}_2{ext}", f"{root}_3{ext}"]
