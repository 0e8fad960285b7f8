"""The shipped JSON Schemas: well-formed, accept the golden files and the spec's examples,
reject targeted mutations with exactly the intended error path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mafmt import schemas

DATA = Path(__file__).parent / "data"
EXAMPLES = DATA / "spec_examples"
NAMES = ["coco-instances", "dataset-create", "export-task", "import-task", "label-task", "manifest-line",
         "training-job-config", "voc", "yolo-data"]


def manifest_lines() -> list[dict[str, Any]]:
    out = []
    for path in [*sorted((DATA / "golden").glob("*.manifest")), EXAMPLES / "manifest-examples.manifest"]:
        out += [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return out


LINES = manifest_lines()


def paths(name: str, instance: Any) -> set[str]:
    return {p for p, _ in schemas.validator(name).iter_errors(instance)}


@pytest.mark.parametrize("name", sorted(set(NAMES) | set(schemas.names())))
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = schemas.load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_names_and_cached_validator() -> None:
    assert set(NAMES) <= set(schemas.names())
    assert schemas.validator("manifest-line") is schemas.validator("manifest-line")
    assert schemas.validator("manifest-line").compiled


def test_unknown_schema_is_a_usage_error() -> None:
    from mafmt.errors import UsageError

    with pytest.raises(UsageError):
        schemas.load("nope")


def test_manifest_schema_accepts_golden_and_spec_examples() -> None:
    assert len(LINES) > 60
    v = schemas.validator("manifest-line")
    for line in LINES:
        assert v.is_valid(line), line
        assert list(v.iter_errors(line)) == []


def _first(line: dict[str, Any], kind: str) -> int | None:
    for i, ann in enumerate(line.get("annotation") or []):
        if ann.get("type", "").endswith(kind):
            return i
    return None


def _drop(key: str) -> Any:
    def mutate(d: dict[str, Any]) -> None:
        d.pop(key, None)
    return mutate


# kind of annotation -> (mutation of that annotation, expected JSON path suffix)
ANNOTATION_MUTATIONS: list[tuple[str, Any, str]] = [
    ("classification", _drop("name"), ".name"),
    ("classification", lambda a: a.update(name=""), ".name"),
    ("object_detection", lambda a: [a.pop(k, None) for k in ("annotation-loc", "annotation_loc")], "['annotation-loc']"),
    ("text_entity", lambda a: a["property"].pop("@modelarts:end_index"), ".property['@modelarts:end_index']"),
    ("text_entity", lambda a: a["property"].update({"@modelarts:start_index": "0"}), ".property['@modelarts:start_index']"),
    ("text_entity", lambda a: a["property"].update({"@modelarts:end_index": -1}), ".property['@modelarts:end_index']"),
    ("text_triplet", lambda a: a["property"].pop("@modelarts:from"), ".property['@modelarts:from']"),
    ("text_triplet", lambda a: a["property"].pop("@modelarts:to"), ".property['@modelarts:to']"),
    ("text_triplet", _drop("id"), ".id"),
    ("audio_content", lambda a: a["property"].pop("@modelarts:content"), ".property['@modelarts:content']"),
    ("audio_segmentation", lambda a: a["property"].update({"@modelarts:start_time": "3.25s"}),
     ".property['@modelarts:start_time']"),
    ("audio_segmentation", lambda a: a["property"].pop("@modelarts:end_time"), ".property['@modelarts:end_time']"),
    ("", lambda a: a.update(confidence=1.5), ".confidence"),
    ("", lambda a: a.update({"hard-coefficient": -0.1}), "['hard-coefficient']"),
    ("", lambda a: a.update(type=7), ".type"),
    ("", _drop("type"), ".type"),
    ("", lambda a: a.update(hard="yes"), ".hard"),
]
SAMPLE_MUTATIONS: list[tuple[Any, str]] = [
    (_drop("source"), "$.source"),
    (lambda d: d.update(source=""), "$.source"),
    (lambda d: d.update(source=12), "$.source"),
    (lambda d: d.update(annotation={"type": "x"}), "$.annotation"),
    (lambda d: d.update(usage=1), "$.usage"),
    (lambda d: d.update({"hard-coefficient": 2}), "$['hard-coefficient']"),
    (lambda d: d.update({"hard-reasons": "1,5"}), "$['hard-reasons']"),
    (lambda d: d.update({"sample-type": "0"}), "$['sample-type']"),
]


@given(st.sampled_from(LINES), st.sampled_from(ANNOTATION_MUTATIONS), st.data())
def test_annotation_mutation_reports_exactly_its_path(line: dict[str, Any], mutation: Any, data: Any) -> None:
    kind, mutate, suffix = mutation
    candidates = [i for i, a in enumerate(line.get("annotation") or [])
                  if (a.get("type", "").endswith(kind) if kind != "classification" else "classification" in a.get("type", ""))]
    if not candidates:
        return
    i = data.draw(st.sampled_from(candidates))
    bad = copy.deepcopy(line)
    mutate(bad["annotation"][i])
    v = schemas.validator("manifest-line")
    assert not v.is_valid(bad)
    assert paths("manifest-line", bad) == {f"$.annotation[{i}]{suffix}"}


@given(st.sampled_from(LINES), st.sampled_from(SAMPLE_MUTATIONS))
def test_sample_mutation_reports_exactly_its_path(line: dict[str, Any], mutation: Any) -> None:
    mutate, expected = mutation
    bad = copy.deepcopy(line)
    mutate(bad)
    assert not schemas.validator("manifest-line").is_valid(bad)
    assert paths("manifest-line", bad) == {expected}


def test_required_message_names_the_missing_key() -> None:
    line = {"source": "content://Bob", "annotation": [
        {"type": "modelarts/text_entity", "name": "n", "property": {"@modelarts:start_index": 0}}]}
    assert list(schemas.validator("manifest-line").iter_errors(line)) == [
        ("$.annotation[0].property['@modelarts:end_index']", "required")]


def test_unknown_types_and_keys_are_not_schema_errors() -> None:
    line = {"source": "x", "whatever": 1, "annotation": [{"type": "modelarts/new_task", "foo": {}}]}
    assert schemas.validator("manifest-line").is_valid(line)


# --------------------------------------------------------------------------- API bodies

DATASET = {"dataset_name": "dataset-9f3b", "data_type": "IMAGE", "data_sources": [{"data_type": 0, "data_path": "/b/in/"}],
           "work_path": "/b/out/", "work_path_type": 0, "description": "pets",
           "labels": [{"name": "cat", "type": 0, "property": {"@modelarts:color": "#3399ff"}}]}
IMPORT = {"import_path": "/b/in/V001.manifest", "import_type": "manifest", "import_annotations": True,
          "included_labels": ["cat", {"name": "dog", "type": 0}], "difficult_only": False}
EXPORT = {"path": "/b/export/", "export_type": 2, "annotation_format": "VOC", "source_type_header": "s3://"}
LABEL_TASK = {"task_name": "label-pets_1", "task_type": 1, "description": "boxes", "repetition": 1}
# the two sample requests of api.md 12.4 (seeds 002 and 003)
CONFIG_A = {"config_name": "testConfig", "config_desc": "This is config", "worker_server_num": 1, "app_url": "/usr/app/",
            "boot_file_url": "/usr/app/boot.py", "parameter": [{"label": "learning_rate", "value": "0.01"}],
            "spec_id": 1, "dataset_id": "38277e62-9e59-48f4-8d89-c8cf41622c24",
            "dataset_version_id": "2ff0d6ba-c480-45ae-be41-09a8369bfc90", "engine_id": 1, "train_url": "/usr/train/",
            "log_url": "/usr/train/", "model_id": 1}
CONFIG_B = {k: v for k, v in CONFIG_A.items() if k != "model_id"}


@pytest.mark.parametrize(("name", "body"), [("dataset-create", DATASET), ("import-task", IMPORT), ("export-task", EXPORT),
                                            ("label-task", LABEL_TASK), ("training-job-config", CONFIG_A),
                                            ("training-job-config", CONFIG_B)])
def test_api_bodies_accept_the_spec_examples(name: str, body: dict[str, Any]) -> None:
    assert schemas.validator(name).errors(body) == []


def _with(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


@pytest.mark.parametrize(("name", "body", "path", "message"), [
    ("dataset-create", _with(DATASET, dataset_type=1), "$", "give exactly one of dataset_type and data_type"),
    ("dataset-create", _with(DATASET, data_type=None), "$", "give exactly one of dataset_type and data_type"),
    ("dataset-create", _with(DATASET, work_path="/bucket"), "$.work_path", None),
    ("dataset-create", _with(DATASET, description="a<b"), "$.description", None),
    ("dataset-create", _with(DATASET, labels=[{"name": "rel", "type": 102}]), "$.labels[0].property", "required"),
    ("import-task", _with(IMPORT, import_path=None), "$.import_path", "required"),
    ("import-task", _with(IMPORT, import_path="/b/in/"), "$.import_path", "a manifest import must name a .manifest file"),
    ("export-task", _with(EXPORT, export_type=5), "$.export_type", None),
    ("export-task", _with(EXPORT, path=None), "$.path", "required"),
    ("label-task", _with(LABEL_TASK, task_type=400.5), "$.task_type", None),
    ("label-task", _with(LABEL_TASK, task_name="has space"), "$.task_name", None),
    # api.md 12.4 rule 1: code source
    ("training-job-config", _with(CONFIG_B, boot_file_url=None), "$.boot_file_url", "required"),
    ("training-job-config", _with(CONFIG_B, app_url=None, boot_file_url=None), "$",
     "needs a code source: model_id, app_url with boot_file_url, or user_image_url with user_command"),
    ("training-job-config", _with(CONFIG_B, app_url=None, boot_file_url=None, user_image_url="swr/img:1"),
     "$.user_command", "required"),
    # rule 2: exactly one data source form
    ("training-job-config", _with(CONFIG_B, data_url="/usr/data/"), "$",
     "give exactly one of data_url, dataset_id with dataset_version_id, or data_source"),
    ("training-job-config", _with(CONFIG_B, dataset_id=None, dataset_version_id=None), "$",
     "give exactly one of data_url, dataset_id with dataset_version_id, or data_source"),
    ("training-job-config", _with(CONFIG_B, dataset_version_id=None), "$.dataset_version_id", "required"),
    # rule 3: data_source elements
    ("training-job-config", _with(CONFIG_B, dataset_id=None, dataset_version_id=None,
                                  data_source=[{"type": "obs", "data_url": "/d/", "dataset_id": "x"}]),
     "$.data_source[0]", "an obs data source has data_url only"),
    ("training-job-config", _with(CONFIG_B, dataset_id=None, dataset_version_id=None,
                                  data_source=[{"type": "dataset", "dataset_id": "x"}]),
     "$.data_source[0].dataset_version", "required"),
    ("training-job-config", _with(CONFIG_B, worker_server_num=0), "$.worker_server_num", None),
    ("training-job-config", _with(CONFIG_B, config_name="x" * 65), "$.config_name", None),
])
def test_api_bodies_reject_with_exact_path(name: str, body: dict[str, Any], path: str, message: str | None) -> None:
    found = list(schemas.validator(name).iter_errors(body))
    assert [p for p, _ in found] == [path], found
    if message is not None:
        assert found[0][1] == message
    assert not schemas.validator(name).is_valid(body)


def test_training_job_config_data_source_forms_accepted() -> None:
    body = _with(CONFIG_B, dataset_id=None, dataset_version_id=None,
                 data_source=[{"type": "obs", "data_url": "/d/"}, {"type": "dataset", "dataset_id": "a", "dataset_version": "b"}])
    assert schemas.validator("training-job-config").errors(body) == []
    custom = _with(CONFIG_B, app_url=None, boot_file_url=None, engine_id=None, user_image_url="swr/img:1.0",
                   user_command="bash /home/work/run_train.sh python /home/work/user-job-dir/app/train.py")
    assert schemas.validator("training-job-config").errors(custom) == []


def test_errors_are_format_errors_with_json_path() -> None:
    (err,) = schemas.validator("label-task").errors({"task_type": 1}, file="body.json")
    assert str(err) == "body.json: $.task_name: required"
    assert err.to_dict()["path"] == "$.task_name"


# --------------------------------------------------------------------------- COCO, YOLO

COCO = {"images": [{"id": 1, "width": 64, "height": 48, "file_name": "a.jpg"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 2, 10, 20], "area": 200, "iscrowd": 0,
                         "segmentation": [[1, 2, 11, 2, 11, 22]]}],
        "categories": [{"id": 3, "name": "cat", "supercategory": "animal"}]}


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda d: d["annotations"][0].update(bbox=[1, 2, -3, 4]), "$.annotations[0].bbox[2]"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), "$.annotations[0].bbox"),
    (lambda d: d["images"][0].pop("file_name"), "$.images[0].file_name"),
    (lambda d: d["categories"][0].update(name=""), "$.categories[0].name"),
    (lambda d: d.pop("categories"), "$.categories"),
])
def test_coco_schema(mutate: Any, path: str) -> None:
    assert schemas.validator("coco-instances").errors(COCO) == []
    bad = copy.deepcopy(COCO)
    mutate(bad)
    assert paths("coco-instances", bad) == {path}


def test_yolo_data_schema() -> None:
    good = {"path": "ds", "train": "images/train", "val": "images/val", "nc": 2, "names": ["cat", "dog"]}
    assert schemas.validator("yolo-data").errors(good) == []
    assert schemas.validator("yolo-data").errors({**good, "names": {0: "cat", 1: "dog"}}) == []  # YAML int keys
    assert schemas.validator("yolo-data").errors({**good, "names": {"0": "cat", "1": "dog"}}) == []
    assert paths("yolo-data", {**good, "names": ["cat", ""]}) == {"$.names[1]"}
    assert paths("yolo-data", {"names": ["a"]}) == {"$"}


# --------------------------------------------------------------------------- VOC (JSON form)

VOC_FILES = sorted((EXAMPLES / "voc").glob("*.xml")) + [
    p for p in sorted((DATA / "golden" / "voc").glob("*.xml"))]


def voc_form(data: bytes) -> Any:
    from lxml import etree

    from mafmt.validation import voc_to_json

    return voc_to_json(etree.fromstring(data))[0]


@pytest.mark.parametrize("path", VOC_FILES, ids=lambda p: p.name)
def test_voc_schema_accepts_golden_and_spec_examples(path: Path) -> None:
    assert list(schemas.validator("voc").iter_errors(voc_form(path.read_bytes()))) == []


def _shape_key(obj: dict[str, Any]) -> str:
    return next(k for k in ("point", "line", "dashed", "bndbox", "polygon", "polyline", "circle") if k in obj)


# (mutation of one object of the JSON form, expected path below $.object[i])
VOC_MUTATIONS: list[tuple[Any, str]] = [
    (lambda o: o.pop("name"), ".name"),
    (lambda o: o.update(name="  "), ".name"),
    (lambda o: o.pop(_shape_key(o)), ""),
    (lambda o: o.update(circle={"cx": "1", "cy": "2", "r": "3"}) if _shape_key(o) != "circle"
     else o.update(point={"x": "1", "y": "1"}), ""),
    (lambda o: o[_shape_key(o)].update({next(iter(o[_shape_key(o)])): "1O"}), "SHAPE_FIRST"),
    (lambda o: o.update(difficult="hard"), ".difficult"),
    (lambda o: o.update(confidence="1.5"), ".confidence"),
    (lambda o: o.update(mask_color="red"), ".mask_color"),
]


@given(st.sampled_from(VOC_FILES), st.sampled_from(VOC_MUTATIONS), st.data())
def test_voc_mutation_reports_exactly_its_path(path: Path, mutation: Any, data: Any) -> None:
    doc = voc_form(path.read_bytes())
    if not doc.get("object"):
        return
    i = data.draw(st.integers(0, len(doc["object"]) - 1))
    mutate, suffix = mutation
    target = doc["object"][i]
    if suffix == "SHAPE_FIRST":
        shape = _shape_key(target)
        suffix = f".{shape}.{next(iter(target[shape]))}"
    mutate(target)
    assert paths("voc", doc) == {f"$.object[{i}]{suffix}"}


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda d: d.pop("folder"), "$.folder"),
    (lambda d: d["size"].pop("height"), "$.size.height"),
    (lambda d: d["size"].update(width="wide"), "$.size.width"),
    (lambda d: d.update(segmented="2"), "$.segmented"),
    (lambda d: d.update(size=[d["size"], d["size"]]), "$.size"),
])
def test_voc_document_mutations(mutate: Any, path: str) -> None:
    doc = voc_form((EXAMPLES / "voc" / "point.xml").read_bytes())
    mutate(doc)
    assert paths("voc", doc) == {path}
