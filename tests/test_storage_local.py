"""The storage interface on local paths, glob patterns, OBS settings from the environment,
and the lazy loading of the OBS backend."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mafmt import storage
from mafmt.errors import StorageError
from mafmt.storage.base import glob_prefix, glob_regex
from mafmt.storage.config import ObsConfig


def test_local_stat_ls_glob_delete(tmp_path):
    for rel in ("a.txt", "b.json", "sub/c.txt", "sub/deep/d.txt"):
        storage.write_bytes(str(tmp_path / rel), rel.encode())
    (tmp_path / ".x.123.tmp").write_bytes(b"in progress")
    info = storage.stat(str(tmp_path / "a.txt"))
    assert (info.size, info.is_dir, info.etag) == (5, False, None) and info.mtime
    assert storage.stat(str(tmp_path / "sub")).is_dir
    with pytest.raises(StorageError) as err:
        storage.stat(str(tmp_path / "nope"))
    assert err.value.code == "NoSuchKey"
    assert [i.name for i in storage.ls(str(tmp_path))] == ["a.txt", "b.json", "sub"]
    assert [i.name for i in storage.ls(str(tmp_path), recursive=True)] == ["a.txt", "b.json", "c.txt", "d.txt"]
    assert [i.name for i in storage.ls(str(tmp_path), prefix="b")] == ["b.json"]
    root = str(tmp_path).replace(os.sep, "/")
    assert list(storage.glob(f"{root}/*.txt")) == [f"{root}/a.txt"]
    assert list(storage.glob(f"{root}/**/*.txt")) == [f"{root}/a.txt", f"{root}/sub/c.txt", f"{root}/sub/deep/d.txt"]
    assert list(storage.glob(f"{root}/a.txt")) == [f"{root}/a.txt"]
    with pytest.raises(StorageError):
        storage.delete(str(tmp_path / "sub"))
    assert storage.delete(str(tmp_path / "sub"), recursive=True) == 2
    assert storage.delete(str(tmp_path / "a.txt")) == 1 and not (tmp_path / "a.txt").exists()


def test_local_append_keeps_content_and_tail_is_readable(tmp_path):
    path = str(tmp_path / "log.txt")
    storage.write_bytes(path, b"one")
    with storage.atomic_write(path, "a") as fh:
        fh.seek(-1, os.SEEK_END)
        assert fh.read(1) == b"e"
        fh.write(b"\ntwo")
    assert storage.read_bytes(path) == b"one\ntwo"


@pytest.mark.parametrize(
    "pattern,path,match",
    [
        ("obs://b/*.xml", "obs://b/a.xml", True),
        ("obs://b/*.xml", "obs://b/d/a.xml", False),
        ("obs://b/**/*.xml", "obs://b/a.xml", True),
        ("obs://b/**/*.xml", "obs://b/d/e/a.xml", True),
        ("obs://b/d/**", "obs://b/d/e/a.xml", True),
        ("obs://b/img_??.jpg", "obs://b/img_01.jpg", True),
        ("obs://b/img_??.jpg", "obs://b/img_1.jpg", False),
        ("obs://b/[ab]*.txt", "obs://b/b1.txt", True),
        ("obs://b/[!ab]*.txt", "obs://b/b1.txt", False),
        ("obs://b/a+b (1).txt", "obs://b/a+b (1).txt", True),
    ],
)
def test_glob_patterns(pattern, path, match):
    assert bool(glob_regex(pattern).match(path)) is match


def test_glob_prefix():
    assert glob_prefix("obs://b/d/e*/x") == "obs://b/d/"
    assert glob_prefix("*.txt") == ""


def test_join_several_parts():
    assert storage.join("obs://b/x", "images", "train") == "obs://b/x/images/train"


def test_obs_config_from_environment():
    env = {"HUAWEICLOUD_SDK_AK": "AKIDEXAMPLE00000001", "HUAWEICLOUD_SDK_SK": "secret-secret-secret",
           "HUAWEICLOUD_SDK_SECURITY_TOKEN": "token-token-token", "MAFMT_OBS_REGION": "cn-north-4",
           "MAFMT_OBS_SIGNATURE": "V4", "MAFMT_OBS_PATH_STYLE": "true"}
    cfg = ObsConfig.from_env(env)
    assert (cfg.access_key, cfg.signature, cfg.path_style, cfg.region) == ("AKIDEXAMPLE00000001", "v4", True,
                                                                          "cn-north-4")
    assert cfg.server == "https://obs.cn-north-4.myhuaweicloud.com"
    text = repr(cfg) + str(cfg)
    assert "secret-secret" not in text and "token-token" not in text and "AKIDEXAMPLE00000001" not in text
    assert "AKID****0001" in text
    cfg = ObsConfig.from_env({**env, "MAFMT_OBS_ENDPOINT": "http://127.0.0.1:9000/"}, workers=4)
    assert (cfg.server, cfg.workers) == ("http://127.0.0.1:9000", 4)
    with pytest.raises(StorageError, match="signature"):
        ObsConfig.from_env({"MAFMT_OBS_SIGNATURE": "v3"})
    with pytest.raises(StorageError, match="PATH_STYLE"):
        ObsConfig.from_env({"MAFMT_OBS_PATH_STYLE": "maybe"})
    with pytest.raises(StorageError, match="endpoint"):
        _ = ObsConfig.from_env({}).server


def test_obs_config_from_session_object():
    class Session:
        access_key = "AKSESSION0000000001"
        secret_key = "sk-from-session-000"
        region_name = "cn-east-3"

    cfg = ObsConfig.from_session(Session(), signature="v2")
    assert (cfg.access_key, cfg.region, cfg.signature) == ("AKSESSION0000000001", "cn-east-3", "v2")
    assert cfg.server == "https://obs.cn-east-3.myhuaweicloud.com"


def test_import_is_lazy_and_needs_no_credentials():
    code = ("import sys, mafmt, mafmt.storage, mafmt.cli; mafmt.cli.build_parser(); "
            "print(sorted(m for m in ('obs', 'mafmt.storage.obs', 'moto') if m in sys.modules))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD_", "MAFMT_OBS_"))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_obs_uri_without_endpoint_is_a_clear_error(monkeypatch):
    for var in ("MAFMT_OBS_ENDPOINT", "MAFMT_OBS_REGION", "HUAWEICLOUD_SDK_REGION"):
        monkeypatch.delenv(var, raising=False)
    previous = storage._BACKENDS.pop("obs", None)
    try:
        with pytest.raises(StorageError, match="MAFMT_OBS_ENDPOINT"):
            storage.read_bytes("obs://bucket/key")
    finally:
        storage._BACKENDS.pop("obs", None)
        if previous is not None:
            storage.register_backend("obs", previous)


@given(st.lists(st.sampled_from(["a", "b.jpg", ".", "..", "", "c d", "车"]), min_size=1, max_size=4),
       st.lists(st.sampled_from(["x", "..", ".", "y", ""]), max_size=3), st.booleans())
def test_relative_to_a_folder_gives_what_relpath_gives(rest: list[str], folder: list[str], absolute: bool) -> None:
    """The shortcut for files listed under a folder agrees with os.path.relpath on every spelling."""
    base = ("/tmp/" if absolute else "") + "/".join(folder)
    if not base:
        return
    target = base.rstrip("/") + "/" + "/".join(rest)
    rel = os.path.relpath(os.path.abspath(target), os.path.abspath(base)).replace(os.sep, "/")
    assert storage.relative_to(target, base) == (rel if rel.startswith("..") else "./" + rel)


@pytest.mark.parametrize("recursive", [False, True])
def test_iter_files_lists_what_ls_lists_without_stat_and_refuses_the_same_links(tmp_path, recursive):
    for rel in ("b.txt", "a.txt", "sub/c.txt", "sub/deep/d.txt", "z/e.txt"):
        storage.write_bytes(str(tmp_path / rel), rel.encode())
    (tmp_path / ".x.123.tmp").write_bytes(b"in progress")
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    (tmp_path / "linked").symlink_to(tmp_path / "sub", target_is_directory=True)
    root = str(tmp_path)
    want = [i.uri for i in storage.ls(root, recursive=recursive) if not i.is_dir]
    assert list(storage.iter_files(root, recursive=recursive)) == want
    assert str(tmp_path / "link.txt") in want and (str(tmp_path / "linked" / "c.txt") in want) == recursive
    assert list(storage.iter_files(str(tmp_path / "a.txt"))) == [str(tmp_path / "a.txt")]
    for name, target in (("nowhere", tmp_path / "gone"), ("loop", tmp_path / "loop")):
        (tmp_path / name).symlink_to(target)
        errors = []
        for listing in (lambda: [i.uri for i in storage.ls(root, recursive=recursive)],
                        lambda: list(storage.iter_files(root, recursive=recursive))):
            with pytest.raises(StorageError, match="symbolic link that cannot be followed") as err:
                listing()
            errors.append(str(err.value))
        assert errors[0] == errors[1] and name in errors[0]
        (tmp_path / name).unlink()


def _count_listings(monkeypatch) -> list[str]:
    from mafmt.storage import local

    listed: list[str] = []
    scandir = os.scandir

    def counting(path):
        listed.append(os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(local.os, "scandir", counting)
    return listed


def test_a_snapshot_lists_each_folder_once_and_only_while_it_is_active(tmp_path, monkeypatch):
    for rel in ("a.txt", "sub/b.txt"):
        storage.write_bytes(str(tmp_path / rel), b"x")
    listed = _count_listings(monkeypatch)
    snap = storage.Snapshot()
    with snap:
        first = list(storage.iter_files(str(tmp_path), True))
        (tmp_path / "sub" / "c.txt").write_bytes(b"new")  # (a source that changes meanwhile: not for a snapshot)
        with storage.Snapshot():  # an inner one uses the active one
            assert list(storage.iter_files(str(tmp_path), True)) == first
        assert [i.name for i in storage.ls(str(tmp_path), recursive=True)] == ["a.txt", "b.txt"]
    assert sorted(listed) == sorted([str(tmp_path), str(tmp_path / "sub")])
    assert [os.path.basename(p) for p in storage.iter_files(str(tmp_path), True)] == ["a.txt", "b.txt", "c.txt"]
    with snap:  # entered again: what it listed before
        assert len(list(storage.iter_files(str(tmp_path), True))) == 2
    assert len(listed) == 4


@pytest.mark.parametrize("labels", [0, 3, 8, 9, 12])
def test_detection_works_out_a_yolo_layout_only_where_labels_may_be(labels, tmp_path, monkeypatch):
    """A VOC folder (its text files: ImageSets lists, a label map) is told from YOLO without the
    YOLO layout worked out or the ImageSets read; a YOLO folder, however few its label files
    (one of them empty), is still YOLO."""
    from mafmt import converters
    from mafmt.converters import pascal_voc, yolo

    calls = []
    for mod, name in ((yolo, "discover"), (pascal_voc, "_split_usage")):
        real = getattr(mod, name)
        monkeypatch.setattr(mod, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    voc = tmp_path / "voc"
    (voc / "Annotations").mkdir(parents=True)
    (voc / "ImageSets" / "Main").mkdir(parents=True)
    (voc / "Annotations" / "a.xml").write_text(
        "<annotation><filename>a.jpg</filename><size><width>4</width><height>4</height></size></annotation>")
    (voc / "ImageSets" / "Main" / "train.txt").write_text("a\n")
    (voc / "labelmap.txt").write_text("background\ncat\n")
    assert converters.detect(str(voc)).name == "voc" and calls == []
    if labels:
        flat = tmp_path / "flat"
        flat.mkdir()
        for i in range(labels):
            (flat / f"{i}.jpg").write_bytes(b"")
            (flat / f"{i}.txt").write_text("" if i == 0 else f"0 0.5 0.5 0.{i % 9 + 1} 0.2\n")
        calls.clear()
        assert converters.detect(str(flat)).name == "yolo" and "discover" in calls


def test_detection_lists_a_dataset_folder_once(tmp_path, monkeypatch):
    from mafmt import converters

    (tmp_path / "Annotations").mkdir()
    (tmp_path / "JPEGImages").mkdir()
    for i in range(3):
        (tmp_path / "Annotations" / f"{i}.xml").write_text(
            f"<annotation><filename>{i}.jpg</filename><size><width>4</width><height>4</height><depth>3</depth>"
            "</size></annotation>")
    listed = _count_listings(monkeypatch)
    assert converters.detect(str(tmp_path)).name == "voc"
    assert len(listed) == len(set(listed)) and str(tmp_path) in listed
