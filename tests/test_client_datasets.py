"""Client resources over real HTTP against the emulator: datasets, versions, samples,
import/export/label tasks, paging, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mafmt.client import BadRequestError, ModelArts, TaskFailedError
from mafmt.client._pages import Page


def make_client(emu, **over) -> ModelArts:
    return ModelArts(**{**{k.lower(): v for k, v in ()}, **_cfg(emu), **over})


def _cfg(emu) -> dict:
    env = emu.env()
    return {"ak": env["HUAWEICLOUD_SDK_AK"], "sk": env["HUAWEICLOUD_SDK_SK"],
            "project_id": env["HUAWEICLOUD_SDK_PROJECT_ID"], "endpoint": emu.url, "iam_endpoint": emu.url}


def put(root: Path, rel: str, data: bytes = b"\xff\xd8img") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture()
def obs(emulator) -> Path:
    return Path(emulator.store.obs_root)


@pytest.fixture()
def ma(emulator):
    with make_client(emulator) as client:
        yield client


def test_dataset_crud_and_filters(ma: ModelArts, obs: Path) -> None:
    put(obs, "bkt/in/a.jpg")
    created = ma.datasets.create("cats", dataset_type=1, data_path="obs://bkt/in/", work_path="/bkt/out/", wait=True, poll=0.05)
    ds = ma.datasets.get(created.dataset_id)
    assert ds.dataset_name == "cats" and ds.status == 1 and ds.total_sample_count == 1
    ma.datasets.create("dogs-text", data_type="TEXT", data_path="/bkt/in/", work_path="/bkt/out2/", wait=True, poll=0.05)
    assert [d.dataset_name for d in ma.datasets.list(dataset_type=1)] == ["cats"]
    assert [d.dataset_name for d in ma.datasets.list(name="DOG")] == ["dogs-text"]
    ma.datasets.update(ds.dataset_id, dataset_name="cats2", description="new")
    assert ma.datasets.get(ds.dataset_id).dataset_name == "cats2"
    with pytest.raises(BadRequestError) as err:
        ma.datasets.create("cats2", dataset_type=1, data_path="/bkt/in/", work_path="/bkt/o3/")
    assert err.value.error_code == "ModelArts.4351" and err.value.status_code == 400 and err.value.request_id
    ma.datasets.delete(ds.dataset_id)
    with pytest.raises(BadRequestError) as err:
        ma.datasets.get(ds.dataset_id)
    assert err.value.error_code == "ModelArts.4352"


def test_validation_errors(ma: ModelArts) -> None:
    with pytest.raises(BadRequestError) as err:
        ma.datasets.create("x", dataset_type=1, data_path="/bkt/in/", work_path="/bkt/")
    assert err.value.error_code in ("ModelArts.4205", "ModelArts.0101")
    with pytest.raises(BadRequestError) as err:
        ma.datasets.create("bad name!", dataset_type=1, data_path="/bkt/in/", work_path="/bkt/out/")
    assert err.value.error_code == "ModelArts.0101"
    with pytest.raises(BadRequestError) as err:
        ma.transport.request("GET", "/v2/{project_id}/datasets", params={"limit": 1000})
    assert err.value.error_code == "ModelArts.0107"


def test_dataset_paging_is_lazy(ma: ModelArts, obs: Path) -> None:
    for i in range(7):
        ma.datasets.create(f"ds-{i}", dataset_type=0, data_path="/bkt/in/", work_path=f"/bkt/out{i}/")
    page = ma.datasets.list(limit=3)
    it = iter(page)
    next(it)
    assert page.pages_fetched == 1
    names = [next(it).dataset_name for _ in range(6)]
    assert len(set(names)) == 6 and page.pages_fetched == 3
    assert len(ma.datasets.list(limit=2).to_list()) == 7


def test_page_dedupes_and_stops_on_misread_offset() -> None:
    items = [{"id": i} for i in range(5)]

    def record_offset_server(p: dict) -> dict:  # a server that reads offset as records
        return {"total": 5, "items": items[p["offset"]:p["offset"] + p["limit"]]}

    got = list(Page(record_offset_server, items_key="items", total_key="total", id_key="id", limit=2))
    assert [g["id"] for g in got] == [0, 1, 2, 3, 4]  # no repeats, no endless loop


def test_import_manifest_samples_versions_export(ma: ModelArts, obs: Path, golden: Path) -> None:
    (obs / "bkt/data").mkdir(parents=True)
    (obs / "bkt/data/train.manifest").write_bytes((golden / "detect-multi-local-voc.manifest").read_bytes())
    (obs / "bkt/data/voc").mkdir()
    for xml in (golden / "voc").glob("*.xml"):
        (obs / "bkt/data/voc" / xml.name).write_bytes(xml.read_bytes())
    ds = ma.datasets.create("det", dataset_type=1, data_path="/bkt/empty/", work_path="/bkt/work/", wait=True, poll=0.05)
    task = ma.import_tasks.create(ds.dataset_id, "obs://bkt/data/train.manifest", {})
    final = task.wait(timeout=20, poll=0.05)
    # 8 lines, 7 objects: the two lines of "1 (7)_1550632618022.jpg" are one sample
    assert final.status == "COMPLETED" and final.imported_sample_count == 7 and final.total_sample_count == 7
    assert final.annotated_sample_count == 7
    assert next(iter(ma.import_tasks.list(ds.dataset_id))).task_id == task.task_id
    samples = list(ma.samples.list(ds.dataset_id, limit=3))
    assert len(samples) == 7 and all(s.labels for s in samples)
    one = ma.samples.get(ds.dataset_id, samples[0].sample_id)
    assert one.labels[0]["property"]["@modelarts:shape"] == "bndbox"
    ver = ma.versions.create(ds.dataset_id, name="V001", wait=True, poll=0.05)
    info = ma.versions.get(ds.dataset_id, ver.version_id)
    assert info.status == 1 and info.total_sample_count == 7
    assert (obs / info.manifest_path.lstrip("/")).exists()
    ma.samples.delete(ds.dataset_id, [samples[0].sample_id])
    assert len(list(ma.samples.list(ds.dataset_id))) == 6
    assert len(list(ma.samples.list(ds.dataset_id, version_id=ver.version_id))) == 7
    with pytest.raises(BadRequestError):
        ma.samples.delete(ds.dataset_id, ["0" * 32])
    exp = ma.export_tasks.create(ds.dataset_id, "/bkt/export/", wait=True, poll=0.05, timeout=20)
    assert exp.status == "SUCCESSED" and exp.finished_sample_count == 6
    assert [v.version_name for v in ma.versions.list(ds.dataset_id)] == ["V001"]
    ma.versions.delete(ds.dataset_id, ver.version_id)
    assert list(ma.versions.list(ds.dataset_id)) == []


def test_failed_import_raises_typed_error(ma: ModelArts, emulator) -> None:
    ds = ma.datasets.create("f", dataset_type=1, data_path="/bkt/in/", work_path="/bkt/out/", wait=True, poll=0.05)
    with pytest.raises(TaskFailedError) as err:
        ma.import_tasks.create(ds.dataset_id, "/bkt/nothing/", wait=True, poll=0.05, timeout=10)
    assert err.value.error_code == "ModelArts.4340"
    emulator.fail_next("export", error_msg="disk full")
    with pytest.raises(TaskFailedError, match="disk full"):
        ma.export_tasks.create(ds.dataset_id, "/bkt/exp/").wait(timeout=10, poll=0.05)


def test_label_tasks(ma: ModelArts) -> None:
    ds = ma.datasets.create("img", data_type="IMAGE", data_path="/bkt/in/", work_path="/bkt/out/", wait=True, poll=0.05)
    a = ma.label_tasks.create(ds.dataset_id, "det_task", 1, description="label task")
    ma.label_tasks.create(ds.dataset_id, "b_team", 0, workforces_config={"workforces": [{"workforce_id": "w1"}]})
    assert ma.label_tasks.get(ds.dataset_id, a.task_id).task_name == "det_task"
    names = [t.task_name for t in ma.label_tasks.list(ds.dataset_id, sort_key="task_name", sort_dir="asc")]
    assert names == ["b_team", "det_task"]
    assert [t.task_name for t in ma.label_tasks.list(ds.dataset_id, is_workforce_task=True)] == ["b_team"]
    with pytest.raises(BadRequestError):
        ma.label_tasks.create(ds.dataset_id, "text_task", 100)  # not an IMAGE task type
    ver = ma.versions.create(ds.dataset_id, label_task_id=a.task_id, wait=True, poll=0.05)
    assert ma.versions.get(ds.dataset_id, ver.version_id).task_type == 1


def test_bodies_are_validated_against_the_project_schemas(ma: ModelArts) -> None:
    from mafmt import schemas

    if "dataset-create" not in schemas.names():
        pytest.skip("schemas not shipped")
    body = {"dataset_name": "s", "dataset_type": 1, "data_sources": [{"data_type": 0, "data_path": "/b/in/"}],
            "work_path": "/b/out/"}
    with pytest.raises(BadRequestError) as err:
        ma.transport.request("POST", "/v2/{project_id}/datasets", json_body=body)
    assert err.value.error_code == "ModelArts.0101" and "work_path_type" in err.value.error_msg
    ds = ma.datasets.create("s", dataset_type=1, data_path="/b/in/", work_path="/b/out/")
    with pytest.raises(BadRequestError) as err:
        ma.export_tasks.create(ds.dataset_id, "/b/exp/", export_type=7)
    assert err.value.error_code == "ModelArts.0101" and "export_type" in err.value.error_msg


@pytest.mark.parametrize("fmt", ["ModelArts imageNet 1.0", "ModelArts image classification 1.0"])
def test_directory_import_of_classification_layouts(ma: ModelArts, obs: Path, fmt: str) -> None:
    if fmt == "ModelArts imageNet 1.0":
        put(obs, "bkt/cls/tulip/t1.jpg")
        put(obs, "bkt/cls/extra/rose/r1.jpg")
        put(obs, "bkt/cls/loose.jpg")
        want = {"t1.jpg": ["tulip"], "r1.jpg": ["rose"], "loose.jpg": []}
    else:
        put(obs, "bkt/cls/a/0101.jpg")
        put(obs, "bkt/cls/a/0101.txt", b"sneaker\n")
        put(obs, "bkt/cls/b/0201.jpg")
        put(obs, "bkt/cls/b/0201.txt", b"sneaker\n\nred\n")
        put(obs, "bkt/cls/b/0202.jpg")
        want = {"0101.jpg": ["sneaker"], "0201.jpg": ["sneaker", "red"], "0202.jpg": []}
    ds = ma.datasets.create("cls", data_type="IMAGE", data_path="/bkt/cls/", work_path="/bkt/out/",
                            annotation_config={"scene": "image_classification", "format_name": fmt},
                            wait=True, poll=0.05)
    got = {s.sample_name: [lab["name"] for lab in s.labels] for s in ma.samples.list(ds.dataset_id)}
    assert got == want


def test_failed_dataset_wait_names_the_import_error(emulator) -> None:
    """A dataset whose initial import fails says why, not just that it failed."""
    ma = make_client(emulator)
    emulator.fail_next("import", error_msg="the input folder is unreadable")
    with pytest.raises(TaskFailedError, match="the input folder is unreadable"):
        ma.datasets.create("broken", dataset_type=1, data_path="/bkt/in/", work_path="/bkt/out/", wait=True, poll=0.05)
