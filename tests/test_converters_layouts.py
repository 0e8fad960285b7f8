"""ModelArts import layouts: read the spec's examples, write folders ModelArts accepts, round trip."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from strategies_converters import detection_dataset, label_names, text_dataset

from mafmt.converters import detect
from mafmt.converters import import_layouts as L
from mafmt.model import (
    AUDIO_CLASSIFICATION,
    IMAGE_CLASSIFICATION,
    TEXT_CLASSIFICATION,
    BndBox,
    Classification,
    Sample,
    VocDocument,
    VocObject,
)


def _image(path: Path, size: tuple[int, int] = (4, 3)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size).save(path)
    return path


def _labels(samples: list[Sample]) -> dict[str, list[str]]:
    return {s.source.rsplit("/", 1)[-1]: [a.name for a in s.annotations] for s in samples}


def test_imagenet_read_write_and_losses(tmp_path: Path) -> None:
    src = tmp_path / "flowers"
    for rel in ("tulip/t1.jpg", "daisy/d1.png", "extra/rose/r1.jpg", "loose.jpg", ".hidden/x.jpg"):
        _image(src / rel)
    stream = L.IMAGENET.read(src)
    got = {s.source: [a.name for a in s.annotations] for s in stream}
    assert got == {"daisy/d1.png": ["daisy"], "extra/rose/r1.jpg": ["rose"], "loose.jpg": [], "tulip/t1.jpg": ["tulip"]}
    assert stream.report.warnings["file in the root: unlabelled"] == 1
    assert detect(str(src)).name == "modelarts-imagenet"
    samples = list(L.IMAGENET.read(src))
    samples.append(Sample(source="nowhere.jpg", annotations=[Classification(name="x")]))
    samples.append(Sample(source=str(src / "tulip/t1.jpg"), annotations=[Classification(name="a"),
                                                                           Classification(name="b")]))
    out = tmp_path / "out"
    report = L.IMAGENET.write(samples, out)
    assert report.written == 3
    assert report.dropped == Counter({"no classification label": 1, "file not found (give --images DIR)": 1,
                                      "several labels (a folder holds one)": 1})
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.*")) == ["daisy/d1.png", "rose/r1.jpg", "tulip/t1.jpg"]


def test_audio_folders(tmp_path: Path) -> None:
    for rel in ("siren/s1.wav", "birdsong/b1.wav"):
        (tmp_path / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / rel).write_bytes(b"RIFF0000WAVE")
    samples = list(L.AUDIO.read(tmp_path / "in"))
    assert {(s.source, s.annotations[0].type, s.annotations[0].name) for s in samples} == {
        ("siren/s1.wav", AUDIO_CLASSIFICATION, "siren"), ("birdsong/b1.wav", AUDIO_CLASSIFICATION, "birdsong")}
    assert detect(str(tmp_path / "in")).name == "modelarts-audio-classification"
    L.AUDIO.write(samples, tmp_path / "out")
    assert (tmp_path / "out/siren/s1.wav").read_bytes() == b"RIFF0000WAVE"


def test_image_classification_txt(tmp_path: Path) -> None:
    src = tmp_path / "shop"
    _image(src / "batch-a/0101.jpg")
    (src / "batch-a/0101.txt").write_text("sneaker\n")
    _image(src / "batch-b/0201.bmp")
    (src / "batch-b/0201.txt").write_text("sneaker\n\n red \n")
    _image(src / "batch-b/0202.jpg")
    (src / "orphan.txt").write_text("x\n")
    stream = L.IMAGE_CLASSIFICATION_TXT.read(src)
    assert _labels(list(stream)) == {"0101.jpg": ["sneaker"], "0201.bmp": ["sneaker", "red"], "0202.jpg": []}
    assert stream.report.warnings["label file without image ignored"] == 1
    assert detect(str(src)).name == "modelarts-image-classification"
    out = tmp_path / "out"
    report = L.IMAGE_CLASSIFICATION_TXT.write(L.IMAGE_CLASSIFICATION_TXT.read(src), out)
    assert report.written == 3 and report.lost == Counter()
    assert (out / "0201.txt").read_text() == "sneaker\nred\n" and not (out / "0202.txt").exists()
    assert _labels(list(L.IMAGE_CLASSIFICATION_TXT.read(out))) == _labels(list(L.IMAGE_CLASSIFICATION_TXT.read(src)))


@given(st.lists(st.lists(label_names(), max_size=3, unique=True), min_size=1, max_size=5))
@settings(max_examples=20)
def test_image_classification_roundtrip(tmp_path_factory: pytest.TempPathFactory, labels: list[list[str]]) -> None:
    tmp = tmp_path_factory.mktemp("ic")
    samples = [Sample(source=str(_image(tmp / "img" / f"i{i}.png")),
                      annotations=[Classification(type=IMAGE_CLASSIFICATION, name=n) for n in names])
               for i, names in enumerate(labels)]
    assert L.IMAGE_CLASSIFICATION_TXT.write(samples, tmp / "out").lost == Counter()
    assert _labels(list(L.IMAGE_CLASSIFICATION_TXT.read(tmp / "out"))) == _labels(samples)


@given(detection_dataset(shapes="any", fields=True, max_samples=3))
@settings(max_examples=15)
def test_voc_pairs_roundtrip_keeps_every_shape(tmp_path_factory: pytest.TempPathFactory, samples: list[Sample]) -> None:
    tmp = tmp_path_factory.mktemp("vp")
    for s in samples:
        s.source = str(_image(tmp / "img" / s.source))
    assert L.VOC_PAIRS.write(samples, tmp / "out").lost == Counter({"usage->dropped": len(samples)})
    back = {s.source: s.annotations[0].document for s in L.VOC_PAIRS.read(tmp / "out")}
    for s in samples:
        doc = back[s.source.rsplit("/", 1)[-1]]
        want = s.annotations[0].document
        objects = [o if o.difficult is not None else replace(o, difficult=0) for o in want.objects]  # ModelArts needs it
        assert (doc.width, doc.height, doc.objects) == (want.width, want.height, objects)
        assert doc.folder and doc.segmented == 0 and doc.filename == s.source.rsplit("/", 1)[-1]


def test_voc_pairs_unlabelled_image_and_detection(tmp_path: Path) -> None:
    src = tmp_path / "wh"
    _image(src / "IMG_1.jpg")
    _image(src / "IMG_2.jpg")
    doc = VocDocument(filename="IMG_1.jpg", width=4, height=3, objects=[VocObject(name="pallet", shape=BndBox(0, 0, 2, 2))])
    from mafmt import voc

    voc.write_document(doc, src / "IMG_1.xml")
    assert detect(str(src)).name == "modelarts-voc"
    samples = list(L.VOC_PAIRS.read(src))
    assert [(s.source, len(s.annotations)) for s in samples] == [("IMG_1.jpg", 1), ("IMG_2.jpg", 0)]


def test_text_classification_both_layouts(tmp_path: Path) -> None:
    src = tmp_path / "split"
    src.mkdir()
    (src / "R.txt").write_text("Battery life is excellent.\nScreen cracked.\n")
    (src / "R_result.txt").write_text("positive\nnegative,quality\n")
    (src / "C.txt").write_text("Arrived early.\tpositive\nA\ttab inside\tneutral\nno labels here\n")
    stream = L.TEXT.read(src)
    got = [(s.text, [a.name for a in s.annotations]) for s in stream]
    assert got == [("Arrived early.", ["positive"]), ("A\ttab inside", ["neutral"]), ("no labels here", []),
                   ("Battery life is excellent.", ["positive"]), ("Screen cracked.", ["negative", "quality"])]
    assert stream.report.warnings["text line without separator: unlabelled"] == 1
    assert detect(str(src)).name == "modelarts-text-classification"
    samples = list(L.TEXT.read(src)) + [Sample(source="img.jpg"), Sample(source="content://two\nlines")]
    report = L.TEXT_COMBINE.write(samples, tmp_path / "comb")
    assert report.lost == Counter({"line break in text->space": 1})
    assert report.dropped == Counter({"not a text (content://) sample": 1})
    assert (tmp_path / "comb/text.txt").read_text().splitlines()[4] == "Screen cracked.\tnegative,quality"


@given(text_dataset(), st.booleans())
@settings(max_examples=30)
def test_text_roundtrip(tmp_path_factory: pytest.TempPathFactory, pairs: list[tuple[str, list[str]]], combine: bool) -> None:
    tmp = tmp_path_factory.mktemp("t")
    samples = [Sample(source="content://" + t, annotations=[Classification(type=TEXT_CLASSIFICATION, name=n)
                                                            for n in names]) for t, names in pairs]
    fmt = L.TEXT_COMBINE if combine else L.TEXT
    assert fmt.write(samples, tmp).lost == Counter()
    back = list(fmt.read(tmp))
    assert [(s.source, [(a.type, a.name) for a in s.annotations]) for s in back] == [
        (s.source, [(a.type, a.name) for a in s.annotations]) for s in samples]


@given(st.lists(label_names().filter(lambda n: not n.startswith(".")), min_size=1, max_size=6))
@settings(max_examples=20)
def test_imagenet_roundtrip(tmp_path_factory: pytest.TempPathFactory, labels: list[str]) -> None:
    tmp = tmp_path_factory.mktemp("in")
    samples = [Sample(source=str(_image(tmp / "img" / f"i{i}.png")), annotations=[Classification(name=n)])
               for i, n in enumerate(labels)]
    assert L.IMAGENET.write(samples, tmp / "out").lost == Counter()
    back = list(L.IMAGENET.read(tmp / "out"))
    assert sorted((s.source, s.annotations[0].name) for s in back) == sorted(
        (f"{n}/i{i}.png", n) for i, n in enumerate(labels))
