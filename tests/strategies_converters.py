"""Hypothesis strategies for converter round trips, and a projection to compare samples.

Each strategy builds samples exactly as the target format's reader would produce them
(so ``read(write(x)) == x`` can be asserted), restricted to what the format holds.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from mafmt.model import (
    OBJECT_DETECTION,
    BndBox,
    Circle,
    Detection,
    Line,
    Point,
    Polygon,
    Polyline,
    Sample,
    VocDocument,
    VocObject,
)

LABELS = ["cat", "dog", "person", "traffic light", "车辆", "a,b"]
USAGES = ["TRAIN", "EVAL", "TEST"]


@st.composite
def sizes(draw: Any) -> tuple[int, int]:
    return draw(st.integers(8, 3000)), draw(st.integers(8, 3000))


@st.composite
def int_box(draw: Any, w: int, h: int) -> BndBox:
    x0 = draw(st.integers(0, w - 1))
    y0 = draw(st.integers(0, h - 1))
    return BndBox(x0, y0, draw(st.integers(x0 + 1, w)), draw(st.integers(y0 + 1, h)))


@st.composite
def int_polygon(draw: Any, w: int, h: int) -> Polygon:
    n = draw(st.integers(3, 8))
    pts = draw(st.lists(st.tuples(st.integers(0, w), st.integers(0, h)), min_size=n, max_size=n, unique=True))
    return Polygon(tuple(pts))


@st.composite
def any_shape(draw: Any, w: int, h: int) -> Any:
    kind = draw(st.sampled_from(["bndbox", "polygon", "circle", "point", "line", "polyline"]))
    if kind == "bndbox":
        return draw(int_box(w, h))
    if kind == "polygon":
        return draw(int_polygon(w, h))
    x, y = draw(st.integers(0, w)), draw(st.integers(0, h))
    if kind == "circle":
        return Circle(x, y, draw(st.integers(1, 50)))
    if kind == "point":
        return Point(x, y)
    p2 = (draw(st.integers(0, w)), draw(st.integers(0, h)))
    if kind == "line":
        return Line(((x, y), p2))
    return Polyline(((x, y), p2, (draw(st.integers(0, w)), draw(st.integers(0, h)))))


def _detection(doc: VocDocument) -> Detection:
    return Detection(type=OBJECT_DETECTION, annotation_format="PASCAL VOC", document=doc)


@st.composite
def detection_dataset(
    draw: Any,
    *,
    shapes: str = "box",
    fields: bool = False,
    ids: bool = False,
    max_samples: int = 6,
    max_objects: int = 5,
) -> list[Sample]:
    """Detection samples named ``img_<i>.jpg`` with unique sources.

    Args:
        shapes: ``"box"``, ``"polygon"``, ``"box+polygon"`` or ``"any"``.
        fields: also draw pose / truncated / occluded / difficult / confidence / properties.
        ids: give each sample an integer ``id`` (COCO keeps it).
    """
    n = draw(st.integers(1, max_samples))
    out = []
    for i in range(n):
        w, h = draw(sizes())
        objects = []
        for _ in range(draw(st.integers(0, max_objects))):
            kind = {"box": "bndbox", "polygon": "polygon"}.get(shapes) or draw(st.sampled_from(["bndbox", "polygon"]))
            if shapes == "any":
                shape = draw(any_shape(w, h))
            elif kind == "bndbox":
                shape = draw(int_box(w, h))
            else:
                shape = draw(int_polygon(w, h))
            obj = VocObject(name=draw(st.sampled_from(LABELS)), shape=shape)
            if fields:
                obj.pose = draw(st.sampled_from(["Unspecified", "Left", "Frontal"]))
                obj.truncated = draw(st.integers(0, 1))
                obj.occluded = draw(st.none() | st.integers(0, 1))
                obj.difficult = draw(st.integers(0, 1))
                obj.confidence = draw(st.none() | st.sampled_from([0.5, 0.25, 1]))
                obj.properties = draw(st.none() | st.dictionaries(st.sampled_from(["color", "颜色", "kind"]),
                                                                  st.sampled_from(["red", "蓝", "x y"]), max_size=2))
            objects.append(obj)
        doc = VocDocument(filename=f"img_{i}.jpg", width=w, height=h, objects=objects)
        out.append(Sample(source=f"img_{i}.jpg", usage=draw(st.sampled_from(USAGES)), annotations=[_detection(doc)],
                          id=(i + 1) * 3 if ids else None))
    return out


def project(sample: Sample, *, fields: bool = False) -> tuple[Any, ...]:
    """What a lossless conversion must keep: source name, usage, size and objects."""
    objs: list[Any] = []
    width = height = None
    for ann in sample.annotations:
        if isinstance(ann, Detection):
            doc = ann.load()
            width, height = doc.width, doc.height
            for o in doc.objects:
                extra = (o.pose, o.truncated, o.occluded, o.difficult, o.confidence, o.properties or None) if fields else ()
                objs.append((o.name, o.shape, *extra))
    return (sample.source.rsplit("/", 1)[-1], sample.usage, width, height, objs)


@st.composite
def label_names(draw: Any) -> str:
    return draw(st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters="-_"), min_size=1,
                        max_size=12))


@st.composite
def text_dataset(draw: Any) -> list[tuple[str, list[str]]]:
    """(text, labels) pairs for text classification (no line breaks, tabs or commas in labels)."""
    text = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\t\x85"),
                   min_size=1, max_size=40).filter(lambda t: t.strip() == t and t != "")
    return draw(st.lists(st.tuples(text, st.lists(label_names(), min_size=1, max_size=3, unique=True)),
                         min_size=1, max_size=8))
