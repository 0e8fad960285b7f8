"""The fast lanes (:mod:`mafmt.lanes`) give exactly what the general paths give.

Each test draws inputs around the edge of what a lane takes (int and float values, values
with more than 6 decimals, integer-valued floats, booleans, strings, missing and repeated
fields, attributes, out-of-range numbers), runs the same step with ``lanes.PLAIN`` on and
off, and compares everything: the model (with origins), the issues or the error, and the
bytes written.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mafmt import lanes, limits, manifest, voc
from mafmt.converters import coco, pascal_voc, yolo
from mafmt.errors import FormatError
from mafmt.model import OBJECT_DETECTION, BndBox, Detection, Polygon, Polyline, Sample, VocDocument, VocObject
from mafmt.report import Report

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def both(step: Any, *args: Any) -> tuple[Any, Any]:
    """``step(*args)`` with the lanes on and off: (result or error, result or error)."""
    out = []
    for plain in (True, False):
        lanes.PLAIN = plain
        try:
            out.append(("ok", step(*args)))
        except FormatError as exc:
            out.append(("error", type(exc).__name__, str(exc)))
        finally:
            lanes.PLAIN = True
    return out[0], out[1]


def origins(doc: VocDocument) -> list[Any]:
    return [o.origin for o in doc.objects]


# --------------------------------------------------------------------------- COCO annotations

clean = st.one_of(
    st.integers(0, 3000),
    st.floats(0, 3000, allow_nan=False).map(lambda v: round(v, 2)),
    st.floats(0, 3000, allow_nan=False),  # many decimals
    st.integers(0, 3000).map(float),  # integer-valued floats
)
odd = st.sampled_from([True, "3", None, 10**10, -(10**10), 1e-7, -2])
coords = st.one_of(clean, clean, clean, odd)


@st.composite
def annotation(draw: Any) -> dict[str, Any]:
    """A plain annotation (box, or one polygon) with up to two deviations from the plain shape."""
    bbox = draw(st.lists(clean, min_size=4, max_size=4))
    ann: dict[str, Any] = {"id": draw(st.integers(1, 10**6)), "image_id": 1, "category_id": draw(st.sampled_from([1, 2])),
                           "bbox": bbox, "iscrowd": 0}
    if draw(st.booleans()):
        ring = draw(st.lists(clean, min_size=6, max_size=12).filter(lambda r: len(r) % 2 == 0))
        ann["segmentation"] = [ring]
    else:
        ann["segmentation"] = []
    if draw(st.booleans()):
        ann["area"] = draw(st.sampled_from([bbox[2] * bbox[3], float(bbox[2] * bbox[3]), 12, 3.5]))
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        what = draw(st.sampled_from(["id", "category", "bbox", "segmentation", "area", "iscrowd", "key", "drop"]))
        if what == "id":
            ann["id"] = draw(st.sampled_from(["a7", 2.0, 2**64, None, True]))
        elif what == "category":
            ann["category_id"] = draw(st.sampled_from([9, "1", True, 1.0]))
        elif what == "bbox":
            ann["bbox"] = draw(st.one_of(st.lists(coords, min_size=4, max_size=4), st.lists(coords, max_size=5),
                                         st.just("box")))
        elif what == "segmentation":
            ann["segmentation"] = draw(st.one_of(st.sampled_from([None, {}, "x", [[]], [1, 2, 3]]),
                                                 st.lists(st.lists(coords, max_size=12), min_size=1, max_size=3)))
        elif what == "area":
            ann["area"] = draw(st.sampled_from(["x", None, True]))
        elif what == "iscrowd":
            ann["iscrowd"] = draw(st.sampled_from([1, 0.0, False]))
        elif what == "key":
            ann[draw(st.sampled_from(["score", "attributes", "pose", "keypoints", "track_id"]))] = draw(
                st.sampled_from([0.5, {"a": "b"}, "Left", [1, 2, 2], 3]))
        else:
            del ann[draw(st.sampled_from(sorted(ann)))]
    return ann


def _coco_sample(anns: list[dict[str, Any]]) -> Any:
    img = {"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}
    by_image = {1: list(enumerate(anns))}
    sample = coco._sample(img, 0, by_image, {1: "cat", 2: "dog", "1": "str-one"}, "in.json", Report())
    return sample, [o.origin for a in sample.annotations if isinstance(a, Detection) for o in a.document.objects]


@SETTINGS
@given(st.lists(annotation(), min_size=1, max_size=4))
def test_coco_plain_annotations_read_as_the_general_path_reads_them(anns: list[dict[str, Any]]) -> None:
    fast, general = both(_coco_sample, anns)
    assert fast == general


# --------------------------------------------------------------------------- VOC documents

numbers = st.one_of(st.integers(0, 900).map(str), st.floats(0, 900, allow_nan=False).map(lambda v: str(round(v, 3))))
ODD_NUMBERS = ["", " 12 ", "1e3", "+4", "-0", "-3", "٣", "12.", ".5", "x", "1" * 70, "1e999", "2000000000", "1.5",
               "012", "-01.5", "12,5", "1,2", "-2.50", "9" * 20, "1_0"]
odd_numbers = st.sampled_from(ODD_NUMBERS)


@st.composite
def voc_xml(draw: Any) -> bytes:
    """A plain VOC document (standard or ModelArts, boxes and polygons) with up to two deviations."""
    root = ["<folder>VOC</folder>", "<filename>a.jpg</filename>", "<source><database>Unknown</database></source>",
            "<size><width>640</width><height>480</height><depth>3</depth></size>", "<segmented>0</segmented>"]
    objects = []
    for _ in range(draw(st.integers(0, 4))):
        obj = ["<name>cat</name>", "<pose>Unspecified</pose>", "<truncated>0</truncated>", "<occluded>0</occluded>",
               "<difficult>0</difficult>"]
        if draw(st.booleans()):
            obj.append("<bndbox>" + "".join(f"<{t}>{draw(numbers)}</{t}>" for t in ("xmin", "ymin", "xmax", "ymax"))
                       + "</bndbox>")
        else:
            n = draw(st.integers(3, 5))
            obj.append("<polygon>" + "".join(f"<x{i}>{draw(numbers)}</x{i}><y{i}>{draw(numbers)}</y{i}>"
                                             for i in range(1, n + 1)) + "</polygon>")
        objects.append(obj)
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        what = draw(st.sampled_from(["root-drop", "root-dup", "root-odd", "obj-drop", "obj-dup", "obj-odd", "number",
                                     "vertex", "attribute"]))
        if what.startswith("obj") and not objects:
            continue
        target = draw(st.sampled_from(objects)) if objects else root
        if what == "root-drop":
            root.pop(draw(st.integers(0, len(root) - 1)))
        elif what == "root-dup":
            root.append(draw(st.sampled_from(root or ["<owner>me</owner>"])))
        elif what == "root-odd":
            root.append(draw(st.sampled_from(["<owner>me</owner>", "<folder></folder>", "<size><width>5</width></size>",
                                              "<source><x>1</x></source>", "<source>text</source>",
                                              "<mask_source>m.png</mask_source>",
                                              f"<segmented>{draw(odd_numbers)}</segmented>"])))
        elif what == "obj-drop":
            target.pop(draw(st.integers(0, len(target) - 1)))
        elif what == "obj-dup":
            target.append(draw(st.sampled_from(target)))
        elif what == "obj-odd":
            part = "<part><name>p</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part>"
            target.append(draw(st.sampled_from(["<extra>1</extra>", part, "<!-- note -->", "<name></name>",
                                                "<circle><cx>3</cx><cy>4</cy><r>2</r></circle>", "<name> dog</name>",
                                                f"<difficult>{draw(odd_numbers)}</difficult>", "<name>a&amp;b</name>"])))
        elif what == "number":
            i = draw(st.integers(0, len(target) - 1))
            target[i] = re.sub(r">[^<>]+</(xmin|x2|width|height|ymax|y1|segmented|depth)>", lambda m: f">{draw(odd_numbers)}</{m.group(1)}>",
                               target[i], count=1)
        elif what == "vertex":
            i = draw(st.integers(0, len(target) - 1))
            target[i] = target[i].replace(draw(st.sampled_from(["<x2>", "<y3>"])), draw(st.sampled_from(["<x02>", "<y9>",
                                                                                                      "<x1>"])), 1)
        else:
            i = draw(st.integers(0, len(target) - 1))
            target[i] = target[i].replace(">", ' a="1">', 1)
    xml = "<annotation>" + "".join(root) + "".join("<object>" + "".join(o) + "</object>" for o in objects)
    return (xml + "</annotation>").encode()


def _voc_parse(data: bytes, rules: str) -> Any:
    doc, issues = voc.parse_bytes(data, "a.xml", rules=rules)
    return repr(doc), origins(doc), [(str(i), i.severity) for i in issues]  # (repr: 1 and 1.0 differ)


@SETTINGS
@given(voc_xml(), st.sampled_from(voc.RULES))
def test_voc_plain_documents_parse_as_the_general_path_parses_them(data: bytes, rules: str) -> None:
    fast, general = both(_voc_parse, data, rules)
    assert fast == general


def _voc_validate(data: bytes, rules: str) -> Any:
    from mafmt.validation import validate_voc_bytes

    return [(str(e), e.severity) for e in validate_voc_bytes(data, "a.xml", rules=rules)]


@SETTINGS
@given(voc_xml(), st.sampled_from(voc.RULES))
def test_voc_validation_finds_what_the_schema_and_the_reader_find(data: bytes, rules: str) -> None:
    """Plain documents skip the JSON form and the schema: the findings must not change."""
    fast, general = both(_voc_validate, data, rules)
    assert fast == general


@SETTINGS
@given(voc_xml())
def test_voc_schema_explained_object_by_object_says_what_the_whole_document_check_says(data: bytes) -> None:
    from mafmt import schemas
    from mafmt.validation import voc_to_json

    try:
        root = voc.parse.parse_tree(data, "a.xml")
    except FormatError:
        return
    doc, _ = voc_to_json(root)
    check = schemas.validator("voc")
    assert list(check.iter_errors_by_item(doc, "object")) == list(check.iter_errors(doc))


_LEAVES = st.sampled_from(["", " ", "cat", "1", "-2", "1.5", "x", "1,2", "+0", "٣", "1e3"])
_VOC_KEYS = ["name", "pose", "truncated", "occluded", "difficult", "confidence", "mask_color", "hard-reasons",
             "bndbox", "polygon", "polyline", "circle", "point", "line", "part", "properties", "x1", "y1", "xmin", "ymin",
             "xmax", "ymax", "x2", "y2", "x3", "y3", "cx", "cy", "r", "x", "y", "other"]
_voc_json_values = st.recursive(
    _LEAVES | st.just({}),
    lambda kids: st.dictionaries(st.sampled_from(_VOC_KEYS), kids, max_size=6) | st.lists(kids, max_size=3),
    max_leaves=25)


_VALID_OBJECT = {"name": "cat", "difficult": "0", "bndbox": {"xmin": "1", "ymin": "2", "xmax": "3", "ymax": "4"}}


@SETTINGS
@given(st.dictionaries(st.sampled_from(["folder", "filename", "size", "segmented", "source", "width", "other"]),
                       _voc_json_values, max_size=5),
       st.lists(st.dictionaries(st.sampled_from(_VOC_KEYS), _voc_json_values, max_size=7) | _LEAVES
                | st.just(_VALID_OBJECT), max_size=4))
def test_voc_schema_failures_without_jsonschema_are_jsonschemas(root: dict[str, Any], objects: list[Any]) -> None:
    """Any JSON form, however odd: the quick failure walk gives jsonschema's findings, with
    the valid objects left out too (as None) and when the objects cannot be checked one by one."""
    from mafmt import schemas

    doc = {**root, "object": objects}
    check = schemas.validator("voc")
    assert list(check.iter_errors_by_item(doc, "object")) == list(check.iter_errors(doc))
    fast, _ = check._item("object")  # type: ignore[misc]
    known = frozenset(i for i, o in enumerate(objects) if fast(o))  # the valid ones, left out as None
    left_out = {**doc, "object": [None if i in known else o for i, o in enumerate(objects)]}
    assert list(check.iter_errors_by_item(left_out, "object", known=known)) == list(check.iter_errors(doc))
    check._items["object"] = None  # the items cannot be checked one by one: the whole document is
    try:
        assert list(check.iter_errors_by_item(left_out, "object", known=known)) == list(check.iter_errors(doc))
    finally:
        del check._items["object"]


_STANDARD = ("<annotation><folder>VOC</folder><filename>a.jpg</filename><source><database>db</database></source>"
             "<size><width>9</width><height>9</height><depth>3</depth></size><segmented>0</segmented><object>"
             "<name>cat</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult><bndbox>"
             "<xmin>1.5</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object><object><name>dog</name>"
             "<occluded>0</occluded><difficult>0</difficult><polygon><x1>1</x1><y1>1</y1><x2>5.5</x2><y2>1</y2>"
             "<x3>3</x3><y3>4</y3></polygon></object></annotation>")


@pytest.mark.parametrize("tag", ["segmented", "width", "height", "depth", "xmin", "ymin", "xmax", "ymax", "truncated", "occluded",
                                 "difficult", "x2", "y3", "database", "name", "folder", "source"])
def test_voc_validation_lanes_agree_on_every_odd_value(tag: str) -> None:
    """Each odd spelling in each field of a plain document: the lanes give the same findings."""
    values = [*ODD_NUMBERS, "  ", "a b", "<x>1</x>", "2", "1_0"]
    for value in values:
        xml = re.sub(f"<{tag}>.*?</{tag}>", f"<{tag}>{value}</{tag}>", _STANDARD, count=1).encode()
        for rules in voc.RULES:
            fast, general = both(_voc_validate, xml, rules)
            assert fast == general, (tag, value, rules)


def test_the_voc_lane_takes_the_common_documents() -> None:
    """Not vacuous: a standard document and a ModelArts one with a polygon go through the lane."""
    from mafmt.voc import parse

    standard = (b"<annotation><folder>VOC</folder><filename>a.jpg</filename><size><width>9</width><height>9</height>"
                b"<depth>3</depth></size><segmented>0</segmented><object><name>cat</name><pose>Unspecified</pose>"
                b"<truncated>0</truncated><difficult>0</difficult><bndbox><xmin>1.5</xmin><ymin>2</ymin>"
                b"<xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>")
    modelarts = (b"<annotation><folder>NA</folder><filename>a.jpg</filename><size><width>9</width><height>9</height>"
                 b"</size><segmented>0</segmented><object><name>cat</name><occluded>0</occluded><difficult>0"
                 b"</difficult><polygon><x1>1</x1><y1>1</y1><x2>5.5</x2><y2>1</y2><x3>3</x3><y3>4</y3></polygon>"
                 b"</object></annotation>")
    for xml in (standard, modelarts):
        root = parse.parse_tree(xml)
        assert parse._plain_document(root, parse._Ctx("a.xml", "modelarts")) is not None


def test_the_plain_objects_of_a_document_that_is_not_take_the_quick_pass() -> None:
    """Not vacuous: in a document with one odd object, the others are read by the quick pass
    and left out of the schema's check; the findings are the general path's."""
    from mafmt.voc import parse

    box = "<bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox>"
    polygon = "<polygon><x1>1</x1><y1>1</y1><x2>5.5</x2><y2>1</y2><x3>3</x3><y3>4</y3></polygon>"
    objects = [f"<object><name>cat</name><difficult>0</difficult>{box}</object>",
               f"<object><name></name><difficult>0</difficult>{box}</object>",  # the odd one
               f'<object><name a="1">dog</name><difficult>0</difficult>{polygon}</object>',
               f"<object><name>cow</name>{box}</object>"]
    xml = ("<annotation><folder>NA</folder><filename>a.jpg</filename><size><width>9</width><height>9</height></size>"
           f"<segmented>0</segmented>{''.join(objects)}</annotation>").encode()
    issues, valid = parse.document_issues(parse.parse_tree(xml), "a.xml")
    assert valid == {0, 2, 3}
    assert [i.path for i in issues] == ["/annotation/object[2]/name", "/annotation/object[4]/difficult"]
    fast, general = both(_voc_validate, xml, "modelarts")
    assert fast == general and len(fast[1]) == 2


# --------------------------------------------------------------------------- writers

floats = st.floats(0, 600, allow_nan=False).map(lambda v: round(v, 2))


@st.composite
def float_dataset(draw: Any) -> list[Sample]:
    """Detection samples with float boxes and polygons, some outside the image, some with VOC flags."""
    out = []
    for i in range(draw(st.integers(1, 4))):
        w, h = draw(st.integers(1, 500)), draw(st.integers(1, 500))
        objects = []
        for _ in range(draw(st.integers(0, 5))):
            if draw(st.booleans()):
                x0, y0, x1, y1 = sorted([draw(floats), draw(floats)]) + sorted([draw(floats), draw(floats)])
                shape: Any = BndBox(x0, x1, y0, y1) if draw(st.booleans()) else BndBox(x0, y0, x1, y1)
            else:
                shape = Polygon(tuple(draw(st.lists(st.tuples(floats, floats), min_size=3, max_size=6))))
            extra: dict[str, Any] = {"id": i}
            if draw(st.booleans()):  # COCO's scalars, and values that must be quoted or refused
                extra.update(draw(st.dictionaries(st.sampled_from(["area", "iscrowd", "score", "note", "a b", "车", "x:y"]),
                                                  st.one_of(floats, st.integers(-3, 3), st.booleans(), st.none(),
                                                            st.sampled_from(["", " x", "1", "true", "a<b", "\x01", "ok"]),
                                                            st.just([1, 2])), max_size=3)))
            obj = VocObject.plain(draw(st.sampled_from(["cat", "dog", "a&b", "车"])), shape, extra=extra)
            if draw(st.booleans()):
                obj.pose, obj.truncated, obj.difficult = "Unspecified", 0, draw(st.integers(0, 1))
            objects.append(obj)
        doc = VocDocument(folder="VOC", filename=f"im{i}.jpg", width=w, height=h, depth=3, segmented=0,
                          objects=objects)
        out.append(Sample(source=f"im{i}.jpg", usage="TRAIN",
                          annotations=[Detection(type=OBJECT_DETECTION, annotation_format="PASCAL VOC", document=doc)]))
    return out


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


WRITERS = {
    "yolo": lambda s, t: yolo.write(s, t),
    "yolo-segment": lambda s, t: yolo.write(s, t, task="segment"),
    "voc": lambda s, t: pascal_voc.write(s, t),
    "coco": lambda s, t: coco.write(s, str(Path(t) / "c.json")),
    "manifest": lambda s, t: manifest.write(s, str(Path(t) / "m.manifest")),
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(samples=float_dataset())
def test_writers_write_the_same_bytes_in_both_lanes(tmp_path_factory: Any, writer: str, samples: list[Sample]) -> None:
    results = []
    for plain in (True, False):
        target = tmp_path_factory.mktemp("w") / "out"
        if writer in ("coco", "manifest"):
            target.mkdir()
        lanes.PLAIN = plain
        try:
            report = WRITERS[writer](samples, str(target))
        except FormatError as exc:
            results.append(("error", str(exc)))
            continue
        finally:
            lanes.PLAIN = True
        results.append((_tree(target), json.dumps(report.to_dict(), sort_keys=True, default=str).replace(str(target), "T")))
    assert results[0] == results[1]


def test_voc_serialiser_lane_is_used_and_refuses_by_the_general_path() -> None:
    from mafmt.voc import serialize

    doc = VocDocument(folder="VOC", filename="a.jpg", width=5, height=5, segmented=0,
                      objects=[VocObject.plain("cat", BndBox(1, 1, 2.5, 3), difficult=0)])
    fast, general = both(voc.document_to_bytes, doc)
    assert serialize._plain_bytes(doc) is not None and fast == general
    doc.objects[0].name = "bell\x07"
    assert serialize._plain_bytes(doc) is None
    with pytest.raises(FormatError, match="label"):
        voc.document_to_bytes(doc)


@pytest.mark.parametrize("extra", [
    {"id": 7, "area": 2.5, "iscrowd": 0, "flag": True, "note": "a<b&c>", "quoted": "1", "s": "ok"},
    {"id": 7, "blank": ""}, {"id": 7, "bell": "a\x07"}, {"id": 7, "a b": 1}, {"id": 7, "车": 1}, {"id": 7, "x:y": 1},
    {"id": 7, "bbox": [1, 2.5, 3, 4]}, {"id": 7, "one": [1]}, {"id": 7, "deep": [[1, 2], [3, 4]]},
    {"id": 7, "mixed": [1, "a<b", None, True]}, {"id": 7, "rle": {"size": [4, 4], "counts": "abc"}},
    {"id": 7, "nothing": None}, {"id": 7, "edge": " x"}, {"id": 7, "xmlish": 1}, {"id": 7, "big": 10**30},
    {"id": 7, "tiny": 1e-300, "huge": 1.5e300, "neg": -0.0},
])
def test_voc_serialiser_lane_writes_scalar_extras_as_the_general_path(extra: dict[str, Any]) -> None:
    from mafmt.voc import serialize

    doc = VocDocument(folder="VOC", filename="a.jpg", width=5, height=5, segmented=0,
                      objects=[VocObject.plain("cat", BndBox(1, 1, 2.5, 3), difficult=0, extra=extra)])
    fast, general = both(voc.document_to_bytes, doc)
    assert fast == general
    if "note" in extra or "bbox" in extra:  # the common COCO cases take the lane
        assert serialize._plain_bytes(doc) == general[1]


head_text = st.one_of(st.none(), st.sampled_from(["VOC", "Unknown", "a & <b>", " x", "a\x07", "", "车"]), st.integers(0, 9))
size_value = st.one_of(st.none(), st.integers(0, 10**20), st.sampled_from([True, 2.5, "640"]))


@settings(max_examples=300, deadline=None)
@given(folder=head_text, filename=head_text, database=head_text, annotation=head_text, image=head_text,
       sizes=st.tuples(size_value, size_value, size_value), segmented=st.sampled_from([None, 0, 1]))
def test_voc_serialiser_lane_writes_any_document_head_as_the_general_path(folder: Any, filename: Any, database: Any,
                                                                          annotation: Any, image: Any,
                                                                          sizes: tuple[Any, Any, Any],
                                                                          segmented: Any) -> None:
    """Folders, file names and sources (texts XML must escape or cannot hold, numbers, none),
    sizes of any type: the lane's document head is the general path's, or it leaves it to it."""
    from mafmt.model import VocSource
    from mafmt.voc import serialize

    width, height, depth = sizes
    doc = VocDocument(folder=folder, filename=filename, source=VocSource(database=database, annotation=annotation,
                                                                        image=image),
                      width=width, height=height, depth=depth, segmented=segmented,
                      objects=[VocObject.plain("cat", BndBox(1, 1, 2.5, 3), difficult=0)])
    fast, general = both(voc.document_to_bytes, doc)
    assert fast == general
    if general[0] == "ok" and serialize._plain_head(doc) is not None:
        assert serialize._plain_bytes(doc) == general[1]


coordinate = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False),
                       st.integers(-10**6, 10**6).map(float), st.sampled_from([-0.0, 0.0, 1e16, 2.5e-7, 1e22, -1.0]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=8), st.sampled_from([Polygon, Polyline]))
def test_voc_serialiser_lane_writes_any_point_list_as_the_general_path(points: list[tuple[Any, Any]],
                                                                       kind: Any) -> None:
    from mafmt.voc import serialize

    doc = VocDocument(folder="VOC", filename="a.jpg", width=5, height=5, segmented=0,
                      objects=[VocObject.plain("cat", kind(tuple(points)), difficult=0)])
    fast, general = both(voc.document_to_bytes, doc)
    assert fast == general
    assert serialize._plain_bytes(doc) == general[1]  # (the lane wrote it)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["cat", "a & <b>", " x", "\x01"]), coordinate, coordinate, coordinate,
                          coordinate), max_size=5))
def test_voc_standard_boxes_are_written_as_the_general_path_writes_their_objects(boxes: list[tuple[Any, ...]]) -> None:
    """The VOC writer's text for a compact sample's boxes (any numbers: ints, integral and tiny
    floats, -0.0, beyond 64 bits; names XML must escape or cannot hold) is the general path's."""
    doc = VocDocument(folder="VOC", filename="a.jpg", width=5, height=5, depth=3, segmented=0)
    full = VocDocument(folder="VOC", filename="a.jpg", width=5, height=5, depth=3, segmented=0,
                       objects=[VocObject.plain(n, BndBox(x0, y0, x1, y1), "Unspecified", 0, None, 0)
                                for n, x0, y0, x1, y1 in boxes])
    try:
        general: Any = voc.document_to_bytes(full)
    except FormatError as exc:
        general = exc.reason
    try:
        fast: Any = voc.standard_boxes_to_bytes(doc, boxes)
    except FormatError as exc:
        fast = exc.reason
    assert fast == general


def test_the_serialisers_caches_keep_no_long_text() -> None:
    """Names, folders, sources, extra keys and point lists that repeat are cached; long ones
    are written as well, but never kept (no input makes the caches hold much)."""
    from mafmt.model import VocSource
    from mafmt.voc import serialize

    caches = (serialize._repeated_line, serialize._source_lines, serialize._cached_plain_key,
              serialize._cached_points_template)
    for cache in caches:
        cache.cache_clear()
    serialize._NAME_LINES.clear()
    for i in range(20):
        long = f"{i}" + "x" * 5000
        doc = VocDocument(folder=long, filename="a.jpg", source=VocSource(database=long), width=5, height=5, depth=3,
                          segmented=0, objects=[VocObject.plain(long, Polygon(tuple((j, j) for j in range(600))),
                                                                difficult=0, extra={"k" + long: 1})])
        fast, general = both(voc.document_to_bytes, doc)
        assert fast == general and long.encode() in general[1]
        assert voc.standard_boxes_to_bytes(VocDocument(folder=long, filename="a.jpg", source=VocSource(database=long),
                                                       width=5, height=5, depth=3, segmented=0),
                                           [(long, 1, 2, 3, 4)]).count(long.encode()) == 3
    assert all(cache.cache_info().currsize == 0 for cache in caches) and not serialize._NAME_LINES


# --------------------------------------------------------------------------- YOLO label lines

values = st.one_of(st.floats(0, 1, allow_nan=False).map(lambda v: f"{v:.6f}"), st.floats(0, 1).map(repr),
                   st.sampled_from(["1", "0", "1.0000001", "-0.1", "nan", "inf", "1e-3", "x", "1_0", "2"]))


@st.composite
def label_text(draw: Any) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        head = draw(st.sampled_from(["0", "1", "2", "7", "01", "-1", "a", "١", "#"]))
        n = draw(st.sampled_from([4, 4, 4, 5, 6, 3]))
        lines.append(" ".join([head, *(draw(values) for _ in range(n))]))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n  \n"]))


def _yolo_read(folder: Path) -> Any:
    stream = yolo.read(folder, on_error="skip")
    samples = list(stream)
    objects = [(o, o.origin) for s in samples for o in s.annotations[0].document.objects]
    return samples, objects, dict(stream.report.warnings), [str(p) for p in stream.report.problems]


@SETTINGS
@given(texts=st.lists(label_text(), min_size=1, max_size=3), named=st.booleans())
def test_yolo_plain_lines_read_as_the_general_path_reads_them(tmp_path_factory: Any, texts: list[str],
                                                             named: bool) -> None:
    folder = tmp_path_factory.mktemp("y")
    (folder / "labels").mkdir()
    for i, text in enumerate(texts):
        (folder / "labels" / f"{i}.txt").write_text(text)
    (folder / "sizes.csv").write_text("filename,width,height\n" + "".join(f"{i}.jpg,640,480\n" for i in range(len(texts))))
    if named:
        (folder / "classes.txt").write_text("cat\ndog\nbird\n")
    fast, general = both(_yolo_read, folder)
    assert fast == general


# --------------------------------------------------------------------------- manifest lines

@st.composite
def manifest_line(draw: Any) -> str:
    """A plain line (classification or detection) with up to two deviations, spaced or compact."""
    kind = draw(st.sampled_from(["modelarts/image_classification", "modelarts/object_detection", "object_detection",
                                 "modelarts/text_classification"]))
    ann: dict[str, Any] = {"type": kind, "name": draw(st.sampled_from(["cat", "狗", "a\"b"]))}
    if "detection" in kind:
        ann = {"type": kind, "annotation-loc": draw(st.sampled_from(["./Annotations/a.xml", "../x/b.xml", "/abs/c.xml",
                                                                     "obs://b/c.xml"])),
               "annotation-format": "PASCAL VOC"}
    ann.update({"annotated-by": "human", "creation-time": "2024-03-01 10:00:00"})
    line: dict[str, Any] = {"source": draw(st.sampled_from(["./images/a.jpg", "b.jpg", "../up/c.jpg",
                                                            "content://text", "obs://b/d.jpg"])),
                            "usage": "TRAIN", "annotation": [ann]}
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        what = draw(st.sampled_from(["order", "type", "null", "extra", "alias", "confidence", "id", "empty", "hard",
                                     "property", "ann-type"]))
        if what == "order":
            line = dict(reversed(list(line.items())))
        elif what == "type":
            line["usage"] = draw(st.sampled_from([1, True, ["x"]]))
        elif what == "null":
            line["usage"] = None
        elif what == "extra":
            line["note"] = draw(st.sampled_from([1, "x", {"a": [1]}]))
        elif what == "alias":
            ann["annotated_by"] = ann.pop("annotated-by", "human")
        elif what == "confidence":
            ann["confidence"] = draw(st.sampled_from([0.5, 1, "high", True]))
        elif what == "id":
            line["id"] = draw(st.sampled_from([7, "x7", 2.5, 10**20]))
        elif what == "empty":
            line["annotation"] = []
        elif what == "hard":
            line["hard"] = draw(st.sampled_from([True, "true", 1]))
            line["hard-coefficient"] = draw(st.sampled_from([0.5, 1, "0.5"]))
        elif what == "property":
            target = draw(st.sampled_from([ann, line]))
            target["property"] = draw(st.sampled_from([{"color": "red"}, {"@modelarts:start_index": 1}, "{}", [],
                                                       {"w": 1e20, "v": 1.5e-300, "z": -0.0}, {"w": 1e16}, {"v": [12e300]}]))
        else:
            ann["type"] = draw(st.sampled_from([["x"], 3, "modelarts/text_entity", "bogus"]))
    text = json.dumps(line, ensure_ascii=draw(st.booleans()), separators=(",", ":") if draw(st.booleans()) else None)
    text = text.replace("1e+16", "10000000000000000.0")  # (a float of 1e16 with no exponent)
    if draw(st.integers(0, 5)) == 0:  # a key spelled with an escape (as JSON allows)
        text = text.replace('"annotation-loc"', '"annotation\\u002dloc"').replace('"source"', '"sourc\\u0065"')
    return text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8)


manifest_objects = st.fixed_dictionaries({"source": st.text()}, optional={
    "usage": st.text() | st.integers(-(2**63), 2**63 - 1), "id": st.integers(-(2**63), 2**63 - 1) | st.text() | st.floats(),
    "hard": st.booleans() | st.integers(0, 1), "hard-coefficient": st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
    "property": st.dictionaries(st.text(max_size=5), json_values, max_size=4) | json_values,
    "annotation": st.lists(st.fixed_dictionaries(
        {"type": st.sampled_from(["modelarts/image_classification", "modelarts/object_detection", "modelarts/text_triplet",
                                  "bogus"])},
        optional={"name": st.text(), "confidence": st.floats(allow_nan=False, allow_infinity=False) | st.booleans(),
                  "property": st.dictionaries(st.text(max_size=5), json_values, max_size=3)}), max_size=2),
    "note": json_values})


def _in_writer_order(obj: dict[str, Any]) -> dict[str, Any]:
    from mafmt import manifest_plain

    order = {k: i for i, k in enumerate(manifest_plain.SAMPLE_KEYS)}
    ann_order = {k: i for i, k in enumerate(("type",) + manifest_plain.ANNOTATION_KEYS)}
    written = {k: obj[k] for k in sorted(obj, key=order.__getitem__)}
    if "annotation" in written:
        written["annotation"] = [{k: a[k] for k in sorted(a, key=ann_order.__getitem__)} for a in written["annotation"]]
    return written


@SETTINGS
@given(objs=st.lists(manifest_objects, min_size=1, max_size=5), block=st.sampled_from([1, 100, 1 << 20]))
def test_manifest_plain_form_decodes_and_writes_as_the_general_path(monkeypatch: pytest.MonkeyPatch, objs: list[dict[str, Any]],
                                                        block: int) -> None:
    """The plain form (mafmt.manifest_plain) from the raw line and from the decoded object
    agree on plainness and content, and its lines, with the others, are written as the
    writer's general encoder (orjson) writes each in the writer's key order, in blocks of any
    size: msgspec's float spellings, where they differ, are not written."""
    from mafmt import manifest_plain

    monkeypatch.setattr(manifest_plain, "BLOCK", block)
    out: list[bytes] = []
    lines = manifest_plain.Lines(out.append, manifest._encode)
    expected = []
    for obj in objs:
        raw = json.dumps(obj, ensure_ascii=False).encode()  # (json.dumps: 1e+20 and 1e-07, as orjson spells them)
        obj = json.loads(raw)
        fast, slow = manifest_plain.decode(raw), manifest_plain.from_object(obj)
        assert (fast is None) == (slow is None)
        if fast is None:
            lines.raw(manifest._encode(obj))
            expected.append(manifest._encode(obj))
        else:
            assert manifest_plain.to_object(fast) == manifest_plain.to_object(slow)
            lines.plain(fast)
            expected.append(manifest._encode(_in_writer_order(obj)))
    lines.flush()
    assert b"".join(out) == b"".join(e + b"\n" for e in expected)
    assert all(out) and (block > 1 or len(out) == len(objs))


any_text = st.text(st.characters(blacklist_categories=()), max_size=4)  # (lone surrogates too)


@SETTINGS
@given(obj=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | any_text | st.sampled_from(
    ["source", "annotation", "property", "type", "modelarts/image_classification", "modelarts/object_detection"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(inner.filter(lambda k: isinstance(k, str)), inner,
                                                                max_size=3), max_leaves=10))
@example("x\udc00")
@example({"x\udc00": 1, "source": "a"})
@example({"source": "a", "annotation": [{"type": "x\ud800"}]})
def test_manifest_plain_form_of_any_json_is_a_form_or_none(obj: Any) -> None:
    """Any JSON value (odd keys and strings, lone surrogates) gives a plain form or None from
    the decoded object and from its text alike, never an exception."""
    from mafmt import manifest_plain

    text = json.dumps(obj).encode()  # (escaped: what a file can hold)
    fast, slow = manifest_plain.decode(text), manifest_plain.from_object(json.loads(text))
    assert (fast is None) == (slow is None) or "\\ud" in text.decode()  # (msgspec's decoder refuses a lone escape)
    if fast is not None:
        assert manifest_plain.to_object(fast) == manifest_plain.to_object(slow)


@pytest.mark.parametrize("text", ['{"source":"a\\ud800.jpg"}', '{"source":"a.jpg","property":{"k":"\\udfff"}}'])
def test_a_plain_line_that_utf8_cannot_hold_is_named_not_written(tmp_path: Path, text: str) -> None:
    """A lone surrogate (JSON allows its escape) reaches the plain form by the standard parser:
    the writer names it as the general path does, and writes nothing."""
    src = tmp_path / "in.manifest"
    src.write_text(text + "\n", encoding="utf-8")
    assert manifest._plain_line(next(iter(manifest.read(src)))) is not None
    with pytest.raises(FormatError, match="lone surrogate"):
        manifest.write(manifest.read(src), tmp_path / "out.manifest")
    assert sorted(os.listdir(tmp_path)) == ["in.manifest"]


def _manifest_read(path: Path) -> Any:
    stream = manifest.read(path, on_error="skip")
    samples = list(stream)
    return samples, [s.origin for s in samples], dict(stream.report.warnings), [str(p) for p in stream.report.problems]


@SETTINGS
@given(lines=st.lists(manifest_line(), min_size=1, max_size=6))
def test_manifest_plain_lines_read_as_the_general_path_reads_them(tmp_path_factory: Any, lines: list[str]) -> None:
    path = tmp_path_factory.mktemp("m") / "in.manifest"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fast, general = both(_manifest_read, path)
    assert fast == general


def _manifest_copy(src: Path, target: Path, locs: str) -> Any:
    report = manifest.write(manifest.read(src, on_error="skip"), target, locs=locs)
    return target.read_bytes(), report.written


@SETTINGS
@given(lines=st.lists(manifest_line(), min_size=1, max_size=6), elsewhere=st.booleans(),
       locs=st.sampled_from(["rebase", "keep"]))
@example(lines=[('{"source":"./a.jpg","annotation":[{"type":"modelarts/object_detection","annotation\\u002dloc":'
                  '"./Annotations/a.xml"}]}')], elsewhere=True, locs="rebase")  # (an escaped key alone in its block)
def test_manifest_writer_writes_plain_lines_as_the_general_path_does(tmp_path_factory: Any, lines: list[str],
                                                                    elsewhere: bool, locs: str) -> None:
    folder = tmp_path_factory.mktemp("m")
    src = folder / "in.manifest"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = []
    for plain in (True, False):
        target = folder / ("deep/er" if elsewhere else ".") / f"out-{plain}.manifest"
        target.parent.mkdir(parents=True, exist_ok=True)
        lanes.PLAIN = plain
        try:
            out.append(_manifest_copy(src, target, locs))
        except FormatError as exc:
            out.append(("error", str(exc)))
        finally:
            lanes.PLAIN = True
    assert out[0] == out[1]


def test_the_manifest_lane_takes_the_common_lines(tmp_path: Path) -> None:
    """Not vacuous: ModelArts' own classification and detection lines are plain, and stay
    unbuilt through a manifest-to-manifest copy."""
    path = tmp_path / "in.manifest"
    path.write_text('{"source":"obs://b/a.jpg","usage":"TRAIN","annotation":[{"type":"modelarts/image_classification",'
                    '"name":"cat","annotated-by":"human","creation-time":"2019-10-24 10:00:00"}]}\n'
                    '{"source":"./b.jpg","annotation":[{"type":"modelarts/object_detection","annotation-loc":'
                    '"./b.xml","annotation-format":"PASCAL VOC","annotated-by":"human"}]}\n')
    samples = list(manifest.read(path))
    assert [manifest._plain_line(s) is not None for s in samples] == [True, True]
    manifest.write(samples, tmp_path / "out.manifest")
    assert [manifest._plain_line(s) is not None for s in samples] == [True, True]
    assert samples[1].annotations[0].annotation_loc == "./b.xml"  # built on first use
    assert manifest._plain_line(samples[1]) is None


def test_a_deep_line_is_refused_by_its_depth_as_the_general_path_refuses_it(tmp_path: Path) -> None:
    """A line deeper than the decoder's recursion where it looks for an annotation's type is
    not plain: the nesting limit refuses it, as on the general path."""
    path = tmp_path / "in.manifest"
    path.write_bytes(b'{"source":"a.jpg","annotation":[{"a":' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b"}]}\n")
    fast, general = both(lambda: list(manifest.read(path)))
    assert fast == general and fast[0] == "error" and "nested deeper than" in fast[2]


odd_rows = st.sampled_from([
    b"", b"   ", b"\t", b"{", b"[1,2]", b"null", b'{"source": 1}', b"\xff\xfe", b'{"source":"a.jpg"} x',
    b'{"source":"a.jpg","id":12345678901234567890}', b'{"source":"a.jpg","n":1e999}', b'{"source":"NaN","v":NaN}',
    b'{"source":"a.jpg","p":' + b"[" * 40 + b"]" * 40 + b"}",
    b'{"source":"a.jpg","property":{"k":' + b"[" * 40 + b"]" * 40 + b"}}",
    b'{"source":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[.jpg"}',
    b'{"source":"' + b"x" * 300 + b'.jpg"}',  # longer than the limit set below
])


@st.composite
def manifest_bytes(draw: Any) -> bytes:
    """A manifest as users' tools leave it: plain and odd lines, LF or CRLF, a BOM, no last newline."""
    rows = draw(st.lists(st.one_of(manifest_line().map(lambda t: t.encode("utf-8")), odd_rows), min_size=1,
                         max_size=8))
    ends = draw(st.lists(st.sampled_from([b"\n", b"\r\n", b"\r\r\n"]), min_size=len(rows), max_size=len(rows)))
    data = b"".join(r + e for r, e in zip(rows, ends))
    if draw(st.booleans()):
        data = data.rstrip(b"\r\n")
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + data


def _samples_of(gen: Any, report: Report) -> Any:
    got: list[Any] = []
    try:
        for sample in gen:
            got.append((sample.origin, manifest.dumps(sample)))
    except FormatError as exc:
        got.append(("error", type(exc).__name__, str(exc)))
    return got, dict(report.warnings), [str(p) for p in report.problems]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=manifest_bytes(), block=st.sampled_from([7, 64, 1 << 18]), on_error=st.sampled_from(["skip", "raise"]))
def test_manifest_lines_read_in_blocks_as_line_by_line(monkeypatch: pytest.MonkeyPatch, data: bytes, block: int,
                                                       on_error: str) -> None:
    """The block reader of UTF-8 manifests (with its once-per-block guards) gives the samples,
    origins, warnings, skips and errors that reading and checking line by line gives, for
    lines cut anywhere by a block."""
    import io

    from mafmt import line_blocks

    monkeypatch.setattr(line_blocks, "BLOCK", block)
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 256)
    monkeypatch.setattr(limits, "MAX_JSON_DEPTH", 20)  # (the deep rows go past it)
    out = []
    for blocks in (True, False):
        report, fh = Report(), io.BytesIO(data)
        gen = (manifest._utf8_samples(fh, "m", 1, "/d", "/d", on_error, report) if blocks else
               manifest._decoded_samples(manifest._iter_lines(fh, "utf-8", "m"), "m", "/d", "/d", on_error, report))
        out.append(_samples_of(gen, report))
    assert out[0] == out[1]


segments = st.sampled_from(["a", "b.jpg", ".", "..", "", "img 1", "x.xml"])


@SETTINGS
@given(parts=st.lists(segments, min_size=1, max_size=4), lead=st.sampled_from(["", "./", "../"]),
       pair=st.sampled_from([("/data/src", "/data/out"), ("/data/src", "/data/src/deep"), ("/data/src/deep", "/data"),
                             ("obs://b/src", "obs://b/out"), ("obs://b/src", "obs://c/out"), ("obs://b/src", "/local")]))
def test_rebasing_once_per_folder_gives_what_rebasing_each_reference_gives(parts: list[str], lead: str,
                                                                          pair: tuple[str, str]) -> None:
    base, folder = pair
    ref = lead + "/".join(parts)
    rebase = manifest._Rebaser(folder)
    for _ in range(2):  # cold and cached
        got = rebase(ref, base)
        want = ref if manifest._same_dir(base, folder) or os.path.isabs(ref) else rebase.direct(ref, base)
        assert got == want


# --------------------------------------------------------------------------- model copies


@pytest.mark.parametrize("cls", [VocObject, VocDocument])
def test_object_and_document_copy_is_dataclasses_replace_field_for_field(cls: Any) -> None:
    """``VocObject.copy`` and ``VocDocument.copy`` (the writers' cheap copies) keep every
    field, as ``replace`` does."""
    import dataclasses

    values = {f.name: object() for f in dataclasses.fields(cls)}
    obj = cls(**values)
    copy, replaced = obj.copy(), dataclasses.replace(obj)
    assert copy is not obj and type(copy) is cls
    for name, value in values.items():
        assert getattr(copy, name) is value is getattr(replaced, name), name
