"""A sharded COCO target is the file one process writes, whatever the cut into shards.

The workers' half (:func:`mafmt.scale._coco_records`: image records, and the annotations as one
bytes template with holes for the ids) and the client's half (:func:`mafmt.scale._write_coco`:
image ids, category ids in first-seen order, annotation ids in one run or one by one) are run
in this process on generated samples cut at generated points, and compared byte for byte with
:func:`mafmt.converters.coco.write`: annotation ids given, missing, repeated, out of order and
beyond 64 bits, labels and attributes with ``%``, image-level labels, samples of one image,
samples without a size. No Dask here: the cluster tests are in ``test_scale.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mafmt import scale
from mafmt.converters import coco
from mafmt.model import BndBox, Classification, Detection, Polygon, Sample, VocDocument, VocObject
from mafmt.report import Report

SETTINGS = settings(max_examples=60, deadline=None)
JOB: dict[str, Any] = {"write_options": {}, "overwrite": True}

ann_id = st.one_of(st.none(), st.integers(1, 12), st.integers(1 << 63, 1 << 64), st.just("a7"))
label = st.sampled_from(["cat", "dog", "50%", "%d", "100%%s"])


@st.composite
def sample(draw: Any) -> Sample:
    objects = []
    for _ in range(draw(st.integers(0, 4))):
        x, y = draw(st.integers(0, 30)), draw(st.integers(0, 30))
        shape = (BndBox(x, y, x + draw(st.integers(1, 9)), y + 5.5) if draw(st.booleans())
                 else Polygon(((x, y), (x + 4, y), (x + 2, y + 3.25))))
        extra = {"id": draw(ann_id)} if draw(st.booleans()) else {}
        if draw(st.booleans()):
            extra["note"] = draw(st.sampled_from(["5% off", "plain", "%(x)s"]))
        objects.append(VocObject(name=draw(label), shape=shape, extra=extra))
    sized = draw(st.integers(0, 5)) > 0
    doc = VocDocument(width=64 if sized else None, height=48 if sized else None, objects=objects)
    annotations: list[Any] = [Detection(type="modelarts/object_detection", document=doc)]
    annotations += [Classification(type="modelarts/image_classification", name=draw(label))
                    for _ in range(draw(st.integers(0, 2)))]
    return Sample(source=f"img/{draw(st.integers(0, 6))}.jpg", id=draw(st.none() | st.integers(1, 9)),
                  annotations=annotations, usage=draw(st.none() | st.just("train")))


def one_process(samples: list[Sample], dst: Path) -> tuple[Any, ...]:
    report = coco.write(samples, dst)
    report.outputs, report.target = [], None
    return dst.read_bytes(), report.to_dict()


def sharded(samples: list[Sample], cuts: list[int], dst: Path) -> tuple[Any, ...]:
    parts = []
    for a, b in zip([0, *cuts], [*cuts, len(samples)]):
        part = scale._Part()
        scale._coco_records(samples[a:b], JOB, part)
        parts.append(part)
    report = Report()
    scale._write_coco(str(dst), parts, JOB, report, None, None)
    report.outputs, report.target = [], None
    return dst.read_bytes(), report.to_dict()


@SETTINGS
@given(st.lists(sample(), max_size=8), st.lists(st.integers(0, 8), max_size=3))
def test_any_cut_into_shards_writes_the_file_one_process_writes(tmp_path_factory: pytest.TempPathFactory,
                                                                 samples: list[Sample], cuts: list[int]) -> None:
    tmp = tmp_path_factory.mktemp("coco")
    want = one_process(samples, tmp / "one.json")
    try:
        got = sharded(samples, sorted(min(c, len(samples)) for c in cuts), tmp / "two.json")
    except scale._OneProcess:  # an id beyond 64 bits: the job runs in one process instead
        assert any(type(o.extra.get("id")) is int and o.extra["id"] >= 1 << 63
                   for s in samples for a in s.annotations if isinstance(a, Detection) and a.document
                   for o in a.document.objects)
        return
    assert got == want


@given(st.lists(st.one_of(st.integers(0, 6), st.lists(st.none() | st.integers(1, 30), max_size=6)), max_size=8))
def test_a_run_of_ids_is_the_ids_taken_one_by_one(steps: list[Any]) -> None:
    runs, single = coco._AnnotationIds(), coco._AnnotationIds()
    for step in steps:
        if isinstance(step, int):
            assert list(runs.take_run(step)) == [single.take(None) for _ in range(step)]
        else:
            assert [runs.take(w) for w in step] == [single.take(w) for w in step]
