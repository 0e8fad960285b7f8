"""Every dataset command through a table of the mistakes users make: the exit code says usage
(2) or bad data / failed operation (1), the message is one line ``mafmt: error: ...`` in CLI
terms, and there is never a traceback. (The obs and API commands have tables of their own.)"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mafmt.cli import build_parser, main

GOLDEN = Path(__file__).parent / "data" / "golden"
MANIFEST = str(GOLDEN / "detect-multi-local-voc.manifest")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "notes.txt").write_text("mine\n")
    (tmp_path / "mine.png").write_bytes(b"not mafmt's picture")
    (tmp_path / "bad_sizes.csv").write_text("filename,width,height\na.jpg,10\nb.jpg\n")
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "existing").mkdir()
    (tmp_path / "existing" / "keep.txt").write_text("keep\n")
    (tmp_path / "latin1.manifest").write_bytes('{"source":"caf\xe9.jpg"}\n'.encode("latin-1"))
    return {k: str(tmp_path / k) for k in ("notes.txt", "mine.png", "bad_sizes.csv", "bad.json", "existing",
                                           "latin1.manifest")} | {
        "dir": str(tmp_path)}


def _mistakes(f: dict[str, str]) -> list[tuple[list[str], int, str]]:
    d = f["dir"]
    return [
        # convert
        (["convert", f"{d}/nope.json", f"{d}/o.json"], 2, "no such file or folder"),
        (["convert", MANIFEST, f"{d}/o.json", "--images", f"{d}/nope"], 2, "--images"),
        (["convert", MANIFEST, f"{d}/o.json", "--images", f["notes.txt"]], 2, "--images"),
        (["convert", MANIFEST, f"{d}/o.json", "--size-table", f"{d}/nope.csv"], 2, "--size-table"),
        (["convert", MANIFEST, f"{d}/o.json", "--size-table", f["bad_sizes.csv"]], 1, "bad size entry"),
        (["convert", MANIFEST, f["notes.txt"], "--to", "coco"], 2, "--overwrite"),
        (["convert", MANIFEST, f["existing"], "--to", "voc"], 2, "--overwrite"),
        (["convert", MANIFEST, f"{d}/o.xyz"], 2, "--to"),
        (["convert", MANIFEST, f"{d}/o", "--to", "nope"], 2, "unknown format"),
        (["convert", MANIFEST, f"{d}/o", "--to", "yolo", "-o", "nonsense=1"], 2, "unknown option"),
        (["convert", MANIFEST, f"{d}/o", "--to", "yolo", "-o", "novalue"], 2, "KEY=VALUE"),
        (["convert", f["bad.json"], f"{d}/o.manifest", "--from", "coco"], 1, "invalid JSON"),
        (["convert", str(GOLDEN / "text_entity.manifest"), f"{d}/t", "--to", "voc"], 1, "nothing written"),
        (["convert", MANIFEST], 2, "DST"),
        # inspect / validate / qa / stats / draw
        (["inspect", f"{d}/nope"], 2, "no such file or folder"),
        (["inspect", MANIFEST, "--format", "nope"], 2, "unknown format"),
        (["inspect", MANIFEST, "--encoding", "nope"], 2, "--encoding"),
        (["validate", MANIFEST, "--max-errors", "-5"], 2, "--max-errors"),
        (["validate", f"{d}/nope"], 2, "no such file or folder"),
        (["validate", f["latin1.manifest"]], 1, "invalid"),
        (["qa", MANIFEST, "--labels", f"{d}/nope.txt"], 2, "--labels"),
        (["qa", MANIFEST, "--images", f"{d}/nope"], 2, "--images"),
        (["qa"], 2, "PATH"),
        (["stats", MANIFEST, "--plot", f"{d}/x.xyz"], 2, "picture"),
        (["stats", MANIFEST, "--plot", "/proc/no/such/x.png"], 1, "cannot"),
        (["stats", MANIFEST, "--plot", f["mine.png"]], 2, "--overwrite"),
        (["draw", MANIFEST, "--images", d, "--out", f["notes.txt"]], 2, "is a file"),
        (["draw", MANIFEST, "--images", d, "--out", f["existing"]], 2, "--overwrite"),
        (["draw", MANIFEST, "--images", d, "--out", "/proc/forbidden"], 1, "cannot"),
        (["draw", MANIFEST, "--images", d, "--out", f"{d}/p", "--limit", "0"], 2, "--limit"),
        (["formats", "--nope"], 2, "unrecognized"),
        (["nope"], 2, "invalid choice"),
    ]


def test_every_mistake_is_one_line_with_the_right_exit_code(files: dict[str, str]) -> None:
    for argv, code, words in _mistakes(files):
        out, err = io.StringIO(), io.StringIO()
        got = main(argv, out=out, err=err)
        text = err.getvalue()
        if argv[0] == "validate" and got == 1:  # invalid data: findings on stdout, a verdict, no error line
            assert words in out.getvalue(), argv
            continue
        assert got == code, (argv, got, text)
        lines = [line for line in text.splitlines() if line.startswith("mafmt: error:")]
        assert len(lines) == 1 and words in lines[0], (argv, text)
        assert "Traceback" not in text and "Error:" not in lines[0].split("mafmt: error:", 1)[1], (argv, text)
    assert (Path(files["dir"]) / "notes.txt").read_text() == "mine\n"  # nothing was overwritten on the way
    assert (Path(files["dir"]) / "mine.png").read_bytes() == b"not mafmt's picture"
    assert (Path(files["existing"]) / "keep.txt").read_text() == "keep\n"


def test_json_callers_get_the_error_on_stdout(files: dict[str, str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["convert", MANIFEST, files["notes.txt"], "--to", "coco", "--json"], out=out, err=err) == 2
    answer = json.loads(out.getvalue())
    assert answer["exit_code"] == 2 and "--overwrite" in answer["error"]


def test_a_subprocess_shows_no_traceback_either(files: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "mafmt", "draw", MANIFEST, "--images", files["dir"], "--out",
                           files["notes.txt"]], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


@pytest.mark.parametrize("command", ["convert", "inspect", "validate", "qa", "stats", "draw", "formats"])
def test_help_teaches(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    sub = _subparsers(build_parser())[command]
    assert sub.description and "example" in (sub.epilog or "")
    for action in sub._actions:
        if not isinstance(action, argparse._HelpAction):
            assert action.help, (command, action.dest)  # every argument says what it is for
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    if command != "formats":
        assert "coco" in text and "modelarts-voc" in text  # the format names are listed
