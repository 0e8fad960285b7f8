"""User mistakes on every API sub-command (issue 11): exit 2 for usage (a missing or bad
flag value, missing credentials or endpoint), exit 1 for a failed operation (an unknown
ID, an unreachable endpoint); always one line ``mafmt: error: ...`` in CLI terms, never a
traceback. And every API sub-command's ``--help`` teaches: a description, an example,
help on every argument."""

from __future__ import annotations

import argparse
import io
import socket

import pytest

from mafmt.cli import build_parser, main

NOID = "nosuchid0000000000000"
UUID = "00000000-0000-0000-0000-000000000000"

#: (argv, exit code, text the message must contain)
USAGE = [
    (["dataset", "ls", "--max", "-1"], "--max"),
    (["dataset", "ls", "--type", "boxes"], "--type: unknown labeling type 'boxes'"),
    (["dataset", "create", "x", "--input", "/b/in/", "--work-path", "/b/o/"], "--type"),
    (["dataset", "create", "x", "--type", "object_detection", "--work-path", "/b/o/"], "--input"),
    (["dataset", "create", "x", "--dataset-type", "7", "--input", "/b/i/", "--work-path", "/b/o/"], "--dataset-type"),
    (["dataset", "create", "x", "--type", "1", "--input", "/b/i/", "--work-path", "/b/o/", "--timeout", "soon"],
     "--timeout"),
    (["dataset", "show"], "DATASET_ID"),
    (["dataset", "import", "d"], "path"),
    (["dataset", "export", "d", "/b/e/", "--export-type", "some"], "--export-type"),
    (["dataset", "publish", "d", "--poll", "0"], "--poll"),
    (["dataset", "samples", "d", "--max", "zero"], "--max"),
    (["label-task", "create", "d", "t"], "--type"),
    (["label-task", "create", "d", "t", "--type", "boxes"], "--type"),
    (["label-task", "ls", "d", "--sort-dir", "up"], "--sort-dir"),
    (["train", "create", "j", "--framework", "PyTorch"], "--flavor"),
    (["train", "create", "j", "--flavor", "f", "--code-dir", "obs://b/c/", "--boot-file", "t.py"], "--framework"),
    (["train", "create", "j", "--flavor", "f", "--framework", "PyTorch", "--code-dir", "obs://b/c/"], "--boot-file"),
    (["train", "create", "j", "--flavor", "f", "--framework", "PyTorch", "--nodes", "0"], "--nodes"),
    (["train", "create", "j", "--flavor", "f", "--framework", "PyTorch", "--env", "NOEQUALS"], "--env"),
    (["train", "create", "j", "--flavor", "f", "--framework", "PyTorch", "--env", "1X=2"], "environment variable"),
    (["train", "ls", "--max", "0"], "--max"),
    (["train", "logs", "j", "--poll", "-1"], "--poll"),
    (["train", "tag", "j", "novalue"], "KEY=VALUE"),
    (["train", "rm"], "JOB_ID"),
    (["train", "flavors", "--type", "TPU"], "--type"),
    (["train", "algorithm", "create", "a"], "--code-dir"),
    (["train", "algorithm", "show"], "ALGORITHM_ID"),
    (["model", "create", "m", "--version", "1.0.0", "--source", "/b/m/"], "--type"),
    (["model", "create", "m", "--version", "01.0.0", "--source", "/b/m/", "--type", "PyTorch"], "--version"),
    (["model", "create", "m", "--version", "1.0.0", "--source", "/b/m/", "--type", "PyTorch", "--dependencies",
      "{bad"], "--dependencies"),
    (["model", "ls", "--status", "shiny"], "--status"),
    (["service", "deploy", "s"], "--model"),
    (["service", "deploy", "s", "--model", "m:abc"], "--model"),
    (["service", "deploy", "s", "--model", "m:60"], "sum to 100"),
    (["service", "deploy", "s", "--model", "m", "--instances", "0"], "--instances"),
    (["service", "predict", "s", "{not json"], "DATA"),
    (["service", "v2", "create", "s"], "--image"),
    (["service", "v2", "create", "s", "--image", "i", "--port", "x"], "--port"),
    (["service", "v2", "update", "s"], "--description"),
    (["service", "v2", "rm"], "SERVICE_ID"),
    (["publish", "examples", "obs://b/p/"], "--dataset"),
    (["publish", "examples", "obs://b/p/", "--dataset", "x", "--missing-images", "maybe"], "--missing-images"),
    (["publish", "nope.manifest", "obs://b/p/", "--dataset", "x"], "nope.manifest"),
    (["emulator", "--port", "x"], "--port"),
    (["emulator", "--task-delay", "-1"], "--task-delay"),
]

#: commands that reach the service with an ID it does not know -> exit 1
UNKNOWN = [
    ["dataset", "show", NOID], ["dataset", "rm", NOID], ["dataset", "versions", NOID], ["dataset", "samples", NOID],
    ["dataset", "update", NOID, "--description", "d"], ["dataset", "import", NOID, "/b/in/"],
    ["dataset", "export", NOID, "/b/exp/"], ["dataset", "publish", NOID],
    ["label-task", "ls", NOID], ["label-task", "show", NOID, NOID],
    ["label-task", "create", NOID, "t", "--type", "object_detection"],
    ["train", "show", UUID], ["train", "stop", UUID], ["train", "tasks", UUID], ["train", "events", UUID],
    ["train", "logs", UUID], ["train", "metrics", UUID], ["train", "tags", UUID], ["train", "tag", UUID, "a=b"],
    ["train", "untag", UUID, "a"], ["train", "rm", UUID], ["train", "rm", UUID, UUID],
    ["train", "create", "j", "--flavor", "modelarts.vm.cpu.2u", "--algorithm-id", UUID],
    ["train", "algorithm", "show", UUID], ["train", "algorithm", "rm", UUID],
    ["train", "algorithm", "update", UUID, "--description", "d"],
    ["model", "show", UUID], ["model", "rm", UUID],
    ["service", "show", UUID], ["service", "monitor", UUID], ["service", "logs", UUID], ["service", "start", UUID],
    ["service", "stop", UUID], ["service", "update", UUID, "--description", "d"], ["service", "rm", UUID],
    ["service", "predict", UUID, "{}"], ["service", "deploy", "s", "--model", UUID],
    ["service", "v2", "show", UUID], ["service", "v2", "start", UUID], ["service", "v2", "stop", UUID],
    ["service", "v2", "events", UUID], ["service", "v2", "deployments", UUID], ["service", "v2", "rm", UUID],
    ["service", "v2", "update", UUID, "--description", "d"], ["service", "v2", "show-deployment", UUID, UUID],
    ["service", "v2", "rm-deployment", UUID, UUID], ["service", "v2", "add-deployment", UUID, "d", "--image", "i"],
]

#: one harmless call per command group, for the credential and endpoint mistakes
REACH = [["dataset", "ls"], ["label-task", "ls", NOID], ["train", "ls"], ["train", "algorithm", "ls"],
         ["model", "ls"], ["service", "ls"], ["service", "v2", "ls"],
         ["publish", "examples/dataset/train.manifest", "obs://b/p/", "--dataset", "x"]]


@pytest.fixture(scope="module")
def emulator_once(tmp_path_factory):
    """One emulator for the whole table (the cases do not change its state in ways that matter)."""
    from mafmt.emulator import Emulator

    root = tmp_path_factory.mktemp("obs")
    with Emulator(ak="MAFMTTESTAK0000000001", sk="mafmtTestSecretKey0000000000000000000001",
                  project_id="0123456789abcdef0123456789abcdef", obs_root=str(root)) as emu:
        yield emu


@pytest.fixture()
def cli(emulator_once, monkeypatch):
    for key, value in emulator_once.env().items():
        monkeypatch.setenv(key, value)
    for key in ("HUAWEICLOUD_SDK_USERNAME", "HUAWEICLOUD_SDK_PASSWORD", "HUAWEICLOUD_SDK_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)

    def call(argv: list[str]) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(argv, out=out, err=err)
        return code, err.getvalue()

    return call


def _one_line(err: str) -> None:
    assert err.startswith("mafmt: error: "), err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and "Error(" not in err


@pytest.mark.parametrize(("argv", "text"), USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_usage_mistakes_exit_2(cli, argv: list[str], text: str) -> None:
    code, err = cli(argv)
    assert code == 2, err
    _one_line(err)
    assert text in err


@pytest.mark.parametrize("argv", UNKNOWN, ids=[" ".join(a) for a in UNKNOWN])
def test_unknown_ids_exit_1(cli, argv: list[str]) -> None:
    code, err = cli(argv)
    assert code == 1, err
    _one_line(err)
    assert "ModelArts." in err  # the service's error code


@pytest.mark.parametrize("argv", REACH, ids=[" ".join(a) for a in REACH])
def test_missing_credentials_exit_2(cli, monkeypatch, argv: list[str]) -> None:
    monkeypatch.delenv("HUAWEICLOUD_SDK_AK")
    monkeypatch.delenv("HUAWEICLOUD_SDK_SK")
    code, err = cli(argv)
    assert code == 2, err
    _one_line(err)
    assert "HUAWEICLOUD_SDK_AK" in err


@pytest.mark.parametrize("argv", REACH[:3], ids=[" ".join(a) for a in REACH[:3]])
def test_only_half_of_the_credentials_exit_2(cli, monkeypatch, argv: list[str]) -> None:
    monkeypatch.delenv("HUAWEICLOUD_SDK_SK")
    code, err = cli(argv)
    assert code == 2 and "HUAWEICLOUD_SDK_SK" in err
    _one_line(err)


@pytest.mark.parametrize("argv", REACH[:2], ids=[" ".join(a) for a in REACH[:2]])
def test_bad_endpoint_exit_2_and_dead_endpoint_exit_1(cli, monkeypatch, argv: list[str]) -> None:
    code, err = cli([*argv, "--endpoint", "modelarts.example.com"])
    assert code == 2 and "--endpoint" in err
    _one_line(err)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("MAFMT_MODELARTS_ENDPOINT", dead)
    code, err = cli(argv)
    assert code == 1, err
    _one_line(err)
    assert "no answer from http://127.0.0.1:" in err and "connection refused" in err and "ConnectError" not in err


# --------------------------------------------------------------------------- help that teaches

API = ("dataset", "label-task", "train", "model", "service", "emulator", "publish")


def _subcommands() -> list[tuple[str, argparse.ArgumentParser]]:
    top = build_parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    found: list[tuple[str, argparse.ArgumentParser]] = []

    def walk(name: str, parser: argparse.ArgumentParser) -> None:
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not nested:
            found.append((name, parser))
        for action in nested:
            for verb, child in action.choices.items():
                walk(f"{name} {verb}", child)

    for cmd in API:
        walk(cmd, sub.choices[cmd])
    return found


def test_every_api_subcommand_teaches() -> None:
    commands = _subcommands()
    assert len(commands) > 60
    for name, parser in commands:
        assert parser.description, f"{name}: no description"
        assert parser.epilog and "example:\n  mafmt " in parser.epilog, f"{name}: no example"
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"{name}: {action.option_strings or action.dest} has no help text"
