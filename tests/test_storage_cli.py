"""``mafmt obs ls|cp|rm|cat|stat`` and obs:// in the other commands (moto)."""

from __future__ import annotations

import io
import json

from conftest import GOLDEN

from mafmt import storage
from mafmt.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_obs_commands(s3, tmp_path):
    src = tmp_path / "ds"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.txt").write_text("beta")
    code, out, err = run("obs", "cp", "-r", str(src), s3.uri("in/"))
    assert code == 0 and "2 transferred, 0 skipped, 0 failed" in out
    code, out, _ = run("obs", "cp", str(src), s3.uri("x/"))
    assert code == 2  # a folder needs -r
    code, out, _ = run("obs", "ls", "obs://")
    assert out.splitlines() == [s3.uri()]
    code, out, _ = run("obs", "ls", s3.uri("in/ds/"))
    assert out.splitlines() == [s3.uri("in/ds/a.txt"), s3.uri("in/ds/sub/")]
    code, out, _ = run("obs", "ls", "-r", "--json", s3.uri("in"))
    assert [r["uri"] for r in json.loads(out)] == [s3.uri("in/ds/a.txt"), s3.uri("in/ds/sub/b.txt")]
    code, out, _ = run("obs", "ls", "-l", s3.uri("in/ds/"))
    assert "DIR" in out and "           5" in out
    code, out, _ = run("obs", "cat", s3.uri("in/ds/a.txt"), s3.uri("in/ds/sub/b.txt"))
    assert (code, out) == (0, "alphabeta")
    code, out, _ = run("obs", "stat", "--json", s3.uri("in/ds/a.txt"))
    info = json.loads(out)[0]
    assert (info["size"], info["is_dir"]) == (5, False) and info["etag"]
    code, out, _ = run("obs", "stat", s3.uri("in/ds/sub"))
    assert "type:  folder" in out
    code, out, _ = run("obs", "cp", "-r", "--json", "--skip-existing", str(src), s3.uri("in/"))
    assert json.loads(out)["skipped"] == 2
    code, out, _ = run("obs", "cp", "-r", "--no-keep-last-dir", s3.uri("in/ds"), str(tmp_path / "back"))
    assert code == 0 and (tmp_path / "back" / "sub" / "b.txt").read_text() == "beta"
    code, out, _ = run("obs", "cp", s3.uri("in/ds/a.txt"), s3.uri("in/ds/sub/b.txt"), str(tmp_path / "two") + "/")
    assert code == 0 and (tmp_path / "two" / "b.txt").exists()
    code, out, err = run("obs", "rm", s3.uri("in/ds/sub"))
    assert code == 2 and err == f"mafmt: error: {s3.uri('in/ds/sub')}: is a folder: use -r to include everything below it\n"
    code, out, _ = run("obs", "rm", "-r", s3.uri("in/ds/sub"))
    assert (code, out) == (0, "removed 1 file(s)\n")
    code, out, err = run("obs", "cat", s3.uri("in/ds/sub/b.txt"))
    assert code == 2 and err == f"mafmt: error: {s3.uri('in/ds/sub/b.txt')}: no such object or folder\n"


def test_s3_and_s3a_uris_in_every_verb(s3, tmp_path):
    (tmp_path / "f.txt").write_text("same store")
    bucket = s3.bucket
    assert run("obs", "cp", str(tmp_path / "f.txt"), f"s3://{bucket}/k/f.txt")[0] == 0
    code, out, _ = run("obs", "ls", f"s3a://{bucket}/k/")
    assert (code, out) == (0, f"s3a://{bucket}/k/f.txt\n")
    assert run("obs", "cat", f"obs://{bucket}/k/f.txt")[1] == "same store"
    assert json.loads(run("obs", "stat", "--json", f"s3://{bucket}/k/f.txt")[1])[0]["size"] == 10
    code, _, err = run("obs", "rm", f"s3a://{bucket}/k")
    assert code == 2 and "use -r" in err
    assert run("obs", "rm", "-r", f"s3a://{bucket}/k")[1] == "removed 1 file(s)\n"


def test_other_commands_take_obs_uris(s3):
    storage.write_bytes(s3.uri("m/V002.manifest"), (GOLDEN / "V002.manifest").read_bytes())
    code, out, err = run("inspect", s3.uri("m/V002.manifest"), "--json")
    assert code == 0, err
    assert json.loads(out)["samples"] > 0
    code, out, err = run("validate", s3.uri("m/V002.manifest"))
    assert "valid" in out
    code, out, err = run("convert", s3.uri("m/V002.manifest"), s3.uri("m/copy.manifest"))
    assert code == 0, err
    assert storage.read_bytes(s3.uri("m/copy.manifest")).count(b"\n") == (GOLDEN / "V002.manifest").read_bytes().count(
        b"\n")


def test_connection_options_and_server_down(tmp_path):
    from s3servers import S3Endpoint, use_endpoint

    use_endpoint(S3Endpoint("http://127.0.0.1:2"), retries=0)  # the options below replace the endpoint only
    code, _, err = run("obs", "ls", "--endpoint", "http://127.0.0.1:1", "--signature", "v2", "obs://b/")
    try:
        assert code == 1 and "no answer from http://127.0.0.1:1: connection refused" in err
    finally:
        storage._BACKENDS.pop("obs", None)


def test_environment_contract_in_a_fresh_process(s3, tmp_path):
    """HUAWEICLOUD_SDK_AK/SK + MAFMT_OBS_* are all a new process needs (plain http endpoint)."""
    import os
    import subprocess
    import sys

    storage.write_bytes(s3.uri("env/a.txt"), b"from env")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD_", "MAFMT_OBS_"))}
    env.update(HUAWEICLOUD_SDK_AK=s3.endpoint.access_key, HUAWEICLOUD_SDK_SK=s3.endpoint.secret_key,
               HUAWEICLOUD_SDK_SECURITY_TOKEN="temporary-token-value", MAFMT_OBS_ENDPOINT=s3.endpoint.endpoint,
               MAFMT_OBS_SIGNATURE="v4", MAFMT_OBS_REGION="us-east-1", MAFMT_OBS_PATH_STYLE="true")
    for signature in ("v4", "v2", "obs"):
        env["MAFMT_OBS_SIGNATURE"] = signature
        out = subprocess.run([sys.executable, "-m", "mafmt", "obs", "cat", s3.uri("env/a.txt")], env=env,
                             capture_output=True, timeout=60, check=False)
        assert (out.returncode, out.stdout) == (0, b"from env"), out.stderr
    env["MAFMT_OBS_SIGNATURE"] = "v5"
    out = subprocess.run([sys.executable, "-m", "mafmt", "obs", "ls", s3.uri()], env=env, capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 2 and "unknown OBS signature" in out.stderr  # a configuration mistake is usage
    assert s3.endpoint.secret_key not in out.stderr and "temporary-token-value" not in out.stderr
