"""Nothing is written that does not read back the same: for any sample a writer accepts, its
reader gives the same sample back; anything else is refused with a FormatError."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mafmt import manifest, voc
from mafmt.converters import csv_format
from mafmt.errors import FormatError
from mafmt.model import BndBox, Classification, Detection, Sample, VocDocument, VocObject

#: any text at all: control characters, NUL, lone surrogates, white space at the ends
hostile = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | hostile,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "c_d"]), inner, max_size=3),
    max_leaves=8,
)
xml_keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda k: not k.startswith("xml"))


@given(name=hostile, prop=st.dictionaries(hostile, hostile, max_size=2), extra=st.dictionaries(xml_keys, json_values,
                                                                                              max_size=3))
@settings(max_examples=300)
def test_voc_reads_back_what_it_writes(name: str, prop: dict[str, str], extra: dict[str, object]) -> None:
    extra = {k: v for k, v in extra.items() if k not in ("name", "pose", "bndbox", "part", "properties", "truncated",
                                                           "occluded", "difficult", "confidence", "mask_color",
                                                           "segmentation", "polygon", "point", "line", "circle")}
    obj = VocObject(name=name, shape=BndBox(1, 2, 3, 4), properties=prop or None, difficult=0, extra=extra)
    doc = VocDocument(folder="f", filename="a.jpg", width=9, height=9, segmented=0, objects=[obj])
    try:
        data = voc.document_to_bytes(doc)
    except FormatError:
        return  # refused, with a typed error: fine
    back, _ = voc.parse_bytes(data, "x.xml")
    got = back.objects[0]
    assert (got.name, got.properties or None, got.extra) == (name, prop or None, extra)


@given(source=hostile, label=hostile, extra=st.dictionaries(st.sampled_from(["k", "n"]), json_values, max_size=2))
@settings(max_examples=300)
def test_manifest_reads_back_what_it_writes(tmp_path_factory: object, source: str, label: str,
                                            extra: dict[str, object]) -> None:
    target = Path(tmp_path_factory.mktemp("m")) / "m.manifest"  # type: ignore[attr-defined]
    sample = Sample(source=source, annotations=[Classification(name=label)], extra=extra)
    try:
        manifest.write([sample], target, locs="keep")
    except FormatError:
        return
    (back,) = list(manifest.read(target))
    assert (back.source, back.annotations[0].name, back.extra) == (source, label, extra)


@given(name=hostile, label=hostile, extra=json_values)
@settings(max_examples=300)
def test_csv_reads_back_what_it_writes(tmp_path_factory: object, name: str, label: str, extra: object) -> None:
    target = Path(tmp_path_factory.mktemp("c")) / "t.csv"  # type: ignore[attr-defined]
    doc = VocDocument(filename="a.jpg", width=9, height=9,
                      objects=[VocObject(name=label, shape=BndBox(1, 2, 3.5, 4), extra={"x": extra})])
    sample = Sample(source=name or "a.jpg", annotations=[Detection(document=doc)])
    try:
        report = csv_format.write([sample], target)
    except FormatError:
        return
    if report.lost:
        return  # what it cannot hold it says it drops (an object without a label)
    try:
        (back,) = list(csv_format.read(target))
    except FormatError as exc:  # a cell the writer accepted must read back: not an error
        raise AssertionError(f"written but not readable: {exc}") from None
    obj = back.annotations[0].document.objects[0]
    assert (back.source, obj.name, obj.extra.get("x")) == (name or "a.jpg", label, extra)
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in (obj.shape.bbox()))


@given(names=st.lists(hostile, min_size=1, max_size=3, unique=True), layout=st.sampled_from(["darknet", "ultralytics"]))
@settings(max_examples=150, deadline=None)
def test_yolo_class_names_read_back(tmp_path_factory: object, names: list[str], layout: str) -> None:
    """Class names go to ``obj.names`` (one a line) or ``data.yaml``: each reads back as it was
    written, or the writer refuses it (issue 12: a line break split one class into two)."""
    from mafmt.converters import yolo

    out = Path(tmp_path_factory.mktemp("y")) / "y"  # type: ignore[attr-defined]
    doc = VocDocument(filename="a.jpg", width=9, height=9,
                      objects=[VocObject(name=n, shape=BndBox(1, 1, 3, 3)) for n in names])
    try:
        report = yolo.write([Sample(source="a.jpg", annotations=[Detection(document=doc)])], out, layout=layout,
                            write_sizes=True)
    except FormatError:
        return
    if report.lost:
        return  # what it cannot hold it says it drops (an object without a label)
    try:
        (back,) = list(yolo.read(str(out), size_table=str(out / "sizes.csv")))
    except FormatError as exc:
        raise AssertionError(f"written but not readable: {exc}") from None
    assert [o.name for o in back.annotations[0].load().objects] == names
