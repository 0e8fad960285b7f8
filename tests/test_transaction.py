"""Write transactions: the target is the old one or the complete new one, whatever happens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mafmt.errors import StorageError, UsageError
from mafmt.storage import transaction as txm
from mafmt.storage.transaction import Group, Transaction, clean_leftovers, recover


def _tree(path) -> dict[str, bytes]:
    out = {}
    for d, _, files in os.walk(path):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, path)] = fh.read()
    return out


def _siblings(path) -> list[str]:
    return sorted(os.listdir(os.path.dirname(path)))


def test_new_folder_appears_complete_and_nothing_else(tmp_path):
    target = tmp_path / "out"
    with Transaction(str(target), folder=True) as tx:
        tx.write_bytes("a/b.txt", b"1")
        with tx.open("c.txt") as fh:
            fh.write(b"2")
        assert not target.exists()  # nothing visible before the commit
    assert _tree(target) == {"a/b.txt": b"1", "c.txt": b"2"}
    assert _siblings(target) == ["out"]


def test_existing_folder_is_refused_without_overwrite_and_replaced_whole_with_it(tmp_path):
    target = tmp_path / "out"
    (target / "old").mkdir(parents=True)
    (target / "old" / "x.txt").write_bytes(b"old")
    with pytest.raises(UsageError, match="--overwrite"):
        Transaction(str(target), folder=True).begin()
    with Transaction(str(target), folder=True, overwrite=True) as tx:
        tx.write_bytes("new.txt", b"new")
    assert _tree(target) == {"new.txt": b"new"}  # replaced, never merged
    assert _siblings(target) == ["out"]


def test_an_empty_folder_is_not_an_existing_target(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    with Transaction(str(target), folder=True) as tx:
        tx.write_bytes("a.txt", b"1")
    assert _tree(target) == {"a.txt": b"1"}


def test_file_target_rules(tmp_path):
    target = tmp_path / "f.json"
    target.write_bytes(b"old")
    with pytest.raises(UsageError, match="file exists"):
        Transaction(str(target), folder=False).begin()
    with pytest.raises(UsageError, match="not a file"):
        Transaction(str(tmp_path), folder=False).begin()
    with pytest.raises(UsageError, match="not a folder"):
        Transaction(str(target), folder=True, overwrite=True).begin()
    with Transaction(str(target), folder=False, append=True) as tx, open(tx.path(), "ab") as fh:
        fh.write(b"+new")
    assert target.read_bytes() == b"old+new"


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_error_or_ctrl_c_leaves_the_old_target_and_no_staging(tmp_path, error):
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_bytes(b"old")
    with pytest.raises(error), Transaction(str(target), folder=True, overwrite=True) as tx:
        tx.write_bytes("new.txt", b"new")
        raise error()
    assert _tree(target) == {"keep.txt": b"old"}
    assert _siblings(target) == ["out"]


@pytest.mark.parametrize("folder", [True, False])
def test_an_aborted_write_removes_the_folders_it_made_for_the_target(tmp_path, folder):
    (tmp_path / "kept").mkdir()  # an empty folder that was there before stays
    target = tmp_path / "kept" / "new" / "deeper" / ("voc" if folder else "a.json")
    with pytest.raises(KeyboardInterrupt), Transaction(str(target), folder=folder) as tx:
        if folder:
            tx.write_bytes("Annotations/a.xml", b"<annotation/>")
        else:
            open(tx.path(), "wb").close()
        raise KeyboardInterrupt
    assert os.listdir(tmp_path) == ["kept"] and os.listdir(tmp_path / "kept") == []


def test_an_aborted_write_keeps_a_made_folder_that_something_else_went_into(tmp_path):
    with pytest.raises(RuntimeError), Transaction(str(tmp_path / "side" / "a"), folder=True):
        (tmp_path / "side" / "other.txt").write_bytes(b"not ours")
        raise RuntimeError
    assert os.listdir(tmp_path / "side") == ["other.txt"]


def test_an_interrupted_manifest_write_leaves_no_empty_side_folder(tmp_path):
    import json

    import mafmt

    src = tmp_path / "instances.json"
    src.write_text(json.dumps({
        "images": [{"id": i, "file_name": f"im{i}.jpg", "width": 10, "height": 10} for i in (1, 2, 3)],
        "annotations": [{"id": i, "image_id": i, "category_id": 1, "bbox": [1, 1, 4, 4]} for i in (1, 2, 3)],
        "categories": [{"id": 1, "name": "a"}]}))

    def samples():
        yield from list(mafmt.read(str(src)))[:2]
        raise KeyboardInterrupt

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        mafmt.write(samples(), str(out / "x.manifest"))
    assert not out.exists()  # neither Annotations/ nor the folder made for the manifest


def test_a_failing_check_aborts_the_commit(tmp_path):
    target = tmp_path / "f.csv"

    def check() -> None:
        raise UsageError("no")

    with pytest.raises(UsageError), Transaction(str(target), folder=False, check=check) as tx:
        open(tx.path(), "wb").close()
    assert not target.exists() and _siblings(target) == []


_WRITER = textwrap.dedent("""
    import sys, time
    from mafmt.storage.transaction import Transaction
    target = sys.argv[1]
    with Transaction(target, folder=True, overwrite=True) as tx:
        for i in range(100000):
            tx.write_bytes(f"d{i % 7}/f{i}.txt", b"new")
            if i == 50:
                print("writing", flush=True)
            time.sleep(0.001)
""")


def _start_writer(target) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    return proc


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_leave_the_old_target_and_no_staging(tmp_path, sig):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_bytes(b"old")
    proc = _start_writer(target)
    proc.send_signal(sig)
    proc.wait(20)
    assert proc.returncode != 0
    assert _tree(target) == {"old.txt": b"old"}
    assert _siblings(target) == ["out"]


def test_after_sigkill_the_old_target_is_intact_and_the_next_write_removes_the_leftover(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_bytes(b"old")
    proc = _start_writer(target)
    proc.kill()
    proc.wait(20)
    assert _tree(target) == {"old.txt": b"old"}
    leftovers = [n for n in _siblings(target) if n != "out"]
    assert len(leftovers) == 1 and txm.is_leftover_name(leftovers[0])
    with Transaction(str(target), folder=True, overwrite=True) as tx:
        tx.write_bytes("n.txt", b"n")
    assert _siblings(target) == ["out"] and _tree(target) == {"n.txt": b"n"}


def test_leftovers_of_a_running_process_are_kept(tmp_path):
    target = tmp_path / "out"
    mine = tmp_path / f".out.mafmt-{os.getpid()}-abcd.tmp"
    mine.mkdir()
    dead = tmp_path / ".out.mafmt-999999999-abcd.tmp"
    dead.mkdir()
    assert clean_leftovers(str(target)) == 1
    assert mine.exists() and not dead.exists()


def test_without_atomic_exchange_the_two_renames_still_replace_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(txm, "_exchange", lambda a, b: False)
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_bytes(b"old")
    with Transaction(str(target), folder=True, overwrite=True) as tx:
        tx.write_bytes("new.txt", b"new")
    assert _tree(target) == {"new.txt": b"new"} and _siblings(target) == ["out"]


def test_a_kill_between_the_two_renames_is_undone_by_the_next_write(tmp_path):
    target = tmp_path / "out"
    old = tmp_path / ".out.mafmt-999999999-abcd.old.tmp"  # the old folder moved aside, target not yet there
    old.mkdir()
    (old / "old.txt").write_bytes(b"old")
    clean_leftovers(str(target))
    assert _tree(target) == {"old.txt": b"old"} and _siblings(target) == ["out"]


def _group(tmp_path, manifest_text: bytes, xml: bytes) -> Group:
    group = Group(Transaction(str(tmp_path / "m.manifest"), folder=False, overwrite=True),
                  Transaction(str(tmp_path / "Annotations"), folder=True, overwrite=True))
    group.__enter__()
    file_tx, folder_tx = group.members
    with open(file_tx.path(), "wb") as fh:
        fh.write(manifest_text)
    folder_tx.write_bytes("a.xml", xml)
    return group


def _old_pair(tmp_path) -> None:
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "Annotations" / "a.xml").write_bytes(b"old-xml")
    (tmp_path / "m.manifest").write_bytes(b"old-manifest")


def _pair(tmp_path) -> tuple[bytes, bytes]:
    return (tmp_path / "m.manifest").read_bytes(), (tmp_path / "Annotations" / "a.xml").read_bytes()


def test_group_commits_the_file_and_its_folder_together(tmp_path):
    _old_pair(tmp_path)
    _group(tmp_path, b"new-manifest", b"new-xml").commit()
    assert _pair(tmp_path) == (b"new-manifest", b"new-xml")
    assert sorted(os.listdir(tmp_path)) == ["Annotations", "m.manifest"]
    assert os.listdir(tmp_path / "Annotations") == ["a.xml"]


@pytest.mark.parametrize("exchange", [True, False])
@pytest.mark.parametrize("stop_at", ["after-folders", "before-folders"])
def test_a_kill_inside_a_group_commit_is_rolled_back(tmp_path, monkeypatch, exchange, stop_at):
    """The journal makes the pair consistent again: old manifest with old folder."""
    _old_pair(tmp_path)
    if not exchange:
        monkeypatch.setattr(txm, "_exchange", lambda a, b: False)
    group = _group(tmp_path, b"new-manifest", b"new-xml")

    class Killed(BaseException):
        pass

    real_swap = txm._swap_folder

    def swap(staged, target):
        if stop_at == "before-folders":
            raise Killed
        return real_swap(staged, target)

    def replace(a, b):
        raise Killed

    monkeypatch.setattr(txm, "_swap_folder", swap)
    monkeypatch.setattr(txm, "_replace_file", replace)
    monkeypatch.setattr(Group, "abort", lambda self: None)  # a kill runs no clean-up at all
    with pytest.raises(Killed):
        group.commit()
    monkeypatch.undo()
    for tx in group.members:
        tx._release()
    if not exchange:
        monkeypatch.setattr(txm, "_exchange", lambda a, b: False)
    assert recover(str(tmp_path / "m.manifest"))
    assert _pair(tmp_path) == (b"old-manifest", b"old-xml")
    clean_leftovers(str(tmp_path / "Annotations"))
    clean_leftovers(str(tmp_path / "m.manifest"))
    assert sorted(os.listdir(tmp_path)) == ["Annotations", "m.manifest"]


def test_a_kill_after_the_file_was_replaced_is_rolled_forward(tmp_path, monkeypatch):
    _old_pair(tmp_path)
    group = _group(tmp_path, b"new-manifest", b"new-xml")

    class Killed(BaseException):
        pass

    real_remove = txm._remove
    calls = []

    def remove(path):
        calls.append(path)
        if path.endswith(".mafmt-new"):
            raise Killed
        real_remove(path)

    monkeypatch.setattr(txm, "_remove", remove)
    monkeypatch.setattr(Group, "abort", lambda self: None)
    with pytest.raises(Killed):
        group.commit()
    monkeypatch.undo()
    for tx in group.members:
        tx._release()
    assert recover(str(tmp_path / "m.manifest"))
    assert _pair(tmp_path) == (b"new-manifest", b"new-xml")
    assert os.listdir(tmp_path / "Annotations") == ["a.xml"]
    assert not recover(str(tmp_path / "m.manifest"))  # nothing left to do


@pytest.mark.parametrize("sig,raised", [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, SystemExit)])
@pytest.mark.parametrize("where", ["journal", "folders", "file"])
def test_a_signal_during_a_group_commit_waits_until_the_commit_is_complete(tmp_path, monkeypatch, sig, raised, where):
    """Ctrl-C or SIGTERM while the journal is written or the renames run is held: the pair is
    the complete new one, with nothing left beside it, and the signal comes after."""
    _old_pair(tmp_path)
    group = _group(tmp_path, b"new-manifest", b"new-xml")
    real_swap, real_replace, real_dump = txm._swap_folder, txm._replace_file, txm.json.dump

    def signalled(real, here):
        def call(*args, **kwargs):
            if where == here:
                signal.raise_signal(sig)
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(txm, "_swap_folder", signalled(real_swap, "folders"))
    monkeypatch.setattr(txm, "_replace_file", signalled(real_replace, "file"))
    monkeypatch.setattr(txm.json, "dump", signalled(real_dump, "journal"))
    with pytest.raises(raised):
        group.commit()
    assert _pair(tmp_path) == (b"new-manifest", b"new-xml")
    assert sorted(os.listdir(tmp_path)) == ["Annotations", "m.manifest"]
    assert os.listdir(tmp_path / "Annotations") == ["a.xml"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_signal_while_a_folder_is_swapped_in_waits_for_the_old_one_to_be_removed(tmp_path, monkeypatch):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_bytes(b"old")
    real_swap = txm._swap_folder

    def swap(staged, target):
        signal.raise_signal(signal.SIGINT)
        return real_swap(staged, target)

    monkeypatch.setattr(txm, "_swap_folder", swap)
    with pytest.raises(KeyboardInterrupt), Transaction(str(tmp_path / "out"), folder=True, overwrite=True) as tx:
        tx.write_bytes("new.txt", b"new")
    assert _tree(tmp_path) == {os.path.join("out", "new.txt"): b"new"}


def test_a_kill_while_the_journal_is_written_leaves_a_leftover_the_next_write_removes(tmp_path, monkeypatch):
    _old_pair(tmp_path)
    group = _group(tmp_path, b"new-manifest", b"new-xml")

    class Killed(BaseException):
        pass

    def dump(obj, fh):
        fh.write("{")
        raise Killed

    monkeypatch.setattr(txm.json, "dump", dump)
    monkeypatch.setattr(Group, "abort", lambda self: None)  # a kill runs no clean-up at all
    monkeypatch.setattr(txm, "_pid_alive", lambda pid: False)  # (as after the kill)
    with pytest.raises(Killed):
        group.commit()
    for tx in group.members:
        tx._release()
    left = [n for n in os.listdir(tmp_path) if n not in ("Annotations", "m.manifest")]
    assert len(left) == 3 and all(txm.is_leftover_name(n) for n in left)  # the two stagings and the journal's
    assert not recover(str(tmp_path / "m.manifest"))  # no journal yet
    clean_leftovers(str(tmp_path / "Annotations"))
    clean_leftovers(str(tmp_path / "m.manifest"))
    assert sorted(os.listdir(tmp_path)) == ["Annotations", "m.manifest"]
    assert _pair(tmp_path) == (b"old-manifest", b"old-xml")


def test_sigterm_handler_is_restored(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    with Transaction(str(tmp_path / "x"), folder=False) as tx:
        open(tx.path(), "wb").close()
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_paths_cannot_leave_the_staging(tmp_path):
    with Transaction(str(tmp_path / "out"), folder=True) as tx:
        for bad in ("../x", "", "a/../../b"):
            with pytest.raises(UsageError):
                tx.path(bad)
        tx.write_bytes("ok.txt", b"")
    assert _tree(tmp_path / "out") == {"ok.txt": b""}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rel=st.text(alphabet="a./\\", max_size=8), spelling=st.sampled_from(["{}/out", "{}/./out/", "{}//x/../out"]))
def test_a_path_inside_the_staging_is_its_parts_without_empty_and_dot_ones(tmp_path, rel, spelling):
    """Every inner path, the usual ones (taken by a shortcut) and the others: the staging
    joined with the parts that are neither empty nor ".", and ".." or no part refused; its
    final path is the target's, however the target is spelt."""
    from mafmt import storage

    parts = [p for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
    (tmp_path / "x").mkdir(exist_ok=True)
    tx = Transaction(spelling.format(tmp_path), folder=True, overwrite=True)
    with tx:
        assert tx.final(rel) == (storage.join(tx.target, rel) if rel else tx.target)
        if not parts or ".." in parts:
            with pytest.raises(UsageError):
                tx.path(rel)
        else:
            assert tx.path(rel) == os.path.join(tx.staging, *parts)


def test_write_bytes_writes_all_of_it_when_the_system_takes_a_part_at_a_time(tmp_path, monkeypatch):
    real = os.write
    calls = []

    def short(fd, data):  # a system that takes at most 7 bytes a call (a pipe, a signal, a full disk)
        calls.append(len(data))
        return real(fd, bytes(data[:7]))

    monkeypatch.setattr(txm.os, "write", short)
    with Transaction(str(tmp_path / "out"), folder=True, overwrite=False) as tx:
        tx.write_bytes("a/b.txt", b"0123456789" * 5)
    assert (tmp_path / "out" / "a" / "b.txt").read_bytes() == b"0123456789" * 5
    assert len(calls) == 8


def test_write_bytes_names_the_file_the_system_refuses(tmp_path):
    with pytest.raises(StorageError) as err, Transaction(str(tmp_path / "out"), folder=True, overwrite=False) as tx:
        tx.write_bytes("x" * 300 + ".txt", b"data")
    assert "x" * 40 in str(err.value) and not (tmp_path / "out").exists()


@pytest.mark.parametrize("fails", ["write", "close"])
def test_write_bytes_turns_a_failed_write_or_close_into_an_error_naming_the_file(tmp_path, monkeypatch, fails):
    """A disk that is full, or a file system that reports the failure only at close (NFS), is
    an error naming the file, and the target is not made."""
    real = getattr(os, fails)

    def failing(fd, *args):
        if fails == "close":
            real(fd)
        raise OSError(28, "No space left on device")

    with pytest.raises(StorageError, match="cannot write 'a/b.txt': no space left on device"), \
            Transaction(str(tmp_path / "out"), folder=True, overwrite=False) as tx:
        monkeypatch.setattr(txm.os, fails, failing)
        tx.write_bytes("a/b.txt", b"data")
    monkeypatch.undo()
    assert not (tmp_path / "out").exists()
