"""``mafmt dataset …`` and ``mafmt label-task …`` in-process against the emulator."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mafmt.cli import main


@pytest.fixture()
def run(emulator, monkeypatch):
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)

    def call(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    return call


def test_dataset_workflow(run, emulator, golden: Path) -> None:
    obs = Path(emulator.store.obs_root)
    (obs / "bkt/in/voc").mkdir(parents=True)
    (obs / "bkt/in/train.manifest").write_bytes((golden / "detect-multi-local-voc.manifest").read_bytes())
    for xml in (golden / "voc").glob("*.xml"):
        (obs / "bkt/in/voc" / xml.name).write_bytes(xml.read_bytes())
    code, out, _ = run("dataset", "create", "cli-ds", "--dataset-type", "1", "--input", "/bkt/raw/",
                       "--work-path", "/bkt/work/", "--wait", "--poll", "0.05", "--json")
    assert code == 0
    ds = json.loads(out)["dataset_id"]
    code, out, _ = run("dataset", "ls")
    assert code == 0 and "cli-ds" in out and out.startswith("DATASET_ID")
    code, out, _ = run("dataset", "import", ds, "obs://bkt/in/train.manifest", "--labels", "--wait", "--poll", "0.05",
                       "--json")
    assert code == 0 and json.loads(out)["status"] == "COMPLETED"
    code, out, _ = run("dataset", "samples", ds, "--json", "--max", "5")
    assert len(json.loads(out)) == 5
    code, out, _ = run("dataset", "publish", ds, "--wait", "--poll", "0.05", "--json")
    assert code == 0 and json.loads(out)["status"] == 1
    code, out, _ = run("dataset", "versions", ds)
    assert "V001" in out
    code, out, _ = run("dataset", "export", ds, "/bkt/exp/", "--wait", "--poll", "0.05", "--json")
    assert code == 0 and json.loads(out)["status"] == "SUCCESSED"
    code, out, _ = run("dataset", "update", ds, "--description", "hello")
    assert code == 0 and run("dataset", "show", ds, "--json")[1].count('"hello"') == 1
    code, out, _ = run("label-task", "create", ds, "t1", "--type", "1", "--json")
    tid = json.loads(out)["task_id"]
    assert run("label-task", "ls", ds)[1].count("t1") == 1
    assert json.loads(run("label-task", "show", ds, tid, "--json")[1])["task_name"] == "t1"
    assert run("dataset", "rm", ds)[0] == 0
    code, _, err = run("dataset", "show", ds)
    assert code == 1 and "ModelArts.4352" in err


def test_failed_wait_exits_1_and_usage_exits_2(run) -> None:
    code, out, _ = run("dataset", "create", "x", "--dataset-type", "1", "--input", "/b/in/", "--work-path", "/b/o/",
                       "--json")
    ds = json.loads(out)["dataset_id"]
    code, _, err = run("dataset", "import", ds, "/b/none/", "--wait", "--poll", "0.05")
    assert code == 1 and "ModelArts.4340" in err
    assert run("dataset", "create", "x", "--input", "/b/in/", "--work-path", "/b/o/")[0] == 2


def test_wrong_secret_from_cli(run, monkeypatch) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "wrong-secret")
    code, _, err = run("dataset", "ls")
    assert code == 1 and "ModelArts.0206" in err and "wrong-secret" not in err


@pytest.mark.parametrize("obs", [["--obs-root", "."], []], ids=["local-folder", "own-s3-server"])
def test_emulator_command_prints_environment(obs: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "mafmt", "emulator", "--duration", "0.2", *obs,
                           "--ak", "A", "--sk", "S", "--project-id", "P", "--json"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    assert env["HUAWEICLOUD_SDK_AK"] == "A" and env["MAFMT_MODELARTS_ENDPOINT"].startswith("http://127.0.0.1:")
    assert "HUAWEICLOUD_SDK_SK" not in env
    if not obs:
        assert env["MAFMT_OBS_ENDPOINT"].startswith("http://127.0.0.1:")


def test_emulator_own_s3_server_has_a_ready_bucket() -> None:
    """The offline walk-through in the README: the bucket exists as soon as the env is printed."""
    proc = subprocess.Popen([sys.executable, "-m", "mafmt", "emulator", "--duration", "30", "--ak", "A", "--sk", "S",
                             "--project-id", "P"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = []
        while len(lines) < 20 and not any(line.startswith("export MAFMT_OBS_PATH_STYLE") for line in lines):
            lines.append(proc.stdout.readline())
        assert "# bucket obs://mafmt-demo/ is ready\n" in lines
        env = dict(line[len("export "):].strip().split("=", 1) for line in lines if line.startswith("export "))
        env.update(HUAWEICLOUD_SDK_SK="S", PATH="")
        ls = subprocess.run([sys.executable, "-m", "mafmt", "obs", "ls", "obs://"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
        assert ls.returncode == 0, ls.stderr
        assert "mafmt-demo" in ls.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=30)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("quiet", [False, True])
def test_waits_show_a_progress_bar_on_a_terminal_only(run, emulator, golden: Path, quiet: bool) -> None:
    obs = Path(emulator.store.obs_root)
    (obs / "bkt/in/voc").mkdir(parents=True)
    (obs / "bkt/in/train.manifest").write_bytes((golden / "detect-multi-local-voc.manifest").read_bytes())
    for xml in (golden / "voc").glob("*.xml"):
        (obs / "bkt/in/voc" / xml.name).write_bytes(xml.read_bytes())
    _code, out, _ = run("dataset", "create", "bar", "--type", "object_detection", "--input", "/bkt/raw/",
                       "--work-path", "/bkt/work/", "--wait", "--poll", "0.05", "--json")
    ds = json.loads(out)["dataset_id"]
    err = _Tty()
    argv = ["dataset", "import", ds, "obs://bkt/in/train.manifest", "--labels", "--wait", "--poll", "0.05",
            *(["--quiet"] if quiet else [])]
    assert main(argv, out=io.StringIO(), err=err) == 0
    shown = err.getvalue()
    assert ("importing" in shown and "7/7" in shown) != quiet, shown
    plain = io.StringIO()  # not a terminal: no bar
    assert main(argv, out=io.StringIO(), err=plain) == 0 and plain.getvalue() == ""


def test_tables_show_names_and_local_times(run) -> None:
    code, _out, _ = run("dataset", "create", "named", "--dataset-type", "object_detection", "--input", "/b/in/",
                       "--work-path", "/b/o/", "--wait", "--poll", "0.05", "--json")
    assert code == 0
    table = run("dataset", "ls")[1]
    assert "object_detection" in table and "normal" in table and "T" in table.splitlines()[1].split()[-1]
    raw = json.loads(run("dataset", "ls", "--json")[1])[0]
    assert raw["status"] == 1 and raw["dataset_type"] == 1 and isinstance(raw["create_time"], int)
    shown = run("dataset", "show", raw["dataset_id"])[1]
    assert "status" in shown and "normal" in shown and "object_detection" in shown


def test_failed_dataset_show_gives_the_reason(run, emulator) -> None:
    emulator.fail_next("import", error_code="ModelArts.4340", error_msg="no valid file under the input")
    _code, out, _ = run("dataset", "create", "broken", "--type", "1", "--input", "/b/none/", "--work-path", "/b/o/",
                       "--json")
    ds = json.loads(out)["dataset_id"]
    emulator.wait_idle()
    shown = run("dataset", "show", ds)[1]
    assert "abnormal" in shown and "no valid file under the input" in shown
