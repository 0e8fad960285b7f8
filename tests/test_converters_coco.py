"""COCO: round trips through the model, exact loss counts, and pycocotools / globox interop."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies_converters import detection_dataset, project

from mafmt import manifest
from mafmt import rle as rle_codec
from mafmt.converters import coco
from mafmt.errors import FormatError
from mafmt.model import BndBox, Circle, Detection, Line, Point, Polygon, Polyline, Sample, VocDocument, VocObject

pycocotools = pytest.importorskip("pycocotools")
from pycocotools import mask as cocomask
from pycocotools.coco import COCO

# pycocotools' own numpy-2 deprecation warning, not ours
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _roundtrip(tmp: Path, samples: list[Sample], **opts: object) -> tuple[list[Sample], object]:
    """Write and read back; the annotation ids the writer gave (kept in ``extra`` on reading) are
    checked to be 1..N and removed, so the samples compare with what was written."""
    target = tmp / "out.json"
    report = coco.write(samples, target, **opts)
    back = list(coco.read(target))
    ids = [o.extra.pop("id") for s in back for a in s.annotations if isinstance(a, Detection)
           for o in a.document.objects]
    assert ids == list(range(1, len(ids) + 1))
    return back, report


@given(detection_dataset(shapes="box+polygon", fields=True, ids=True))
@settings(max_examples=40)
def test_roundtrip_is_exact(tmp_path_factory: pytest.TempPathFactory, samples: list[Sample]) -> None:
    back, report = _roundtrip(tmp_path_factory.mktemp("c"), samples)
    assert report.lost == Counter()
    assert back == samples


@given(detection_dataset(shapes="any"))
@settings(max_examples=40)
def test_lossy_shapes_are_counted_exactly(tmp_path_factory: pytest.TempPathFactory, samples: list[Sample]) -> None:
    kinds = Counter(o.shape.kind for s in samples for a in s.annotations for o in a.document.objects)
    back, report = _roundtrip(tmp_path_factory.mktemp("c"), samples)
    expected = Counter({"circle->polygon": kinds["circle"], "point->bbox": kinds["point"],
                        "line->bbox": kinds["line"], "polyline->bbox": kinds["polyline"]})
    assert report.lost == +expected
    got = Counter(o.shape.kind for s in back for o in s.annotations[0].document.objects)
    assert got["polygon"] == kinds["polygon"] + kinds["circle"]
    assert got["bndbox"] == kinds["bndbox"] + kinds["point"] + kinds["line"] + kinds["polyline"]


def test_rich_object_losses(tmp_path: Path) -> None:
    part = VocObject(name="head", shape=BndBox(1, 1, 2, 2))
    doc = VocDocument(filename="a.jpg", width=100, height=80, objects=[
        VocObject(name="c", shape=Circle(50, 40, 10), properties={"k": "v"}, parts=[part]),
        VocObject(name="p", shape=Point(3, 4), hard_coefficient=0.5),
        VocObject(name="l", shape=Line(((0, 0), (5, 5)))),
        VocObject(name="pl", shape=Polyline(((0, 0), (5, 5), (9, 1)))),
    ])
    sample = Sample(source="a.jpg", hard=True, annotations=[Detection(document=doc)])
    back, report = _roundtrip(tmp_path, [sample], circle_vertices=12)
    assert report.lost == Counter({"circle->polygon": 1, "point->bbox": 1, "line->bbox": 1, "polyline->bbox": 1,
                                   "part->dropped": 1})
    assert report.metadata == Counter({"sample hard": 1})
    objs = back[0].annotations[0].document.objects
    assert len(objs[0].shape.points) == 12 and objs[0].properties == {"k": "v"}
    assert objs[1].shape == BndBox(3, 4, 3, 4) and objs[1].hard_coefficient == 0.5
    assert objs[3].shape == BndBox(0, 0, 9, 5)


def test_pycocotools_reads_same_boxes_areas_and_masks(tmp_path: Path) -> None:
    doc = VocDocument(filename="a.jpg", width=40, height=30, objects=[
        VocObject(name="box", shape=BndBox(2, 3, 12, 10)),
        VocObject(name="tri", shape=Polygon(((0, 0), (20, 0), (0, 20)))),
    ])
    target = tmp_path / "a.json"
    coco.write([Sample(source="a.jpg", annotations=[Detection(document=doc)])], target)
    api = COCO(str(target))
    anns = api.loadAnns(api.getAnnIds())
    assert [a["bbox"] for a in anns] == [[2, 3, 10, 7], [0, 0, 20, 20]]
    assert [a["area"] for a in anns] == [70, 200]
    assert {c["name"] for c in api.loadCats(api.getCatIds())} == {"box", "tri"}
    mask = api.annToMask(anns[1])
    assert mask.shape == (30, 40) and 150 < mask.sum() < 260  # rasterised triangle


def _masks(seed: int, n: int, h: int, w: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        m = np.zeros((h, w), dtype=np.uint8)
        y0, x0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
        m[y0:y0 + rng.integers(1, h // 2), x0:x0 + rng.integers(1, w // 2)] = 1
        m[rng.random((h, w)) < 0.05] = 1
        out.append(m)
    return out


def test_rle_masks_survive_and_match_pycocotools(tmp_path: Path) -> None:
    h, w = 37, 51
    masks = _masks(7, 4, h, w)
    anns = []
    for i, m in enumerate(masks):
        enc = cocomask.encode(np.asfortranarray(m))
        if i % 2:  # uncompressed, as COCO's iscrowd annotations
            seg = {"size": [h, w], "counts": rle_codec.decompress({"size": [h, w], "counts": enc["counts"]})["counts"]}
        else:
            seg = {"size": [h, w], "counts": enc["counts"].decode()}
        anns.append({"id": i + 1, "image_id": 9, "category_id": 5, "segmentation": seg, "iscrowd": i % 2,
                     "area": float(cocomask.area(enc)), "bbox": cocomask.toBbox(enc).tolist()})
    src = tmp_path / "in.json"
    src.write_text(json.dumps({"images": [{"id": 9, "file_name": "m.png", "width": w, "height": h}],
                               "annotations": anns, "categories": [{"id": 5, "name": "blob", "supercategory": "s"}]}))
    out = tmp_path / "out.json"
    report = coco.write(coco.read(src), out)
    assert report.lost == Counter()
    api = COCO(str(out))
    for i, ann in enumerate(api.loadAnns(api.getAnnIds())):
        assert (api.annToMask(ann) == masks[i]).all()
        assert (rle_codec.decode(ann["segmentation"]) == masks[i]).all()
        assert ann["area"] == cocomask.area(cocomask.encode(np.asfortranarray(masks[i])))
        assert ann["iscrowd"] == i % 2
    assert api.loadCats(5)[0] == {"id": 5, "name": "blob", "supercategory": "s"}


@given(st.integers(1, 20), st.integers(1, 20), st.floats(0, 1), st.integers(0, 2**31))
def test_rle_codec_equals_pycocotools(h: int, w: int, density: float, seed: int) -> None:
    mask = (np.random.default_rng(seed).random((h, w)) < density).astype(np.uint8)
    ref = cocomask.encode(np.asfortranarray(mask))
    mine = rle_codec.encode(mask)
    assert mine["counts"] == ref["counts"].decode()
    assert (rle_codec.decode(mine) == cocomask.decode(ref)).all()
    assert rle_codec.area(mine) == cocomask.area(ref)
    assert rle_codec.to_bbox(mine) == cocomask.toBbox(ref).tolist()
    assert rle_codec.string_to_counts(mine["counts"]) == rle_codec.decompress(mine)["counts"]


def test_category_ids_stable_and_info_kept(tmp_path: Path) -> None:
    src = tmp_path / "in.json"
    data = {
        "info": {"year": 2017}, "licenses": [{"id": 1, "name": "x"}], "custom": [1, 2],
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10, "license": 1},
                   {"id": 2, "file_name": "b.jpg", "width": 10, "height": 10}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 90, "bbox": [1, 1, 2, 2], "area": 4, "iscrowd": 0,
                         "keypoints": [1, 1, 2], "num_keypoints": 1}],
        "categories": [{"id": 90, "name": "toothbrush", "supercategory": "indoor"},
                       {"id": 1, "name": "person", "supercategory": "person", "keypoints": ["nose"]}],
    }
    src.write_text(json.dumps(data))
    out = tmp_path / "out.json"
    coco.write(coco.read(src), out)
    again = json.loads(out.read_text())
    assert again["categories"] == data["categories"]
    assert again["info"] == data["info"] and again["licenses"] == data["licenses"] and again["custom"] == [1, 2]
    assert again["images"] == data["images"]
    assert again["annotations"] == [{**a, "segmentation": []} for a in data["annotations"]]  # always present


def test_category_ids_follow_first_appearance_never_the_alphabet(tmp_path: Path) -> None:
    def sample(i: int, name: str) -> Sample:
        doc = VocDocument(filename=f"{i}.jpg", width=5, height=5, objects=[VocObject(name=name, shape=BndBox(0, 0, 1, 1))])
        return Sample(source=f"{i}.jpg", annotations=[Detection(document=doc)])

    coco.write([sample(1, "zebra"), sample(2, "ant")], tmp_path / "a.json")
    coco.write([sample(1, "zebra"), sample(2, "ant")], tmp_path / "b.json")
    a = json.loads((tmp_path / "a.json").read_text())["categories"]
    assert a == json.loads((tmp_path / "b.json").read_text())["categories"]  # the same on every run
    assert [(c["id"], c["name"]) for c in a] == [(1, "zebra"), (2, "ant")]


def test_reads_coco_written_by_globox(tmp_path: Path) -> None:
    globox = pytest.importorskip("globox")
    boxes = [globox.BoundingBox(label="dog", xmin=1.5, ymin=2.0, xmax=30.0, ymax=40.25),
             globox.BoundingBox(label="cat", xmin=5, ymin=6, xmax=7, ymax=8)]
    ann = globox.Annotation(image_id="x.jpg", image_size=(64, 48), boxes=boxes)
    globox.AnnotationSet([ann]).save_coco(tmp_path / "g.json", auto_ids=True)
    (sample,) = list(coco.read(tmp_path / "g.json"))
    doc = sample.annotations[0].document
    assert (sample.source, doc.width, doc.height) == ("x.jpg", 64, 48)
    got = {o.name: o.shape.bbox() for o in doc.objects}
    assert got == {"dog": pytest.approx((1.5, 2.0, 30.0, 40.25)), "cat": (5, 6, 7, 8)}


def test_golden_manifest_to_coco_and_back(golden: Path, tmp_path: Path) -> None:
    src = golden / "detect-multi-local-voc.manifest"
    report = coco.write(manifest.read(src), tmp_path / "g.json")
    assert report.written == 8
    # 9 annotations each lose annotated-by and creation-time; the person's 4 parts x 8 images
    # one line has a second document of another image size: its objects cannot be placed on the image
    assert report.lost == Counter({"part->dropped": 32, "objects of a document of another size->dropped": 2})
    assert report.metadata == Counter({"annotation annotated_by": 9, "annotation creation_time": 9})
    manifest.write(coco.read(tmp_path / "g.json"), tmp_path / "back.manifest")
    back = list(manifest.read(tmp_path / "back.manifest"))
    orig = list(manifest.read(src))
    # two manifest lines with one source are one COCO image: their objects are merged, in order
    want: dict[str, list[object]] = {}
    for a in orig:
        docs = [ann.load() for ann in a.annotations]
        same = [d for d in docs if (d.width, d.height) == (docs[0].width, docs[0].height)]
        want.setdefault(a.source, []).extend((o.name, o.shape) for d in same for o in d.objects)
    assert report.changed == Counter({"samples of one image merged": len(orig) - len(want)})
    assert [s.source for s in back] == list(want)
    for b in back:
        assert [(o.name, o.shape) for o in b.annotations[0].load().objects] == want[b.source]
    assert [s.usage for s in back] == [next(a.usage for a in orig if a.source == b.source) for b in back]
    assert project(back[0])[2:4] == (486, 500)


def test_bad_input_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": 2, "height": 2}],
                               "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1]}],
                               "categories": []}))
    with pytest.raises(FormatError) as exc:
        list(coco.read(bad))
    assert "bad.json" in str(exc.value) and "annotations[0].category_id" in str(exc.value)
    bad.write_text("{not json")
    with pytest.raises(FormatError, match="invalid JSON"):
        list(coco.read(bad))
    stream = coco.read(tmp_path / "bad.json", on_error="skip")
    with pytest.raises(FormatError):
        list(stream)


def test_an_integer_beyond_64_bits_changes_only_its_own_record(tmp_path: Path) -> None:
    """The annotations of an image are encoded together; one that orjson cannot hold (an
    integer beyond 64 bits) is written by the standard library alone, the others as always."""
    def image(big: bool) -> Sample:
        objects = [VocObject.plain("cat", BndBox(0, 0, 2, 2.5), extra={"w": 1e-7, **({"note": 10**30} if big else {})}),
                   VocObject.plain("dog", BndBox(1, 1, 2, 3.5), extra={"w": 1e-7})]
        doc = VocDocument(filename="a.jpg", width=10, height=10, objects=objects)
        return Sample(source="a.jpg", annotations=[Detection(document=doc)])

    texts = []
    for big in (False, True):
        coco.write([image(big)], tmp_path / f"{big}.json")
        texts.append((tmp_path / f"{big}.json").read_text())
    plain, mixed = texts
    anns = [json.loads(t)["annotations"] for t in texts]
    assert anns[1][0]["note"] == 10**30 and anns[1][1] == anns[0][1]
    dog = plain[plain.index('{"id":2'):plain.index("}", plain.index('{"id":2'))]
    assert "1e-7" in dog and dog in mixed  # orjson's spelling, not json's 1e-07, for the other record
    assert "1e-07" in mixed[:mixed.index('{"id":2')]  # the record that needed the standard library


def test_the_document_is_frozen_before_the_collector_is_on_again_and_let_go_at_the_end(tmp_path, monkeypatch):
    """A COCO document is decoded with the collector off and frozen before it is on again: the
    first collection after would otherwise walk every object of the document."""
    import gc

    doc = {"images": [{"id": i, "file_name": f"{i}.jpg", "width": 9, "height": 9} for i in range(50)],
           "annotations": [{"id": i, "image_id": i, "category_id": 1, "bbox": [1.5, 1, 2, 2], "area": 4.0,
                            "iscrowd": 0, "segmentation": []} for i in range(50)],
           "categories": [{"id": 1, "name": "cat"}]}
    (tmp_path / "a.json").write_text(json.dumps(doc))
    frozen_when_enabled = []
    enable = gc.enable
    monkeypatch.setattr(coco.gc, "enable", lambda: (frozen_when_enabled.append(gc.get_freeze_count()), enable()))
    stream = coco.read(str(tmp_path / "a.json"))
    first = next(iter(stream))
    assert first.source.endswith("0.jpg") and gc.get_freeze_count() > 0 and gc.isenabled()
    assert frozen_when_enabled and frozen_when_enabled[0] > 0
    assert len(list(stream)) == 49
    assert gc.get_freeze_count() == 0 and gc.isenabled()
