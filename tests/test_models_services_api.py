"""Native API: models and services (real-time, batch) against the emulator over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mafmt.client import BadRequestError, ConflictError, NotFoundError, TaskFailedError, WaitTimeoutError
from mafmt.client.models import model_body
from mafmt.errors import UsageError


def _model_dir(root: str, bucket: str = "b", key: str = "m") -> str:
    d = Path(root) / bucket / key / "model"
    d.mkdir(parents=True)
    (d / "config.json").write_text("{}")
    (d / "customize_service.py").write_text("")
    return f"/{bucket}/{key}/"


DEPS = [{"installer": "pip", "packages": [{"package_name": "numpy", "package_version": "1.15.0", "restraint": "EXACT"},
                                          {"package_name": "h5py", "package_version": "2.8.0", "restraint": "ATLEAST"},
                                          {"package_name": "six"}]}]


def test_models_lifecycle(ma, ml_tick) -> None:
    loc = _model_dir(ml_tick.store.obs_root)
    task = ma.models.create(model_name="digit_recognition", model_version="1.0.0", source_location=loc,
                            model_type="PyTorch", runtime="python3.7", dependencies=DEPS,
                            execution_code=loc + "model/customize_service.py",
                            input_params=[{"url": "/", "protocol": "http", "method": "post",
                                           "param_name": "images", "param_type": "file"}])
    model = task.wait(poll=0.02, timeout=5)
    assert model["model_status"] == "published" and model["dependencies"] == DEPS
    with pytest.raises(ConflictError):
        ma.models.create(model_name="digit_recognition", model_version="1.0.0", source_location=loc,
                         model_type="PyTorch")
    ma.models.create(model_name="digit_recognition", model_version="1.0.1", source_location=loc,
                     model_type="PyTorch", wait=True, poll=0.02)
    ma.models.create(model_name="other", model_version="0.1.0", source_location="org/img:1", model_type="Image")
    assert len(ma.models.list(model_name="digit", limit=1).to_list()) == 2
    assert [m.model_name for m in ma.models.list(model_name="other", exact_match=True)] == ["other"]
    assert ma.models.list_page(model_status="published", order="asc")["count"] >= 2
    model_id = task.model_id
    assert ma.services.specifications()["specifications"][0]["specification"] == "modelarts.vm.cpu.2u"
    other = ma.models.list(model_name="digit_recognition", model_version="1.0.1").first_page()[0].model_id
    assert set(ma.models.delete(other, cascade=True)["delete_success_list"]) == {model_id, other}
    model_id = ma.models.create(model_name="digit_recognition", model_version="1.0.0", source_location=loc,
                                model_type="PyTorch").model_id
    ma.models.delete(model_id)
    with pytest.raises(NotFoundError) as err:
        ma.models.get(model_id)
    assert err.value.error_code == "ModelArts.3001"


def test_model_publish_failures(ma, ml_tick) -> None:
    missing = ma.models.create(model_name="ghost", model_version="1.0.0", source_location="/b/missing/",
                               model_type="TensorFlow")
    with pytest.raises(TaskFailedError):
        missing.wait(poll=0.02, timeout=5)
    loc = _model_dir(ml_tick.store.obs_root, key="f")
    ml_tick.fail_next("model", error_msg="bad config.json")
    with pytest.raises(TaskFailedError):
        ma.models.create(model_name="forced", model_version="1.0.0", source_location=loc, model_type="XGBoost",
                         wait=True, poll=0.02, timeout=5)


@pytest.mark.parametrize(("options", "message"), [
    ({"model_version": "01.01.01"}, "model_version"),
    ({"model_type": "Keras"}, "model_type"),
    ({"model_name": "1abc"}, "model_name"),
    ({"description": "a<b"}, "description"),
    ({"dependencies": [{"installer": "conda", "packages": []}]}, "pip"),
    ({"dependencies": [{"installer": "pip", "packages": [{"package_name": "x", "package_version": "1"}]}]},
     "restraint"),
    ({"dependencies": [{"installer": "pip", "packages": [{"package_name": "x", "restraint": "EXACT"}]}]},
     "without package_version"),
])
def test_model_body_validation(options, message) -> None:
    base = {"model_name": "m", "model_version": "1.0.0", "source_location": "/b/m/", "model_type": "PyTorch"}
    with pytest.raises(UsageError, match=message):
        model_body(**{**base, **options})


def _published(ma, root: str, name: str, version: str = "1.0.0") -> str:
    loc = _model_dir(root, key=f"{name}-{version}")
    return ma.models.create(model_name=name, model_version=version, source_location=loc, model_type="PyTorch",
                            wait=True, poll=0.02).model_id


def test_realtime_service_lifecycle(ma, ml_tick, tmp_path) -> None:
    m1 = _published(ma, ml_tick.store.obs_root, "mnist")
    m2 = _published(ma, ml_tick.store.obs_root, "mnist", "1.0.1")
    configs = [{"model_id": m1, "weight": 70, "specification": "modelarts.vm.cpu.2u", "instance_count": 2,
                "envs": {"model_name": "mxnet-model-1"}},
               {"model_id": m2, "weight": 30, "specification": "modelarts.vm.cpu.2u", "instance_count": 1}]
    task = ma.services.deploy(configs, service_name="mnist", description="mnist service",
                              schedule=[{"type": "stop", "time_unit": "HOURS", "duration": 1}])
    svc = task.wait(poll=0.02, timeout=5)
    assert svc["status"] == "running" and svc["due_time"] and svc["access_address"]
    sid = task.service_id
    answer = ma.services.predict(svc["access_address"], {"data": {"req_data": [{"x": 1}]}})
    assert answer["received"] == {"data": {"req_data": [{"x": 1}]}} and answer["model_id"] == m1
    image = tmp_path / "digit.png"
    image.write_bytes(b"\x89PNG fake")
    answer = ma.services.predict(svc["access_address"], str(image), "images")
    assert answer["received"] == {"images": {"filename": "digit.png", "size": 9}}
    doc = tmp_path / "req.json"
    doc.write_text(json.dumps({"a": 1}))
    assert ma.services.predict(svc["access_address"], str(doc), "json")["received"] == {"a": 1}
    assert ma.services.predict(svc["access_address"], str(image), "files", path="/v2")["path"] == "v2"
    assert [s.service_id for s in ma.services.list(service_name="mni", infer_type="real-time")] == [sid]
    assert ma.services.list_page(service_status="running")["count"] == 1
    mon = ma.services.monitor(sid)
    assert mon["service_instance_count"] == 3 and mon["monitors"][0]["invocation_times"] == 4
    with pytest.raises(UsageError, match="not both"):
        ma.services.update(sid, status="stopped", configs=configs)
    ma.services.update(sid, status="stopped", description="stopped now")
    assert ma.services.get(sid)["status"] == "stopped"
    with pytest.raises(BadRequestError):
        ma.services.predict(svc["access_address"], {"a": 1})
    ma.services.update(sid, status="running")
    ma.services.wait(sid, poll=0.02, timeout=5)
    ma.services.update(sid, configs=[{**configs[0], "weight": 100}])
    assert ma.services.wait(sid, poll=0.02, timeout=5)["config"][0]["weight"] == 100
    logs = ma.services.logs(sid)["logs"]
    assert [entry["result"] for entry in logs] == ["SUCCESS", "SUCCESS", "SUCCESS"]
    assert ma.services.events(sid)["count"] == 3
    delete = ma.models.delete  # a model in use cannot be deleted
    with pytest.raises(BadRequestError) as err:
        delete(m1)
    assert err.value.error_code == "ModelArts.3009"
    from mafmt.emulator._ml import ml_state

    ml_state(ml_tick.store).services[sid]["due_time"] = 1  # the schedule's stop time has come
    assert ma.services.get(sid)["status"] == "stopped"
    ma.services.delete(sid)
    with pytest.raises(NotFoundError):
        ma.services.get(sid)


@pytest.mark.parametrize(("configs", "message"), [
    ([{"weight": 60}, {"weight": 30}], "sum to 100"),
    ([{"weight": 100, "instance_count": 0}], "instance_count"),
    ([{"weight": 100, "instance_count": 129}], "instance_count"),
    ([{"weight": 50}, {"weight": 50, "same": True}], "same model"),
])
def test_service_config_rules(ma, configs, message) -> None:
    full = []
    for i, c in enumerate(configs):
        model = "m0" if c.pop("same", False) else f"m{i}"
        full.append({"model_id": model, "specification": "modelarts.vm.cpu.2u", "instance_count": 1, **c})
    with pytest.raises(UsageError, match=message):
        ma.services.deploy(full)


def test_service_failure_surfaces(ma, ml_tick) -> None:
    m = _published(ma, ml_tick.store.obs_root, "fail")
    ml_tick.fail_next("service", error_msg="image pull failed")
    task = ma.services.deploy([{"model_id": m, "weight": 100, "specification": "modelarts.vm.cpu.2u",
                                "instance_count": 1}])
    from mafmt.emulator._ml import ml_state

    ml_state(ml_tick.store).tick = 10.0  # still deploying when the waiter gives up
    with pytest.raises(WaitTimeoutError):
        ma.services.wait(task.service_id, poll=0.01, timeout=0.02)
    ml_state(ml_tick.store).tick = 0.05
    with pytest.raises(TaskFailedError, match="image pull failed"):
        task.wait(poll=0.02, timeout=5)
    with pytest.raises(NotFoundError) as err:
        ma.services.deploy([{"model_id": "nope", "weight": 100, "specification": "modelarts.vm.cpu.2u",
                             "instance_count": 1}])
    assert err.value.error_code == "ModelArts.3507"


def test_batch_transformer_file_and_csv(ma, ml_tick) -> None:
    root = Path(ml_tick.store.obs_root)
    m = _published(ma, str(root), "batch")
    (root / "b/in").mkdir(parents=True)
    (root / "b/in/a.jpg").write_bytes(b"123")
    (root / "b/csv").mkdir(parents=True)
    (root / "b/csv/t.csv").write_text("1,2,x\n3,4,y\n")
    base = {"model_id": m, "specification": "modelarts.vm.cpu.2u", "instance_count": 1, "req_uri": "/"}
    with pytest.raises(UsageError, match="mapping_rule"):
        ma.services.deploy([{**base, "src_path": "/b/csv/", "dest_path": "/b/o/", "mapping_type": "csv"}],
                           infer_type="batch")
    t1 = ma.services.deploy([{**base, "src_path": "/b/in/", "dest_path": "/b/out1/", "mapping_type": "file"}],
                            infer_type="batch", service_name="batch_file")
    rule = {"type": "object", "properties": {"data": {"type": "object", "properties": {"req_data": {
        "type": "array", "items": [{"type": "object", "properties": {
            "input1": {"type": "number", "index": 0}, "input2": {"type": "number", "index": 1},
            "skip": {"type": "string", "index": -1}}}]}}}}}
    t2 = ma.services.deploy([{**base, "src_path": "/b/csv/", "dest_path": "/b/out2/", "mapping_type": "csv",
                              "mapping_rule": rule}], infer_type="batch", service_name="batch_csv")
    assert t1.wait(poll=0.02, timeout=5)["status"] == "finished"
    assert t2.wait(poll=0.02, timeout=5)["status"] == "finished"
    assert json.loads((root / "b/out1/a.jpg.result").read_text())["size"] == 3
    first = json.loads((root / "b/out2/t.csv.result").read_text().splitlines()[0])
    assert first["request"] == {"data": {"req_data": [{"input1": 1.0, "input2": 2.0}]}}
    ma.services.delete(t1.service_id, t2.service_id)  # one call, IDs joined by commas
    assert ma.services.list_page()["total_count"] == 0


@pytest.mark.parametrize(("path", "body", "message"), [
    ("/v2/{project_id}/training-jobs", {"kind": "job", "metadata": {"name": "bad name"}}, "$.metadata.name"),
    ("/v2/{project_id}/training-jobs", {"metadata": {"name": "ok"}}, "$.kind: required"),
    ("/v2/{project_id}/training-jobs", {"kind": "job", "metadata": {"name": "ok"},
                                        "spec": {"resource": {"node_count": 0}}}, "node_count"),
    ("/v1/{project_id}/models", {"model_name": "m", "model_version": "01.0.0", "model_type": "PyTorch"},
     "N.N.N"),
    ("/v1/{project_id}/services", {"service_name": "s", "config": [{"model_id": "m", "specification": "x",
                                                                    "instance_count": 200}]}, "instance_count"),
])
def test_emulator_validates_bodies_against_schemas(ma, path, body, message) -> None:
    with pytest.raises(BadRequestError) as err:
        ma.transport.request("POST", path, json_body=body)
    assert err.value.status_code == 400 and err.value.error_code == "ModelArts.0101" and message in str(err.value)


def test_v1_errors_use_the_envelope(ma) -> None:
    with pytest.raises(BadRequestError) as err:
        ma.transport.request("POST", "/v1/{project_id}/training-job-configs",
                             json_body={"config_name": "c", "worker_server_num": 1, "spec_id": 1, "model_id": 1})
    assert err.value.body["is_success"] is False and "rule 2 (data source)" in err.value.body["error_message"]
