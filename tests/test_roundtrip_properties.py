"""Property-based round trips: read(write(x)) == x for Manifest and VOC."""

from __future__ import annotations

import io
import json

from hypothesis import given
from hypothesis import strategies as st
from strategies import annotation_extra, sample, voc_document

from mafmt import manifest, model, voc


@given(st.lists(sample, max_size=5))
def test_manifest_round_trip(tmp_path_factory, samples):
    path = tmp_path_factory.mktemp("m") / "x.manifest"
    report = manifest.write(samples, path)
    assert report.written == len(samples)
    back = list(manifest.read(path))
    assert back == samples


@given(sample)
def test_manifest_line_is_compact_utf8_json_with_source_first(s):
    line = manifest.dumps(s)
    assert "\n" not in line
    obj = json.loads(line)
    assert next(iter(obj)) == "source"
    assert manifest.loads(line) == s


@given(sample, annotation_extra)
def test_unknown_keys_survive_at_both_levels(s, ann_extra):
    s.annotations.append(model.Classification(name="cat", extra=ann_extra))
    back = manifest.loads(manifest.dumps(s))
    assert back.extra == s.extra
    assert back.annotations[-1].extra == ann_extra


@given(voc_document)
def test_voc_round_trip(doc):
    data = voc.document_to_bytes(doc)
    back, _ = voc.parse_bytes(data, "gen.xml")
    assert back == doc
    # and writing again gives the same bytes (stable output)
    assert voc.document_to_bytes(back) == data


@given(voc_document)
def test_voc_inline_document_through_manifest(tmp_path_factory, doc):
    folder = tmp_path_factory.mktemp("inline")
    s = model.Sample(source="s3://b/img.jpg", annotations=[model.Detection(document=doc)])
    manifest.write([s], folder / "m.manifest")
    (back,) = manifest.read(folder / "m.manifest")
    det = back.annotations[0]
    assert isinstance(det, model.Detection)
    assert det.document is None  # lazy: nothing read yet
    assert det.annotation_loc == "./Annotations/m/img.xml"  # the manifest's own folder, named after the source
    assert det.load() == voc.modelarts_document(doc, "img.jpg")  # plus what ModelArts' reader requires


def test_manifest_stream_from_open_file():
    data = b'{"source":"a"}\n{"source":"b"}\n'
    assert [s.source for s in manifest.read(io.BytesIO(data))] == ["a", "b"]
