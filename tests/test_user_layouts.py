"""The layouts users have (CVAT, Roboflow, Kaggle, ultralytics, the VOC devkit): read with the
counts a correct reader finds (and datumaro finds, where it reads them), and carried box by
box through every other format."""

from __future__ import annotations

import io
import json
import logging
import warnings
from pathlib import Path

import pytest
import user_layouts as U

import mafmt
from mafmt import converters
from mafmt.cli import main
from mafmt.model import Detection

LAYOUTS = U.YOLO_LAYOUTS + U.VOC_LAYOUTS
#: every target that holds boxes, with the target name and the reader to read it back with
TARGETS = [("coco", "out.json", "coco"), ("yolo", "yolo", "yolo"), ("modelarts-yolo", "darknet", "modelarts-yolo"),
           ("voc", "voc", "voc"), ("modelarts-voc", "mvoc", "modelarts-voc"), ("manifest", "m/out.manifest", "manifest"),
           ("csv", "out.csv", "csv")]


def _boxes(samples: list[mafmt.Sample]) -> list[tuple[str, str, tuple[float, ...]]]:
    out = []
    for s in samples:
        stem = s.source.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        for a in s.annotations:
            if isinstance(a, Detection):
                out += [(stem, o.name, tuple(float(v) for v in o.shape.bbox())) for o in a.load().objects]
    return sorted(out)


def _same_boxes(got: list[tuple[str, str, tuple[float, ...]]], want: list[tuple[str, str, tuple[float, ...]]],
                tol: float = 1e-3) -> None:
    assert [(s, n) for s, n, _ in got] == [(s, n) for s, n, _ in want]
    for (_, _, g), (stem, name, w) in zip(got, want):
        assert all(abs(a - b) <= tol for a, b in zip(g, w)), (stem, name, g, w)


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(params=LAYOUTS, ids=lambda b: b.__name__)
def layout(request: pytest.FixtureRequest, tmp_path: Path) -> U.Fixture:
    return request.param(tmp_path / "in")


def test_read_finds_every_image_and_box(layout: U.Fixture) -> None:
    samples = list(mafmt.read(str(layout.root), layout.format))
    assert len(samples) == layout.images
    _same_boxes(_boxes(samples), sorted((s, n, tuple(map(float, b))) for s, n, b in layout.expected))
    detected = converters.detect(str(layout.root))
    assert _boxes(list(detected.read(str(layout.root)))) == _boxes(samples), detected.name


def test_nothing_that_is_not_a_label_file_is_read_as_one(tmp_path: Path) -> None:
    for builder in (U.names_and_split_folders, U.flat_yolo, U.roboflow):
        fx = builder(tmp_path)
        code, out, err = _run("inspect", str(fx.root), "--format", "yolo", "--json")
        assert code == 0, err
        assert json.loads(out)["samples"] == fx.images, builder.__name__


def test_counts_equal_what_datumaro_reads(layout: U.Fixture) -> None:
    if layout.datumaro is None:
        pytest.skip("datumaro does not read this layout")
    dm = pytest.importorskip("datumaro")
    warnings.filterwarnings("ignore")
    logging.disable(logging.CRITICAL)
    try:
        where = {k: str(layout.root / v) for k, v in layout.datumaro_args.items()}
        ds = dm.Dataset.import_from(where.pop("path", str(layout.root)), layout.datumaro, **where)
    finally:
        logging.disable(logging.NOTSET)
    theirs = sorted((item.id.rsplit("/", 1)[-1], ds.categories()[dm.AnnotationType.label][a.label].name,
                     (a.x, a.y, a.x + a.w, a.y + a.h)) for item in ds for a in item.annotations if a.type.name == "bbox")
    ours = _boxes(list(mafmt.read(str(layout.root), layout.format)))
    _same_boxes(ours, sorted((s, n, tuple(map(float, b))) for s, n, b in theirs))
    annotated = {s for s, _, _ in ours}
    kept = {item.id.rsplit("/", 1)[-1] for item in ds}
    assert annotated <= kept and len(kept) <= layout.images  # datumaro drops images without objects in some layouts


@pytest.mark.parametrize("target", TARGETS, ids=[t[0] for t in TARGETS])
def test_every_layout_goes_through_every_format_box_by_box(layout: U.Fixture, target: tuple[str, str, str],
                                                          tmp_path: Path) -> None:
    fmt, rel, reader = target
    dst = tmp_path / "out" / rel
    code, out, err = _run("convert", str(layout.root), str(dst), "--from", layout.format, "--to", fmt, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["written"] == report["read"] == layout.images and report["dropped"] == {}
    back = list(mafmt.read(str(dst), reader, **({"size_table": _sizes(tmp_path, layout)} if "yolo" in fmt else {})))
    want = sorted((s, n, tuple(map(float, b))) for s, n, b in layout.expected)
    if fmt == "voc" and layout.root.name == "flat-voc":  # standard VOC rounds float corners, and says so
        assert report["lost"] == {"float coordinate->rounded": layout.boxes}
        want = [(s, n, tuple(float(round(v)) for v in b)) for s, n, b in want]
    _same_boxes(_boxes(back), want)
    assert len(back) == layout.images


def _sizes(tmp: Path, layout: U.Fixture) -> str:
    table = tmp / "sizes.csv"
    table.write_text("".join(f"{stem}.jpg,{U.W},{U.H}\n" for stem in U.BOXES))
    return str(table)


def test_yolo_without_names_keeps_every_index(tmp_path: Path) -> None:
    fx = U.yolo_without_names(tmp_path / "in")
    for stem in ("img1", "img4"):  # indices 0, 2 and 0, 1, 1: renumbering would turn 2 into 1
        assert (fx.root / "labels" / f"{stem}.txt").read_text() == U._labels(stem)
    code, _, err = _run("convert", str(fx.root), str(tmp_path / "out"), "--to", "yolo", "--images", str(fx.root))
    assert code == 0, err
    for stem in ("img1", "img2", "img4"):
        got = [line.split()[0] for line in (tmp_path / "out/labels/train" / f"{stem}.txt").read_text().splitlines()]
        assert got == [str(c) for c, *_ in U.BOXES[stem]], stem


def test_yolo_classes_keep_the_source_order_never_the_alphabet(tmp_path: Path) -> None:
    names = [f"class{i:02d}" for i in (12, 3, 7, 10, 1, 2, 0, 11, 9, 4, 5, 8)]  # ten or more, not sorted
    coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
            "annotations": [{"id": i + 1, "image_id": 1, "category_id": 100 - i, "bbox": [1, 1, 2, 2]}
                            for i in range(len(names))],
            "categories": [{"id": 100 - i, "name": n} for i, n in enumerate(names)]}
    src = tmp_path / "in.json"
    src.write_text(json.dumps(coco))
    for split_name in ("a", "b"):
        code, _, err = _run("convert", str(src), str(tmp_path / split_name), "--to", "yolo")
        assert code == 0, err
    yaml_names = json.loads((tmp_path / "a/data.yaml").read_text().splitlines()[-1].split(": ", 1)[1])
    assert yaml_names == [c["name"] for c in sorted(coco["categories"], key=lambda c: c["id"])]  # COCO: by id
    assert (tmp_path / "a/data.yaml").read_text() == (tmp_path / "b/data.yaml").read_text()  # the same on every run
