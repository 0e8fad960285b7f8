"""The saved crashing inputs of ``tests/data/crashers`` (found and minimised by ``bench/fuzz.py``):
``mafmt inspect``, ``validate`` and ``convert`` exit 0, 1 or 2 with at most one ``mafmt: error:``
line and never print a traceback -- in-process (``mafmt.cli.main``) and in a subprocess.

``tests/data/crashers/index.json`` lists each input with the reader format, the op and the
options it crashed with; the README there has the table.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import fuzzing
import pytest

from mafmt import cli

CRASHERS = Path(__file__).parent / "data" / "crashers"
_INDEX = CRASHERS / "index.json"
INDEX: dict[str, Any] = json.loads(_INDEX.read_text(encoding="utf-8")) if _INDEX.exists() else {"crashers": []}
RECORDS: list[dict[str, Any]] = INDEX["crashers"]
IDS = [r["path"] for r in RECORDS]
#: seconds one in-process command may take before it counts as a hang
BUDGET = 30.0


def _targets(record: dict[str, Any]) -> list[str]:
    """The writers a crasher is converted into: the one it crashed in (if any) and one more."""
    op = record.get("op") or ""
    first = op.split(":", 1)[1] if op.startswith("convert:") else "manifest"
    return [first, "voc" if first != "voc" else "coco"]


def _dst(out: Path, writer: str, options: dict[str, Any]) -> str:
    path, _ = fuzzing.writer_target(str(out), writer, options)
    return path


def commands(record: dict[str, Any], path: Path, out: Path) -> dict[str, list[list[str]]]:
    """The CLI calls for one crasher: ``inspect``, ``validate`` and ``convert`` into two writers."""
    fmt = record["format"]
    opts = record["options"]
    root = path if path.is_dir() else path.parent
    shared: list[str] = []
    if opts.get("images"):
        shared += ["--images", str(root)]
    if opts.get("size_table"):
        shared += ["--size-table", str(root / "sizes.csv")]
    converts = []
    for writer in _targets(record):
        wopts = opts.get("writer_options", {}).get(writer, {})
        argv = ["convert", str(path), _dst(out, writer, wopts), "--from", fmt, "--to", writer,
                "--on-error", opts.get("on_error", "raise"), *shared]
        for key, value in wopts.items():
            if not key.startswith("_"):
                argv += ["-o", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
        converts.append(argv)
    return {"inspect": [["inspect", str(path), "--format", fmt]],
            "validate": [["validate", str(path), "--format", fmt]],
            "convert": converts}


def check_output(argv: list[str], code: Any, err: str) -> list[str]:
    """What is wrong with one CLI run (empty when it behaved)."""
    problems = []
    if code not in (0, 1, 2):
        problems.append(f"exit code {code!r}")
    if "Traceback (most recent call last)" in err:
        problems.append("a traceback on stderr")
    errors = [ln for ln in err.splitlines() if ln.startswith("mafmt: error:")]
    if len(errors) > 1:
        problems.append(f"{len(errors)} 'mafmt: error:' lines")
    return [f"mafmt {' '.join(argv)}: {p}\n{err[-1500:]}" for p in problems]


def test_index_matches_the_files() -> None:
    if not _INDEX.exists():
        pytest.skip("no saved crashers")
    listed = {r["path"] for r in RECORDS}
    on_disk = {f"{d.name}/{p.name}" for d in CRASHERS.iterdir() if d.is_dir() for p in d.iterdir()}
    assert listed == on_disk
    for r in RECORDS:
        assert r["format"] and r["op"] and r["layout"] in ("file", "dir", "tar")


@pytest.mark.parametrize("command", ["inspect", "validate", "convert"])
@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_cli_in_process(record: dict[str, Any], command: str, tmp_path: Path) -> None:
    path = fuzzing.load_crasher(CRASHERS, record, tmp_path / "src")
    problems = []
    for argv in commands(record, path, tmp_path / "out")[command]:
        out, err = io.StringIO(), io.StringIO()
        try:
            with fuzzing.deadline(BUDGET):
                code = cli.main(argv, out=out, err=err)
        except (Exception, fuzzing.CaseTimeout) as exc:  # noqa: BLE001 - what the test is about
            problems.append(f"mafmt {' '.join(argv)} raised {type(exc).__name__} ({record['site']}):\n"
                            + "".join(traceback.format_exception(exc))[-3000:])
            continue
        problems += check_output(argv, code, err.getvalue())
    assert not problems, f"{record['path']} ({record['site']}):\n" + "\n\n".join(problems)


def _subprocess(record: dict[str, Any], tmp: Path) -> list[str]:
    path = fuzzing.load_crasher(CRASHERS, record, tmp / "src")
    op = record.get("op") or "read"
    command = "convert" if op.startswith("convert:") else "validate" if op == "validate" else "inspect"
    argv = commands(record, path, tmp / "out")[command][0]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    try:
        proc = subprocess.run([sys.executable, "-m", "mafmt", *argv], capture_output=True, timeout=120, env=env,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return [f"[{record['path']}] mafmt {' '.join(argv)}: no exit after 120 s"]
    return [f"[{record['path']}] {p}" for p in check_output(argv, proc.returncode, proc.stderr.decode("utf-8", "replace"))]


@pytest.mark.skipif(not RECORDS, reason="no saved crashers")
def test_cli_subprocess(tmp_path: Path) -> None:
    """One real ``python -m mafmt`` run per crasher (its crashing command), four at a time."""
    with ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda ir: _subprocess(ir[1], tmp_path / str(ir[0])), enumerate(RECORDS)))
    problems = [p for r in results for p in r]
    assert not problems, f"{len(problems)} of {len(RECORDS)} crashers:\n\n" + "\n\n".join(problems)
