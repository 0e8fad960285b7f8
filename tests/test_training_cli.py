"""``mafmt train|model|service …`` in-process against the emulator."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from mafmt.cli import main


@pytest.fixture()
def run(ml_tick, monkeypatch):
    for key, value in ml_tick.env().items():
        monkeypatch.setenv(key, value)

    def call(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    return call


def test_train_commands(run) -> None:
    code, out, err = run("train", "create", "cli-job", "--flavor", "modelarts.vm.cpu.8u", "--framework", "PyTorch",
                         "--framework-version", "PyTorch-1.4.0-python3.6", "--code-dir", "obs://b/c/",
                         "--boot-file", "t.py", "--param", "epochs=2", "--param", "dist", "--input",
                         "data_url=obs://b/in/", "--output", "out=obs://b/out/", "--env", "A=1", "--json")
    assert code == 0, err
    job = json.loads(out)
    job_id = job["metadata"]["id"]
    assert job["algorithm"]["parameters"] == [{"name": "epochs", "value": "2"}, {"name": "dist"}]
    code, out, _ = run("train", "ls", "--name", "cli")
    assert code == 0 and out.startswith("ID") and "cli-job" in out
    code, out, _ = run("train", "logs", job_id, "--follow", "--poll", "0.02")
    assert code == 0 and "training finished" in out
    assert run("train", "show", job_id)[1].count("Completed") >= 1
    assert "cpuUsage" in run("train", "metrics", job_id, "--json")[1]
    code, _, err = run("train", "stop", job_id)
    assert code == 1 and "ModelArts.2796" in err
    assert "modelarts.vm.cpu.2u" in run("train", "flavors", "--type", "CPU")[1]
    assert "PyTorch" in run("train", "engines")[1]
    assert run("train", "update", job_id, "--description", "renamed")[0] == 0
    assert json.loads(run("train", "show", job_id, "--json")[1])["metadata"]["description"] == "renamed"
    assert run("train", "tag", job_id, "team=cv", "stage=dev")[0] == 0
    assert "team" in run("train", "tags", job_id)[1] and "cv" in run("train", "tags")[1]
    assert run("train", "untag", job_id, "team")[0] == 0 and "team" not in run("train", "tags", job_id)[1]
    assert "phase changed" in run("train", "events", job_id)[1]
    assert "worker-0" in run("train", "tasks", job_id)[1]
    assert run("train", "logs", job_id, "--all")[1].endswith("training finished\n")
    assert run("train", "check-name", "cli-job")[1] == "cli-job: taken\n"
    assert run("train", "rm", job_id)[0] == 0
    code, out, err = run("train", "algorithm", "create", "algo", "--code-dir", "obs://b/c/", "--boot-file", "t.py",
                         "--framework", "PyTorch", "--framework-version", "PyTorch-1.4.0-python3.6", "--json")
    assert code == 0, err
    aid = json.loads(out)["metadata"]["id"]
    assert "algo" in run("train", "algorithm", "ls")[1]
    code, out, err = run("train", "create", "by-algo", "--flavor", "modelarts.vm.cpu.8u", "--algorithm-id", aid,
                         "--json")
    assert code == 0 and json.loads(out)["algorithm"]["code_dir"] == "obs://b/c/", err
    other = json.loads(out)["metadata"]["id"]
    assert run("train", "algorithm", "update", aid, "--description", "d")[0] == 0
    assert json.loads(run("train", "algorithm", "show", aid, "--json")[1])["metadata"]["description"] == "d"
    assert run("train", "rm", other)[0] == 0
    assert run("train", "algorithm", "rm", aid)[0] == 0
    code, _, err = run("train", "create", "bad", "--flavor", "f", "--code-dir", "obs://b/c/", "--boot-file", "t.py")
    assert code == 2 and "--framework" in err and "framework_type" not in err  # in CLI terms


def test_model_and_service_commands(run, ml_tick) -> None:
    model_dir = Path(ml_tick.store.obs_root) / "b/m/model"
    model_dir.mkdir(parents=True)
    (model_dir / "customize_service.py").write_text("")
    code, out, err = run("model", "create", "cli-model", "--version", "1.0.0", "--source", "/b/m/", "--type",
                         "PyTorch", "--wait", "--poll", "0.02", "--json")
    assert code == 0, err
    model_id = json.loads(out)["model_id"]
    assert "published" in run("model", "ls")[1]
    assert run("model", "show", model_id, "--json")[0] == 0
    code, out, err = run("service", "deploy", "cli-svc", "--model", f"{model_id}:100", "--wait", "--poll", "0.02",
                         "--json")
    assert code == 0, err
    sid = json.loads(out)["service_id"]
    code, out, _ = run("service", "predict", sid, '{"x": 1}')
    assert code == 0 and json.loads(out)["received"] == {"x": 1}
    assert "cli-svc" in run("service", "ls")[1]
    assert json.loads(run("service", "monitor", sid, "--json")[1])["monitors"][0]["invocation_times"] == 1
    assert json.loads(run("service", "stop", sid, "--json")[1])["status"] == "stopped"
    code, out, _ = run("service", "start", sid, "--wait", "--poll", "0.02", "--json")
    assert json.loads(out)["status"] == "running"
    assert "SUCCESS" in run("service", "logs", sid)[1]
    assert run("service", "update", sid, "--description", "new")[0] == 0
    code, _, err = run("service", "deploy", "bad", "--model", f"{model_id}:60")
    assert code == 2 and "sum to 100" in err
    assert run("service", "rm", sid)[0] == 0
    assert run("model", "rm", model_id)[0] == 0


def test_service_v2_commands(run) -> None:
    code, out, err = run("service", "v2", "create", "svc2", "--image", "swr.example.com/o/i:1", "--wait", "--poll",
                         "0.02", "--json")
    assert code == 0, err
    sid = json.loads(out)["id"]
    assert json.loads(out)["status"] == "RUNNING"
    assert "svc2" in run("service", "v2", "ls")[1] and "RUNNING" in run("service", "v2", "show", sid)[1]
    code, out, err = run("service", "v2", "add-deployment", sid, "green", "--image", "swr.example.com/o/i:2",
                         "--json")
    assert code == 0, err
    did = json.loads(out)["id"]
    assert "green" in run("service", "v2", "deployments", sid)[1]
    assert json.loads(run("service", "v2", "show-deployment", sid, did, "--json")[1])["name"] == "green"
    assert run("service", "v2", "rm-deployment", sid, did)[0] == 0
    assert json.loads(run("service", "v2", "stop", sid, "--json")[1])["status"] == "STOPPED"
    code, out, _ = run("service", "v2", "start", sid, "--wait", "--poll", "0.02", "--json")
    assert json.loads(out)["status"] == "RUNNING"
    assert run("service", "v2", "update", sid, "--description", "new")[0] == 0
    assert "service" in run("service", "v2", "events", sid)[1]
    assert run("service", "v2", "rm", sid)[0] == 0 and "svc2" not in run("service", "v2", "ls")[1]


def test_train_show_gives_the_failure_reason(run, ml_tick) -> None:
    ml_tick.fail_next("training", error_msg="CUDA out of memory")
    code, out, err = run("train", "create", "doomed", "--flavor", "modelarts.vm.cpu.8u", "--framework", "PyTorch",
                         "--framework-version", "PyTorch-1.4.0-python3.6", "--code-dir", "obs://b/c/",
                         "--boot-file", "t.py", "--json")
    job_id = json.loads(out)["metadata"]["id"]
    code, _, err = run("train", "create", "doomed2", "--flavor", "modelarts.vm.cpu.8u", "--algorithm-id", "x",
                       "--wait")
    assert code == 1 and err.startswith("mafmt: error: ")
    import time

    deadline = time.time() + 5
    while "Failed" not in run("train", "show", job_id)[1] and time.time() < deadline:
        time.sleep(0.05)
    shown = run("train", "show", job_id)[1]
    assert "failure_reason" in shown and "CUDA out of memory" in shown and "phase" in shown
    assert "failure_reason" not in run("train", "show", job_id, "--json")[1]  # --json: the wire object
