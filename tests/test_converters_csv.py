"""CSV: detection and classification round trips, columns, losses, errors."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from strategies_converters import detection_dataset, project

from mafmt.converters import csv_format
from mafmt.errors import FormatError
from mafmt.model import (
    TEXT_CLASSIFICATION,
    BndBox,
    Classification,
    Detection,
    Polygon,
    Sample,
    VocDocument,
    VocObject,
)


@given(detection_dataset(shapes="box", fields=True))
@settings(max_examples=40)
def test_detection_roundtrip(tmp_path_factory: pytest.TempPathFactory, samples: list[Sample]) -> None:
    target = tmp_path_factory.mktemp("c") / "a.csv"
    report = csv_format.write(samples, target)
    assert report.lost == Counter()
    back = list(csv_format.read(target))
    assert [project(s, fields=True) for s in back] == [project(s, fields=True) for s in samples]


def test_columns_extra_columns_and_losses(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("filename,width,height,class,xmin,ymin,xmax,ymax,score_source\n"
                   "a.jpg,10,20,cat,1,2,3.5,4,model-x\n"
                   "b.jpg,10,20,,,,,,\n"
                   "a.jpg,10,20,dog,0,0,1,1,human\n")
    samples = list(csv_format.read(src))
    assert [s.source for s in samples] == ["a.jpg", "b.jpg"]
    objs = samples[0].annotations[0].document.objects
    assert [(o.name, o.shape, o.extra) for o in objs] == [
        ("cat", BndBox(1, 2, 3.5, 4), {"score_source": "model-x"}), ("dog", BndBox(0, 0, 1, 1), {"score_source": "human"})]
    assert samples[1].annotations[0].document.objects == []
    out = tmp_path / "out.csv"
    csv_format.write(samples, out)
    assert out.read_text() == src.read_text().replace("b.jpg,10,20,,,,,,\na.jpg,10,20,dog,0,0,1,1,human\n",
                                                      "a.jpg,10,20,dog,0,0,1,1,human\nb.jpg,10,20,,,,,,\n")
    doc = VocDocument(filename="p.jpg", width=9, height=9, objects=[
        VocObject(name="x", shape=Polygon(((0, 0), (4, 0), (0, 3))), hard_coefficient=0.3, hard_reasons="1-2",
                  parts=[VocObject(name="y", shape=BndBox(0, 0, 1, 1))])])
    report = csv_format.write([Sample(source="p.jpg", annotations=[Detection(document=doc)])], out, overwrite=True)
    assert report.lost == Counter({"polygon->bbox": 1, "part->dropped": 1})
    assert report.metadata == Counter({"object hard_coefficient": 1, "object hard_reasons": 1})
    assert out.read_text().splitlines()[1] == "p.jpg,9,9,x,0,0,4,3"


def test_classification_rows(tmp_path: Path) -> None:
    samples = [
        Sample(source="content://good film", usage="TRAIN",
               annotations=[Classification(type=TEXT_CLASSIFICATION, name="pos"),
                            Classification(type=TEXT_CLASSIFICATION, name="fun")]),
        Sample(source="content://meh"),
    ]
    out = tmp_path / "c.csv"
    assert csv_format.write(samples, out).lost == Counter()
    assert out.read_text() == "filename,label,usage,type\ncontent://good film,pos;fun,TRAIN,text_classification\ncontent://meh,,,\n"
    back = list(csv_format.read(out))
    assert [(s.source, s.usage, [(a.type, a.name) for a in s.annotations]) for s in back] == [
        ("content://good film", "TRAIN", [(TEXT_CLASSIFICATION, "pos"), (TEXT_CLASSIFICATION, "fun")]),
        ("content://meh", None, [])]


def test_bad_rows_name_line_and_column(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("filename,width,height,class,xmin,ymin,xmax,ymax\na.jpg,1,1,c,x,0,1,1\n")
    with pytest.raises(FormatError) as exc:
        list(csv_format.read(src))
    assert str(exc.value) == f"{src}:2: xmin: expected a finite number, got 'x'"
    src.write_text("filename,width\na.jpg,1,1\n")
    with pytest.raises(FormatError, match="header needs"):
        list(csv_format.read(src))
    src.write_text("filename,label\na.jpg,x,y\nb.jpg,z\n")
    stream = csv_format.read(src, on_error="skip")
    assert [s.source for s in stream] == ["b.jpg"] and stream.report.skipped == 1
