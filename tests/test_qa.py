"""Every QA check: a case that must be flagged and a close one that must not."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import mafmt
from mafmt import cli
from mafmt.model import (
    BndBox,
    Circle,
    Classification,
    Detection,
    Entity,
    Line,
    Origin,
    Point,
    Polygon,
    Polyline,
    Sample,
    SpeechSegment,
    Triplet,
    VocDocument,
    VocObject,
)
from mafmt.quality import CHECKS, check_samples

GOLDEN = Path(__file__).parent / "data" / "golden"


def det(*objects: VocObject, width: int = 100, height: int = 50, **kw: Any) -> Sample:
    doc = VocDocument(folder="NA", filename="a.jpg", width=width, height=height, segmented=0, objects=list(objects))
    return Sample(source="s3://b/a.jpg", annotations=[Detection(document=doc)], origin=Origin("t.manifest", 1), **kw)


def obj(shape: Any, name: str = "car", **kw: Any) -> VocObject:
    return VocObject(name=name, shape=shape, difficult=0, **kw)


def checks(*samples: Sample, **kw: Any) -> list[str]:
    return [i.check for i in check_samples(samples, **kw).issues]


def text(source: str, *anns: Any) -> Sample:
    return Sample(source="content://" + source, annotations=list(anns), origin=Origin("t.manifest", 3))


def test_every_check_is_documented() -> None:
    assert sorted(CHECKS) == [f"QA{n}" for n in range(101, 121)]
    assert all(sev in ("error", "warning") for _, sev, _ in CHECKS.values())


@pytest.mark.parametrize(("bad", "good"), [
    (BndBox(90, 10, 101, 20), BndBox(90, 10, 100, 20)),
    (BndBox(-1, 10, 20, 20), BndBox(0, 10, 20, 20)),
    (Polygon(((1, 1), (20, 1), (20, 51))), Polygon(((1, 1), (20, 1), (20, 50)))),
    (Point(100.5, 3), Point(100, 3)),
    (Circle(95, 25, 10), Circle(85, 25, 10)),
    (Line(((0, 0), (0, 60))), Line(((0, 0), (0, 50)))),
])
def test_qa101_shape_outside_image(bad: Any, good: Any) -> None:
    assert checks(det(obj(bad))) == ["QA101"]
    assert checks(det(obj(good))) == []


def test_qa102_negative_size() -> None:
    assert checks(det(obj(BndBox(30, 10, 20, 20)))) == ["QA102"]
    assert checks(det(obj(Circle(30, 10, -1)))) == ["QA102"]
    assert checks(det(obj(BndBox(20, 10, 30, 20)), obj(Circle(30, 10, 1)))) == []


def test_qa103_degenerate_shapes() -> None:
    bad = [BndBox(10, 10, 10, 20), Circle(5, 5, 0), Polygon(((1, 1), (2, 2), (3, 3))),
           Polygon(((1, 1), (5, 1), (1, 1))), Polyline(((4, 4), (4, 4))), Line(((3, 3), (3, 3)))]
    good = [BndBox(10, 10, 11, 20), Circle(5, 5, 1), Polygon(((1, 1), (5, 1), (1, 5))),
            Polyline(((4, 4), (5, 4))), Line(((3, 3), (3, 4))), Point(0, 0)]
    assert checks(det(*[obj(s) for s in bad])) == ["QA103"] * len(bad)
    assert checks(det(*[obj(s) for s in good])) == []


def test_shape_issue_locates_the_object_and_part() -> None:
    part = obj(BndBox(0, 0, 200, 10), name="wheel")
    car = obj(BndBox(0, 0, 10, 10), parts=[part])
    (issue,) = check_samples([det(car)]).issues
    assert (issue.annotation, issue.object, issue.path) == (0, 1, "$.annotation[0].object[1].bndbox")
    assert str(issue).startswith("t.manifest:1: $.annotation[0].object[1].bndbox: [QA101 shape-outside-image]")


def _manifest(tmp_path: Path, width: int = 40, height: int = 30, image: bool = True) -> Path:
    (tmp_path / "img").mkdir(parents=True)
    if image:
        Image.new("RGB", (40, 30)).save(tmp_path / "img" / "a.png")
    (tmp_path / "a.xml").write_text(
        f"<annotation><folder>NA</folder><filename>a.png</filename><size><width>{width}</width>"
        f"<height>{height}</height><depth>3</depth></size><segmented>0</segmented><object><name>cat</name>"
        "<difficult>0</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>"
        "</annotation>")
    line = {"source": "./img/a.png", "annotation": [{"type": "modelarts/object_detection", "annotation-loc": "./a.xml"}]}
    (tmp_path / "t.manifest").write_text(json.dumps(line) + "\n")
    return tmp_path / "t.manifest"


def test_qa104_image_size_mismatch_reads_the_header(tmp_path: Path) -> None:
    good = _manifest(tmp_path / "good")
    assert mafmt.qa(good).issues == []
    assert mafmt.qa(good, images=str(tmp_path / "good" / "img")).issues == []
    bad = _manifest(tmp_path / "bad", width=41)
    (issue,) = mafmt.qa(bad).issues
    assert (issue.check, issue.message) == ("QA104", "annotation says 41x30, image is 40x30")


def test_qa105_image_missing(tmp_path: Path) -> None:
    assert [i.check for i in mafmt.qa(_manifest(tmp_path / "a", image=False)).issues] == ["QA105"]
    assert mafmt.qa(_manifest(tmp_path / "b")).issues == []
    # remote sources are not looked up without --images
    assert checks(Sample(source="s3://b/x.jpg")) == []
    assert checks(Sample(source="s3://b/x.jpg"), images=str(tmp_path)) == ["QA105"]


def test_qa106_image_unreadable(tmp_path: Path) -> None:
    (tmp_path / "x.jpg").write_bytes(b"not an image")
    Image.new("RGB", (2, 2)).save(tmp_path / "y.jpg")
    assert checks(Sample(source="s3://b/x.jpg"), images=str(tmp_path)) == ["QA106"]
    assert checks(Sample(source="s3://b/y.jpg"), images=str(tmp_path)) == []


def test_qa107_qa108_duplicates() -> None:
    assert checks(Sample(source="a", id="1"), Sample(source="b", id="1")) == ["QA107"]
    assert checks(Sample(source="a", id="1"), Sample(source="a", id="2")) == ["QA108"]
    assert checks(Sample(source="a", id="1"), Sample(source="b", id="2")) == []


def test_qa109_qa110_qa111_labels() -> None:
    def cls(name: str | None) -> Sample:
        return Sample(source=f"s3://b/{name}.jpg", annotations=[Classification(name=name)])

    assert checks(cls("cat"), cls("dog"), labels=["cat"]) == ["QA109"]
    assert checks(cls("cat"), cls("dog"), labels=["cat", "dog"]) == []
    assert checks(cls("cat"), cls("dog")) == []  # no declared set, no QA109
    assert checks(cls(""), cls(None), cls("  ")) == ["QA110", "QA110", "QA110"]
    assert checks(det(obj(BndBox(1, 1, 2, 2), name=""))) == ["QA110"]
    report = check_samples([cls("Traffic light"), cls("traffic  light"), cls("traffic light ")])
    assert [i.check for i in report.issues] == ["QA111", "QA111"]
    assert checks(cls("traffic light"), cls("traffic_light")) == []


def test_qa112_scores() -> None:
    s = Sample(source="a", hard_coefficient=1.2, annotations=[Classification(name="x", confidence=-0.1, hard_coefficient=1)])
    assert checks(s) == ["QA112", "QA112"]
    assert checks(det(obj(BndBox(1, 1, 2, 2), confidence=1.01))) == ["QA112"]
    assert checks(Sample(source="a", hard_coefficient=0, annotations=[Classification(name="x", confidence=1.0)])) == []


def test_qa113_unknown_usage() -> None:
    assert checks(Sample(source="a", usage="VALIDATION")) == ["QA113"]
    assert checks(Sample(source="a", usage="eval"), Sample(source="b", usage="INFERENCE")) == []


def test_qa114_qa115_entities() -> None:
    def ent(start: int | None, end: int | None, **prop: Any) -> Entity:
        return Entity(name="City", id="E1", start=start, end=end, property=prop or None)

    assert checks(text("in London", ent(3, 10))) == ["QA114"]
    assert checks(text("in London", ent(5, 5))) == ["QA114"]
    assert checks(text("in London", ent(None, 3))) == ["QA114"]
    assert checks(text("in London", ent(3, 9))) == []
    assert checks(text("in London", ent(3, 9, text="Londn"))) == ["QA115"]
    assert checks(text("in London", ent(3, 9, text="London"))) == []


def test_qa116_triplets() -> None:
    e1 = Entity(name="Book", id="E1", start=0, end=1)
    e2 = Entity(name="Person", id="E2", start=2, end=3)
    assert checks(text("a b c", e1, e2, Triplet(name="by", id="R1", head="E1", tail="E3"))) == ["QA116"]
    assert checks(text("a b c", e1, e2, Triplet(name="by", id="R1", head=None, tail="E2"))) == ["QA116"]
    assert checks(text("a b c", e1, e2, Triplet(name="by", id="R1", head="E1", tail="E2"))) == []


def test_qa117_qa118_speech_segments() -> None:
    def seg(a: str, b: str) -> SpeechSegment:
        return SpeechSegment(start_time=a, end_time=b, speaker="Lena", content="hi")

    def clip(*segments: SpeechSegment) -> Sample:
        return Sample(source="s3://b/a.wav", annotations=list(segments))

    assert checks(clip(seg("00:00:01.000", "00:00:03.000"), seg("00:00:02.500", "00:00:04.000"))) == ["QA117"]
    assert checks(clip(seg("00:00:05.000", "00:00:06.000"), seg("00:00:01.000", "00:00:02.000"))) == ["QA117"]
    assert checks(clip(seg("00:00:01.000", "00:00:03.000"), seg("00:00:03.000", "00:00:04"))) == []
    assert checks(clip(seg("00:00:03.000", "00:00:01.000"))) == ["QA118"]
    assert checks(clip(seg("3.5s", "00:00:01.000"))) == ["QA118"]


def test_qa119_qa120_voc_files(tmp_path: Path) -> None:
    (tmp_path / "bad.xml").write_text("<annotation><folder>")
    lines = [{"source": "s3://b/a.jpg", "annotation": [{"type": "modelarts/object_detection", "annotation-loc": "./nope.xml"}]},
             {"source": "s3://b/b.jpg", "annotation": [{"type": "modelarts/object_detection", "annotation-loc": "./bad.xml"}]}]
    (tmp_path / "t.manifest").write_text("".join(json.dumps(x) + "\n" for x in lines))
    report = mafmt.qa(tmp_path / "t.manifest")
    assert [(i.check, i.line) for i in report.issues] == [("QA119", 1), ("QA120", 2)]
    # line 8 has two VOC documents of different sizes for one image
    report = mafmt.qa(GOLDEN / "detect-multi-local-voc.manifest")
    assert report.counts() == {"QA108": 1, "QA104": 1}
    (issue,) = [i for i in report.issues if i.check == "QA104"]
    assert (issue.line, issue.path, issue.annotation) == (8, "$.annotation[1].size", 1)
    assert issue.message == "annotation says 640x321, annotation 0 of the same sample says 486x500"


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    return cli.main(list(argv), out=out, err=err), out.getvalue()


def test_cli_table_json_and_fail_on(tmp_path: Path) -> None:
    path = GOLDEN / "detect-multi-local-voc.manifest"
    code, out = run("qa", str(path))
    assert code == 1  # QA104 is an error
    assert out.splitlines()[0].split() == ["severity", "check", "name", "where", "path", "message"]
    assert out.rstrip().endswith("(QA104 image-size-mismatch: 1, QA108 duplicate-source: 1)")
    code, out = run("qa", str(path), "--json", "--labels", "person,head,hand,foot")
    data = json.loads(out)
    assert code == 1 and data["counts"] == {"QA104": 1, "QA108": 1, "QA109": 2}
    assert {"file", "line", "path", "message", "severity", "check"} <= set(data["issues"][0])
    text_path = GOLDEN / "text_classification.manifest"
    assert run("qa", str(text_path))[0] == 0
    labels = tmp_path / "labels.txt"
    labels.write_text("label1\n")
    code, out = run("qa", str(text_path), "--labels", str(labels), "--json")
    assert code == 1 and set(json.loads(out)["counts"]) == {"QA109"}
    dup = tmp_path / "dup.manifest"
    dup.write_text('{"source":"content://a"}\n{"source":"content://a"}\n')
    assert run("qa", str(dup))[0] == 0
    assert run("qa", str(dup), "--fail-on", "warning")[0] == 1
    assert run("qa", str(path), "--fail-on", "fatal")[0] == 2


def test_findings_point_at_the_yolo_line_the_coco_annotation_and_the_csv_row(tmp_path: Path) -> None:
    """Issue 11, item 8: every format's findings name the place in the source."""
    import json

    yolo = tmp_path / "y"
    (yolo / "labels" / "train").mkdir(parents=True)
    (yolo / "images" / "train").mkdir(parents=True)
    (yolo / "data.yaml").write_text("names:\n  0: cat\n  1: dog\npath: .\ntrain: images/train\n")
    (yolo / "labels" / "train" / "img002.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.5 0.5 1.4 0.2\n0 0.5 0.5 -0.1 0.2\n")
    sizes = tmp_path / "sizes.csv"
    sizes.write_text("img002.jpg,100,100\n")
    where = {(i.check, f"{Path(i.file or '').name}:{i.line}") for i in mafmt.qa(yolo, size_table=str(sizes)).issues}
    assert {("QA101", "img002.txt:2"), ("QA102", "img002.txt:3")} <= where
    # validate checks YOLO value ranges (0..1), at file:line
    found = [(Path(p.file or "").name, p.line, p.reason) for p in mafmt.validate(yolo, "yolo", size_table=str(sizes))]
    assert ("img002.txt", 2, "values must lie in 0..1, got 1.4") in found
    assert ("img002.txt", 3, "values must lie in 0..1, got -0.1") in found

    coco = tmp_path / "c.json"
    coco.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3]},
                        {"id": 77, "image_id": 1, "category_id": 1, "bbox": [8, 8, 5, 5]}],
        "categories": [{"id": 1, "name": "x"}]}))
    (issue,) = mafmt.qa(coco).issues
    assert issue.check == "QA101" and issue.path is not None and issue.path.startswith("$.annotations[1] (id 77)")

    table = tmp_path / "t.csv"
    table.write_text("filename,width,height,class,xmin,ymin,xmax,ymax\n"
                     "a.jpg,10,10,x,1,1,3,3\na.jpg,10,10,x,8,8,15,9\na.jpg,10,10,x,5,5,2,2\n")
    where = {(i.check, f"{Path(i.file or '').name}:{i.line}") for i in mafmt.qa(table).issues}
    assert where == {("QA101", "t.csv:3"), ("QA102", "t.csv:4")}
