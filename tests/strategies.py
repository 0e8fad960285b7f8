"""Hypothesis strategies for mafmt's model, in the canonical forms a writer produces
(so ``read(write(x)) == x`` is the exact property to test)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from mafmt import model
from mafmt.manifest import ANNOTATION_FIELDS, SAMPLE_FIELDS

# ----------------------------------------------------------------------------- scalars

#: any text JSON can carry (no lone surrogates)
json_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
#: text XML can carry and mafmt's reader keeps as is (it strips surrounding blanks)
xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=10).filter(
    lambda t: t == t.strip()
)
nonempty_xml_text = xml_text.filter(bool)
xml_name = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda t: not t.startswith("xml"))

number = st.one_of(
    st.integers(-100_000, 100_000),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
unit = st.one_of(st.integers(0, 1), st.floats(0, 1, allow_nan=False))

json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9), st.floats(allow_nan=False, allow_infinity=False), json_text)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(json_text, inner, max_size=3)),
    max_leaves=6,
)


def _unknown_keys(known: set[str]) -> st.SearchStrategy[str]:
    return st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8).map(lambda k: "x-" + k).filter(
        lambda k: k not in known
    )


_SAMPLE_KNOWN = {n for f in SAMPLE_FIELDS for n in (f.wire, *f.aliases)} | {"annotation"}
_ANN_KNOWN = {n for f in ANNOTATION_FIELDS for n in (f.wire, *f.aliases)}

sample_extra = st.dictionaries(_unknown_keys(_SAMPLE_KNOWN), json_value, max_size=2)
annotation_extra = st.dictionaries(_unknown_keys(_ANN_KNOWN), json_value, max_size=2)
#: user properties (never the reserved keys a subclass lifts out)
user_property = st.one_of(
    st.none(), st.dictionaries(json_text.filter(lambda k: not k.startswith("@modelarts:")), json_value, min_size=1, max_size=3)
)

# ----------------------------------------------------------------------------- annotations


def _common() -> dict[str, Any]:
    return {
        "name": st.none() | json_text,
        "id": st.none() | json_text | st.integers(0, 10**6),
        "property": user_property,
        "annotated_by": st.none() | st.sampled_from(["human", "modelarts/active-learning", "human/u/u"]),
        "creation_time": st.none() | st.just("2023-04-11 09:15:42"),
        "confidence": st.none() | unit,
        "hard": st.none() | st.booleans(),
        "hard_coefficient": st.none() | unit,
        "annotation_format": st.none() | st.sampled_from(["PASCAL VOC", "manifest"]),
        "annotation_loc_map": st.none() | json_text,
        "extra": annotation_extra,
    }


classification = st.builds(
    model.Classification,
    type=st.sampled_from([model.IMAGE_CLASSIFICATION, model.TEXT_CLASSIFICATION, model.AUDIO_CLASSIFICATION]),
    **_common(),
)
detection = st.builds(
    model.Detection,
    type=st.sampled_from([model.OBJECT_DETECTION, model.IMAGE_SEGMENTATION]),
    annotation_loc=st.sampled_from(["s3://b/labels/a.xml", "obs://b/x/y z (1).xml", "https://h/a.xml"]),
    **_common(),
)
entity = st.builds(model.Entity, start=st.none() | st.integers(0, 500), end=st.none() | st.integers(0, 500), **_common())
triplet = st.builds(model.Triplet, head=st.none() | json_text, tail=st.none() | json_text, **_common())
transcript = st.builds(model.Transcript, content=st.none() | json_text, **_common())
segment = st.builds(
    model.SpeechSegment,
    start_time=st.none() | st.just("00:00:03.250"),
    end_time=st.none() | st.just("00:00:06.900"),
    speaker=st.none() | json_text,
    content=st.none() | json_text,
    **_common(),
)
unknown_type = st.builds(model.Annotation, type=st.sampled_from(["acme/keypoints", "modelarts/future_task"]), **_common())

annotation = st.one_of(classification, detection, entity, triplet, transcript, segment, unknown_type)


sample = st.builds(
    model.Sample,
    source=st.one_of(
        st.sampled_from(["s3://bucket/img 1.jpg", "obs://b/k.png", "./images/a.jpg", "/abs/b.jpg"]),
        json_text.map(lambda t: "content://" + t),
    ),
    annotations=st.lists(annotation, max_size=4),
    usage=st.none() | st.sampled_from(["TRAIN", "EVAL", "TEST", "INFERENCE", "train"]),
    id=st.none() | json_text | st.integers(0, 10**6),
    inference_loc=st.none() | json_text,
    hard=st.none() | st.booleans(),
    hard_coefficient=st.none() | unit,
    hard_reasons=st.none() | st.lists(st.integers(0, 30), max_size=4),
    property=st.none() | st.dictionaries(json_text, json_value, max_size=3),
    source_type=st.none() | st.sampled_from(["csv", "CarbonData"]),
    sample_type=st.none() | st.sampled_from([0, 1, 2, 4, 6, 9]),
    source_map=st.none() | json_text,
    extra=sample_extra,
)

# ----------------------------------------------------------------------------- VOC


def _points(n_min: int, n_max: int) -> st.SearchStrategy[tuple[tuple[Any, Any], ...]]:
    return st.lists(st.tuples(number, number), min_size=n_min, max_size=n_max).map(tuple)


shape = st.one_of(
    st.builds(model.BndBox, number, number, number, number),
    st.builds(model.Point, number, number),
    st.builds(model.Circle, number, number, number),
    st.builds(model.Polygon, _points(3, 7)),
    st.builds(model.Polyline, _points(2, 6)),
    st.builds(model.Line, _points(2, 2)),
    st.builds(model.Dashed, _points(2, 2)),
)

_OBJECT_UNKNOWN_TAGS = st.sampled_from(["actions", "owner", "note", "x-rotation"])
xml_node = st.recursive(
    xml_text,
    lambda inner: st.dictionaries(xml_name.filter(lambda n: not n.startswith("x")), inner, min_size=1, max_size=3),
    max_leaves=4,
)
xml_extra = st.dictionaries(
    _OBJECT_UNKNOWN_TAGS,
    st.one_of(xml_node, st.lists(xml_node, min_size=2, max_size=3)),
    max_size=2,
)
properties = st.none() | st.dictionaries(
    st.one_of(nonempty_xml_text, st.sampled_from(["@modelarts:clockwise_angle", "plate visible"])),
    nonempty_xml_text,
    max_size=3,
)


def voc_object(depth: int = 0) -> st.SearchStrategy[model.VocObject]:
    parts = st.lists(voc_object(depth + 1), max_size=2) if depth < 2 else st.just([])
    return st.builds(
        model.VocObject,
        name=st.none() | xml_text,
        shape=st.none() | shape,
        properties=properties,
        pose=st.none() | st.sampled_from(["Unspecified", "0", "Left"]),
        truncated=st.none() | st.integers(0, 1),
        occluded=st.none() | st.integers(0, 1),
        difficult=st.none() | st.integers(0, 1),
        confidence=st.none() | unit,
        hard_coefficient=st.none() | unit,
        hard_reasons=st.none() | st.sampled_from(["1", "1-3", "3-20-21-19"]),
        mask_color=st.none() | st.sampled_from(["193,243,53", "0,0,0"]),
        parts=parts,
        extra=xml_extra,
    )


voc_document = st.builds(
    model.VocDocument,
    folder=st.none() | xml_text,
    filename=st.none() | xml_text,
    source=st.none()
    | st.builds(model.VocSource, database=st.none() | xml_text, annotation=st.none() | xml_text, image=st.none() | xml_text),
    width=st.none() | st.integers(0, 10_000),
    height=st.none() | st.integers(0, 10_000),
    depth=st.none() | st.integers(0, 4),
    segmented=st.none() | st.integers(0, 1),
    mask_source=st.none() | st.just("obs://b/out/mask.png"),
    objects=st.lists(voc_object(), max_size=4),
    extra=st.dictionaries(st.sampled_from(["path", "owner"]), xml_node, max_size=2),
)
