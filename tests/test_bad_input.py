"""Bad input gives a typed error naming the place; never a traceback; nothing lost."""

from __future__ import annotations

import os

import pytest

import mafmt
from mafmt import manifest, voc
from mafmt.errors import FormatError, UnsafeXmlError
from mafmt.model import Classification, Sample


def _write(tmp_path, text: str | bytes, name: str = "bad.manifest"):
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


@pytest.mark.parametrize(
    "line,path,reason",
    [
        ('{"source": "a.jpg", "usage": "TR', None, "invalid JSON"),
        ("not json at all", None, "invalid JSON"),
        ("[1, 2]", None, "expected a JSON object, got array"),
        ('{"usage": "TRAIN"}', "source", "required key 'source' is missing"),
        ('{"source": 5}', "source", "expected a string, got number"),
        ('{"source": "a", "annotation": "cat"}', "annotation", "expected an array, got string"),
        ('{"source": "a", "annotation": [{"name": "cat"}]}', "annotation[0].type", "required key 'type' is missing"),
        ('{"source": "a", "annotation": [{"type": 3}]}', "annotation[0].type", "expected a string, got number"),
        ('{"source": "a", "annotation": [{"type": "modelarts/image_classification", "confidence": "high"}]}',
         "annotation[0].confidence", "expected a number, got string"),
        ('{"source": "a", "annotation": [{"type": "x"}, 7]}', "annotation[1]", "expected an object, got number"),
        ('{"source": "a", "hard-reasons": "one-two"}', "hard-reasons", "expected reason ids joined by '-'"),
    ],
)
def test_bad_manifest_lines(tmp_path, line, path, reason):
    p = _write(tmp_path, '{"source": "ok.jpg"}\n\n' + line + "\n")
    with pytest.raises(FormatError) as exc:
        list(manifest.read(p))
    err = exc.value
    assert err.line == 3 and err.file == str(p) and err.path == path
    assert reason in err.reason
    assert str(err).startswith(f"{p}:3: ")


def test_skip_policy_counts_and_continues(tmp_path):
    p = _write(tmp_path, '{"source": "a"}\n{oops\n\r\n{"source": 1}\n{"source": "b"}')
    stream = manifest.read(p, on_error="skip")
    assert [s.source for s in stream] == ["a", "b"]
    assert stream.report.skipped == 2
    assert [e.line for e in stream.report.problems] == [2, 4]


def test_bom_crlf_blank_lines_and_gbk(tmp_path):
    p = _write(tmp_path, b'\xef\xbb\xbf{"source": "a"}\r\n\r\n  \n{"source": "b"}')
    assert [s.source for s in manifest.read(p)] == ["a", "b"]
    g = _write(tmp_path, '{"source": "content://你好", "annotation": [{"type": "modelarts/text_classification", "name": "问候"}]}\n'.encode("gbk"), "g.manifest")
    (s,) = manifest.read(g, encoding="gbk")
    assert s.text == "你好" and s.annotations[0].name == "问候"
    with pytest.raises(FormatError, match=r"g.manifest:1: cannot decode as utf-8"):
        list(manifest.read(g))


@pytest.mark.parametrize("block", [1, 1 << 20], ids=["a-block-a-line", "one-block"])
def test_a_character_the_output_encoding_cannot_hold_is_named_and_nothing_written(tmp_path, monkeypatch, block):
    from mafmt import manifest_plain

    monkeypatch.setattr(manifest_plain, "BLOCK", block)
    src = _write(tmp_path, '{"source":"a.jpg"}\n{"source":"b.jpg","annotation":[{"type":'
                           '"modelarts/image_classification","name":"狗"}]}\n', "in.manifest")
    (tmp_path / "out.manifest").write_bytes(b"the old target\n")
    with pytest.raises(FormatError, match=r"out.manifest:2: latin-1 cannot hold '狗'"):
        manifest.write(manifest.read(src), tmp_path / "out.manifest", encoding="latin-1", overwrite=True)
    assert (tmp_path / "out.manifest").read_bytes() == b"the old target\n"
    assert sorted(os.listdir(tmp_path)) == ["in.manifest", "out.manifest"]


def test_unknown_encoding_is_a_usage_error(tmp_path):
    with pytest.raises(mafmt.UsageError):
        manifest.read(_write(tmp_path, "{}"), encoding="no-such-codec")


def test_missing_file_is_a_storage_error(tmp_path):
    with pytest.raises(mafmt.StorageError, match="no such file"):
        list(manifest.read(tmp_path / "nope.manifest"))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<annotation><folder>&lol3;</folder></annotation>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<annotation><folder>&xxe;</folder></annotation>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_unsafe_xml_refused(tmp_path, data):
    p = _write(tmp_path, data, "evil.xml")
    with pytest.raises(UnsafeXmlError, match="evil.xml:2: DTD"):
        voc.read_document(str(p))
    assert mafmt.validate(p, "voc")[0].reason.startswith("DTD")


def test_oversized_xml_refused_before_it_is_read(monkeypatch, tmp_path):
    from mafmt import limits

    monkeypatch.setattr(limits, "MAX_XML_BYTES", 100)
    p = _write(tmp_path, b"<annotation>" + b" " * 200 + b"</annotation>", "big.xml")
    with pytest.raises(mafmt.errors.LimitError, match="limit of 100 bytes"):
        voc.read_document(str(p))
    with pytest.raises(mafmt.errors.LimitError, match="limit of 100 bytes"):
        voc.read_document("/dev/zero")  # not a regular file: still bounded


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "empty file"),
        (b"<annotation><folder>x</folder>", "not well-formed XML"),
        (b"<root/>", "root element is <root>"),
    ],
)
def test_bad_voc_documents(tmp_path, data, reason):
    p = _write(tmp_path, data, "d.xml")
    with pytest.raises(FormatError, match=reason):
        voc.read_document(str(p))


def test_unknown_shape_kept_when_lenient_error_when_strict(tmp_path):
    xml = b"""<annotation><folder>f</folder><filename>a.jpg</filename><size><width>9</width><height>9</height>
    <depth>3</depth></size><segmented>0</segmented><object><name>c</name><difficult>0</difficult>
    <ellipse><cx>1</cx><cy>1</cy><rx>2</rx><ry>1</ry></ellipse></object></annotation>"""
    p = _write(tmp_path, xml, "e.xml")
    doc = voc.read_document(str(p))
    assert doc.objects[0].shape is None and doc.objects[0].extra["ellipse"]["rx"] == 2  # numbers stay numbers
    assert b"<rx>2</rx>" in voc.document_to_bytes(doc)
    with pytest.raises(FormatError, match=r"e.xml:\d+: /annotation/object\[1\]: no shape element"):
        voc.read_document(str(p), strict=True)


def test_empty_annotation_element_is_valid(tmp_path):
    p = _write(tmp_path, b"<annotation/>", "empty-annotation.xml")
    assert mafmt.validate(p, "voc") == []


def test_non_numeric_coordinate_names_the_element(tmp_path):
    xml = b"<annotation><object><name>c</name><bndbox><xmin>a</xmin><ymin>1</ymin><xmax>2</xmax><ymax>3</ymax></bndbox></object></annotation>"
    p = _write(tmp_path, xml, "n.xml")
    errors = mafmt.validate(p, "voc")
    assert any(e.path == "/annotation/object[1]/bndbox/xmin" and "expected a number, got 'a'" in e.reason for e in errors)


def _failing(after: int):
    for i in range(after):
        yield Sample(source=f"s3://b/{i}.jpg", annotations=[Classification(name="x")])
    raise RuntimeError("disk full, or a bad record upstream")


@pytest.mark.parametrize("mode", ["w", "a"])
def test_failed_write_leaves_target_intact(tmp_path, mode):
    target = tmp_path / "keep.manifest"
    target.write_text('{"source":"old"}\n', "utf-8")
    with pytest.raises(RuntimeError):
        manifest.write(_failing(3), target, mode=mode, overwrite=mode == "w")
    assert target.read_text("utf-8") == '{"source":"old"}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["keep.manifest"]  # no temp file left


def test_an_existing_manifest_is_never_silently_replaced(tmp_path):
    target = tmp_path / "keep.manifest"
    target.write_text('{"source":"old"}\n', "utf-8")
    with pytest.raises(mafmt.UsageError, match="--overwrite"):
        manifest.write([Sample(source="new")], target)
    assert target.read_text("utf-8") == '{"source":"old"}\n'
    manifest.write([Sample(source="new")], target, overwrite=True)
    assert [s.source for s in manifest.read(target)] == ["new"]


def test_failed_voc_write_leaves_target_intact(tmp_path):
    target = tmp_path / "a.xml"
    target.write_bytes(b"<annotation/>")
    doc = mafmt.VocDocument(objects=[mafmt.VocObject(name="x", extra={"bad tag": "v"})])
    with pytest.raises(FormatError, match="not a valid XML element name"):
        voc.write_document(doc, target)
    assert target.read_bytes() == b"<annotation/>"


def test_append_adds_missing_newline(tmp_path):
    target = tmp_path / "m.manifest"
    target.write_text('{"source":"a"}', "utf-8")  # no final newline
    manifest.write([Sample(source="b")], target, mode="a")
    assert [s.source for s in manifest.read(target)] == ["a", "b"]


def test_big_integers_and_exotic_numbers_keep_their_value(tmp_path):
    line = '{"source":"a","x-big":123456789012345678901234567890,"x-neg":-9223372036854775809,"x-f":1e-7}'
    p = _write(tmp_path, line + "\n")
    (s,) = manifest.read(p)
    assert s.extra == {"x-big": 123456789012345678901234567890, "x-neg": -9223372036854775809, "x-f": 1e-7}
    out = tmp_path / "out.manifest"
    manifest.write([s], out)
    assert manifest.loads(out.read_text("utf-8")).extra == s.extra


@pytest.mark.parametrize("bad", ["Infinity", "-Infinity", "NaN", "1e309"])
def test_non_finite_numbers_in_json_are_refused_at_read_time(tmp_path, bad):
    """Issue 12: ``Infinity`` in a COCO bbox became ``inf`` in YOLO label files. JSON has no
    such numbers: the readers refuse the document (COCO) or the line (manifest), naming it."""
    from mafmt.converters import coco

    src = _write(tmp_path, '{"images":[{"id":1,"file_name":"a.jpg","width":10,"height":10}],"annotations":'
                 f'[{{"id":1,"image_id":1,"category_id":1,"bbox":[1,2,{bad},4]}}],"categories":[{{"id":1,"name":"a"}}]}}',
                 "c.json")
    with pytest.raises(FormatError) as err:
        list(coco.read(str(src)))
    assert err.value.file == str(src) and bad.lstrip("-") in str(err.value)
    src = _write(tmp_path, '{"source": "a.jpg"}\n{"source": "b.jpg", "annotation": [{"type": '
                 f'"modelarts/image_classification", "name": "a", "confidence": {bad}}}]}}\n')
    with pytest.raises(FormatError) as err:
        list(manifest.read(src))
    assert (err.value.file, err.value.line) == (str(src), 2) and bad.lstrip("-") in str(err.value)


@pytest.mark.parametrize("bad", ["inf", "-inf", "nan", "1e309"])
def test_non_finite_numbers_in_text_formats_are_refused_at_read_time(tmp_path, bad):
    """YOLO rows and CSV cells name the line (and the column); a VOC coordinate is not a number
    (the lenient reader keeps the element as data, without a shape; strict names the element)."""
    from mafmt.converters import csv_format, yolo

    (tmp_path / "y" / "labels").mkdir(parents=True)
    (tmp_path / "y" / "images").mkdir()
    (tmp_path / "y" / "images" / "a.jpg").write_bytes(b"")
    (tmp_path / "y" / "classes.txt").write_text("a\n")
    (tmp_path / "y" / "labels" / "a.txt").write_text(f"0 0.5 0.5 0.1 0.1\n0 0.5 {bad} 0.1 0.1\n")
    with pytest.raises(FormatError) as err:
        list(yolo.read(str(tmp_path / "y")))
    assert (err.value.file, err.value.line) == (str(tmp_path / "y" / "labels" / "a.txt"), 2)
    assert "finite" in str(err.value)
    src = _write(tmp_path, f"filename,width,height,class,xmin,ymin,xmax,ymax\na.jpg,10,10,a,1,{bad},3,4\n", "t.csv")
    with pytest.raises(FormatError) as err:
        list(csv_format.read(str(src)))
    assert (err.value.file, err.value.line, err.value.path) == (str(src), 2, "ymin")
    xml = _write(tmp_path, "<annotation><filename>a.jpg</filename><size><width>10</width><height>10</height>"
                 f"<depth>3</depth></size><object><name>a</name><bndbox><xmin>1</xmin><ymin>{bad}</ymin>"
                 "<xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>", "a.xml")
    (obj,) = voc.read_document(str(xml)).objects
    assert obj.shape is None
    with pytest.raises(FormatError) as err:
        voc.read_document(str(xml), strict=True)
    assert err.value.path == "/annotation/object[1]/bndbox/ymin" and bad in str(err.value)


@pytest.mark.parametrize("label", ["a\x01b", "bell\x07", "nul\x00", "esc\x1b[0m"])
def test_control_character_in_a_label_is_refused_naming_it(tmp_path, label):
    """Issue 12: such a label made an XML file mafmt itself could not read, with exit 0."""
    import io
    import json

    from mafmt import cli

    src = _write(tmp_path, json.dumps({"source": "a.jpg", "annotation": [{
        "type": "modelarts/object_detection", "annotation-format": "PASCAL_VOC", "annotation-loc": "a.xml"}]}) + "\n")
    (tmp_path / "a.xml").write_bytes(b"<annotation><filename>a.jpg</filename><size><width>9</width><height>9</height>"
                                     b"<depth>3</depth></size><object><name>x</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
                                     b"<xmax>3</xmax><ymax>3</ymax></bndbox></object></annotation>")
    (sample,) = list(manifest.read(src))
    sample.annotations[0].load().objects[0].name = label
    with pytest.raises(FormatError) as err:
        voc.document_to_bytes(sample.annotations[0].document)
    assert err.value.path == "name" and repr(label) in str(err.value)
    c = _write(tmp_path, json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}],
                                     "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}],
                                     "categories": [{"id": 1, "name": label}]}), "c.json")
    out, errs = io.StringIO(), io.StringIO()
    code = cli.main(["convert", str(c), str(tmp_path / "voc"), "--from", "coco", "--to", "voc"], out=out, err=errs)
    assert code == 1 and not (tmp_path / "voc").exists()
    (line,) = errs.getvalue().splitlines()
    assert line.startswith("mafmt: error:") and repr(label)[1:-1] in line


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="POSIX device")
def test_annotation_loc_on_dev_zero_stops_at_the_xml_limit(tmp_path, monkeypatch):
    """Issue 12: ``annotation-loc: "/dev/zero"`` grew until memory ran out."""
    from mafmt import limits

    monkeypatch.setattr(limits, "MAX_XML_BYTES", 1 << 20)
    src = _write(tmp_path, '{"source": "a.jpg", "annotation": [{"type": "modelarts/object_detection", '
                 '"annotation-format": "PASCAL_VOC", "annotation-loc": "/dev/zero"}]}\n')
    (sample,) = list(manifest.read(src))
    with pytest.raises(FormatError) as err:
        sample.annotations[0].load()
    assert (err.value.file, err.value.line) == (str(src), 1) and "larger than the limit of 1048576 bytes" in str(err.value)
