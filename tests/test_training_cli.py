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
    assert run("train", "rm", job_id)[0] == 0
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
