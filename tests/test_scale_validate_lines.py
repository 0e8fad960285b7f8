"""A sharded manifest ``validate`` gives the findings of one process, line numbers included.

The workers number each byte range's lines from 1 (nothing counts the lines first); the client
shifts the numbers by the lines of the ranges before, and checks a range again with its real
numbers when a finding names an earlier line (a duplicate id) or an id came before. Generated
manifests mix plain classification lines, lines with ids (repeated close together and far
apart), broken JSON, wrong types, byte order marks (opening the file or not), blank lines and detection lines whose VOC
file has its own findings (their XML lines are not shifted); they are cut into generated
numbers of ranges and run through a synchronous stand-in for the Dask client. The cluster
tests are in ``test_scale.py``.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mafmt
from mafmt import shards

SETTINGS = settings(max_examples=60, deadline=None)
BROKEN_VOC = "<annotation>\n<size><width>10</width><height>8</height></size>\n<object>\n<name></name>\n</object>\n</annotation>\n"


class _Done:
    def __init__(self, value: Any) -> None:
        self.value, self.key = value, "k"

    def result(self) -> Any:
        return self.value

    def done(self) -> bool:
        return True

    def release(self) -> None:
        pass


class Synchronous:
    """What :class:`mafmt.distributed.Engine` asks of a Dask client, run at once in this process."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def submit(self, func: Any, *args: Any, **kwargs: Any) -> _Done:
        return _Done(func(*args))

    def scheduler_info(self) -> dict[str, Any]:
        return {"workers": {str(i): {"nthreads": 1} for i in range(self.workers)}}


def _cls(i: int, sid: str | None) -> str:
    obj: dict[str, Any] = {"source": f"images/{i}.jpg", "usage": "TRAIN",
                           "annotation": [{"type": "modelarts/image_classification", "name": "cat"}]}
    if sid is not None:
        obj["id"] = sid
    return json.dumps(obj)


line = st.one_of(
    st.builds(lambda i: _cls(i, None), st.integers(0, 99)),
    st.builds(_cls, st.integers(0, 99), st.sampled_from(["a", "b", "c"])),  # ids that repeat
    st.just('{"source": "x.jpg", "annotation": [}'),  # broken JSON
    st.just('{"source": 5, "annotation": []}'),  # a wrong type
    st.just(""),  # a blank line
    st.just("\ufeff" + _cls(7, None)),  # a byte order mark that does not open the file
    st.just(json.dumps({"source": "d.jpg", "annotation": [{"type": "modelarts/object_detection",
                                                           "annotation-loc": "bad.xml",
                                                           "annotation-format": "PASCAL VOC"}]})),
)


def _key(found: list[Any]) -> list[tuple[Any, ...]]:
    return [(e.file, e.line, e.path, e.reason, e.severity, str(e)) for e in found]


@SETTINGS
@given(st.lists(line, min_size=1, max_size=40), st.booleans(), st.integers(1, 4))
def test_each_range_is_numbered_from_its_real_first_line(tmp_path_factory: pytest.TempPathFactory,
                                                         lines: list[str], bom: bool, workers: int) -> None:
    root = tmp_path_factory.mktemp("m")
    (root / "bad.xml").write_text(BROKEN_VOC)
    path = root / "train.manifest"
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + ("\n".join(lines) + "\n").encode())
    one = mafmt.validate(path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(shards, "MIN_SPAN_BYTES", 64)
        sharded = mafmt.validate(path, scheduler=Synchronous(workers))
    assert _key(sharded) == _key(one)


def test_duplicates_and_voc_findings_in_later_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cases the shift must get right, in ranges other than the first."""
    (tmp_path / "bad.xml").write_text(BROKEN_VOC)
    lines = [_cls(i, None) for i in range(60)]
    lines[25] = lines[27] = _cls(25, "twice")  # a duplicate inside one later range
    lines[40] = '{"source": 5, "annotation": []}'
    lines[50] = json.dumps({"source": "d.jpg", "annotation": [{"type": "modelarts/object_detection",
                                                              "annotation-loc": "bad.xml",
                                                              "annotation-format": "PASCAL VOC"}]})
    path = tmp_path / "train.manifest"
    path.write_text("\n".join(lines) + "\n")
    one = mafmt.validate(path)
    monkeypatch.setattr(shards, "MIN_SPAN_BYTES", 64)
    assert len(shards.manifest_spans(str(path), 6)) == 6
    two = mafmt.validate(path, scheduler=Synchronous(2))
    assert _key(two) == _key(one)
    assert {e.line for e in one} == {28, 41, 51}
    assert any("first on line 26" in e.reason for e in one)
    assert any(e.file == str(path) and e.line == 51 and "bad.xml" in e.reason for e in one)
