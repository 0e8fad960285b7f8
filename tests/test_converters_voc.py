"""Standard PASCAL VOC datasets: layout, pixel convention, losses, a third-party reader."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies_converters import detection_dataset, project

from mafmt.converters import pascal_voc
from mafmt.model import BndBox, Circle, Detection, Polygon, Sample, VocDocument, VocObject


def _defaults(samples: list[Sample]) -> list[Sample]:
    """What the standard writer fills in: pose Unspecified, truncated/difficult 0."""
    for s in samples:
        for o in s.annotations[0].document.objects:
            o.pose = o.pose or "Unspecified"
            o.truncated = o.truncated or 0
            o.difficult = o.difficult or 0
    return samples


@given(detection_dataset(shapes="box"), st.sampled_from([0, 1]))
@settings(max_examples=30)
def test_roundtrip_integer_boxes_exact(tmp_path_factory: pytest.TempPathFactory, samples: list[Sample], base: int) -> None:
    tmp = tmp_path_factory.mktemp("v")
    report = pascal_voc.write(samples, tmp, pixel_base=base)
    assert report.lost == Counter()
    back = {project(s, fields=True)[0]: project(s, fields=True) for s in pascal_voc.read(tmp, pixel_base=base)}
    assert back == {project(s, fields=True)[0]: project(s, fields=True) for s in _defaults(samples)}


def test_layout_and_pixel_base(tmp_path: Path) -> None:
    doc = VocDocument(filename="a.jpg", width=50, height=40, depth=1, objects=[
        VocObject(name="cat", shape=BndBox(0, 0, 50, 40), difficult=1,
                  parts=[VocObject(name="head", shape=BndBox(1, 2, 3, 4))])])
    samples = [Sample(source="x/a.jpg", usage="EVAL", annotations=[Detection(document=doc)]),
               Sample(source="b.jpg", usage="TRAIN", annotations=[Detection(document=VocDocument(
                   filename="b.jpg", width=5, height=5))])]
    pascal_voc.write(samples, tmp_path, pixel_base=1)
    assert (tmp_path / "ImageSets/Main/val.txt").read_text() == "a\n"
    assert (tmp_path / "ImageSets/Main/train.txt").read_text() == "b\n"
    assert (tmp_path / "ImageSets/Main/trainval.txt").read_text() == "b\na\n"
    xml = (tmp_path / "Annotations/a.xml").read_text()
    assert "<xmin>1</xmin>" in xml and "<xmax>50</xmax>" in xml and "<depth>1</depth>" in xml
    assert "<pose>Unspecified</pose>" in xml and "<part>" in xml and "<xmin>2</xmin>" in xml
    assert pascal_voc.FORMAT.sniff(str(tmp_path))
    back = {s.source: s for s in pascal_voc.read(tmp_path, pixel_base=1)}
    obj = back["a.jpg"].annotations[0].document.objects[0]
    assert back["a.jpg"].usage == "EVAL" and obj.shape == BndBox(0, 0, 50, 40) and obj.parts[0].shape == BndBox(1, 2, 3, 4)
    raw = {s.source: s for s in pascal_voc.read(tmp_path)}
    assert raw["a.jpg"].annotations[0].document.objects[0].shape == BndBox(1, 1, 50, 40)


def test_modelarts_shapes_become_boxes_and_are_counted(tmp_path: Path) -> None:
    doc = VocDocument(filename="a.jpg", width=100, height=100, objects=[
        VocObject(name="c", shape=Circle(5, 50, 10), properties={"k": "v"}, confidence=0.9),
        VocObject(name="p", shape=Polygon(((1.5, 2), (10, 2), (5, 9))), mask_color="1,2,3")])
    report = pascal_voc.write([Sample(source="a.jpg", annotations=[Detection(document=doc)])], tmp_path)
    assert report.lost == Counter({"circle->bbox": 1, "polygon->bbox": 1, "properties->dropped": 1,
                                   "confidence->dropped": 1, "mask_color->dropped": 1, "float coordinate->rounded": 1})
    objs = next(iter(pascal_voc.read(tmp_path))).annotations[0].document.objects
    assert [o.shape for o in objs] == [BndBox(0, 40, 15, 60), BndBox(2, 2, 10, 9)]
    report = pascal_voc.write([Sample(source="a.jpg", annotations=[Detection(document=doc)])], tmp_path / "k",
                              keep_extra=True, integer=False)
    assert report.lost == Counter({"circle->bbox": 1, "polygon->bbox": 1})


def test_globox_reads_the_same_boxes(tmp_path: Path) -> None:
    globox = pytest.importorskip("globox")
    doc = VocDocument(filename="a.jpg", width=64, height=48, objects=[
        VocObject(name="cat", shape=BndBox(3, 4, 30, 40)), VocObject(name="dog", shape=BndBox(0, 0, 64, 48))])
    pascal_voc.write([Sample(source="a.jpg", annotations=[Detection(document=doc)])], tmp_path)
    (ann,) = list(globox.AnnotationSet.from_pascal_voc(tmp_path / "Annotations"))
    assert ann.image_id == "a.jpg" and ann.image_size == (64, 48)
    assert sorted((b.label, b.ltrb) for b in ann.boxes) == [("cat", (3, 4, 30, 40)), ("dog", (0, 0, 64, 48))]


def test_reads_flat_folder_and_single_file(golden: Path) -> None:
    flat = list(pascal_voc.read(golden / "voc" / "2007_000027.xml"))
    assert flat[0].annotations[0].document.objects[0].shape == BndBox(174, 101, 349, 351)
    assert len(list(pascal_voc.read(golden / "voc", on_error="skip"))) >= 4




def test_repeated_unknown_elements_are_a_list_and_repeated_fields_a_warning(tmp_path: Path) -> None:
    """mafmt writes a list of scalars in ``extra`` as repeated elements: reading it back is
    quiet. A second ``<name>`` or ``<difficult>`` is ambiguous for ModelArts and is warned about."""
    from mafmt import voc
    from mafmt.report import Report

    path = tmp_path / "a.xml"
    path.write_text("<annotation><filename>a.jpg</filename><size><width>9</width><height>9</height></size>"
                    "<tag>x</tag><tag>y</tag><object><name>cat</name><difficult>0</difficult><difficult>1</difficult>"
                    "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox>"
                    "<keypoints>3</keypoints><keypoints>4</keypoints></object></annotation>")
    report = Report()
    doc = voc.read_document(str(path), report=report)
    assert doc.extra == {"tag": ["x", "y"]} and doc.objects[0].extra == {"difficult": 1, "keypoints": [3, 4]}
    assert [k for k in report.warnings if "repeated" in k] == ["repeated <difficult> kept as an unknown element"]
    assert report.warnings["repeated <difficult> kept as an unknown element"] == 1


_ID_TEXT = st.text(st.sampled_from(list("ab01-_.") + [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85",
                                                      "\xa0", "\u2028", "é"]), max_size=40) | \
    st.lists(st.sampled_from(["a", "b", "a0", "b_1", ""]), max_size=6).map("\n".join)  # (one id a line)


@given(st.dictionaries(st.sampled_from(["trainval", "train", "val", "test", "cat_train"]), _ID_TEXT, max_size=4))
@settings(max_examples=150)
def test_image_set_lists_read_in_one_split_as_line_by_line(lists: dict[str, str]) -> None:
    """ImageSets texts of one id a line are read by one split; every text (flags, inner spaces,
    other line breaks, non-ASCII) gives the usages, in their order, that reading it line by line gives."""
    import re
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        main = Path(tmp) / "ImageSets" / "Main"
        main.mkdir(parents=True)
        for name, text in lists.items():
            (main / f"{name}.txt").write_bytes(text.encode())
        fast = pascal_voc._split_usage(tmp)
        split = pascal_voc._INNER_SPACE
        pascal_voc._INNER_SPACE = re.compile("")  # (matches every text: line by line)
        try:
            slow = pascal_voc._split_usage(tmp)
        finally:
            pascal_voc._INNER_SPACE = split
    assert list(fast.items()) == list(slow.items())
