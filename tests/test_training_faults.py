"""Creates of training jobs, models and services are never blindly re-sent: after a
dropped response the client reconciles by name and finds what the first attempt made."""

from __future__ import annotations

from pathlib import Path

import pytest

from mafmt.client import ServerError

JOB = {"code_dir": "obs://b/code/", "boot_file": "train.py", "framework_type": "PyTorch",
       "framework_version": "PyTorch-1.4.0-python3.6", "flavor_id": "modelarts.vm.cpu.8u"}
CFG = {"worker_server_num": 1, "app_url": "/b/src/", "boot_file_url": "/b/src/boot.py", "engine_id": 3,
       "spec_id": 2, "data_url": "/b/data/"}


@pytest.fixture()
def fast(ma):
    ma.transport.backoff = 0.01
    return ma


def test_dropped_creates_are_reconciled(fast, ml_tick) -> None:
    emu, pid = ml_tick, ml_tick.project_id
    for path in ("/training-jobs$", "/models$", "/services$"):
        emu.add_fault(method="POST", path=path, drop=True, after=True, times=1)
    job = fast.training_jobs.create(name="once", **JOB)
    assert [j.metadata["name"] for j in fast.training_jobs.list()] == ["once"]
    assert job.metadata["id"] and emu.request_count("POST", f"/v2/{pid}/training-jobs") == 1
    v1 = fast.training_v1.create_job("once_v1", CFG)
    assert v1["version_id"] and fast.training_v1.list_jobs()["job_total_count"] == 1
    model_dir = Path(emu.store.obs_root) / "b/m/model"
    model_dir.mkdir(parents=True)
    (model_dir / "config.json").write_text("{}")
    model = fast.models.create(model_name="once", model_version="1.0.0", source_location="/b/m/",
                               model_type="PyTorch", wait=True, poll=0.02)
    assert fast.models.list_page()["total_count"] == 1
    svc = fast.services.deploy([{"model_id": model.model_id, "weight": 100, "instance_count": 1,
                                 "specification": "modelarts.vm.cpu.2u"}], service_name="once")
    assert svc.service_id and fast.services.list_page()["total_count"] == 1
    assert emu.request_count("POST", f"/v1/{pid}/services") == 1


def test_server_errors_on_polls_are_retried_and_surface(fast, ml_tick) -> None:
    job = fast.training_jobs.create(name="polled", **JOB)
    ml_tick.add_fault(method="GET", path="/training-jobs/", status=502, times=2)
    assert fast.training_jobs.wait(job.metadata["id"], poll=0.02, timeout=5).status["phase"] == "Completed"
    ml_tick.add_fault(method="GET", path="/training-jobs/", status=500, times=10)
    with pytest.raises(ServerError):
        fast.training_jobs.get(job.metadata["id"])
