"""The seed SDK's chapter 7.6 examples, with only `modelarts.` -> `mafmt.modelarts.` changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import GOLDEN

import mafmt


def test_seed_manifest_example_save_and_parse(tmp_path):
    from mafmt.modelarts.dataset.format.manifest import Manifest
    from mafmt.modelarts.dataset.format.manifest.annotation import Annotation
    from mafmt.modelarts.dataset.format.manifest.sample import Sample

    size = 0
    sample_list = []
    for i in range(19):
        size = size + 1
        source = "s3://obs-path/examples/image-classification/data/image_" + str(i) + ".jpg"
        usage = "TRAIN"
        inference_loc = "s3://obs-path/examples/image-classification/data/image_" + str(i) + ".txt"
        annotations_list = []

        for j in range(1):
            annotation_type = "modelarts/image_classification"
            if 0 == i % 2:
                annotation_name = "Bees"
            else:
                annotation_name = "Rabbits"
            annotation_creation_time = "2019-02-20 08:23:06"
            annotation_format = "manifest"
            annotation_property = {"color": "black"}
            annotation_confidence = 0.8
            annotated_by = "human"
            annotations_list.append(
                Annotation(name=annotation_name, type=annotation_type,
                           confidence=annotation_confidence,
                           creation_time=annotation_creation_time,
                           annotated_by=annotated_by, annotation_format=annotation_format,
                           annotation_property=annotation_property))
        sample_list.append(
            Sample(source=source, usage=usage, annotations=annotations_list, inference_loc=inference_loc))
    manifest_info = Manifest(samples=sample_list, size=size)

    path = str(tmp_path / "V001.manifest")
    manifest_info.save(path, save_mode="a")  # append to a file that does not exist yet
    manifest_info.save(path, session=None, save_mode="a")

    parsed = Manifest.parse_manifest(path)
    assert parsed.size == 38 and parsed.samples[:19] == sample_list and parsed.samples[19:] == sample_list
    first = json.loads(Path(path).read_text("utf-8").splitlines()[0])
    assert first == {
        "source": "s3://obs-path/examples/image-classification/data/image_0.jpg",
        "usage": "TRAIN",
        "inference-loc": "s3://obs-path/examples/image-classification/data/image_0.txt",
        "annotation": [{"type": "modelarts/image_classification", "name": "Bees", "property": {"color": "black"},
                        "annotation-format": "manifest", "annotated-by": "human",
                        "creation-time": "2019-02-20 08:23:06", "confidence": 0.8}],
    }
    assert parsed.samples[0].get_annotations()[0].get_name() == "Bees"


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.manifest")), ids=lambda p: p.name)
def test_facade_round_trip_is_lossless(path, tmp_path):
    from mafmt.modelarts.dataset.format.manifest import Manifest

    out = tmp_path / path.name
    Manifest.parse_manifest(str(path)).save(str(out))
    read = lambda p: [json.loads(line) for line in Path(p).read_text("utf-8").splitlines() if line.strip()]
    assert read(out) == read(path)
    Manifest.parse_manifest(str(path)).save(str(out), save_mode="w")  # the SDK's "w" replaces an existing file
    assert read(out) == read(path)


def test_facade_exposes_full_property_and_typed_values():
    from mafmt.modelarts.dataset.format.manifest import Manifest

    m = Manifest.parse_manifest(str(GOLDEN / "text_entity.manifest"))
    ann = m.samples[0].annotations[0]
    assert ann.annotation_property == {"@modelarts:start_index": 0, "@modelarts:end_index": 3}
    ann.annotation_property = {"@modelarts:start_index": 0, "@modelarts:end_index": 2}
    model = m.samples[0].to_model()
    assert model.annotations[0].end == 2


def test_seed_pascal_voc_example(tmp_path):
    from mafmt.modelarts.dataset.format.voc.pascal_voc import PascalVoc
    from mafmt.modelarts.dataset.format.voc.voc_object import VocObject

    path = str(tmp_path / "test2.xml")
    size_list = [640, 321, 3]
    file_name = "000000089955.jpg"
    voc_object_tags = ["trafficlight", "trafficlight"]
    voc_object_properties = [{"@modelarts:color": "#FFFFFF0", "@modelarts:shortcut": "C",
        "pose": "0", "truncated": "0", "difficult": "0",
        "@modelarts:shape": "bndbox", "@modelarts:feature": [[347, 186], [382, 249]]},
        {"@modelarts:color": "#FFFFE0", "@modelarts:shortcut": "D",
        "pose": "0", "truncated": "0", "difficult": "0",
        "@modelarts:shape": "bndbox", "@modelarts:feature": [[544, 50], [591, 149]]}]

    voc_objects = []
    for i in range(len(voc_object_tags)):
        object_tag = voc_object_tags[i]
        object_properties = voc_object_properties[i]
        voc_objects.append(VocObject(name=object_tag, properties=object_properties))

    pascal_voc = PascalVoc(file_name=file_name, width=size_list[0], height=size_list[1], depth=size_list[2],
        voc_objects=voc_objects)
    pascal_voc.save_xml(path)

    assert mafmt.validate(path, "voc") == []
    parsed = PascalVoc.parse_xml(path)
    print(parsed)  # the seed prints it
    assert parsed.file_name == file_name and (parsed.width, parsed.height, parsed.depth) == (640, 321, 3)
    assert [o.position for o in parsed.voc_objects] == [mafmt.BndBox(347, 186, 382, 249), mafmt.BndBox(544, 50, 591, 149)]
    assert parsed.voc_objects[0].difficult == "0"
    assert parsed.voc_objects[0].properties == {"@modelarts:color": "#FFFFFF0", "@modelarts:shortcut": "C"}
    with pytest.raises(mafmt.UsageError):
        pascal_voc.save_xml(path, save_mode="a")  # XML cannot be appended to: the file is kept


def test_pascal_voc_parse_and_save_golden_keeps_everything(tmp_path):
    from mafmt.modelarts.dataset.format.voc.pascal_voc import PascalVoc

    for src in GOLDEN.glob("voc/*.xml"):
        out = tmp_path / src.name
        PascalVoc.parse_xml(str(src)).save_xml(str(out))
        assert mafmt.voc.read_document(str(out)) == mafmt.voc.read_document(str(src))
