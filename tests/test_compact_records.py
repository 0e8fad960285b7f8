"""The compact record (:class:`mafmt.model.CompactSample`) writes what the full model writes.

Generated COCO documents mix plain annotations (boxes and single polygons with int, short and
long float values, integer floats, out-of-image and empty boxes, stored areas and boxes that
match or not) with everything that is not plain (crowd RLE masks, several rings, attributes,
scores, unknown keys, image-level labels, unnamed categories) and images without annotations.
Some images have no size. Each is converted to YOLO, VOC, COCO and a manifest (with its VOC files) three ways: the compact records consumed by the writers,
the same records taken in their full form (their ``annotations`` built), and with the fast
lanes off; the output folders must be byte-identical and the reports equal.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from test_voc_text_lane import document as voc_document

import mafmt
from mafmt import lanes
from mafmt.converters import coco
from mafmt.model import CompactSample, Sample

SETTINGS = settings(max_examples=50, deadline=None)  # (7 writer settings: 350 documents)
CATEGORIES = [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}, {"id": 7, "name": "a & <b>"}]
UNNAMED = {"id": 9, "name": ""}
TARGETS = [
    ("yolo", {}),
    ("yolo", {"task": "segment"}),
    ("yolo", {"layout": "darknet", "precision": 3}),
    ("voc", {}),
    ("voc", {"pixel_base": 1}),
    ("voc", {"integer": False}),
    ("voc", {"keep_extra": True}),
    ("manifest", {}),
    ("manifest", {"size_table": {"img2.jpg": (50, 40, 3)}}),  # (the other unsized images are dropped)
    ("coco", {}),
    ("coco", {"size_table": {"img2.jpg": (50, 40, 3)}}),
]
FILE_TARGETS = {"manifest": "out.manifest", "coco": "out.json"}

value = st.one_of(
    st.integers(-20, 700),
    st.integers(-2000, 70000).map(lambda v: v / 100),  # two decimals, as COCO has them
    st.floats(-20, 700, allow_nan=False),  # many decimals
    st.integers(-20, 700).map(float),  # integer-valued floats
    st.integers(0, 7_000_000).map(lambda v: v / 10_000_000),  # seven decimals: tidy() rounds them
)
size = st.one_of(st.integers(0, 400), st.integers(0, 40000).map(lambda v: v / 100), st.floats(0, 400, allow_nan=False))


@st.composite
def plain_annotation(draw: Any) -> dict[str, Any]:
    """A box, or one polygon, with its stored area and box as COCO files have them (or not)."""
    x, y, w, h = draw(value), draw(value), draw(size), draw(size)
    ann: dict[str, Any] = {"category_id": draw(st.sampled_from([1, 3, 7])), "bbox": [x, y, w, h], "iscrowd": 0,
                           "segmentation": []}
    if draw(st.booleans()):
        ring = draw(st.lists(value, min_size=6, max_size=14).filter(lambda r: len(r) % 2 == 0))
        ann["segmentation"] = [ring]
        if draw(st.booleans()):  # the box a COCO writer gives the polygon
            xs, ys = ring[0::2], ring[1::2]
            ann["bbox"] = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    area = draw(st.sampled_from(["none", "product", "rounded", "odd"]))
    if area != "none":
        product = float(w * h)
        ann["area"] = {"product": product, "rounded": round(product, 4), "odd": draw(value)}[area]
    return ann


@st.composite
def other_annotation(draw: Any) -> dict[str, Any]:
    """A plain annotation with something a plain one has not, or no object at all."""
    ann = draw(plain_annotation())
    kind = draw(st.sampled_from(["crowd", "rings", "attributes", "score", "key", "label", "unnamed", "short ring",
                                 "int area"]))
    if kind == "crowd":
        h, w = draw(st.integers(1, 30)), draw(st.integers(1, 30))
        first = draw(st.integers(0, h * w))
        ann.update(iscrowd=1, segmentation={"size": [h, w], "counts": [first, h * w - first]})
    elif kind == "rings":
        ann["segmentation"] = [[1, 2, 30, 2, 30, 40], [50.5, 60, 70, 60, 70, 90.25]]
    elif kind == "attributes":
        ann["attributes"] = {"colour": "red"}
    elif kind == "score":
        ann["score"] = 0.75
    elif kind == "key":
        ann["track_id"] = 4
    elif kind == "label":
        del ann["bbox"]
        ann["segmentation"] = []
    elif kind == "unnamed":
        ann["category_id"] = 9
    elif kind == "short ring":
        ann["segmentation"] = [[1, 2, 3, 4]]
    else:
        ann["area"] = 12
    return ann


@st.composite
def coco_document(draw: Any) -> dict[str, Any]:
    """Images (some without annotations) and their annotations; sometimes an unnamed category."""
    unnamed = draw(st.booleans())
    images, annotations = [], []
    for i in range(1, draw(st.integers(1, 4)) + 1):
        image: dict[str, Any] = {"id": i, "file_name": f"img{i}.jpg", "width": draw(st.integers(1, 640)),
                                 "height": draw(st.integers(1, 480))}
        if draw(st.integers(0, 5)) == 0:
            del image["width"], image["height"]
        if draw(st.booleans()):
            image["license"] = 2
        images.append(image)
        for _ in range(draw(st.integers(0, 5))):
            ann = draw(st.one_of(plain_annotation(), plain_annotation(), other_annotation()))
            if ann["category_id"] == 9 and not unnamed:
                ann["category_id"] = 1
            annotations.append({"id": len(annotations) + 1, "image_id": i, **ann})
    return {"images": images, "annotations": annotations, "categories": CATEGORIES + [UNNAMED] * unnamed}


def put(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative name: bytes) into ``folder``."""
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(src: Path, dst: Path, src_fmt: str, fmt: str, options: dict[str, Any],
        read_options: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """The conversion's output folder and report (its paths made relative)."""
    target = dst / FILE_TARGETS[fmt] if fmt in FILE_TARGETS else dst
    try:
        report = mafmt.convert(src, target, src_fmt, fmt, read_options=read_options, **options)
    except mafmt.FormatError as exc:
        return ("error", str(exc).replace(str(dst), "DST"))
    done = report.to_dict()
    done["outputs"] = [o.removeprefix(str(dst)) for o in done["outputs"]]
    done["target"] = None
    return tree(dst), done


def three_ways(tmp: Path, src: Path, src_fmt: str, fmt: str, options: dict[str, Any]) -> list[tuple[Any, ...]]:
    """``src`` converted with the compact records, with their full form, and with the lanes off."""
    results = [run(src, tmp / "compact", src_fmt, fmt, options)]
    with mock.patch.object(CompactSample, "plain", lambda self, **_: None), \
            mock.patch.object(Sample, "plain", lambda self, **_: None):
        results.append(run(src, tmp / "full", src_fmt, fmt, options))
    with mock.patch.object(lanes, "PLAIN", False):
        results.append(run(src, tmp / "general", src_fmt, fmt, options))
    return results


@pytest.mark.parametrize(("fmt", "options"), TARGETS, ids=[f"{f}-{'-'.join(map(str, o))}" for f, o in TARGETS])
def test_compact_records_write_what_the_full_model_writes(tmp_path_factory: pytest.TempPathFactory, fmt: str,
                                                         options: dict[str, Any]) -> None:
    @SETTINGS
    @given(coco_document())
    def check(doc: dict[str, Any]) -> None:
        tmp = tmp_path_factory.mktemp("c")
        (tmp / "in.json").write_text(json.dumps(doc))
        compact, full, general = three_ways(tmp, tmp / "in.json", "coco", fmt, options)
        assert compact == full
        assert compact == general

    check()


yolo_value = st.one_of(st.floats(0, 1, allow_nan=False).map(lambda v: f"{v:.6f}"), st.floats(0, 1).map(repr),
                      st.sampled_from(["0", "1", "0.5", "1.0000001", "-0.0000001", "0.25", "1e-3"]))


@st.composite
def yolo_dataset(draw: Any) -> dict[str, bytes]:
    """An ultralytics layout (data.yaml, labels/train, its own sizes.csv): boxes, polygons,
    boxes with a confidence, comments and blank lines, values just outside 0..1; sometimes a
    class with an empty name."""
    last = draw(st.sampled_from(["a & <b>", "a & <b>", "''"]))  # (an empty name: its objects are dropped)
    files = {"data.yaml": f"path: .\ntrain: images/train\nnames:\n  0: cat\n  1: dog\n  2: {last}\n".encode()}
    sizes = []
    for i in range(1, draw(st.integers(1, 4)) + 1):
        lines = []
        for _ in range(draw(st.integers(0, 5))):
            kind = draw(st.sampled_from(["box", "box", "polygon", "confidence", "comment", "blank"]))
            n = {"box": 4, "confidence": 5, "polygon": 2 * draw(st.integers(3, 6))}.get(kind, 0)
            values = " ".join(draw(yolo_value) for _ in range(n))
            lines.append({"comment": "# a comment", "blank": ""}.get(kind, f"{draw(st.integers(0, 2))} {values}"))
        files[f"labels/train/img{i}.txt"] = "\n".join(lines).encode()
        sizes.append(f"img{i}.jpg,{draw(st.sampled_from([1, 7, 333, 640]))},{draw(st.integers(1, 480))}"
                     f"{draw(st.sampled_from(['', ',1', ',3']))}")
    files["sizes.csv"] = "\n".join(sizes).encode()
    return files


@pytest.mark.parametrize(("fmt", "options"), TARGETS, ids=[f"{f}-{'-'.join(map(str, o))}" for f, o in TARGETS])
def test_compact_yolo_samples_write_what_the_full_model_writes(tmp_path_factory: pytest.TempPathFactory, fmt: str,
                                                               options: dict[str, Any]) -> None:
    @settings(max_examples=20, deadline=None)
    @given(yolo_dataset())
    def check(files: dict[str, bytes]) -> None:
        tmp = tmp_path_factory.mktemp("y")
        put(tmp / "in", files)
        compact, full, general = three_ways(tmp, tmp / "in", "yolo", fmt, options)
        # every generated dataset can be written, but for an empty class name in a darknet list
        assert compact[0] != "error" or b"''" in files["data.yaml"], compact
        assert compact == full
        assert compact == general

    check()


@st.composite
def plain_voc(draw: Any) -> bytes:
    """A ModelArts VOC file of plain objects: boxes and polygons, every VOC flag there or not."""
    coordinate = st.sampled_from(["0", "3", "12", "4.5", "7.25", "-1", "600", "2.0"])
    objects = []
    for _ in range(draw(st.integers(0, 4))):
        parts = [f"<name>{draw(st.sampled_from(['cat', 'dog', ' a b ']))}</name>"]
        for tag, values in (("pose", ["Unspecified", "Left", " "]), ("truncated", ["0", "1"]), ("occluded", ["0", "1"]),
                            ("difficult", ["0", "1", "0"])):
            if draw(st.sampled_from([True, True, False])):
                parts.append(f"<{tag}>{draw(st.sampled_from(values))}</{tag}>")
        if draw(st.booleans()):
            parts.append("<bndbox>" + "".join(f"<{k}>{draw(coordinate)}</{k}>" for k in ("xmin", "ymin", "xmax", "ymax"))
                         + "</bndbox>")
        else:
            parts.append("<polygon>" + "".join(f"<x{i}>{draw(coordinate)}</x{i}><y{i}>{draw(coordinate)}</y{i}>"
                                               for i in range(1, draw(st.integers(3, 5)) + 1)) + "</polygon>")
        objects.append("<object>\n" + "\n".join(parts) + "\n</object>")
    width, height = draw(st.sampled_from([(640, 480), (13, 7), (0, 5)]))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<annotation><folder>NA</folder><filename>x.jpg</filename>'
            f"<source><database>Unknown</database></source><size><width>{width}</width><height>{height}</height>"
            "<depth>3</depth></size><segmented>0</segmented>\n" + "\n".join(objects) + "\n</annotation>").encode()


@st.composite
def linked_manifest(draw: Any) -> dict[str, bytes]:
    """A manifest whose lines link VOC files (mostly :func:`plain_voc`, else
    :func:`test_voc_text_lane.document`: plain ones with every number spelling, others the
    lane leaves to the tree, malformed ones),
    with the annotation's and the sample's own fields (kept, metadata, lost), sometimes a
    second annotation, a missing file or an inline label."""
    files: dict[str, bytes] = {}
    lines = []
    for i in range(1, draw(st.integers(1, 4)) + 1):
        files[f"Annotations/{i}.xml"] = draw(st.one_of(plain_voc(), plain_voc(), plain_voc(), voc_document()))
        ann: dict[str, Any] = {"type": "modelarts/object_detection", "annotation-loc": f"./Annotations/{i}.xml",
                               "annotation-format": "PASCAL VOC"}
        ann.update(draw(st.sampled_from([{}, {}, {"annotated-by": "human", "creation-time": "2024-03-01 10:00:00"},
                                         {"confidence": 0.5}, {"hard": True}])))
        line: dict[str, Any] = {"source": f"./images/{i}.jpg", "annotation": [ann]}
        line.update(draw(st.sampled_from([{}, {"usage": "TRAIN"}, {"usage": "eval", "id": f"s{i}"}, {"hard": "true"},
                                          {"inference-loc": "./x.txt"}])))
        extra = draw(st.sampled_from([""] * 6 + ["label", "two", "missing"]))
        if extra == "label":
            line["annotation"].append({"type": "modelarts/image_classification", "name": "cat"})
        elif extra == "two":
            line["annotation"].append(dict(ann))
        elif extra == "missing":
            ann["annotation-loc"] = "./Annotations/none.xml"
        lines.append(json.dumps(line))
    files["train.manifest"] = "\n".join(lines).encode()
    return files


LINKED_TARGETS = [t for t in TARGETS if t[0] in ("coco", "yolo")] + [("voc", {}), ("manifest", {})]


@pytest.mark.parametrize(("fmt", "options"), LINKED_TARGETS, ids=[f"{f}-{'-'.join(map(str, o))}" for f, o in LINKED_TARGETS])
def test_compact_views_of_linked_voc_files_write_what_the_full_model_writes(
        tmp_path_factory: pytest.TempPathFactory, fmt: str, options: dict[str, Any]) -> None:
    @settings(max_examples=40, deadline=None)
    @given(linked_manifest())
    def check(files: dict[str, bytes]) -> None:
        tmp = tmp_path_factory.mktemp("m")
        put(tmp / "in", files)
        compact, full, general = three_ways(tmp, tmp / "in" / "train.manifest", "manifest", fmt, options)
        event("an error" if compact[0] == "error" else "written")
        assert compact == full
        assert compact == general

    check()


def test_a_linked_plain_voc_file_gives_a_compact_view(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text(
        "<annotation><folder>F</folder><filename>a.jpg</filename><size><width>9</width><height>8</height></size>"
        "<segmented>0</segmented><object><name>cat</name><pose>Left</pose><truncated>1</truncated>"
        "<bndbox><xmin>1</xmin><ymin>2.5</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>")
    (tmp_path / "b.xml").write_text("<annotation><object><name>cat</name></object></annotation>")
    (tmp_path / "m.manifest").write_text(
        '{"source": "a.jpg", "annotation": [{"type": "modelarts/object_detection", "annotation-loc": "a.xml"}]}\n'
        '{"source": "b.jpg", "annotation": [{"type": "modelarts/object_detection", "annotation-loc": "b.xml"}]}\n')
    first, second = mafmt.read(tmp_path / "m.manifest")
    assert first.plain() is None  # (only a caller that writes VOC flags takes them)
    view = first.plain(linked=True)
    assert view is not None and view.plain(linked=True) is view and view.plain() is None
    assert (view.width, view.height, view.objects, view.flags) == (9, 8, [("cat", 1, 2.5, 3, 4, None, ())],
                                                                   [("Left", 1, None, None)])
    assert view.annotation == first.annotations[0] and first.annotations[0].document is None  # (not kept)
    assert view.annotations[0].load().objects[0].truncated == 1  # its full form: the file read again
    assert second.plain(linked=True) is None
    assert second.annotations[0].document is not None  # (read once: the general path takes it as it is)


@st.composite
def voc_dataset(draw: Any) -> dict[str, bytes]:
    """A standard VOC dataset folder: ``Annotations`` (mostly :func:`plain_voc` files, else
    :func:`test_voc_text_lane.document`), sometimes ``ImageSets/Main`` lists; or a flat
    folder of XML files (as labelImg leaves them)."""
    files: dict[str, bytes] = {}
    ids = [f"img{i}" for i in range(1, draw(st.integers(1, 4)) + 1)]
    flat = draw(st.booleans())
    for key in ids:
        files[f"{'' if flat else 'Annotations/'}{key}.xml"] = draw(
            st.one_of(plain_voc(), plain_voc(), plain_voc(), voc_document()))
    if not flat and draw(st.booleans()):
        half = len(ids) // 2 + 1
        files["ImageSets/Main/train.txt"] = "\n".join(ids[:half]).encode()
        files["ImageSets/Main/val.txt"] = "\n".join(ids[half:]).encode()
    return files


@pytest.mark.parametrize(("fmt", "options"), TARGETS, ids=[f"{f}-{'-'.join(map(str, o))}" for f, o in TARGETS])
def test_compact_voc_samples_write_what_the_full_model_writes(tmp_path_factory: pytest.TempPathFactory, fmt: str,
                                                              options: dict[str, Any]) -> None:
    """A standard VOC folder read in compact form (which mafmt.convert asks for when the writer
    takes it, and here of every writer: the others build each document) writes what the full
    model writes."""
    @settings(max_examples=30, deadline=None)
    @given(voc_dataset())
    def check(files: dict[str, bytes]) -> None:
        tmp = tmp_path_factory.mktemp("v")
        put(tmp / "in", files)
        compact, full, general = three_ways(tmp, tmp / "in", "voc", fmt, options)
        event("an error" if compact[0] == "error" else "written")
        assert compact == full
        assert compact == general
        assert run(tmp / "in", tmp / "asked", "voc", fmt, options, {"compact": True}) == compact

    check()


@settings(max_examples=60, deadline=None)
@given(linked_manifest())
def test_a_view_has_the_fields_of_the_sample_it_stands_for(tmp_path_factory: pytest.TempPathFactory,
                                                          files: dict[str, bytes]) -> None:
    """A manifest line's view is made from its plain form, without building the sample."""
    tmp = tmp_path_factory.mktemp("v")
    put(tmp, files)
    try:
        views = [s.plain(linked=True) for s in mafmt.read(tmp / "train.manifest", "manifest")]
    except mafmt.FormatError:
        return
    event("a view" if any(views) else "no view")
    for view, sample in zip(views, mafmt.read(tmp / "train.manifest", "manifest"), strict=True):
        if view is not None:
            assert [getattr(view, f) for f in Sample.__dataclass_fields__ if f != "annotations"] == \
                [getattr(sample, f) for f in Sample.__dataclass_fields__ if f != "annotations"]
            assert view.annotation == sample.annotations[0]
            assert (view.annotation.base, view.annotation.origin) == (sample.annotations[0].base,  # type: ignore[union-attr]
                                                                      sample.annotations[0].origin)  # type: ignore[attr-defined]


def read_all(doc: dict[str, Any], tmp: Path) -> list[Sample]:
    src = tmp / "in.json"
    src.write_text(json.dumps(doc))
    return list(coco.read(src))


@SETTINGS
@given(coco_document())
def test_a_compact_sample_is_the_sample_the_general_path_reads(tmp_path_factory: pytest.TempPathFactory,
                                                               doc: dict[str, Any]) -> None:
    tmp = tmp_path_factory.mktemp("r")
    compact = read_all(doc, tmp)
    with mock.patch.object(lanes, "PLAIN", False):
        general = read_all(doc, tmp)
    assert compact == general
    assert [pickle.loads(pickle.dumps(s)) for s in compact] == general
    assert all(type(s) is Sample for s in general)


def test_plain_images_are_read_as_compact_records(tmp_path: Path) -> None:
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10},
                      {"id": 2, "file_name": "b.jpg", "width": 10, "height": 10}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3.5, 4], "segmentation": []},
                           {"id": 2, "image_id": 2, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}],
           "categories": CATEGORIES}
    first, second = read_all(doc, tmp_path)
    assert first.plain() is first and first.objects == [("cat", 1, 2, 4.5, 6, None, ("id",))]  # type: ignore[attr-defined]
    assert second.plain() is None
    assert first.annotations[0].document.objects[0].extra == {"id": 1}  # type: ignore[attr-defined]
    assert first.plain() is None  # its annotations were taken: a full sample from here on
