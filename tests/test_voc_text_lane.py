"""The text lane for plain VOC documents (:func:`mafmt.voc.parse.plain_text_document`) gives
what the element tree gives, or nothing.

Generated documents vary everything a writer varies and more: the XML declaration (forms,
quotes, encodings, a byte order mark, space before it), the order of the top-level fields and
of each object's elements, fields missing or repeated, numbers in every spelling (signs,
exponents, leading dots, huge ones), texts with spaces, entities, CDATA, comments, non-ASCII
letters, control characters, ``]]>``, self-closing and attributed elements, CRLF line ends,
polygons with gaps, and malformed ends. Wherever the lane answers, the tree must give the same
document (fields, objects, their origins with the ``<object>`` line, the size marker) and the
same issues; where the tree refuses the bytes, the lane must not answer.
"""

from __future__ import annotations

import codecs
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mafmt import limits
from mafmt.errors import FormatError
from mafmt.voc import parse

SETTINGS = settings(max_examples=800, deadline=None)

PLAIN_INTS = ["0", "1", "12", "007", " 7 ", "\n3\n", "+1", "-0", "500"]
PLAIN_COORDS = ["0", "1", "12", "354.54", "-3.25", "-0", "\n 8.5\n", "-0.0", "007", "2.50", "499"]
ODD_NUMBERS = ["1e3", ".5", "5.", "", "abc", "9" * 40, "1&amp;2", "<![CDATA[3]]>", "4<!-- c -->", "+2.5", "1_0",
               "354.54", "-7", " 1 ", "2", "x]]>y", "2000000000", "-1500000000.5"]
PLAIN_TEXTS = ["cat", "dog person", " spaced ", "x>y", "tab\there", "Unspecified", "-", "0", "cat", "dog", ""]
ODD_TEXTS = ["a&amp;b", "<![CDATA[x]]>", "猫", "a\x01b", "x]]>y", "a<!--c-->b", "a&#65;"]


def _pools(clean: bool) -> tuple[Any, Any, Any]:
    """(integers, coordinates, texts): in a clean document about one value in 40 is odd (so that
    most of them hold one oddity at most), in the others one in four."""
    copies = 40 if clean else 1

    def pool(plain: list[str], odd: list[str]) -> Any:
        return st.sampled_from(plain * max(1, copies * len(odd) // len(plain)) + odd) if clean else \
            st.sampled_from(plain * 3 + odd)

    return pool(PLAIN_INTS, ODD_NUMBERS), pool(PLAIN_COORDS, ODD_NUMBERS), pool(PLAIN_TEXTS, ODD_TEXTS)


space = st.sampled_from(["", "\n", "\n    ", " ", "\t", "\n\n", "\n\t\t", "\r\n"])
declaration = st.sampled_from([
    "", "", "", '<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0' encoding='utf-8'?>",
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>', '<?xml version="1.0" encoding="gbk"?>',
    '<?xml version="1.0" encoding="klingon"?>', "<?xml version=\"1.0'?>", ' <?xml version="1.0"?>',
    '<?xml version="1.1"?>', '<?xml version="1.0" standalone="maybe"?>', "\ufeff"])


def element(tag: str, value: str, form: str) -> str:
    if form == "empty" and not value:
        return f"<{tag}/>"
    if form == "attribute":
        return f'<{tag} a="1">{value}</{tag}>'
    return f"<{tag}>{value}</{tag}>"


def rarely(k: int) -> Any:
    """True about once in ``k + 1`` draws (``st.integers`` would give its simplest value, 0, far more often)."""
    return st.sampled_from([False] * k + [True])


form = st.sampled_from(["plain"] * 30 + ["empty", "attribute"])


@st.composite
def box(draw: Any, number: Any) -> str:
    keys = ["xmin", "ymin", "xmax", "ymax"]
    if draw(rarely(9)):
        keys = draw(st.permutations(keys))
    if draw(rarely(9)):
        keys = keys[:draw(st.integers(0, 4))] + draw(st.lists(st.sampled_from(keys + ["zmin"]), max_size=2))
    sp = draw(space)
    return "<bndbox>" + "".join(sp + element(k, draw(number), "plain") for k in keys) + sp + "</bndbox>"


@st.composite
def polygon(draw: Any, number: Any) -> str:
    n = draw(st.sampled_from([3, 4, 5, 3, 4, 0, 1, 2]))
    names = [f"{axis}{i}" for i in range(1, n + 1) for axis in "xy"]
    if draw(rarely(5)):
        names += draw(st.lists(st.sampled_from(["x0", "y01", "x1", "x", "z1", f"x{n + 2}", f"y{n + 2}"]), max_size=2))
    if draw(rarely(4)):  # (not as standard writers give them: the lane reads them point by point)
        names = draw(st.permutations(names))
    sp = draw(space)
    return "<polygon>" + "".join(sp + element(k, draw(number), "plain") for k in names) + sp + "</polygon>"


@st.composite
def voc_object(draw: Any, integer: Any, number: Any, text: Any, count: Any) -> str:
    parts = []
    for tag, kind in (("name", text), ("pose", text), ("truncated", integer), ("occluded", integer),
                      ("difficult", integer)):
        for _ in range(draw(count)):
            parts.append(element(tag, draw(kind), draw(form)))
    for _ in range(draw(count)):
        parts.append(draw(st.one_of(box(number), box(number), polygon(number))))
    if draw(rarely(15)):
        parts = draw(st.permutations(parts))
    if draw(rarely(15)):
        parts.append(element("attributes", "x", "plain"))
    sp = draw(space)
    head = '<object id="2">' if draw(rarely(20)) else "<object>"
    return head + "".join(sp + p for p in parts) + sp + "</object>"


@st.composite
def document(draw: Any) -> bytes:
    """Two in three with plain values only (so that the lane has work), the others with any."""
    clean = draw(st.sampled_from([True, True, False]))
    integer, number, text = _pools(clean)
    count = st.sampled_from([1] * 40 + [0, 2] if clean else [1, 1, 1, 0, 2])  # (how often a field is there)
    by_tag: dict[str, list[str]] = {}
    for tag in ("folder", "filename", "segmented"):
        for _ in range(draw(count)):
            value = draw(st.sampled_from(["0", "1"] * 20 + [" 1 ", "+1", "-0", "2"]) if tag == "segmented" else text)
            by_tag.setdefault(tag, []).append(element(tag, value, draw(form)))
    for _ in range(draw(count)):
        sp = draw(space)
        items = [element(k, draw(integer), "plain") for k in ("width", "height", "depth")
                 if draw(st.sampled_from([True] * 15 + [False]))]
        by_tag.setdefault("size", []).append("<size>" + "".join(sp + i for i in items) + sp + "</size>")
    for _ in range(draw(st.sampled_from([1, 0, 0, 2]) if not clean else count)):
        items = [element(k, draw(text), "plain") for k in ("database", "annotation", "image")
                 if draw(st.booleans() if not clean or draw(st.booleans()) else st.just(k == "database"))]
        by_tag.setdefault("source", []).append(
            "<source>" + draw(st.sampled_from(["", "\n"] + ([] if clean else ["junk"]))) + "".join(items) + "</source>")
    order = draw(st.sampled_from([("folder", "filename", "segmented", "size", "source"),  # (the standard order
                                  ("folder", "filename", "source", "size", "segmented")]))  # is the head's lane)
    fields = [f for tag in order for f in by_tag.get(tag, [])]
    objects = draw(st.lists(voc_object(integer, number, text, count), max_size=3))
    children = fields + objects
    if draw(rarely(4)):
        children = draw(st.permutations(children))
    sp = draw(space)
    body = draw(declaration if not clean else st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>'])) + \
        draw(st.sampled_from(["", "\n", "  "])) + "<annotation>" + \
        "".join(sp + c for c in children) + sp + "</annotation>" + draw(st.sampled_from(["", "\n", "\n\n"] + ([] if clean else [" x", "<a/>"])))
    if not clean and draw(rarely(10)):
        body = body.replace("</annotation>", "</annotatio>")
    return body.encode("utf-8")


def tree_result(data: bytes, rules: str, name: str = "f.xml") -> Any:
    try:
        doc, issues = parse.parse_root(parse.parse_tree(data, name), name, rules=rules)
    except FormatError as exc:
        return ("refused", str(exc))
    return view(doc, issues)


def view(doc: Any, issues: list[FormatError]) -> Any:
    """What must agree: the document (its repr too: 1 == 1.0, but a number keeps its type), its
    objects' origins and extras, and the issues."""
    return (doc, repr(doc), doc.wire, [(o.origin, o.wire, o.extra) for o in doc.objects], doc.origin,
            [(str(i), i.severity, i.line, i.path) for i in issues])


@SETTINGS
@given(document(), st.sampled_from(parse.RULES))
def test_the_lane_gives_what_the_tree_gives_or_nothing(data: bytes, rules: str) -> None:
    found = parse.plain_text_document(data, "f.xml", rules)
    event("the lane answered" if found is not None else "the tree")
    if found is not None:
        assert view(*found) == tree_result(data, rules)
        assert parse._plain_document(parse.parse_tree(data, "f.xml"), parse._Ctx("f.xml", rules)) is not None


def test_standard_writers_documents_take_the_lane(tmp_path: Any) -> None:
    """What the VOC devkit, labelImg, Roboflow and mafmt itself write is read by the lane."""
    devkit = (b"<annotation>\n\t<folder>VOC2007</folder>\n\t<filename>000001.jpg</filename>\n\t<source>\n"
              b"\t\t<database>The VOC2007 Database</database>\n\t\t<annotation>PASCAL VOC2007</annotation>\n"
              b"\t\t<image>flickr</image>\n\t</source>\n\t<size>\n\t\t<width>353</width>\n\t\t<height>500</height>\n"
              b"\t\t<depth>3</depth>\n\t</size>\n\t<segmented>0</segmented>\n\t<object>\n\t\t<name>dog</name>\n"
              b"\t\t<pose>Left</pose>\n\t\t<truncated>1</truncated>\n\t\t<difficult>0</difficult>\n\t\t<bndbox>\n"
              b"\t\t\t<xmin>48</xmin>\n\t\t\t<ymin>240</ymin>\n\t\t\t<xmax>195</xmax>\n\t\t\t<ymax>371</ymax>\n"
              b"\t\t</bndbox>\n\t</object>\n</annotation>\n")
    roboflow = (b'<annotation>\n\t<folder></folder>\n\t<filename>a_jpg.rf.1.jpg</filename>\n\t<path>a.jpg</path>\n'
                b"\t<source>\n\t\t<database>roboflow.com</database>\n\t</source>\n")  # (<path>: not plain)
    found = parse.plain_text_document(devkit, "d.xml", "devkit")
    assert found is not None and found[0].objects[0].origin.line == 15  # type: ignore[union-attr]
    assert view(*found) == tree_result(devkit, "devkit", "d.xml")
    assert parse.plain_text_document(roboflow, "r.xml") is None

    from mafmt import voc
    from mafmt.model import BndBox, Polygon, VocDocument, VocObject

    doc = VocDocument(folder="f", filename="a.jpg", width=10, height=8, depth=3, segmented=0,
                      objects=[VocObject(name="cat", shape=BndBox(1, 2.5, 3, 4), pose="Unspecified", truncated=0,
                                         difficult=0),
                               VocObject(name="dog", shape=Polygon(((1, 1), (5, 1.5), (3, 4))), difficult=1)])
    data = voc.document_to_bytes(doc)
    found = parse.plain_text_document(data, "m.xml")
    assert found is not None
    assert view(*found) == tree_result(data, "modelarts", "m.xml")


@pytest.mark.parametrize("text", ["1" * (limits.MAX_NUMBER_CHARS + 1), str(limits.MAX_COORDINATE * 10)])
def test_numbers_past_the_limits_take_the_tree(text: str) -> None:
    data = (f"<annotation><folder>f</folder><filename>a</filename><size><width>1</width><height>1</height></size>"
            f"<segmented>0</segmented><object><name>c</name><difficult>0</difficult><bndbox><xmin>{text}</xmin>"
            f"<ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>").encode()
    assert parse.plain_text_document(data) is None
    assert codecs.BOM_UTF8 not in data


BASE = ('<?xml version="1.0" encoding="UTF-8"?>\n<annotation>\n    <folder>VOC</folder>\n'
        "    <filename>a.jpg</filename>\n    <source>\n        <database>Unknown</database>\n    </source>\n"
        "    <size>\n        <width>500</width>\n        <height>375</height>\n        <depth>3</depth>\n    </size>\n"
        "    <segmented>0</segmented>\n    <object>\n        <name>cat</name>\n        <pose>Unspecified</pose>\n"
        "        <truncated>0</truncated>\n        <difficult>0</difficult>\n        <bndbox>\n"
        "            <xmin>354.54</xmin>\n            <ymin>28</ymin>\n            <xmax>364.45</xmax>\n"
        "            <ymax>91.01</ymax>\n        </bndbox>\n    </object>\n    <object>\n        <name>dog</name>\n"
        "        <polygon>\n            <x1>1</x1>\n            <y1>2</y1>\n            <x2>5.5</x2>\n"
        "            <y2>2</y2>\n            <x3>3</x3>\n            <y3>4</y3>\n        </polygon>\n    </object>\n"
        "</annotation>\n")
ODDITIES = [
    ("<segmented>0<", "<segmented>+1<"), ("<segmented>0<", "<segmented>-0<"), ("<segmented>0<", "<segmented> 1 <"),
    ("<segmented>0<", "<segmented>2<"), ("<width>500<", "<width>-0<"), ("<width>500<", "<width>+500<"),
    ("<width>500<", "<width>5e2<"), ("<depth>3</depth>", ""), ("<width>500</width>", ""),
    ("<folder>VOC<", "<folder> <"), ("<name>cat<", "<name>c]]>t<"), ("<name>cat<", "<name>c&amp;t<"),
    ("<name>cat<", "<name>c&#97;t<"), ("<name>cat<", "<name>猫<"), ("<name>cat<", "<name> <"),
    ("<name>cat<", "<name>c\x01t<"), ("<name>cat<", "<name>c<!-- x -->t<"), ("<pose>Unspecified<", "<pose><"),
    ("<x1>", "<x01>"), ("</x1>", "</x01>"), ("<x1>1</x1>", "<x0>1</x0>"), ("<y3>4</y3>", ""),
    ("<x3>3</x3>", "<x3>3</x3><x3>3</x3>"), ("<x3>3</x3>", "<x3>2000000000</x3>"),
    ("<x3>3</x3>", "<x3>-1500000000.5</x3>"), ("<x3>3</x3>", "<x3>" + "0" * limits.MAX_NUMBER_CHARS + "3</x3>"),
    ("<x2>5.5</x2>\n            <y2>2</y2>", "<x4>5.5</x4><y4>2</y4>"),
    ("<xmin>354.54<", "<xmin>.5<"), ("<xmin>354.54<", "<xmin>-354.54<"), ("<xmin>354.54<", "<xmin>354.<"),
    ("<xmin>354.54<", "<xmin>1" + "0" * 40 + "<"), ("<difficult>0</difficult>", ""),
    ("<difficult>0<", "<difficult>+1<"), ("<truncated>0<", "<truncated>x<"),
    ("<truncated>0</truncated>", "<truncated>0</truncated><truncated>0</truncated>"),
    ("<object>", '<object id="1">'), ("\n", "\r\n"), ("</annotation>\n", "</annotation>\n<!-- end -->"),
    ("</annotation>\n", "</annotation>x"), ('encoding="UTF-8"', 'encoding="klingon"'),
    ('<?xml version="1.0" encoding="UTF-8"?>', ""), ('<?xml version="1.0" encoding="UTF-8"?>', " "),
    ('version="1.0"', "version='1.0\""), ("<source>", "<source>junk"), ("    </source>", "</source><source></source>"),
    ("<segmented>0</segmented>", "<segmented>0</segmented><folder>x</folder>"),
    ("<depth>3<", "<depth>2000000000<"), ("<height>375<", "<height>2000000000<"), ("<height>375<", "<height>007<"),
    ("<width>500<", "<width>" + "0" * limits.MAX_NUMBER_CHARS + "5<"), ("<database>Unknown<", "<database> Unknown <"),
    ("<segmented>0<", "<segmented> 0 <"), ("<folder>VOC<", "<folder> VOC <"),
    ("    <object>\n        <name>dog", "    <size></size>\n    <object>\n        <name>dog"),
]


@pytest.mark.parametrize(("old", "new"), ODDITIES)
@pytest.mark.parametrize("rules", parse.RULES)
def test_one_oddity_at_a_time(old: str, new: str, rules: str) -> None:
    """A standard document that takes the lane, with one thing changed: the lane gives the tree's
    answer, or leaves the document to the tree."""
    assert parse.plain_text_document(BASE.encode(), "f.xml", rules) is not None
    data = BASE.replace(old, new, 1).encode()
    assert data != BASE.encode()
    found = parse.plain_text_document(data, "f.xml", rules)
    if found is not None:
        assert view(*found) == tree_result(data, rules)
        assert parse._plain_document(parse.parse_tree(data, "f.xml"), parse._Ctx("f.xml", rules)) is not None


def compact_of(obj: Any) -> tuple[Any, ...]:
    """The record :func:`parse.plain_text_records` gives for an object of the lane's document."""
    shape = obj.shape
    if type(shape) is parse.BndBox:
        return (obj.name, shape.xmin, shape.ymin, shape.xmax, shape.ymax, None, ())
    return (obj.name, *shape.bbox(), [c for p in shape.points for c in p], ())


@SETTINGS
@given(document(), st.sampled_from(parse.RULES))
def test_the_compact_records_are_the_lanes_document(data: bytes, rules: str) -> None:
    full = parse.plain_text_document(data, "f.xml", rules)
    found = parse.plain_text_records(data, "f.xml", rules)
    assert (found is None) == (full is None)
    if full is not None and found is not None:
        doc, issues = full
        head, records, flags, found_issues = found
        assert [(str(i), i.severity, i.line, i.path) for i in found_issues] == \
            [(str(i), i.severity, i.line, i.path) for i in issues]
        shell = doc.copy()
        shell.objects, shell.origin = [], None
        assert (head, repr(head), head.wire, head.origin) == (shell, repr(shell), shell.wire, None)
        assert repr(records) == repr([compact_of(o) for o in doc.objects])  # (repr: 1 is not 1.0)
        assert flags == [(o.pose, o.truncated, o.occluded, o.difficult) for o in doc.objects]
        read = parse.plain_text_read(data, "f.xml", rules)
        assert read is not None and view(read[4](), issues) == view(doc, issues)  # (built from the same scan)
        assert (read[0].objects, read[0].origin) == ([], None)  # (the head is left as it was)


@pytest.mark.parametrize("odd", ["abc", "1e3", "", ".5"])
def test_a_polygon_point_that_is_no_coordinate_takes_the_tree(odd: str) -> None:
    points = f"<x1>1</x1><y1>1</y1><x2>5</x2><y2>1</y2><x3>5</x3><y3>5</y3><x4>{odd}</x4><y4>{odd}</y4>"
    data = ("<annotation><folder>F</folder><filename>a.jpg</filename><size><width>9</width><height>9</height>"
            "</size><segmented>0</segmented><object><name>cat</name><difficult>0</difficult><polygon>"
            f"{points}</polygon></object></annotation>").encode()
    assert parse.plain_text_document(data, "f.xml") is None  # (never a triangle without its fourth point)
    assert parse.plain_text_records(data, "f.xml") is None
    if odd == ".5":  # (a number the lane leaves to the tree, which reads it)
        assert parse.parse_bytes(data, "f.xml")[0].objects[0].shape.points[3] == (0.5, 0.5)


def test_the_flags_cache_keeps_short_poses_only() -> None:
    """A dataset of long, distinct poses cannot make the lane's cache of flags hold them."""
    parse._FLAGS_READ.clear()
    for i in range(3):
        data = ("<annotation><folder>F</folder><filename>a.jpg</filename><size><width>9</width><height>9</height>"
                f"</size><segmented>0</segmented><object><name>cat</name><pose>{'p' * 300}{i}</pose>"
                "<difficult>0</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox>"
                "</object></annotation>").encode()
        found = parse.plain_text_records(data, "f.xml")
        assert found is not None and found[2][0][0] == "p" * 300 + str(i)
    assert parse._FLAGS_READ == {}
