"""Every ``mafmt obs`` verb through a table of user mistakes: each gives its exit code (2 for
a usage mistake, 1 for a failed operation), exactly one ``mafmt: error: ...`` line in the
command line's words, nothing on stdout and no traceback or Python/S3 internals."""

from __future__ import annotations

import io
import re
import socket

import pytest
from s3servers import TEST_AK, TEST_SK, S3Endpoint, use_endpoint

from mafmt import storage
from mafmt.cli import main
from mafmt.storage.config import ObsConfig
from mafmt.storage.obs import ObsBackend

INTERNALS = re.compile(r"Traceback|Errno|NoSuchKey|ConfigError|StorageError|UsageError|ConnectionError|IsFolder|"
                       r"InvalidURI|recursive=|endpoint=|listObjects|getObject|\bNone\b")

# (id, argv with {s3} = obs://mafmt-test/ and {tmp} = a local folder, setup, exit code, message part)
MISTAKES = [
    ("no-verb", ["obs"], None, 2, "give a verb: ls, cp, rm, cat or stat"),
    ("unknown-verb", ["obs", "move", "a", "b"], None, 2, "invalid choice: 'move'"),
    # ls
    ("ls-nothing", ["obs", "ls"], None, 2, "the following arguments are required: URI"),
    ("ls-missing-local", ["obs", "ls", "{tmp}/nope"], None, 2, "nope: no such file or folder"),
    ("ls-bad-scheme", ["obs", "ls", "http://example.com/x"], None, 2, "not a local path or an obs://"),
    ("ls-no-bucket", ["obs", "ls", "obs:///key"], None, 2, "no bucket name after obs://"),
    ("ls-missing-bucket", ["obs", "ls", "obs://no-such-bucket-here/"], None, 2, "no such bucket"),
    ("ls-no-endpoint", ["obs", "ls", "{s3}"], "no-endpoint", 2,
     "no OBS endpoint: set MAFMT_OBS_ENDPOINT (or MAFMT_OBS_REGION), or pass --endpoint URL"),
    ("ls-no-credentials", ["obs", "ls", "{s3}"], "no-credentials", 2,
     "no OBS credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or pass --anonymous"),
    ("ls-half-credentials", ["obs", "ls", "{s3}"], "half-credentials", 2, "set HUAWEICLOUD_SDK_SK"),
    ("ls-bad-environment", ["obs", "ls", "{s3}"], "bad-env", 2, "MAFMT_OBS_PATH_STYLE must be true or false"),
    ("ls-bad-signature", ["obs", "ls", "--signature", "v5", "{s3}"], None, 2, "invalid choice: 'v5'"),
    ("ls-bad-endpoint", ["obs", "ls", "--endpoint", "ftp://host", "{s3}"], None, 2,
     "--endpoint must be an http:// or https:// URL"),
    ("ls-zero-timeout", ["obs", "ls", "--timeout", "0", "{s3}"], None, 2, "--timeout must be a positive number"),
    ("ls-word-timeout", ["obs", "ls", "--timeout", "soon", "{s3}"], None, 2, "invalid float value: 'soon'"),
    ("ls-unknown-flag", ["obs", "ls", "--bogus", "{s3}"], None, 2, "unrecognized arguments: --bogus"),
    ("ls-dead-server", ["obs", "ls", "{s3}"], "dead", 1, "no answer from http://127.0.0.1:"),
    # cp
    ("cp-one-path", ["obs", "cp", "{tmp}/file.txt"], None, 2, "give a source and a destination"),
    ("cp-missing-local", ["obs", "cp", "{tmp}/nope.txt", "{s3}x/"], None, 2, "nope.txt: no such file or folder"),
    ("cp-missing-object", ["obs", "cp", "{s3}nope.txt", "{tmp}/"], None, 2, "nope.txt: no such object or folder"),
    ("cp-folder-without-r", ["obs", "cp", "{tmp}/dir", "{s3}x/"], None, 2, "dir: is a folder: use -r to copy it"),
    ("cp-several-into-file", ["obs", "cp", "{tmp}/file.txt", "{tmp}/dir/x.txt", "{s3}one.txt"], None, 2,
     "with several sources the destination must be a folder (end it with /)"),
    ("cp-zero-jobs", ["obs", "cp", "-j", "0", "{tmp}/file.txt", "{s3}x/"], None, 2, "-j/--jobs must be at least 1"),
    ("cp-word-jobs", ["obs", "cp", "-j", "many", "{tmp}/file.txt", "{s3}x/"], None, 2, "invalid int value: 'many'"),
    ("cp-missing-bucket", ["obs", "cp", "{tmp}/file.txt", "obs://no-such-bucket-here/x"], None, 2, "no such bucket"),
    ("cp-onto-itself", ["obs", "cp", "{tmp}/file.txt", "{tmp}/file.txt"], None, 2,
     "source and destination are the same"),
    ("cp-folder-into-file", ["obs", "cp", "-r", "{tmp}/dir", "{tmp}/file.txt"], None, 2,
     "file.txt: is a file; a folder can only be copied into a folder"),
    ("cp-no-credentials", ["obs", "cp", "{tmp}/file.txt", "{s3}x/"], "no-credentials", 2, "HUAWEICLOUD_SDK_AK"),
    ("cp-dead-server", ["obs", "cp", "-r", "{tmp}/dir", "{s3}x/"], "dead", 1, "no answer from http://127.0.0.1:"),
    # rm
    ("rm-local-folder", ["obs", "rm", "{tmp}/dir"], None, 2, "dir: is a folder: use -r to include everything below"),
    ("rm-obs-folder", ["obs", "rm", "{s3}data"], None, 2, "data: is a folder: use -r to include everything below"),
    ("rm-missing-local", ["obs", "rm", "{tmp}/nope.txt"], None, 2, "nope.txt: no such file or folder"),
    ("rm-missing-object", ["obs", "rm", "{s3}nope.txt"], None, 2, "nope.txt: no such object or folder"),
    ("rm-nothing", ["obs", "rm", "-r"], None, 2, "the following arguments are required: URI"),
    # cat
    ("cat-missing-local", ["obs", "cat", "{tmp}/nope.txt"], None, 2, "nope.txt: no such file or folder"),
    ("cat-local-folder", ["obs", "cat", "{tmp}/dir"], None, 2, "dir: is a folder, not a file"),
    ("cat-obs-folder", ["obs", "cat", "{s3}data/"], None, 2, "data/: is a folder, not a file"),
    ("cat-missing-object", ["obs", "cat", "{s3}nope.txt"], None, 2, "nope.txt: no such object or folder"),
    ("cat-bad-scheme", ["obs", "cat", "ftp://host/x"], None, 2, "not a local path or an obs://"),
    # stat
    ("stat-missing-local", ["obs", "stat", "{tmp}/nope.txt"], None, 2, "nope.txt: no such file or folder"),
    ("stat-missing-object", ["obs", "stat", "{s3}nope.txt"], None, 2, "nope.txt: no such object or folder"),
    ("stat-no-endpoint", ["obs", "stat", "{s3}data/a.txt"], "no-endpoint", 2, "MAFMT_OBS_ENDPOINT"),
    ("stat-dead-server", ["obs", "stat", "{s3}data/a.txt"], "dead", 1, "gave up after 3 requests in a row"),
    # a --size-table on OBS is checked like a local one (not a NoSuchKey from the reader, exit 1)
    ("convert-missing-size-table", ["convert", "{tmp}/file.txt", "{tmp}/o.json", "--size-table", "{s3}nope.csv"],
     None, 2, "--size-table obs://mafmt-test/nope.csv: no such file"),
    ("convert-size-table-folder", ["convert", "{tmp}/file.txt", "{tmp}/o.json", "--size-table", "{s3}data/"],
     None, 2, "--size-table obs://mafmt-test/data/: is a folder"),
    ("stats-missing-size-table", ["stats", "{tmp}/dir", "--size-table", "{s3}nope.csv"], None, 2,
     "--size-table obs://mafmt-test/nope.csv: no such file"),
]


def _setup(kind: str | None, s3, monkeypatch) -> None:
    for var in ("MAFMT_OBS_ENDPOINT", "MAFMT_OBS_REGION", "HUAWEICLOUD_SDK_REGION", "MAFMT_OBS_PATH_STYLE",
                "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    if kind == "no-endpoint":
        storage.configure_obs(ObsConfig(access_key=TEST_AK, secret_key=TEST_SK))
    elif kind == "no-credentials":
        storage.configure_obs(ObsConfig(endpoint=s3.endpoint.endpoint))
    elif kind == "half-credentials":
        monkeypatch.setenv("MAFMT_OBS_ENDPOINT", s3.endpoint.endpoint)
        monkeypatch.setenv("HUAWEICLOUD_SDK_AK", TEST_AK)
        storage.register_backend("obs", ObsBackend())  # configured from the environment on first use
    elif kind == "bad-env":
        monkeypatch.setenv("MAFMT_OBS_PATH_STYLE", "maybe")
        storage.register_backend("obs", ObsBackend())
    elif kind == "dead":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        use_endpoint(S3Endpoint(f"http://127.0.0.1:{port}"), backoff=0.01)


@pytest.mark.parametrize(("argv", "setup", "code", "message"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_obs_mistake(s3, tmp_path, monkeypatch, argv, setup, code, message) -> None:
    storage.write_bytes(s3.uri("data/a.txt"), b"a")
    storage.write_bytes(s3.uri("data/sub/b.txt"), b"b")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "x.txt").write_text("x")
    (tmp_path / "file.txt").write_text("f")
    _setup(setup, s3, monkeypatch)
    args = [a.replace("{s3}", s3.uri()).replace("{tmp}", str(tmp_path)) for a in argv]
    out, err = io.StringIO(), io.StringIO()
    got = main(args, out=out, err=err)
    lines = err.getvalue().splitlines()
    assert (got, len(lines)) == (code, 1), err.getvalue()
    assert lines[0].startswith("mafmt: error: ") and message in lines[0], lines[0]
    assert not INTERNALS.search(lines[0]), lines[0]
    assert TEST_SK not in lines[0] and out.getvalue() == ""


def test_every_obs_argument_has_help_and_every_verb_an_example() -> None:
    import argparse

    from mafmt.cli import build_parser

    parser = build_parser()
    obs = next(a for a in parser._subparsers._group_actions if isinstance(a, argparse._SubParsersAction))
    group = obs.choices["obs"]
    verbs = next(a for a in group._actions if isinstance(a, argparse._SubParsersAction))
    assert set(verbs.choices) == {"ls", "cp", "rm", "cat", "stat"}
    for name, p in verbs.choices.items():
        assert p.description and "\n" not in p.description.strip(), name
        assert p.epilog and f"mafmt obs {name} " in p.epilog, name
        for action in p._actions:
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)
    assert group.epilog and "mafmt obs ls" in group.epilog


def test_quiet_and_progress_flags(s3, tmp_path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("x" * 1000)
    out, err = io.StringIO(), io.StringIO()
    assert main(["obs", "cp", "-r", "--progress", str(tmp_path / "d"), s3.uri("p/")], out=out, err=err) == 0
    assert "copying: 100%" in err.getvalue() and "1 transferred" in out.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert main(["obs", "cp", "-r", "-q", "--progress", str(tmp_path / "d"), s3.uri("q/")], out=out, err=err) == 0
    assert (out.getvalue(), err.getvalue()) == ("", "")  # --quiet wins over --progress
    out, err = io.StringIO(), io.StringIO()
    assert main(["obs", "cp", "-r", str(tmp_path / "d"), s3.uri("r/")], out=out, err=err) == 0
    assert err.getvalue() == ""  # not a terminal: no bar
