"""Real ModelArts files (Huawei's dataset SDK): read, write back, compare."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import GOLDEN
from lxml import etree

import mafmt
from mafmt import manifest, voc
from mafmt.cli import main
from mafmt.model import Detection, Entity, Transcript

MANIFESTS = sorted(GOLDEN.glob("*.manifest"))
VALID_VOC = sorted(GOLDEN.glob("voc/*.xml")) + [GOLDEN / "voc/errorFiles/labelPropertiesEmpty.xml"]
INVALID_VOC = {
    "2007_000027_bndbox_error.xml": "/annotation/object[1]/bndbox",
    "twoBndBox.xml": "/annotation/object[2]/bndbox[2]",
    "empty.xml": "empty file",
}


def _json_lines(path: Path) -> list[object]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def canonical(el: etree._Element) -> tuple:
    """An element tree with whitespace and child order ignored."""
    kids = sorted((canonical(c) for c in el if isinstance(c.tag, str)), key=repr)
    return (el.tag, (el.text or "").strip(), tuple(kids))


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_lines_json_equal_after_round_trip(path, tmp_path):
    out = tmp_path / path.name
    report = manifest.write(manifest.read(path), out, locs="keep")
    assert _json_lines(out) == _json_lines(path)
    assert report.written == len(_json_lines(path))


@pytest.mark.parametrize("path", VALID_VOC, ids=lambda p: p.name)
def test_voc_same_element_tree_after_round_trip(path, tmp_path):
    doc = voc.read_document(str(path))
    out = tmp_path / path.name
    voc.write_document(doc, out)
    assert canonical(etree.parse(str(out)).getroot()) == canonical(etree.parse(str(path)).getroot())
    assert mafmt.validate(out, "voc") == []


@pytest.mark.parametrize("path", VALID_VOC, ids=lambda p: p.name)
def test_valid_voc_passes_validation(path):
    assert [e for e in mafmt.validate(path, "voc") if e.severity == "error"] == []


@pytest.mark.parametrize("name,where", INVALID_VOC.items())
def test_error_files_rejected_naming_file_and_element(name, where, capsys):
    path = GOLDEN / "voc/errorFiles" / name
    errors = [e for e in mafmt.validate(path, "voc") if e.severity == "error"]
    assert errors
    assert all(e.file and e.file.endswith(name) for e in errors)
    assert any(where in str(e) for e in errors)
    assert main(["validate", str(path), "--format", "voc"]) == 1
    out = capsys.readouterr().out
    assert name in out and where in out


def test_voc_properties_both_encodings_kept_in_order():
    doc = voc.read_document(str(GOLDEN / "voc/polyline.xml"))
    first = doc.objects[0]
    assert first.properties == {"color": "green", "属性": "绿色", "property": "value", "color2": "blue", "颜色2": "蓝色"}
    assert doc.objects[2].shape.kind == "polyline" and len(doc.objects[2].shape.points) == 7
    text = voc.document_to_bytes(doc).decode()
    assert "<color>green</color>" in text and "<key>color2</key>" in text and "<property>value</property>" in text


def test_detection_manifest_resolves_relative_voc_lazily(tmp_path):
    shutil.copytree(GOLDEN, tmp_path / "g")
    samples = list(manifest.read(tmp_path / "g/detect-multi-local-voc.manifest"))
    det = samples[0].annotations[0]
    assert isinstance(det, Detection) and det.document is None
    assert det.location() == str(tmp_path / "g/voc/2007_000027.xml")
    assert [o.name for o in det.objects] == ["person"]
    assert [p.name for p in det.objects[0].parts] == ["head", "hand", "foot", "foot"]
    # a missing file is reported against the manifest line that points at it
    (tmp_path / "g/voc/2007_000027.xml").unlink()
    with pytest.raises(mafmt.FormatError) as exc:
        samples[1].annotations[0].load()
    assert "detect-multi-local-voc.manifest:2" in str(exc.value) and "2007_000027.xml" in str(exc.value)


def test_default_rebase_keeps_links_pointing_at_the_same_files(tmp_path):
    src = GOLDEN / "detect-multi-local-voc.manifest"
    out = tmp_path / "elsewhere/out.manifest"
    manifest.write(manifest.read(src), out)
    for s in manifest.read(out):
        assert Path(s.annotations[0].location()).resolve() == (GOLDEN / "voc/2007_000027.xml").resolve()


def test_golden_typed_fields_and_string_forms():
    audio = list(manifest.read(GOLDEN / "audio_content.manifest"))
    t = audio[2].annotations[0]
    assert isinstance(t, Transcript) and t.content == "every word" and t.hard is True
    assert manifest.sample_to_dict(audio[2])["annotation"][0]["hard"] == "true"  # written as read
    ents = list(manifest.read(GOLDEN / "text_entity.manifest"))
    e = ents[0].annotations[0]
    assert isinstance(e, Entity) and ents[0].text[e.start : e.end] == "Bob"
    v2 = next(iter(manifest.read(GOLDEN / "V002.manifest")))
    assert v2.annotations[0].extra["property"] == '[{"type":0,"property":{}}]'  # a JSON string, kept verbatim
