"""Native API: training jobs v2 and legacy v1 against the emulator over HTTP."""

from __future__ import annotations

import io

import pytest

from mafmt.client import BadRequestError, ConflictError, NotFoundError, TaskFailedError, WaitTimeoutError
from mafmt.client.training_jobs import job_body
from mafmt.client.training_v1 import ConfigRuleError, JobStatus, check_job_config
from mafmt.errors import UsageError

JOB = {"code_dir": "obs://b/code/", "boot_file": "train.py", "framework_type": "PyTorch",
       "framework_version": "PyTorch-1.4.0-python3.6", "flavor_id": "modelarts.vm.cpu.8u", "node_count": 1}


def test_v2_lifecycle(ma, ml_tick) -> None:
    tj = ma.training_jobs
    job = tj.create(name="job-a", description="first", parameters=[{"name": "epochs", "value": 2},
                                                                   {"name": "dist"}],
                    inputs=[{"name": "data_url", "obs_url": "obs://b/in/"}],
                    outputs=[{"name": "output_dir", "obs_url": "obs://b/out/"}], log_url="obs://b/log/",
                    env_variables={"A": "1"}, **JOB)
    assert job.metadata["name"] == "job-a" and job.status["phase"] == "Creating"
    assert job.algorithm["boot_file"] == "obs://b/code/train.py"
    assert job.algorithm["parameters"] == [{"name": "epochs", "value": "2"}, {"name": "dist"}]
    job_id = job.metadata["id"]
    tj.update(job_id, "second")
    assert tj.get(job_id).metadata["description"] == "second"
    out = io.StringIO()
    final = tj.wait(job_id, poll=0.02, show_log=out, timeout=10)
    assert final.status["phase"] == "Completed"
    assert "epoch 3/3" in out.getvalue() and "finished" in out.getvalue()
    assert tj.logs(job_id)["full_size"] > 0
    assert tj.log_url(job_id) == "obs://b/log/job-a-worker-0.log"
    assert [m["metric"] for m in tj.metrics(job_id)["metrics"]][:2] == ["cpuUsage", "memUsage"]
    root = ml_tick.store.obs_root
    assert (__import__("pathlib").Path(root) / "b/log/job-a-worker-0.log").exists()
    assert (__import__("pathlib").Path(root) / "b/out/training_summary.json").exists()
    with pytest.raises(ConflictError) as err:
        tj.stop(job_id)
    assert err.value.error_code == "ModelArts.2796"
    tj.delete(job_id)
    with pytest.raises(NotFoundError):
        tj.get(job_id)


def test_v2_list_filters_paging_and_catalogues(ma) -> None:
    tj = ma.training_jobs
    for i in range(5):
        tj.create(name=f"trainjob-{i}", **JOB)
    tj.create(name="other", **JOB)
    names = [j.metadata["name"] for j in tj.list(filters=[{"key": "name", "operator": "like", "value": ["trainjob"]}],
                                                 order="asc", limit=2)]
    assert names == [f"trainjob-{i}" for i in range(5)]
    page = tj.search(offset=1, limit=2, order="asc")  # offset is a page index (official JobSearches)
    assert page["count"] == 6 and len(page["items"]) == 2 and page["items"][0]["metadata"]["name"] == "trainjob-2"
    flavors = tj.flavors()["flavors"]
    assert {"flavor_id", "max_num"} <= set(flavors[0]) and tj.flavors("GPU")["total_count"] >= 1
    assert any(e["engine_name"] == "PyTorch" for e in tj.engines()["items"])


def test_v2_stop_and_failure(ma, ml_tick) -> None:
    from mafmt.emulator._ml import ml_state

    tj, ml = ma.training_jobs, ml_state(ml_tick.store)
    ml.tick = 10.0  # these two jobs stay in Creating
    slow = tj.create(name="slow", **JOB)
    with pytest.raises(WaitTimeoutError) as late:
        tj.wait(slow.metadata["id"], poll=0.01, timeout=0.02)
    assert late.value.result["status"]["phase"] == "Creating"
    job = tj.create(name="to-stop", **JOB)
    stopped = tj.stop(job.metadata["id"])
    assert stopped["status"]["phase"] == "Terminating"
    ml.tick = 0.05
    assert job.wait(poll=0.02, timeout=5).status["phase"] == "Terminated"
    ml_tick.fail_next("training", error_msg="CUDA out of memory")
    bad = tj.create(name="to-fail", **JOB)
    with pytest.raises(TaskFailedError) as err:
        tj.wait(bad.metadata["id"], poll=0.02, timeout=5)
    assert "CUDA out of memory" in str(err.value) and err.value.result["status"]["phase"] == "Failed"


@pytest.mark.parametrize("poll", [None, 0.01])
def test_v2_events_name_each_phase_once_in_order(ma, ml_tick, poll) -> None:
    """One event per phase the job went through, even when nobody looked in between."""
    import time

    from mafmt.emulator._ml import ml_state

    ml, tag = ml_state(ml_tick.store), "polled" if poll else "unwatched"
    job = ma.training_jobs.create(name=f"events-{tag}", **JOB).metadata["id"]
    if poll is None:
        time.sleep((3 + ml.run_ticks) * ml.tick)  # Creating, Pending, Running... all skipped by nobody polling
    ma.training_jobs.wait(job, poll=poll or 0.01, timeout=5)
    assert [e.message for e in ma.training_jobs.events(job, limit=100)] == [
        f"Job events-{tag} created", "Job phase changed from Creating to Pending",
        "Job phase changed from Pending to Running", "Job phase changed from Running to Completed"]
    stopped = ma.training_jobs.create(name=f"stopped-{tag}", **JOB).metadata["id"]
    ma.training_jobs.stop(stopped)
    ma.training_jobs.wait(stopped, poll=0.01, timeout=5)
    assert [e.message for e in ma.training_jobs.events(stopped, limit=100)][1:] == [
        "Job phase changed from Creating to Terminating", "Job phase changed from Terminating to Terminated"]


def test_v2_validation() -> None:
    with pytest.raises(UsageError, match="not both"):
        job_body(inputs=[{"name": "d", "obs_url": "obs://b/x/"}], dataset_id="a", dataset_version_id="b", **JOB)
    with pytest.raises(UsageError, match="needs dataset_id"):
        job_body(dataset_version_id="b", **JOB)
    # a dataset input needs only its id (the official InputDataInfoDataset)
    assert job_body(dataset_id="a", **JOB)["algorithm"]["inputs"][0]["remote"] == {"dataset": {"id": "a"}}
    with pytest.raises(UsageError, match="environment variable '1X'"):
        job_body(env_variables={"1X": "v"}, **JOB)
    with pytest.raises(UsageError, match="kind must be one of"):
        job_body(kind="batch", **JOB)
    assert job_body(kind="autosearch_job", **JOB)["kind"] == "autosearch_job"
    with pytest.raises(UsageError, match="framework_type"):
        job_body(code_dir="obs://b/c/", boot_file="t.py", flavor_id="f")
    body = job_body(user_image_url="org/img:1", user_command="python run.py", flavor_id="f", dataset_id="d",
                    dataset_version_id="v")
    assert body["algorithm"]["engine"] == {"image_url": "org/img:1"}
    assert body["algorithm"]["inputs"][0]["remote"] == {"dataset": {"id": "d", "version_id": "v"}}


def test_v2_server_side_errors(ma) -> None:
    with pytest.raises(BadRequestError) as err:
        ma.training_jobs.create(name="x", **{**JOB, "flavor_id": "modelarts.vm.cpu.2u", "node_count": 2})
    assert err.value.error_code == "ModelArts.2763" and err.value.error_solution
    with pytest.raises(BadRequestError) as err:
        ma.training_jobs.create(name="x", dataset_id="nope", dataset_version_id="v", **JOB)
    assert err.value.error_code == "ModelArts.2783"


def _wire_job(name: str, **algorithm) -> dict:
    return {"kind": algorithm.pop("kind", "job"), "metadata": {"name": name},
            "algorithm": {"code_dir": "obs://b/code/", "boot_file": "obs://b/code/train.py",
                          "engine": {"engine_name": "PyTorch", "engine_version": "PyTorch-1.4.0-python3.6"},
                          **algorithm},
            "spec": {"resource": {"flavor_id": "modelarts.vm.cpu.8u", "node_count": 1}}}


def test_emulator_accepts_what_the_official_models_allow(ma) -> None:
    """Server side, item 4: the documented kinds, a dataset input with only its id, an
    update without description; and it refuses environment variable names the official
    model forbids."""
    jobs = "/v2/{project_id}/training-jobs"
    for kind in ("autosearch_job", "hetero_job", "mrs_job", "edge_job", "diag_job", "visualization_job"):
        assert ma.transport.request("POST", jobs, json_body=_wire_job(kind.replace("_", "-"), kind=kind))["kind"] == kind
    ds = ma.datasets.create("inputs", dataset_type=1, data_path="/b/in/", work_path="/b/out/")
    job = ma.transport.request("POST", jobs, json_body=_wire_job("by-dataset", inputs=[
        {"name": "data_url", "remote": {"dataset": {"id": ds.dataset_id}}}], environments={"_A1": "x", "b": "y"}))
    jid = job["metadata"]["id"]
    ma.transport.request("PUT", jobs + f"/{jid}", json_body={})  # every field of JobUpdateRequestBody is optional
    got = ma.transport.request("GET", jobs + f"/{jid}")
    assert got["algorithm"]["environments"] == [{"_A1": "x"}, {"b": "y"}]  # the answer's type: a list of maps
    assert isinstance(got["spec"]["resource"]["flavor_detail"]["flavor_info"]["disk"]["size"], str)
    for bad in ("1X", "A-B", "A$", "a b", ""):
        with pytest.raises(BadRequestError) as err:
            ma.transport.request("POST", jobs, json_body=_wire_job("bad-env", environments={bad: "v"}))
        assert err.value.error_code == "ModelArts.0101" and "environment variable name" in str(err.value), bad
    with pytest.raises(BadRequestError, match=r"\$\.kind: must be one of"):
        ma.transport.request("POST", jobs, json_body=_wire_job("bad-kind", kind="batch"))


# ---------------------------------------------------------------------- v1

CFG = {"worker_server_num": 1, "app_url": "/b/src/", "boot_file_url": "/b/src/boot.py", "engine_id": 3,
       "spec_id": 2, "data_url": "/b/data/", "train_url": "/b/out/", "log_url": "/b/log/",
       "parameter": [{"label": "lr", "value": "0.1"}]}


@pytest.mark.parametrize(("change", "rule"), [
    ({"model_id": 1}, "rule 1 (code source)"),
    ({"boot_file_url": None}, "rule 1 (code source)"),
    ({"user_image_url": "img:1"}, "rule 1 (code source)"),
    ({"dataset_id": "d", "dataset_version_id": "v"}, "rule 2 (data source)"),
    ({"data_url": None}, "rule 2 (data source)"),
    ({"data_url": None, "dataset_id": "d"}, "rule 2 (data source)"),
    ({"data_url": None, "data_source": [{"type": "obs", "data_url": "/b/x/", "dataset_id": "d"}]},
     "rule 3 (data_source element)"),
    ({"data_url": None, "data_source": [{"type": "dataset", "dataset_id": "d"}]}, "rule 3 (data_source element)"),
    ({"worker_server_num": 0}, "rule 4 (workers and spec)"),
    ({"spec_id": None}, "rule 4 (workers and spec)"),
    ({"config_name": "bad name!"}, "rule 5 (config_name)"),
    ({"boot_file_url": "/elsewhere/boot.py"}, "rule 1 (code source)"),
    ({"app_url": None, "boot_file_url": None, "user_image_url": "i:1", "user_command": "python t.py"},
     "rule 1 (code source)"),
    ({"config_desc": "x" * 257}, "config_desc"),
    ({"parameter": [{"label": "lr", "value": 0.1}]}, "parameter"),
])
def test_v1_config_rules_rejected_client_side(ma, ml_tick, change, rule) -> None:
    cfg = {**CFG, "config_name": "c1", **change}
    cfg = {k: x for k, x in cfg.items() if x is not None}
    with pytest.raises(ConfigRuleError) as err:
        ma.training_v1.create_config(cfg)
    assert err.value.rule == rule and str(err.value).startswith(rule)
    assert ml_tick.request_count("POST", f"/v1/{ml_tick.project_id}/training-job-configs") == 0


def test_v1_rules_accept_valid_forms() -> None:
    check_job_config({**CFG, "data_url": None, "data_source": [{"type": "obs", "data_url": "/b/x/"},
                                                               {"type": "dataset", "dataset_id": "d",
                                                                "dataset_version": "v"}]})
    check_job_config({"worker_server_num": 1, "model_id": 2, "spec_id": 1, "data_url": "/b/x/"})
    check_job_config({"worker_server_num": 1, "user_image_url": "i:1",
                      "user_command": "bash /home/work/run_train.sh python /home/work/user-job-dir/app/t.py",
                      "app_url": "/b/s/", "boot_file_url": "/b/s/a.py", "spec_id": 1, "data_url": "/b/x/"})


def test_v1_configs_crud_and_server_rules(ma) -> None:
    v1 = ma.training_v1
    assert v1.create_config({**CFG, "config_name": "my_job_config", "config_desc": "d"})["is_success"]
    with pytest.raises(BadRequestError) as err:
        v1.create_config({**CFG, "config_name": "my_job_config"})
    assert "rule 5" in str(err.value) and err.value.error_code == "ModelArts.0103"
    with pytest.raises(BadRequestError, match="rule 4"):  # max_num of spec 1 is 1: only the server knows
        v1.create_config({**CFG, "config_name": "two", "spec_id": 1, "worker_server_num": 2})
    listing = v1.list_configs(search_content="my_", sort_by="create_time", order="asc")
    assert listing["config_total_count"] == 1 and listing["configs"][0]["engine_name"] == "PyTorch"
    assert v1.get_config("my_job_config")["spec_code"] == "modelarts.vm.cpu.8u"
    v1.update_config("my_job_config", {**CFG, "data_url": None, "dataset_id": None, "data_source": [
        {"type": "obs", "data_url": "/b/other/"}]} | {"data_url": None})
    assert v1.get_config("my_job_config")["data_source"][0]["data_url"] == "/b/other/"
    v1.delete_config("my_job_config")
    with pytest.raises(NotFoundError):
        v1.get_config("my_job_config")


@pytest.mark.parametrize("name", ["tags", "delete", "flavors", "autosearch", "batch-delete", "api-keys"])
def test_path_words_are_reserved_only_where_the_service_has_them(ma, name: str) -> None:
    """A v1 configuration may be called like a word of another route (``tags``)."""
    v1 = ma.training_v1
    v1.create_config({**CFG, "config_name": name})
    assert v1.get_config(name)["config_name"] == name
    v1.update_config(name, {**CFG, "config_desc": "changed"})
    v1.delete_config(name)
    with pytest.raises(NotFoundError):
        v1.get_config(name)


def test_v1_jobs_versions_logs(ma, ml_tick) -> None:
    v1 = ma.training_v1
    job = v1.create_job("my_training_job", CFG, job_desc="first")
    assert job.status == JobStatus.JOBSTAT_INIT and job.version_name == "V0001"
    final = job.wait(poll=0.02, timeout=5)
    assert JobStatus(final["status"]) is JobStatus.JOBSTAT_COMPLETED
    assert v1.list_jobs(status=10)["jobs"][0]["job_name"] == "my_training_job"
    assert [j["job_name"] for j in v1.iter_jobs(per_page=1)] == ["my_training_job"]
    v1.update_job(job.job_id, "second")
    files = v1.log_files(job.job_id, job.version_id)
    assert files == ["my_training_job.0"]
    assert "status 10" in v1.log(job.job_id, job.version_id, files[0])["content"]
    from mafmt.emulator._ml import ml_state

    ml_state(ml_tick.store).run_ticks = 10**9  # the new version keeps running until stopped
    ver = v1.create_version(job.job_id, {"pre_version_id": job.version_id, "data_url": "/b/data2/"},
                            job_desc="again")
    assert ver.version_name == "V0002"
    v1.stop_version(job.job_id, ver.version_id)
    assert JobStatus(ver.wait(poll=0.02, timeout=5)["status"]) is JobStatus.JOBSTAT_KILLED
    with pytest.raises(BadRequestError, match="only a running version"):
        v1.stop_version(job.job_id, ver.version_id)
    versions = v1.list_versions(job.job_id)
    assert versions["version_count"] == 2 and versions["versions"][0]["data_url"] == "/b/data2/"
    v1.delete_version(job.job_id, ver.version_id)
    assert v1.list_versions(job.job_id)["version_count"] == 1
    ml_state(ml_tick.store).run_ticks = 3
    ml_tick.fail_next("training", error_msg="boom")
    bad = v1.create_job("failing", CFG)
    with pytest.raises(TaskFailedError):
        bad.wait(poll=0.02, timeout=5)
    v1.delete_job(job.job_id)
    with pytest.raises(NotFoundError):
        v1.get_version(job.job_id, job.version_id)


def test_v1_visualization_and_catalogues(ma) -> None:
    v1 = ma.training_v1
    vis = v1.create_visualization("/b/train/", job_name="visualization_job", job_desc="d")
    vid = vis["job_id"]
    assert v1.list_visualizations(sort_by="create_time", order="asc")["job_total_count"] == 1
    v1.update_visualization(vid, "new")
    assert v1.get_visualization(vid)["job_desc"] == "new"
    v1.stop_visualization(vid)
    assert v1.get_visualization(vid)["status"] == JobStatus.JOBSTAT_KILLED
    v1.restart_visualization(vid)
    assert v1.get_visualization(vid)["status"] in (1, 8)
    v1.delete_visualization(vid)
    assert v1.model_id("Faster_RCNN_ResNet_v1_50") == 2
    assert v1.spec_id("modelarts.vm.cpu.2u") == (1, 1)
    assert v1.engine_id("PyTorch", "PyTorch-1.0.0-python3.6") == 3
    assert JobStatus(22).name == "MOUNT_FAILED" and JobStatus(11).failed and not JobStatus(8).terminal
