"""Local training (SDK 8.1.2.1 and 9.1.2): OBS inputs on the local S3 server are
downloaded (zip archives unpacked safely), a tiny script runs, outputs and the log go
back to OBS; no ModelArts call is made."""

from __future__ import annotations

import io
import textwrap
import zipfile
from pathlib import Path

import pytest

from mafmt import storage
from mafmt.errors import FormatError, LimitError, UsageError
from mafmt.local_training import LocalJob, run_local, safe_unzip

SCRIPT = textwrap.dedent("""
    import argparse, os
    p = argparse.ArgumentParser()
    p.add_argument("--data_url")
    p.add_argument("--output_dir")
    p.add_argument("--epoch_num", type=int, default=1)
    p.add_argument("--dist", action="store_true")
    p.add_argument("--fail", action="store_true")
    a = p.parse_args()
    assert "HUAWEICLOUD_SDK_SK" not in os.environ
    files = sorted(os.listdir(a.data_url))
    for e in range(a.epoch_num):
        print(f"epoch {e + 1} on {len(files)} files dist={a.dist} env={os.environ.get('USER_ENV_VAR')}", flush=True)
    os.makedirs(a.output_dir, exist_ok=True)
    with open(os.path.join(a.output_dir, "model.txt"), "w") as fh:
        fh.write(",".join(files))
    raise SystemExit(3 if a.fail else 0)
""")


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture()
def obs_setup(s3):
    s3.backend.create_bucket("bucket")
    base = "obs://bucket/dis-train/cifar10/"
    storage.write_bytes(base + "dataset-zip/dataset.zip", _zip({"a.png": b"1", "sub/b.png": b"2"}))
    storage.write_bytes(base + "dataset/c.png", b"3")
    storage.write_bytes(base + "train/test-pytorch.py", SCRIPT.encode())
    return base


def test_seed_8_1_2_1_local_run(obs_setup, emulator_s3, tmp_path, monkeypatch, capsys) -> None:
    for key, value in emulator_s3.env().items():
        monkeypatch.setenv(key, value)
    code = textwrap.dedent("""
    from mafmt.modelarts.session import Session
    session = Session()
    import os
    from mafmt.modelarts.train_params import InputData
    base_bucket_path = "obs://modelarts-xxx-a0de02a6/dis-train/cifar10/"
    base_local_path = "/home/ma-user/work/cifar10/"
    # 形式1，数据在OBS上，且是一个压缩文件
    obs_path = os.path.join(base_bucket_path, "dataset-zip/dataset.zip")
    data_local = os.path.join(base_local_path, "dataset/")
    input_data = InputData(obs_path=obs_path, local_path=data_local, is_local_source=False)
    from mafmt.modelarts.train_params import TrainingFiles
    code_dir = os.path.join(base_local_path, "train/")

    # 这里提前将训练脚本放在了obs中，实际上训练脚本可以是任何来源，只要能够放到Notebook里边就行

    session.obs.download_file(os.path.join(base_bucket_path, "train/test-pytorch.py"), code_dir)
    training_file = TrainingFiles(code_dir=code_dir, boot_file="test-pytorch.py", obs_path=base_bucket_path + 'train/')
    from mafmt.modelarts.train_params import OutputData
    output = OutputData(local_path=os.path.join(base_local_path, "output/"),
    obs_path=os.path.join(base_bucket_path, 'output/'))
    from mafmt.modelarts.estimatorV2 import Estimator
    Estimator.get_framework_list(session)
    from mafmt.modelarts.estimatorV2 import Estimator
    parameters = []
    parameters.append({"name": "data_url", "value": data_local})
    parameters.append({"name": "output_dir", "value": os.path.join(base_local_path, "output/")})
    parameters.append({"name": "epoch_num", "value": 2})
    estimator = Estimator(session=session,
                          training_files=training_file,
                          outputs=[output],
                          parameters=parameters,
                          framework_type='PyTorch',
                          train_instance_type='local',
                          train_instance_count=1,
                          script_interpreter="/home/ma-user/anaconda3/envs/PyTorch-1.4/bin/python",
                          log_url=base_bucket_path + 'log/',
                          job_description='This is a image net train job')
    result = estimator.fit(inputs=[input_data], job_name="cifar10-dis")
    """).replace("obs://modelarts-xxx-a0de02a6/", "obs://bucket/").replace("/home/ma-user/work/", f"{tmp_path}/")
    scope: dict = {}
    exec(compile(code, "<8.1.2.1>", "exec"), scope)  # noqa: S102 - the book's example
    result = scope["result"]
    assert result.exit_code == 0 and result.ok
    assert "epoch 2 on 2 files" in capsys.readouterr().out
    assert storage.read_bytes(obs_setup + "output/model.txt") == b"a.png,sub"
    assert b"epoch 1" in storage.read_bytes(obs_setup + "log/cifar10-dis.log")
    assert (tmp_path / "cifar10/dataset/sub/b.png").read_bytes() == b"2"
    assert emulator_s3.request_count("POST", f"/v2/{emulator_s3.project_id}/training-jobs") == 0
    # step 10: the same files submitted as a remote job; the local code folder goes to obs_path first
    (tmp_path / "cifar10/train/extra.py").write_text("# added locally\n")
    step10 = textwrap.dedent("""
    from mafmt.modelarts.estimatorV2 import Estimator
    parameters = []
    parameters.append({"name": "data_url", "value": data_local})
    parameters.append({"name": "output_dir", "value": os.path.join(base_local_path, "output/")})
    parameters.append({"name": "epoch_num", "value": 2})
    estimator = Estimator(session=session,
                          training_files=training_file,
                          outputs=[output],
                          parameters=parameters,
                          framework_type='PyTorch',
                          train_instance_type='modelarts.vm.cpu.8u',
                          train_instance_count=1,
                          script_interpreter="/home/ma-user/anaconda3/envs/PyTorch-1.4/bin/python",
                          log_url=base_bucket_path + 'log/',
                          job_description='This is a image net train job')
    remote = estimator.fit(inputs=[input_data], job_name="cifar10-dis")
    """)
    exec(compile(step10, "<8.1.2.1 step 10>", "exec"), scope)  # noqa: S102 - the book's example
    info = scope["remote"].get_job_info()
    assert info["algorithm"]["code_dir"] == obs_setup + "train/"
    assert info["algorithm"]["inputs"][0]["remote"]["obs"]["obs_url"] == obs_setup + "dataset-zip/dataset.zip"
    assert storage.read_bytes(obs_setup + "train/extra.py") == b"# added locally\n"
    # 8.1.2.2 step 11: distributed remote job with a boolean flag
    step11 = step10.replace("train_instance_type='modelarts.vm.cpu.8u'",
                            "train_instance_type='modelarts.p3.large.public.distributed'").replace(
        "train_instance_count=1", "train_instance_count=2").replace(
        'parameters.append({"name": "epoch_num", "value": 2})',
        'parameters.append({"name": "epoch_num", "value": 2})\nparameters.append({"name": "dist"})').replace(
        'job_name="cifar10-dis"', 'job_name="cifar10-dis-1"')
    exec(compile(step11, "<8.1.2.2 step 11>", "exec"), scope)  # noqa: S102 - the book's example
    info = scope["remote"].get_job_info()
    assert info["status"]["tasks"] == ["worker-0", "worker-1"] and {"name": "dist"} in info["algorithm"]["parameters"]
    with pytest.raises(UsageError, match="one node"):  # 8.1.2.2 step 7 needs a second notebook
        local11 = step11.replace("'modelarts.p3.large.public.distributed'", "'local'")
        exec(compile(local11, "<8.1.2.2>", "exec"), scope)  # noqa: S102 - the book's example


def test_local_folder_input_flags_env_and_exit_status(obs_setup, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "secret-never-in-the-script")
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(SCRIPT)
    job = LocalJob(code_dir=str(code), boot_file="train.py", job_name="j",
                   inputs=[(obs_setup + "dataset/", str(tmp_path / "d"), "data_url", False)],
                   outputs=[(str(tmp_path / "o"), obs_setup + "out2/", "output_dir")],
                   parameters=[{"name": "dist"}, {"name": "fail"}], env={"USER_ENV_VAR": "v1"},
                   log_url=obs_setup + "log2/")
    out = io.StringIO()
    result = run_local(job, stream=out)
    assert result.exit_code == 3 and not result.ok
    assert "dist=True env=v1" in out.getvalue()
    assert storage.read_bytes(obs_setup + "out2/model.txt") == b"c.png"
    assert result.log_url == obs_setup + "log2/j.log"
    with pytest.raises(UsageError, match="boot file"):
        run_local(LocalJob(code_dir=str(code), boot_file="missing.py"))
    with pytest.raises(UsageError, match="no input data"):
        run_local(LocalJob(code_dir=str(code), boot_file="train.py",
                           inputs=[(obs_setup + "missing/", str(tmp_path / "m"), "data_url", False)]))


@pytest.mark.parametrize("name", ["../evil.txt", "/abs.txt", "a/../../evil.txt", "ok/../../../x"])
def test_safe_unzip_refuses_traversal(tmp_path, name) -> None:
    archive = tmp_path / "bad.zip"
    archive.write_bytes(_zip({"fine.txt": b"x", name: b"evil"}))
    with pytest.raises(UsageError, match="unsafe path"):
        safe_unzip(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out" / "fine.txt").exists()


def test_safe_unzip_refuses_symlinks(tmp_path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UsageError, match="unsafe path"):
        safe_unzip(archive, tmp_path / "out")


def test_seed_9_1_2_v1_local_with_environment(obs_setup, emulator_s3, tmp_path, monkeypatch) -> None:
    for key, value in emulator_s3.env().items():
        monkeypatch.setenv(key, value)
    src = tmp_path / "tensorflow_mlp_mnist_local_mode/train"
    src.mkdir(parents=True)
    (src / "tensorflow_mlp_mnist.py").write_text("print('mnist local run')\n")
    code = textwrap.dedent("""
    from mafmt.modelarts.session import Session
    from mafmt.modelarts.estimator import Estimator
    from mafmt.modelarts.environment import Environment
    from mafmt.modelarts.environment.conda_env import CondaDependencies

    session = Session()
    env = Environment("tensorflow_mlp_mnist")
    cd = CondaDependencies.create(pip_packages=["tensorflow==1.13.1", "requests"],
                                 conda_packages=["python=3.6.2"])
    env.conda = cd
    src_local_path = "/home/ma-user/work/tensorflow_mlp_mnist_local_mode/train/"
    train_file = "tensorflow_mlp_mnist.py"
    estimator = Estimator(modelarts_session=session,
                          code_dir=src_local_path,          # 本地训练脚本目录
                          boot_file=train_file,            # 本地训练启动脚本目录
                          train_instance_type='local',     # 指定为本地训练
                          train_instance_count=1,          # 训练节点个数
                          environment=env)                # 训练脚本运行的环境
    job_instance = estimator.fit(wait=False, job_name='my_training_job')
    """).replace("/home/ma-user/work/", f"{tmp_path}/")
    scope: dict = {}
    exec(compile(code, "<9.1.2>", "exec"), scope)  # noqa: S102 - the book's example
    assert scope["job_instance"].exit_code == 0
    assert "mnist local run" in Path(scope["job_instance"].log_file).read_text()
    assert scope["env"].pip_dependencies() == [{"installer": "pip", "packages": [
        {"package_name": "tensorflow", "package_version": "1.13.1", "restraint": "EXACT"},
        {"package_name": "requests"}]}]


def test_reprs_hide_environment_values() -> None:
    job = LocalJob(code_dir="/c/", boot_file="t.py", env={"TOKEN": "s3cr3t-value"})
    assert "s3cr3t-value" not in repr(job)


# --------------------------------------------------------------------------- zip limits and names


def _deflated(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_zip_bomb_by_ratio_is_refused_before_writing(tmp_path) -> None:
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(_deflated({"fine.txt": b"ok", "zeros.bin": bytes(8 << 20)}))  # ~8 KiB -> 8 MiB
    assert bomb.stat().st_size < 64 << 10
    with pytest.raises(LimitError, match="ratio over the limit of 200") as err:
        safe_unzip(bomb, tmp_path / "out")
    assert err.value.file == "bomb.zip"
    assert _listing(tmp_path / "out") == []


@pytest.mark.parametrize(("setting", "value", "members", "message"), [
    ("MAX_ZIP_BYTES", 1000, {"a.bin": b"\x01" * 600, "b.bin": b"\x02" * 600}, "more than the limit of 1000"),
    ("MAX_ZIP_MEMBERS", 5, {f"f{i}.txt": b"x" for i in range(6)}, "6 entries, more than the limit of 5"),
])
def test_zip_limits_are_read_when_called(tmp_path, monkeypatch, setting, value, members, message) -> None:
    from mafmt import limits

    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip(members))
    assert len(safe_unzip(archive, tmp_path / "before")) == len(members)  # fine with the defaults
    monkeypatch.setattr(limits, setting, value)
    with pytest.raises(LimitError, match=message):
        safe_unzip(archive, tmp_path / "out")
    assert _listing(tmp_path / "out") == []


def test_zip_sizes_are_counted_while_writing_not_taken_from_headers(tmp_path) -> None:
    from mafmt.local_training import _copy_member

    info = zipfile.ZipInfo("liar.bin")
    info.file_size = 10  # says 10 bytes, gives a megabyte
    with pytest.raises(LimitError, match="larger than its header says"):
        _copy_member(io.BytesIO(bytes(1 << 20)), io.BytesIO(), info, 0, 1 << 20, "x.zip")
    # a real archive whose headers understate a member: zipfile stops at the stated size and the
    # checksum no longer matches; a typed error, and nothing is left behind
    data = _zip({"first.txt": b"1", "big.txt": b"y" * 5000})
    patched = data.replace((5000).to_bytes(4, "little"), (50).to_bytes(4, "little"))
    archive = tmp_path / "liar.zip"
    archive.write_bytes(patched)
    with pytest.raises(FormatError, match="liar.zip"):
        safe_unzip(archive, tmp_path / "out")
    assert _listing(tmp_path / "out") == []


@pytest.mark.parametrize("name", ["", ".", "/abs.txt", "C:/win.txt", "C:win.txt", "a\\..\\..\\evil.txt",
                                  "\\\\server\\share.txt", "ok/../../up.txt"])
def test_zip_entry_names_are_validated(tmp_path, name) -> None:
    archive = tmp_path / "names.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("fine.txt", b"x")
        zf.writestr(zipfile.ZipInfo(name), b"evil")
    with pytest.raises(UsageError, match="unsafe path in names.zip"):
        safe_unzip(archive, tmp_path / "out")
    assert _listing(tmp_path / "out") == [] and not (tmp_path / "evil.txt").exists()


def test_zip_nul_in_a_name_and_damaged_archives_are_typed_errors(tmp_path) -> None:
    data = _zip({"fine.txt": b"x", "aXb.txt": b"evil"})
    archive = tmp_path / "nul.zip"
    archive.write_bytes(data.replace(b"aXb.txt", b"a\0b.txt"))
    with pytest.raises(UsageError, match=r"unsafe path in nul.zip: 'a\\x00b.txt'"):
        safe_unzip(archive, tmp_path / "out")  # zipfile alone would write it as "a"
    assert not (tmp_path / "out" / "a").exists()
    for bad in (b"", b"PK\x03\x04 not really a zip", _zip({"a.txt": b"a" * 100})[:-30]):
        archive.write_bytes(bad)
        with pytest.raises(FormatError):
            safe_unzip(archive, tmp_path / "out")
    ok = tmp_path / "dot.zip"
    with zipfile.ZipFile(ok, "w") as zf:
        zf.writestr(zipfile.ZipInfo("./"), b"")  # a folder entry for the root itself is harmless
        zf.writestr("a.txt", b"a")
    assert safe_unzip(ok, tmp_path / "dot") == [str((tmp_path / "dot" / "a.txt").resolve())]


def test_zip_bomb_from_obs_is_refused_in_a_local_run(obs_setup, tmp_path) -> None:
    storage.write_bytes(obs_setup + "bomb/data.zip", _deflated({"zeros.bin": bytes(8 << 20)}))
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(SCRIPT)
    job = LocalJob(code_dir=str(code), boot_file="train.py",
                   inputs=[(obs_setup + "bomb/data.zip", str(tmp_path / "d"), "data_url", False)])
    with pytest.raises(LimitError) as err:
        run_local(job, stream=io.StringIO())
    assert err.value.file == obs_setup + "bomb/data.zip"
    assert _listing(tmp_path / "d") == []
