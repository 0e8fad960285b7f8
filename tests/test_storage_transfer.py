"""Transfers against moto: the SDK's path rules, parallel folder copies, skip-existing,
resumable multipart upload and ranged download, retries and the progress line."""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

import pytest
from s3servers import MULTIPART_MIN, use_endpoint

from mafmt import storage
from mafmt.errors import StorageError
from mafmt.storage import transfer
from mafmt.storage.transfer import TransferError


def _tree(root: Path, n: int = 300, seed: int = 7) -> dict[str, bytes]:
    """``n`` files in nested folders (sizes 0..4 KiB, one empty folder)."""
    import random

    rnd = random.Random(seed)
    files = {}
    for i in range(n):
        rel = f"d{i % 4}/s{i % 7}/f{i:04d}.bin" if i % 3 else f"top{i:04d}.txt"
        data = rnd.randbytes(rnd.randrange(0, 4096))
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[rel] = data
    (root / "empty" / "inner").mkdir(parents=True)
    return files


def _same_tree(a: Path, b: Path) -> None:
    cmp = filecmp.dircmp(a, b)
    assert not cmp.left_only and not cmp.right_only and not cmp.diff_files, (cmp.left_only, cmp.right_only)
    for sub in cmp.common_dirs:
        _same_tree(a / sub, b / sub)


def test_folder_round_trip_few_hundred_files_byte_equal(s3, tmp_path):
    src = tmp_path / "dataset"
    files = _tree(src)
    up = storage.copy(str(src), s3.uri("up"), workers=8)
    assert (up.transferred, up.failed, up.skipped) == (300, 0, 0)
    assert up.bytes == sum(len(v) for v in files.values())
    keys = {i.uri for i in storage.ls(s3.uri("up/dataset/"), recursive=True)}
    assert keys == {s3.uri(f"up/dataset/{k}") for k in files}  # keep_last_dir, no empty folders
    down = storage.copy(s3.uri("up/dataset"), str(tmp_path / "back"), workers=8)
    assert (down.transferred, down.failed) == (300, 0)
    _same_tree(src / "d0", tmp_path / "back" / "dataset" / "d0")
    for rel, data in files.items():
        assert (tmp_path / "back" / "dataset" / rel).read_bytes() == data
    assert not (tmp_path / "back" / "dataset" / "empty").exists()


def test_sdk_path_rules_and_keep_last_dir(s3, tmp_path):
    src = tmp_path / "ma-user"
    (src / "sub").mkdir(parents=True)
    (src / "file1.txt").write_bytes(b"one")
    (src / "sub" / "file2.txt").write_bytes(b"two")
    # 1. local file -> obs object; 2. obs object -> local file
    storage.copy(str(src / "file1.txt"), s3.uri("dir1/file1.txt"))
    storage.copy(s3.uri("dir1/file1.txt"), str(tmp_path / "copy.txt"))
    assert (tmp_path / "copy.txt").read_bytes() == b"one"
    # 3. folder up, keep_last_dir True / False
    storage.copy(str(src), s3.uri("dir1"), keep_last_dir=True)
    storage.copy(str(src), s3.uri("flat/"), keep_last_dir=False)
    assert storage.exists(s3.uri("dir1/ma-user/sub/file2.txt")) and storage.exists(s3.uri("flat/sub/file2.txt"))
    # 4. folder down
    storage.copy(s3.uri("dir1/ma-user"), str(tmp_path / "d1"), keep_last_dir=True)
    storage.copy(s3.uri("dir1/ma-user/"), str(tmp_path / "d2"), keep_last_dir=False)
    assert (tmp_path / "d1/ma-user/sub/file2.txt").read_bytes() == b"two"
    assert (tmp_path / "d2/sub/file2.txt").read_bytes() == b"two"
    # the named helpers
    transfer.upload_file(str(src / "file1.txt"), s3.uri("h/"))
    transfer.upload_dir(str(src) + "/", s3.uri("h/"))
    assert storage.exists(s3.uri("h/file1.txt")) and storage.exists(s3.uri("h/ma-user/sub/file2.txt"))
    transfer.download_file(s3.uri("h/file1.txt"), str(tmp_path / "dl") + "/")
    transfer.download_dir(s3.uri("h/ma-user/"), str(tmp_path / "dl") + "/")
    assert (tmp_path / "dl/file1.txt").read_bytes() == b"one"
    assert (tmp_path / "dl/ma-user/sub/file2.txt").read_bytes() == b"two"
    # obs -> obs is a server-side copy, file and folder
    storage.copy(s3.uri("h/ma-user"), s3.uri("h2/"))
    assert storage.read_bytes(s3.uri("h2/ma-user/sub/file2.txt")) == b"two"
    for bad in ((transfer.upload_file, str(src / "file1.txt"), s3.uri("noslash")),
                (transfer.upload_dir, str(src), "/local/not/obs/"),
                (transfer.download_dir, s3.uri("h/ma-user"), str(tmp_path) + "/"),
                (transfer.download_file, s3.uri("h/file1.txt"), str(tmp_path / "x"))):
        with pytest.raises(StorageError) as err:
            bad[0](bad[1], bad[2])
        assert err.value.code == "InvalidPath"
    with pytest.raises(StorageError) as err:
        storage.copy(s3.uri("none/such"), str(tmp_path / "n"))
    assert err.value.code == "NoSuchKey"


def test_skip_existing_by_size_and_etag(s3, tmp_path):
    src = tmp_path / "s"
    _tree(src, n=40)
    assert storage.copy(str(src), s3.uri("k/")).transferred == 40
    (src / "top0000.txt").write_bytes(b"changed")
    again = storage.copy(str(src), s3.uri("k/"), skip_existing=True)
    assert (again.transferred, again.skipped) == (1, 39)
    storage.copy(s3.uri("k/s"), str(tmp_path / "out"))
    back = storage.copy(s3.uri("k/s"), str(tmp_path / "out"), skip_existing=True)
    assert (back.transferred, back.skipped) == (0, 40)


def test_multipart_upload_interrupted_then_resumed(s3, tmp_path):
    part = MULTIPART_MIN
    backend = use_endpoint(s3.endpoint, multipart_threshold=2 * part, part_size=part, workers=2)
    big = tmp_path / "big.bin"
    data = os.urandom(12 * part + 1234)  # 13 parts
    big.write_bytes(data)
    ckpt = tmp_path / "ckpt"
    sent: list[int] = []

    def stop_after_five(n: int) -> None:
        sent.append(n)
        if len(sent) == 5:
            raise KeyboardInterrupt  # like Ctrl-C in the middle of the upload

    with pytest.raises(KeyboardInterrupt):
        backend.upload_file(str(big), s3.uri("big.bin"), stop_after_five, checkpoint_dir=str(ckpt))
    assert not storage.exists(s3.uri("big.bin"))
    assert len(os.listdir(ckpt)) == 1
    uploads = s3.client().listMultipartUploads(s3.bucket).body.upload
    assert len(uploads) == 1
    done_before = len(s3.client().listParts(s3.bucket, "big.bin", uploads[0].uploadId).body.parts)
    assert 5 <= done_before < 13
    resumed: list[int] = []
    etag = backend.upload_file(str(big), s3.uri("big.bin"), resumed.append, checkpoint_dir=str(ckpt))
    assert resumed[0] == done_before * part  # parts already there are not sent again
    assert sum(resumed) == len(data) and etag and etag.endswith("-13")
    assert storage.read_bytes(s3.uri("big.bin")) == data
    assert os.listdir(ckpt) == []
    assert not s3.client().listMultipartUploads(s3.bucket).body.upload
    # the multipart ETag lets skip_existing recognise the file
    assert storage.copy(str(big), s3.uri("big.bin"), skip_existing=True).skipped == 1


def test_changed_source_restarts_multipart_and_drops_old_parts(s3, tmp_path):
    part = MULTIPART_MIN
    backend = use_endpoint(s3.endpoint, multipart_threshold=2 * part, part_size=part, workers=1)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(4 * part))
    calls: list[int] = []

    def stop(n: int) -> None:
        calls.append(n)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backend.upload_file(str(big), s3.uri("big.bin"), stop, checkpoint_dir=str(tmp_path / "c"))
    new = os.urandom(3 * part + 5)
    big.write_bytes(new)  # the file changed before the resume
    backend.upload_file(str(big), s3.uri("big.bin"), checkpoint_dir=str(tmp_path / "c"))
    assert storage.read_bytes(s3.uri("big.bin")) == new
    assert not s3.client().listMultipartUploads(s3.bucket).body.upload  # old upload aborted


def test_ranged_download_interrupted_then_resumed(s3, tmp_path):
    part = MULTIPART_MIN
    backend = use_endpoint(s3.endpoint, multipart_threshold=2 * part, part_size=part, workers=2)
    data = os.urandom(9 * part + 77)
    storage.write_bytes(s3.uri("large.bin"), data)
    target = tmp_path / "out" / "large.bin"
    got: list[int] = []

    def stop(n: int) -> None:
        got.append(n)
        if len(got) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backend.download_file(s3.uri("large.bin"), str(target), stop, checkpoint_dir=str(tmp_path / "c"))
    assert not target.exists() and (tmp_path / "out" / ".large.bin.mafmt-part").exists()
    rest: list[int] = []
    backend.download_file(s3.uri("large.bin"), str(target), rest.append, checkpoint_dir=str(tmp_path / "c"))
    assert rest[0] >= 3 * part and sum(rest) == len(data)
    assert target.read_bytes() == data
    assert os.listdir(tmp_path / "out") == ["large.bin"]


def test_failures_are_counted_and_raised_after_the_rest(s3, tmp_path):
    src = tmp_path / "src"
    _tree(src, n=20)
    storage.copy(str(src), s3.uri("p/"))
    # a local file where a folder must go makes exactly the files below it fail
    (tmp_path / "dst" / "src").mkdir(parents=True)
    (tmp_path / "dst" / "src" / "d1").write_bytes(b"not a folder")
    summary = storage.copy(s3.uri("p/src"), str(tmp_path / "dst"), on_error="continue")
    assert summary.failed == sum(1 for i in range(20) if i % 3 and i % 4 == 1)
    assert summary.transferred == 20 - summary.failed
    with pytest.raises(TransferError) as err:
        storage.copy(s3.uri("p/src"), str(tmp_path / "dst"))
    assert err.value.summary.failed == summary.failed and "failed" in str(err.value)


def test_progress_callback_and_bar(s3, tmp_path, capsys):
    src = tmp_path / "p"
    files = _tree(src, n=10)
    total = sum(len(v) for v in files.values())
    storage.copy(str(src), s3.uri("q/"))  # stderr is not a terminal under pytest: silent
    assert capsys.readouterr().err == ""
    calls: list[tuple[int, int | None]] = []
    storage.copy(str(src), s3.uri("q1/"), progress=lambda done, of: calls.append((done, of)))
    assert calls[-1] == (total, total) and {of for _, of in calls} == {total}
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)  # never goes back
    storage.copy(str(src), s3.uri("q2/"), progress=True)  # forced: a tqdm bar in bytes
    err = capsys.readouterr().err
    assert "copying: 100%" in err and "B/s" in err
    calls.clear()
    skipped = storage.copy(str(src), s3.uri("q1/"), skip_existing=True, progress=lambda d, t: calls.append((d, t)))
    assert skipped.skipped == 10 and calls[-1] == (total, total)  # skipped files count as done


def test_local_to_local_copy(tmp_path):
    src = tmp_path / "a"
    files = _tree(src, n=30)
    summary = storage.copy(str(src), str(tmp_path / "b"))
    assert summary.transferred == 30
    for rel, data in files.items():
        assert (tmp_path / "b" / "a" / rel).read_bytes() == data


def test_server_side_copy_small_and_multipart_and_odd_keys(s3):
    part = MULTIPART_MIN
    use_endpoint(s3.endpoint, multipart_threshold=2 * part, part_size=part, workers=3)
    data = os.urandom(5 * part + 99)
    storage.write_bytes(s3.uri("src/big one.bin"), data)
    storage.write_bytes(s3.uri("src/small + odd (1).txt"), b"small")
    summary = storage.copy(s3.uri("src"), s3.uri("dst/"))
    assert (summary.transferred, summary.bytes) == (2, len(data) + 5)
    assert storage.read_bytes(s3.uri("dst/src/big one.bin")) == data
    assert storage.stat(s3.uri("dst/src/big one.bin")).etag.endswith("-6")
    assert storage.read_bytes(s3.uri("dst/src/small + odd (1).txt")) == b"small"
    assert not s3.client().listMultipartUploads(s3.bucket).body.upload
