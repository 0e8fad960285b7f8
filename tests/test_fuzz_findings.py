"""What the fuzzer found that ``tests/data/crashers`` cannot hold: inputs that took seconds to
minutes (quadratic or exponential time), and the exact values the fixes keep. Each is bounded
in time by a margin far below what the old code took (a timed-out case there, minutes at the
sizes used here)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from mafmt import limits, manifest, rle
from mafmt.converters import coco, yolo_layouts
from mafmt.errors import FormatError, LimitError


def _fast(fn, seconds: float = 5.0):
    start = time.perf_counter()
    try:
        return fn()
    finally:
        assert time.perf_counter() - start < seconds, f"took {time.perf_counter() - start:.1f} s"


@pytest.mark.parametrize("text", ["{" * (1 << 20), "[" * (1 << 20), "names: " + "[" * 100_000])
def test_deep_yaml_flow_nesting_is_refused_as_it_is_scanned(text: str) -> None:
    """PyYAML's scanner costs O(depth) per token: a 1 MiB line of ``{`` took hours."""
    with pytest.raises(LimitError) as err:
        _fast(lambda: yolo_layouts.load_yaml(text, "data.yaml"))
    assert err.value.file == "data.yaml" and err.value.line == 1
    assert f"deeper than {limits.MAX_JSON_DEPTH}" in str(err.value)


def test_yaml_nesting_up_to_the_limit_is_read() -> None:
    n = limits.MAX_JSON_DEPTH - 1  # the top-level mapping is one level
    assert yolo_layouts.load_yaml("x: " + "[" * n + "]" * n)["x"] == json.loads("[" * n + "]" * n)
    block = "".join(" " * i + f"k{i}:\n" for i in range(limits.MAX_JSON_DEPTH + 5))
    with pytest.raises(LimitError):
        yolo_layouts.load_yaml(block, "data.yaml")


def test_yaml_numbers_and_class_keys() -> None:
    with pytest.raises(LimitError, match="a number of 5000 characters") as err:
        yolo_layouts.load_yaml("nc: " + "9" * 5000, "data.yaml")
    assert err.value.file == "data.yaml" and err.value.line == 1
    assert yolo_layouts.load_yaml("nc: " + "9" * limits.MAX_NUMBER_CHARS)["nc"] == int("9" * limits.MAX_NUMBER_CHARS)
    for key in (".inf", "-.inf", ".nan"):
        with pytest.raises(FormatError, match="keys of a names map are class indices"):
            yolo_layouts.parse_names_yaml(f"names: {{{key}: a}}", "data.yaml")


def test_rle_string_with_an_endless_run_is_refused_in_linear_time() -> None:
    """Every character continuing one run made the number grow: quadratic in the string."""
    with pytest.raises(ValueError, match="longer than 64 bits"):
        _fast(lambda: rle.string_to_counts("o" * 2_000_000))
    big = [2**62, 1, 2**40, 3]
    assert rle.string_to_counts(rle.counts_to_string(big)) == big


def test_coco_rle_with_an_endless_run_names_the_annotation(tmp_path: Path) -> None:
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 1,
                            "segmentation": {"size": [10, 10], "counts": "o" * 200_000}}],
           "categories": [{"id": 1, "name": "cat"}]}
    src = tmp_path / "instances.json"
    src.write_text(json.dumps(doc))
    with pytest.raises(FormatError) as err:
        _fast(lambda: [s.annotations for s in coco.read(str(src))])
    assert err.value.file == str(src) and "annotations[0]" in (err.value.path or "")


def test_yolo_row_check_is_linear() -> None:
    """``\\d+\\.?\\d*`` matched a digit run in many ways: 50 numbers and a bad end never finished."""
    line = "0 " + " ".join(["123456789"] * 50) + " x"
    assert not _fast(lambda: yolo_layouts._ROW.match(line))
    for ok in ("0 0.5 0.5 0.1 0.2", "3 1. .5 1e3 -2.5E-1", "1 1 2 3 4 5 6 7 8"):
        assert yolo_layouts._ROW.match(ok), ok
    for bad in ("0 0.5 0.5 0.1", "a 1 2 3 4", "0 1 2 3 x", "0 1 2 3 ."):
        assert not yolo_layouts._ROW.match(bad), bad


def test_property_strings_are_parsed_as_strictly_as_a_line(tmp_path: Path) -> None:
    """A string ``property`` holding JSON becomes the object; one that a line could not hold
    (too deep, NaN) stays the string it is, instead of a RecursionError or a NaN."""
    deep = "[" * 5000 + "]" * 5000
    lines = [{"source": "a.jpg", "property": '{"k": 1}'}, {"source": "b.jpg", "property": deep},
             {"source": "c.jpg", "property": '{"k": NaN}'},
             {"source": "d.jpg", "property": json.dumps({"k": json.loads("[" * 70 + "]" * 70)})}]
    src = tmp_path / "m.manifest"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    got = list(manifest.read(src))
    assert got[0].property == {"k": 1}
    assert [s.extra.get("property") for s in got[1:]] == [x["property"] for x in lines[1:]]
    out = tmp_path / "out.manifest"
    manifest.write(got, out, locs="keep")
    assert [json.loads(ln)["property"] for ln in out.read_text().splitlines()] == [x["property"] for x in lines]


@pytest.mark.parametrize("reasons", ["9" * 5000, "1-²", "1-" + "9" * (limits.MAX_NUMBER_CHARS + 1)])
def test_hard_reasons_out_of_range_name_the_key(tmp_path: Path, reasons: str) -> None:
    src = tmp_path / "m.manifest"
    src.write_text(json.dumps({"source": "a.jpg", "hard-reasons": reasons}) + "\n")
    with pytest.raises(FormatError) as err:
        list(manifest.read(src))
    assert (err.value.file, err.value.line, err.value.path) == (str(src), 1, "hard-reasons")
