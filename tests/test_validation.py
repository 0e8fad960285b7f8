"""``mafmt.validate`` / ``mafmt validate``: streaming manifest and VOC validation with
file, line and JSON (or element) paths; every registered format accepted."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mafmt
from mafmt import cli, converters
from mafmt.errors import FormatError, UsageError
from mafmt.validation import iter_errors, validate_voc_bytes

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"
EXAMPLES = DATA / "spec_examples"

ENTITY = {"source": "content://Ada Lovelace was born in London.", "usage": "TRAIN",
          "annotation": [{"type": "modelarts/text_entity", "name": "Person", "id": "E1",
                          "property": {"@modelarts:start_index": 0, "@modelarts:end_index": 12}}]}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), "utf-8")
    return path


def errors(found: list[FormatError]) -> list[FormatError]:
    return [e for e in found if e.severity == "error"]


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("*.manifest")))
def test_golden_manifests_are_valid(name: str) -> None:
    assert errors(mafmt.validate(GOLDEN / name)) == []


def test_spec_examples_are_valid() -> None:
    # their VOC files live on OBS: not fetched unless remote=True
    assert mafmt.validate(EXAMPLES / "manifest-examples.manifest") == []
    assert errors(mafmt.validate(EXAMPLES / "voc", "voc")) == []
    assert mafmt.validate(GOLDEN / "voc" / "2007_000027.xml") == []


def test_error_names_file_line_and_json_path(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(ENTITY))
    del bad["annotation"][0]["property"]["@modelarts:end_index"]
    path = write_lines(tmp_path / "V001.manifest", [ENTITY] * 41 + [bad])
    (err,) = mafmt.validate(path)
    assert str(err) == f"{path}:42: $.annotation[0].property['@modelarts:end_index']: required"
    assert err.to_dict() == {"file": str(path), "line": 42, "path": "$.annotation[0].property['@modelarts:end_index']",
                             "message": "required", "severity": "error"}


def test_line_level_problems(tmp_path: Path) -> None:
    path = tmp_path / "x.manifest"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(ENTITY).encode() + b"\r\n\n{not json}\n[1]\n\xff\xfe\n")
    found = mafmt.validate(path)
    assert [(e.line, e.reason.split(":")[0]) for e in found] == [
        (3, "invalid JSON"), (4, "expected a JSON object, got list"), (5, "cannot decode as utf-8 (byte 1")]


@pytest.mark.parametrize(("annotations", "source", "path", "message"), [
    ([{"type": "modelarts/text_entity", "name": "P", "property": {"@modelarts:start_index": 5, "@modelarts:end_index": 5}}],
     "content://Hello world", "$.annotation[0].property['@modelarts:end_index']", "end_index 5 is not after start_index 5"),
    ([{"type": "modelarts/text_entity", "name": "P", "property": {"@modelarts:start_index": 6, "@modelarts:end_index": 12}}],
     "content://Hello world", "$.annotation[0].property['@modelarts:end_index']", "12 is past the end of the text (11)"),
    ([{"type": "modelarts/text_triplet", "name": "r", "id": "R1", "property": {"@modelarts:from": "E1", "@modelarts:to": "E9"}},
      {"type": "modelarts/text_entity", "name": "P", "id": "E1", "property": {"@modelarts:start_index": 0, "@modelarts:end_index": 1}}],
     "content://Hello", "$.annotation[0].property['@modelarts:to']", "no text_entity with id 'E9' in this line"),
    ([{"type": "modelarts/audio_segmentation", "property": {"@modelarts:start_time": "00:00:05.000",
                                                            "@modelarts:end_time": "00:00:04.000"}}],
     "s3://b/a.wav", "$.annotation[0].property['@modelarts:end_time']", "end_time is not after start_time"),
])
def test_rules_beyond_the_schema(tmp_path: Path, annotations: list[Any], source: str, path: str, message: str) -> None:
    good = write_lines(tmp_path / "ok.manifest", [ENTITY])
    assert mafmt.validate(good) == []
    bad = write_lines(tmp_path / "bad.manifest", [{"source": source, "annotation": annotations}])
    found = errors(mafmt.validate(bad))
    assert [(e.line, e.path, e.reason) for e in found] == [(1, path, message)]


def test_warnings(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "w.manifest", [
        {**ENTITY, "id": "a", "usage": "train"},
        {**ENTITY, "id": "a", "usage": "VALIDATE", "hard": "true", "extra-key": 1},
        {"source": "content://hi", "annotation": [{"type": "modelarts/image_classification", "name": "x"}]},
        {"source": "s3://b/a.jpg", "annotation": [{"type": "modelarts/new_task"}]},
        {"source": "s3://b/猫.jpg", "annotation": [{"type": "modelarts/image_classification", "name": "猫",
                                                   "property": {"颜色": "x", "color": "红"}}]},
    ])
    found = mafmt.validate(path)
    assert errors(found) == []
    got = {(e.line, e.path) for e in found}
    assert got == {(2, "$['extra-key']"), (2, "$.usage"), (2, "$.hard"), (2, "$.id"), (3, "$.source"),
                   (4, "$.annotation[0].type"), (5, "$.annotation[0].property['颜色']"),
                   (5, "$.annotation[0].property.color")}


def test_detection_voc_file_checked_against_the_manifest_line(tmp_path: Path) -> None:
    shutil.copy(GOLDEN / "voc" / "errorFiles" / "2007_000027_bndbox_error.xml", tmp_path / "bad.xml")
    path = write_lines(tmp_path / "d.manifest", [
        {"source": "a.jpg", "annotation": [{"type": "modelarts/object_detection", "annotation-loc": "./bad.xml"}]},
        {"source": "b.jpg", "annotation": [{"type": "modelarts/object_detection", "annotation-loc": "./missing.xml"}]},
    ])
    found = errors(mafmt.validate(path))
    assert {e.line for e in found} == {1, 2}
    assert all(e.path == "$.annotation[0]['annotation-loc']" for e in found)
    assert "./bad.xml: /annotation/object[1]/bndbox/xmin: required" in [e.reason for e in found]


def test_voc_errors_have_line_and_element_path() -> None:
    data = (EXAMPLES / "voc" / "point.xml").read_bytes()
    assert validate_voc_bytes(data, "p.xml") == []
    bad = data.replace(b"<x>512</x>", b"<x>five</x>").replace(b"<name>rivet</name>", b"<name> </name>")
    found = validate_voc_bytes(bad, "p.xml")
    assert [(e.line, e.path, e.reason) for e in found] == [
        (15, "/annotation/object[1]/name", "<name> is missing or empty"),
        (21, "/annotation/object[1]/point/x", "expected a number, got 'five'")]  # the reader's words win
    two = data.replace(b"<point>", b"<circle><cx>1</cx><cy>1</cy><r>1</r></circle><point>")
    (err,) = validate_voc_bytes(two, "p.xml")
    assert (err.path, err.reason) == ("/annotation/object[1]", "more than one shape element in one object")
    (err,) = validate_voc_bytes(data.replace(b"<width>1024</width>", b""), "p.xml")
    assert (err.path, err.reason) == ("/annotation/size/width", "<size>/<width> is missing")


def test_voc_error_files() -> None:
    found = mafmt.validate(GOLDEN / "voc" / "errorFiles", "voc")
    files = {Path(e.file).name for e in errors(found)}
    assert {"2007_000027_bndbox_error.xml", "empty.xml", "twoBndBox.xml"} <= files


def test_cli_text_json_and_exit_codes(tmp_path: Path) -> None:
    bad = write_lines(tmp_path / "b.manifest", [{"annotation": []}, {"source": ""}, ENTITY])
    code, out, _ = run("validate", str(bad))
    assert code == 1
    assert f"error: {bad}:1: $.source: required\n" in out
    assert f"error: {bad}:2: $.source: must be a non-empty string\n" in out
    code, out, _ = run("validate", str(bad), "--json")
    items = json.loads(out)
    assert code == 1 and [i["line"] for i in items] == [1, 2]
    assert set(items[0]) == {"file", "line", "path", "message", "severity"}
    code, out, _ = run("validate", str(bad), "--json", "--max-errors", "1")
    assert code == 1 and len(json.loads(out)) == 1
    code, out, _ = run("validate", str(GOLDEN / "text_entity.manifest"))
    assert code == 0 and out.endswith("valid (manifest; 0 error(s), 0 warning(s))\n")
    code, _, err = run("validate", str(bad), "--format", "nope")
    assert code == 2 and "unknown format" in err
    code, _, err = run("validate", str(tmp_path / "none.manifest"))
    assert code == 2
    assert run("validate")[0] == 2


def test_every_registered_format_is_accepted(tmp_path: Path) -> None:
    for name in converters.FORMATS:
        try:
            found = list(iter_errors(str(GOLDEN / "voc"), name))
        except UsageError as exc:  # pragma: no cover - the failure we test for
            pytest.fail(f"{name}: {exc}")
        assert all(isinstance(e, FormatError) for e in found)


def test_coco_file_checked_by_schema_and_references(tmp_path: Path) -> None:
    doc = {"images": [{"id": 1, "width": 4, "height": 4, "file_name": "a.jpg"}],
           "annotations": [{"id": 1, "image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1]}],
           "categories": [{"id": 1, "name": "cat"}]}
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(doc))
    found = errors(mafmt.validate(path, "coco"))
    assert ("$.annotations[0].image_id", "annotation 1: no image with id 2") in [(e.path, e.reason) for e in found]
    doc["annotations"][0]["bbox"] = [0, 0, 1]
    path.write_text(json.dumps(doc))
    assert "$.annotations[0].bbox" in [e.path for e in mafmt.validate(path, "coco")]



_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.floats(allow_nan=False, allow_infinity=False),
                     st.text(max_size=4), st.sampled_from(["modelarts/text_entity", "modelarts/text_triplet", "E1",
                                                           "modelarts/object_detection", "00:00:01.5", "train"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                       max_leaves=6)
_KEYS = ["source", "usage", "id", "hard", "annotation", "property", "hard-reasons", "type", "name",
         "@modelarts:start_index", "@modelarts:end_index", "@modelarts:from", "@modelarts:to", "annotation-loc",
         "@modelarts:start_time", "@modelarts:end_time"]


@st.composite
def _garbage(draw: Any) -> Any:
    line: dict[str, Any] = json.loads(json.dumps(ENTITY))
    line["annotation"].append({"type": "modelarts/text_triplet", "id": "R1",
                               "property": {"@modelarts:from": "E1", "@modelarts:to": "E1"}})
    targets: list[Any] = [line, *line["annotation"], *[a["property"] for a in line["annotation"]]]
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(targets))
        target[draw(st.sampled_from(_KEYS))] = draw(_values)
    return draw(st.sampled_from([line, line["annotation"], "garbage", json.dumps(line)[:-3]]))


@settings(max_examples=40, deadline=None)
@given(_garbage())
def test_garbage_never_raises(value: Any) -> None:
    """Whatever a line holds, validation reports it; it never raises (no traceback for bad input)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "g.manifest"
        path.write_text((value if isinstance(value, str) else json.dumps(value)) + "\n", "utf-8")
        assert all(isinstance(e, FormatError) for e in mafmt.validate(path))


def test_orjson_fast_decoder_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines the C decoder rejects or reads differently go through json: same findings either way."""
    from mafmt import validation

    assert validation._QUICK_LOADS is not None  # orjson is a dependency
    lines = [*(GOLDEN / "text_entity.manifest").read_text("utf-8").splitlines(),
             ('{"source":"content://abc","annotation":[{"type":"modelarts/text_entity","name":"n",'
              '"property":{"@modelarts:start_index":0,"@modelarts:end_index":123456789012345678901234567890}}]}'),
             '{"source":"a","hard-coefficient":NaN}', '{"source":"\\ud800"}', '{"source":"a",}', "", "  ",
             '{"source":"a","hard-coefficient":1e400}', '{"source":"a","id":1,"usage":"x"}', '{"source":"b","id":1}']
    path = tmp_path / "m.manifest"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    def found() -> list[tuple[Any, ...]]:
        # (only the digits of an integer beyond 64 bits may differ in a message: orjson reads it as a float)
        return [(e.line, e.path, e.severity, e.reason if e.line != 7 else "") for e in mafmt.validate(path)]

    fast = found()
    monkeypatch.setattr(validation, "_QUICK_LOADS", None)
    assert found() == fast
    assert [(e[0], e[2]) for e in fast] == [  # NaN (8) and 1e400 (13) are not JSON numbers: refused, as the reader does
        (7, "error"), (8, "error"), (10, "error"), (13, "error"), (14, "warning"), (15, "warning")]


def test_validation_reports_progress_in_bytes_and_files(tmp_path: Path) -> None:
    """A valid file prints nothing until the end: the progress callback is what a user sees."""
    path = write_lines(tmp_path / "big.manifest", [
        {"source": f"s3://b/{i}.jpg", "annotation": [{"type": "modelarts/image_classification", "name": "cat"}]}
        for i in range(2500)])
    calls: list[tuple[int, int | None]] = []
    assert list(iter_errors(str(path), "manifest", progress=lambda d, t: calls.append((d, t)))) == []
    size = path.stat().st_size
    assert len(calls) == 3 and calls[-1] == (size, size)  # every 1,000 lines, and the end
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and all(t == size for _, t in calls)
    voc = tmp_path / "voc"
    voc.mkdir()
    for name in ("a", "b", "c"):
        shutil.copy(EXAMPLES / "voc" / "point.xml", voc / f"{name}.xml")
    calls.clear()
    assert list(iter_errors(str(voc), "voc", progress=lambda d, t: calls.append((d, t)))) == []
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_findings_of_one_document_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file of bare <object/> elements: the first MAX_DOCUMENT_FINDINGS findings, then one that says more exist."""
    from mafmt import limits, voc

    monkeypatch.setattr(limits, "MAX_DOCUMENT_FINDINGS", 50)
    head = (b"<annotation><folder>a</folder><filename>a.jpg</filename><size><width>5</width><height>5</height>"
            b"</size><segmented>0</segmented>\n")
    data = head + b"<object/>\n" * 400 + b"</annotation>"
    for rules in ("modelarts", "devkit"):
        found = validate_voc_bytes(data, "a.xml", rules=rules)
        assert len(found) == 51 and found[-1].severity == "error", rules
        assert "More problems in this document are not listed" in found[-1].reason
        assert found[-1].line >= found[-2].line  # where the first finding not listed is
        assert all(not voc.parse.is_unlisted_note(f) for f in found[:-1])
        assert [f.line for f in found[:-1]] == sorted(f.line for f in found[:-1])
    # the reader counts what it does not list
    _, issues = voc.parse_bytes(head + b"<object><name>c</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax>"
                                b"<ymax>2</ymax></bndbox></object>\n" * 80 + b"</annotation>", "b.xml")
    assert len(issues) == 51 and issues[-1].reason.startswith("30 more problem(s) in this document are not listed")
    mafmt_cli_line = validate_voc_bytes(head + b"<object/>\n" * 10 + b"</annotation>", "c.xml")
    assert len(mafmt_cli_line) == 30 and not any(voc.parse.is_unlisted_note(f) for f in mafmt_cli_line)


def test_voc_findings_cache_is_bounded_and_a_file_named_again_later_is_found_again(tmp_path: Path,
                                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The findings of the VOC files a manifest names are kept for a bounded number of files:
    one named again after it left the cache is read again and gives the same findings."""
    from mafmt import validation

    bad = (GOLDEN / "voc" / "errorFiles" / "2007_000027_bndbox_error.xml").read_bytes()
    names = [f"f{i}.xml" for i in range(12)]
    for n in names:
        (tmp_path / n).write_bytes(bad)
    lines = [{"source": f"{n}.jpg", "annotation": [{"type": "modelarts/object_detection", "annotation-loc": f"./{n}"}]}
             for n in [*names, names[0], names[5]]]
    path = write_lines(tmp_path / "d.manifest", lines)
    unbounded = [(e.line, e.path, e.reason) for e in errors(mafmt.validate(path))]
    monkeypatch.setattr(validation, "_VOC_CACHE", 4)
    sizes: list[int] = []
    real = validation._voc_problems

    def spy(base: str, ref: str, cache: dict[str, Any]) -> Any:
        sizes.append(len(cache))
        return real(base, ref, cache)

    monkeypatch.setattr(validation, "_voc_problems", spy)
    assert [(e.line, e.path, e.reason) for e in errors(mafmt.validate(path))] == unbounded
    assert {line for line, _, _ in unbounded} == set(range(1, 15)) and max(sizes) <= 4
