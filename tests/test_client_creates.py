"""Creates are exactly-once or honest (issue 12, item 4): a create whose answer is lost
or that gets a 5xx never makes a second object and never returns an older one.

The first three tests are the failures the issue reports (a timed-out training-job create
made two jobs in 5/5 trials; a create that got one 500 returned an older job of the same
name; a slow dataset create that succeeded was reported as "already exists" in 8/10)."""

from __future__ import annotations

import pytest

from mafmt.client import ModelArts
from mafmt.client._errors import OutcomeUnknownError
from mafmt.emulator import Emulator

JOB = {"code_dir": "obs://b/code/", "boot_file": "train.py", "framework_type": "PyTorch",
       "framework_version": "PyTorch-1.4.0-python3.6", "flavor_id": "modelarts.vm.cpu.8u"}
PID = "0123456789abcdef0123456789abcdef"


def client(emu: Emulator, **over) -> ModelArts:
    env = emu.env()
    ma = ModelArts(ak=env["HUAWEICLOUD_SDK_AK"], sk=env["HUAWEICLOUD_SDK_SK"], endpoint=emu.url,
                   project_id=emu.project_id, **{"max_retries": 3, **over})
    ma.transport.backoff = 0.01
    return ma


def job_names(ma: ModelArts) -> list[str]:
    return sorted(j.metadata["name"] for j in ma.training_jobs.list())


@pytest.mark.parametrize("trial", range(3))
def test_timed_out_training_job_create_makes_one_job(emulator: Emulator, trial: int) -> None:
    ma = client(emulator, timeout=0.3)
    emulator.add_fault(method="POST", path="/training-jobs$", delay=0.5, times=1)  # slower than the client waits
    job = ma.training_jobs.create(name=f"slow-{trial}", **JOB)
    emulator.wait_idle()
    assert job_names(ma) == [f"slow-{trial}"]
    assert job.metadata["id"] == ma.training_jobs.list().to_list()[0].metadata["id"]
    assert emulator.request_count("POST", f"/v2/{PID}/training-jobs") == 1


@pytest.fixture()
def shifted(tmp_path):
    """An emulator whose clock runs an hour ahead of this machine's and can be moved on:
    the client must judge "created after the request started" in the server's clock."""
    import time

    shift = [3600.0]
    (tmp_path / "obs").mkdir()
    emu = Emulator(ak="MAFMTTESTAK0000000001", sk="mafmtTestSecretKey0000000000000000000001", project_id=PID,
                   obs_root=str(tmp_path / "obs"), clock=lambda: time.time() + shift[0], max_skew=10_000)
    emu.shift = shift  # type: ignore[attr-defined]
    with emu:
        yield emu


def test_500_never_returns_an_older_job_of_that_name(shifted: Emulator) -> None:
    ma = client(shifted)
    old = ma.training_jobs.create(name="same", **JOB)
    shifted.shift[0] += 5  # type: ignore[attr-defined] # five seconds later, on the server ...
    assert len(ma.training_jobs.list().to_list()) == 1  # ... (whose clock the client keeps learning)
    shifted.add_fault(method="POST", path="/training-jobs$", status=500, times=1)  # nothing made, answer 500
    new = ma.training_jobs.create(name="same", **JOB)
    assert new.metadata["id"] != old.metadata["id"]
    assert job_names(ma) == ["same", "same"]  # the service allows equal names; the second create was sent


@pytest.mark.parametrize("trial", range(3))
def test_slow_dataset_create_that_succeeded_is_reported_as_success(emulator: Emulator, trial: int) -> None:
    ma = client(emulator, timeout=0.3)
    ma.transport.backoff = 0.5  # a re-send would arrive after the first attempt landed: "already exists"
    emulator.add_fault(method="POST", path="/datasets$", delay=0.5, times=1)
    ds = ma.datasets.create(f"slow{trial}", dataset_type=1, data_path="/bkt/in/", work_path="/bkt/out/")
    emulator.wait_idle()
    listed = ma.datasets.list().to_list()
    assert [d.dataset_name for d in listed] == [f"slow{trial}"] and ds.dataset_id == listed[0].dataset_id


def test_5xx_after_commit_returns_the_object_made(emulator: Emulator) -> None:
    ma = client(emulator)
    for path in ("/datasets$", "/training-jobs$", "/algorithms$"):
        emulator.add_fault(method="POST", path=path, status=500, after=True, times=1)
    ds = ma.datasets.create("committed", dataset_type=1, data_path="/bkt/in/", work_path="/bkt/out/")
    job = ma.training_jobs.create(name="committed", **JOB)
    algo = ma.algorithms.create("committed", code_dir="obs://b/code/", boot_file="train.py",
                                engine_name="PyTorch", engine_version="PyTorch-1.4.0-python3.6")
    assert [d.dataset_id for d in ma.datasets.list()] == [ds.dataset_id]
    assert [j.metadata["id"] for j in ma.training_jobs.list()] == [job.metadata["id"]]
    assert [a.metadata["id"] for a in ma.algorithms.list()] == [algo.metadata["id"]]
    for path in ("datasets", "training-jobs", "algorithms"):
        assert emulator.request_count("POST", f"/v2/{PID}/{path}") == 1


def test_already_exists_after_a_retried_create_is_success_when_it_is_ours(emulator: Emulator) -> None:
    # the first attempt lands but answers 502; the client cannot find it (its one look at
    # the listing fails too), re-sends, and the second attempt says "already exists"
    ma = client(emulator, settle_timeout=0)
    emulator.add_fault(method="POST", path="/datasets$", status=502, after=True, times=1)
    emulator.add_fault(method="GET", path="/datasets$", status=404, times=1)
    ds = ma.datasets.create("twice", dataset_type=1, data_path="/bkt/in/", work_path="/bkt/out/")
    assert [d.dataset_id for d in ma.datasets.list()] == [ds.dataset_id]
    assert emulator.request_count("POST", f"/v2/{PID}/datasets") == 2


def test_already_exists_for_someone_elses_object_is_an_error(shifted: Emulator) -> None:
    from mafmt.client import BadRequestError

    ma = client(shifted, settle_timeout=0.2)
    ma.datasets.create("theirs", dataset_type=1, data_path="/bkt/in/", work_path="/bkt/out/")
    shifted.shift[0] += 5  # type: ignore[attr-defined]
    assert len(ma.datasets.list().to_list()) == 1
    shifted.add_fault(method="POST", path="/datasets$", status=500, times=1)  # nothing made
    with pytest.raises(BadRequestError) as err:
        ma.datasets.create("theirs", dataset_type=1, data_path="/bkt/in/", work_path="/bkt/out/")
    assert err.value.error_code == "ModelArts.4351"


def test_lost_answer_with_nothing_made_is_outcome_unknown(emulator: Emulator) -> None:
    ma = client(emulator, settle_timeout=0.3)
    emulator.add_fault(method="POST", path="/training-jobs$", drop=True, times=1)  # dropped before handling
    with pytest.raises(OutcomeUnknownError) as err:
        ma.training_jobs.create(name="lost", **JOB)
    assert err.value.kind == "training job" and err.value.name == "lost"
    assert "training job 'lost' created after" in str(err.value) and err.value.check in str(err.value)
    assert job_names(ma) == [] and emulator.request_count("POST", f"/v2/{PID}/training-jobs") == 0
    assert isinstance(err.value, __import__("mafmt").MafmtError)
