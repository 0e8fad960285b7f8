"""The plain lane of manifest validation gives exactly the findings of the general path.

Classification manifests are drawn around the edge of what the lane takes (plain lines,
and lines with wrong types, missing, extra or reordered keys, bad usage values, ids and
duplicate ids, non-ASCII and escaped text, content:// sources, numbers out of range or too
long, blank lines, bad UTF-8, broken JSON, a BOM, CRLF, no final newline, lines over the
length limit) and validated with ``lanes.PLAIN`` on and off, reading in blocks small enough
to cut lines anywhere: the findings (message, file, line, path, severity, order), the
progress calls and the command's output and exit code must be the same.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mafmt import cli, lanes, limits, line_blocks, validation
from mafmt.errors import FormatError, LimitError, UsageError
from mafmt.validation import iter_errors

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CLS_TYPES = ["modelarts/image_classification", "image_classification", "modelarts/text_classification",
             "audio_classification", "modelarts/sound_classification"]
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=12)
#: what plain lines hold: printable ASCII that JSON writes without escapes
lane_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e, exclude_characters='"\\'), max_size=12)
odd_value = st.sampled_from([None, 0, 1.5, -1, True, "", "x", [], {}, [1], {"a": 1}, 10**20, "é", "\\u00e9"])


#: values of an annotation's property: plain ones, and some that are not (non-ASCII text, nested)
plain_value = st.one_of(lane_text, st.integers(-10**6, 10**6), st.booleans(), st.none(),
                        st.floats(-1e6, 1e6).map(lambda f: round(f, 3)))
property_value = st.one_of(plain_value, plain_value, text, st.dictionaries(lane_text, st.integers(), max_size=1),
                           st.lists(st.integers(), max_size=1))


@st.composite
def annotation(draw: Any, values: st.SearchStrategy[Any]) -> dict[str, Any]:
    ann: dict[str, Any] = {"type": draw(st.sampled_from(CLS_TYPES)), "name": draw(lane_text.filter(bool))}
    if draw(st.booleans()):
        ann["annotated-by"] = draw(st.sampled_from(["human", "auto", ""]))
    if draw(st.booleans()):
        ann["creation-time"] = "2024-03-01 10:00:00"
    if draw(st.integers(0, 3)) == 0:
        ann["property"] = draw(st.one_of(lane_text, st.dictionaries(lane_text, values, max_size=3)))
    return ann


@st.composite
def plain_line(draw: Any, values: st.SearchStrategy[Any] = property_value) -> dict[str, Any]:
    line: dict[str, Any] = {"source": draw(st.sampled_from(["./images/1.jpg", "obs://b/cls/2.jpg", "a"]))}
    if draw(st.booleans()):
        line["usage"] = draw(st.sampled_from(["TRAIN", "EVAL", "TEST", "INFERENCE", "train", "eval"]))
    if draw(st.integers(0, 3)) == 0:
        line["id"] = draw(st.sampled_from(["a", "b", 1, 2]))
    if draw(st.integers(0, 5)):
        line["annotation"] = draw(st.lists(annotation(values), max_size=3))
    if draw(st.integers(0, 3)) == 0:
        line["hard"] = draw(st.booleans())
        line["hard-coefficient"] = draw(st.sampled_from([0, 1, 0.5, 0.895, 1.0]))
    return line


def _broken(draw: Any, line: dict[str, Any]) -> dict[str, Any]:
    """``line`` with one deviation from the plain shape (which may or may not be a finding)."""
    anns = line.get("annotation") or []
    what = draw(st.sampled_from(["type", "drop", "extra", "usage", "id", "ann", "text", "content", "coef", "order"]))
    target = draw(st.sampled_from(anns)) if anns and draw(st.booleans()) else line
    if what == "type":
        target[draw(st.sampled_from(sorted(target)))] = draw(odd_value)
    elif what == "drop":
        target.pop(draw(st.sampled_from(sorted(target))))
    elif what == "extra":
        target[draw(st.sampled_from(["hard", "id", "confidence", "x", "usage", "property", "inference-loc"]))] = draw(
            st.one_of(odd_value, ascii_text))
    elif what == "usage":
        line["usage"] = draw(st.sampled_from(["train", "Train", "VALIDATE", "", "TRAIN "]))
    elif what == "id":
        line["id"] = draw(st.sampled_from(["a", "b", 1, 2, 1.0, True]))
    elif what == "ann":
        line["annotation"] = [*anns, draw(st.sampled_from([
            {"type": "modelarts/object_detection", "annotation-loc": "x.xml"}, {"type": "cls"}, {"name": "cat"},
            {"type": "modelarts/image_classification", "name": ""}, "cat", None]))]
    elif what == "text":
        target[draw(st.sampled_from(["source", "name", "usage", "note", "property"]))] = draw(text)
    elif what == "content":
        line["source"] = "content://a text"
    elif what == "coef":
        line["hard-coefficient"] = draw(st.sampled_from([1.5, -0.1, "0.5", 1e-7, 12345678901234567890]))
    else:
        line = dict(reversed(list(line.items())))
    return line


@st.composite
def manifest_line(draw: Any) -> bytes:
    """One line (without its newline): plain, broken, or not a JSON object at all."""
    line = draw(plain_line())
    kind = draw(st.sampled_from(["plain", "plain", "plain", "broken", "broken", "raw"]))
    if kind == "broken":
        line = _broken(draw, line)
    if kind != "raw":
        spaced = draw(st.integers(0, 9)) == 0
        return json.dumps(line, ensure_ascii=draw(st.booleans()),
                          separators=(", ", ": ") if spaced else (",", ":")).encode()
    data = json.dumps(line, separators=(",", ":")).encode()
    cut = draw(st.integers(0, len(data)))
    return draw(st.sampled_from([
        b"", b"   ", data[:cut], data + b"\r", data[:cut] + b"\xff\xfe" + data[cut:], b"[1, 2]", b"null",
        data[:cut] + b"\t" + data[cut:], data.replace(b'"source"', b'"source"', 1) + b" ",
        data[:-1] + b',"source":"b"}', data.replace(b"1", b"1e400", 1), b"{" * 70 + b"}" * 70]))


@st.composite
def manifest(draw: Any) -> bytes:
    lines = draw(st.lists(manifest_line(), min_size=1, max_size=12))
    data = b"\n".join(lines)
    if draw(st.booleans()):
        data += b"\n"
    if draw(st.integers(0, 9)) == 0:
        data = b"\xef\xbb\xbf" + data
    return data


def findings(path: Path, plain: bool) -> list[tuple[Any, ...]]:
    lanes.PLAIN = plain
    try:
        return [(str(e), e.file, e.line, e.path, e.severity, type(e).__name__)
                for e in iter_errors(str(path), "manifest")]
    finally:
        lanes.PLAIN = True


def line_by_line(path: Path) -> list[tuple[Any, ...]]:
    """The findings as the reader before blocks gave them: ``readline(limit + 1)``, then the
    general path's check of each line."""
    lanes.PLAIN = False
    try:
        check = validation._LineCheck(str(path), "utf-8", False, {})
    finally:
        lanes.PLAIN = True
    limit = limits.MAX_LINE_BYTES
    found: list[FormatError] = []
    with path.open("rb") as fh:
        for lineno in itertools.count(1):
            raw = fh.readline(limit + 1)
            if not raw:
                break
            if len(raw) > limit and not raw.endswith(b"\n"):
                found.append(LimitError(f"line is longer than the limit of {limit} bytes", file=str(path), line=lineno))
                break
            found += check.problems(raw, lineno)
    return [(str(e), e.file, e.line, e.path, e.severity, type(e).__name__) for e in found]


def cli_run(path: Path, plain: bool) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    lanes.PLAIN = plain
    try:
        return cli.main(["validate", str(path)], out=out, err=err), out.getvalue()
    finally:
        lanes.PLAIN = True


@SETTINGS
@given(data=manifest(), block=st.sampled_from([16, 100, 1 << 20]), limit=st.sampled_from([60, 200, 64 << 20]),
       depth=st.sampled_from([3, 4, 64]))
def test_the_lane_finds_what_the_general_path_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes,
                                                   block: int, limit: int, depth: int) -> None:
    monkeypatch.setattr(line_blocks, "BLOCK", block)
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", limit)
    monkeypatch.setattr(limits, "MAX_JSON_DEPTH", depth)
    path = tmp_path / "cls.manifest"
    path.write_bytes(data)
    assert findings(path, True) == findings(path, False) == line_by_line(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=manifest())
def test_the_command_prints_and_exits_the_same(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "cls.manifest"
    path.write_bytes(data)
    assert cli_run(path, True) == cli_run(path, False)


@SETTINGS
@given(line=plain_line(plain_value))
def test_plain_lines_take_the_lane(line: dict[str, Any]) -> None:
    """Plain classification lines are taken by the decoded check in any key order, and what
    the writer gives for one without an id and with an upper-case usage is matched whole (so
    the comparisons above do exercise both)."""
    assert validation._plain_object(dict(reversed(line.items())))
    line["usage"] = line.get("usage", "TRAIN").upper()
    written = {k: line[k] for k in ("source", "usage", "annotation", "hard", "hard-coefficient") if k in line}
    raw = json.dumps(written, separators=(",", ":")).encode() + b"\n"
    assert validation._PLAIN_LINES.fullmatch(raw * 3)


def test_a_plain_file_never_reaches_the_general_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line = {"source": "./images/1.jpg", "usage": "TRAIN", "annotation": [
        {"type": "modelarts/image_classification", "name": "cat", "annotated-by": "human",
         "creation-time": "2024-03-01 10:00:00", "property": {"color": "red"}}], "hard": True, "hard-coefficient": 0.5}
    path = tmp_path / "cls.manifest"
    path.write_text((json.dumps(line, separators=(",", ":")) + "\n") * 3000, "utf-8")
    monkeypatch.setattr(line_blocks, "BLOCK", 4096)
    checked: list[int] = []
    monkeypatch.setattr(validation._LineCheck, "problems", lambda self, raw, n, clean=False: checked.append(n) or [])
    assert findings(path, True) == [] and checked == []
    assert findings(path, False) == [] and checked == list(range(1, 3001))


def test_plain_lines_in_another_order_skip_the_general_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ModelArts' own order, with ids: decoded, but no schema and no rules."""
    path = tmp_path / "cls.manifest"
    path.write_text("".join(json.dumps({"id": f"s{i}", "usage": "train", "source": f"s3://b/{i}.jpg", "annotation": [
        {"name": "cat", "type": "modelarts/image_classification", "property": {"n": i}}]}) + "\n" for i in range(50)),
        "utf-8")
    prepared: list[bool] = []
    prepare = validation._LineCheck._prepare
    monkeypatch.setattr(validation._LineCheck, "_prepare", lambda self: prepared.append(True) or prepare(self))
    assert findings(path, True) == [] and not prepared
    with path.open("a") as fh:
        fh.write('{"id": "s7", "source": "a"}\n')
    found = findings(path, True)
    assert prepared and found == findings(path, False) == [
        (f"{path}:51: $.id: duplicate id 's7' (first on line 8)", str(path), 51, "$.id", "warning", "FormatError")]


def test_duplicate_ids_and_long_lines_keep_their_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = '{"source":"a","annotation":[{"type":"image_classification","name":"cat"}]}'
    lines = [plain, '{"source":"b","id":"x"}', plain, "", '{"source":"c","id":"x"}', plain, "x" * 300, plain]
    path = tmp_path / "cls.manifest"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 200)
    monkeypatch.setattr(line_blocks, "BLOCK", 32)
    found = findings(path, True)
    assert found == findings(path, False)
    assert [(f[0].removeprefix(f"{path}:"), f[4]) for f in found] == [
        ("5: $.id: duplicate id 'x' (first on line 2)", "warning"), ("7: line is longer than the limit of 200 bytes", "error")]


@pytest.mark.parametrize("block", [64, 1 << 20])
def test_progress_is_the_same_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(line_blocks, "BLOCK", block)
    plain = '{"source":"a","annotation":[{"type":"image_classification","name":"cat"}]}\n'
    path = tmp_path / "cls.manifest"
    path.write_text(plain * 1500 + '{"source":1}\n' + plain * 1000 + plain[:-1], "utf-8")

    def calls(on: bool) -> list[tuple[int, int | None]]:
        seen: list[tuple[int, int | None]] = []
        lanes.PLAIN = on
        try:
            list(iter_errors(str(path), "manifest", progress=lambda d, t: seen.append((d, t))))
        finally:
            lanes.PLAIN = True
        return seen

    size = path.stat().st_size
    assert calls(True) == calls(False) == [(1000 * len(plain), size), (1999 * len(plain) + 13, size), (size, size)]


@pytest.mark.parametrize("block", [7, 50, 51, 1 << 20])
@pytest.mark.parametrize(("lengths", "end", "checked", "too_long"), [
    ([50, 50, 50], b"", 3, None), ([50, 50, 50], b"\n", 3, None), ([50, 51, 50], b"\n", 1, 2),
    ([50, 50, 51], b"", 2, 3), ([50, 50, 51], b"\n", 2, 3), ([51], b"", 0, 1), ([20, 49, 50, 60], b"\n", 3, 4)])
def test_the_line_limit_counts_the_bytes_before_the_newline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int, lengths: list[int], end: bytes, checked: int,
        too_long: int | None) -> None:
    """Lines of exactly MAX_LINE_BYTES pass, one byte more ends the file there, wherever blocks cut."""
    monkeypatch.setattr(line_blocks, "BLOCK", block)
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 50)
    path = tmp_path / "cls.manifest"
    path.write_bytes(b"\n".join(b'{"source":1}' + b" " * (n - 12) for n in lengths) + end)
    found = findings(path, True)
    assert found == findings(path, False)
    assert [f[2] for f in found if f[5] == "FormatError"] == list(range(1, checked + 1))
    assert [f[2] for f in found if f[5] == "LimitError"] == ([too_long] if too_long else [])


@pytest.mark.parametrize(("name", "fmt", "folder"), [
    ("a.manifest", None, False), ("b.JSONL", None, False), ("c.txt", "manifest", False), ("d.json", None, False),
    ("e.manifest", None, True), ("f.manifest", "coco", False)])
def test_validate_names_a_manifest_as_the_registry_does(tmp_path: Path, name: str, fmt: str | None,
                                                        folder: bool) -> None:
    """The command tells a local manifest by its extension without loading the registry: the same answer."""
    from mafmt.commands._util import format_for, format_name_for

    path = tmp_path / name
    if folder:
        path.mkdir()
        (path / "x.manifest").write_text('{"source":"a"}\n', "utf-8")
    else:
        path.write_text('{"source":"a"}\n' if fmt != "coco" else '{"images":[]}', "utf-8")
    args = argparse.Namespace(path=str(path), format=fmt)

    def answer(find: Any) -> str:
        try:
            return str(find(args))
        except UsageError as exc:
            return f"usage error: {exc}"

    assert answer(format_name_for) == answer(lambda a: format_for(a).name)


@pytest.mark.parametrize("order", ["written", "reordered"])
@pytest.mark.parametrize("depth", [3, 4, 5])
def test_nested_properties_meet_the_depth_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str,
                                                depth: int) -> None:
    """A plain line nests 4 deep; a property holding an object or an array one more."""
    monkeypatch.setattr(limits, "MAX_JSON_DEPTH", depth)
    ann = {"type": "image_classification", "name": "c", "property": {"k": 1}}
    lines = [{"source": "a", "annotation": [ann]}, {"source": "a", "annotation": [{**ann, "property": {"k": {"x": 1}}}]},
             {"source": "a", "annotation": [{**ann, "property": {"k": [1]}}]}]
    if order == "reordered":
        lines = [dict(reversed(line.items())) for line in lines]
    path = tmp_path / "cls.manifest"
    path.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines), "utf-8")
    found = findings(path, True)
    assert found == findings(path, False)
    assert [f[2] for f in found] == {3: [1, 2, 3], 4: [2, 3], 5: []}[depth]


def test_the_plain_keys_are_the_schemas() -> None:
    """The decoded check takes only keys the schema knows (an unknown one is a warning)."""
    sample_keys, annotation_keys = validation._known_keys()
    assert validation._PLAIN_KEYS <= sample_keys and validation._PLAIN_ANNOTATION_KEYS <= annotation_keys
    assert validation._CLASSIFICATION == {t for t, kind in validation.TYPES.items() if "classification" in kind}
