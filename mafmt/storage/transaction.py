"""Write transactions: a target (file or folder) is either the old one or the complete new one.

One :class:`Transaction` owns one target from start to finish:

* it refuses an existing target unless ``overwrite=True`` (or, for a file, ``append=True``),
  so nothing is merged or replaced silently;
* it hands out paths in a hidden *staging* sibling, ``.<name>.mafmt-<pid>-<token>.tmp``,
  where the writer uses plain ``open``/``write`` (no per-file rename);
* :meth:`Transaction.commit` moves the staging into place in one step: ``os.replace`` for a
  file, an atomic exchange (Linux ``renameat2(RENAME_EXCHANGE)``) or two renames for a folder,
  after which the old folder is removed;
* on an error, Ctrl-C or SIGTERM nothing is left: the staging is removed;
* after SIGKILL the previous target is intact and the staging is a recognisable leftover that
  the next transaction on the same target removes (when its process is gone).

:class:`Group` commits several targets together (a manifest and its side folder of VOC
files) with a small journal beside the file, so that a kill between the steps is rolled back
(or forward) by the next transaction or read: the file never points at the wrong folder.

Object storage (``obs://``) has no rename. There a folder target is staged locally and, on
commit, uploaded under a marker object ``<target>/.mafmt-incomplete`` that is written first
and deleted last (after the objects of an overwritten target that the new one does not have
were deleted); folder readers refuse a prefix that holds the marker
(:func:`check_complete`). A file target is one PUT of the finished file, which OBS makes
atomic.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import IO, Any, Self

from mafmt import limits
from mafmt.errors import FormatError, StorageError, UsageError

__all__ = [
    "INCOMPLETE_MARKER",
    "Group",
    "Transaction",
    "check_complete",
    "clean_leftovers",
    "is_leftover_name",
    "recover",
]

#: object written first and deleted last when a folder is committed to object storage
INCOMPLETE_MARKER = ".mafmt-incomplete"
#: how write_bytes opens a file (as open(path, "wb") does)
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
_MARK_NEW = ".mafmt-new"
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.mafmt-(?P<pid>\d+)-(?P<token>[0-9a-f]+)(?P<old>\.old)?\.tmp$")
_JOURNAL = re.compile(r"^\.(?P<name>.+)\.mafmt-commit\.json$")
#: temporary names of earlier releases (``.name.<pid>.<thread>.tmp``)
_LEGACY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]+\.tmp$")


def is_leftover_name(name: str) -> bool:
    """Whether ``name`` is a staging file/folder, old folder or journal of a transaction."""
    return bool(_LEFTOVER.match(name) or _JOURNAL.match(name) or _LEGACY.match(name))


def _is_remote(uri: str) -> bool:
    from mafmt.storage import scheme_of

    return scheme_of(uri) not in (None, "file")


def _local(uri: str) -> str:
    return uri.removeprefix("file://")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        pass


def _journal_path(target: str) -> str:
    folder, name = os.path.split(os.path.abspath(target))
    return os.path.join(folder, f".{name}.mafmt-commit.json")


def clean_leftovers(target: str) -> int:
    """Remove what killed transactions on ``target`` left beside it; returns how many.

    Staging of a process that still runs is left alone. An old folder whose target is
    missing (a kill between the two renames of a non-atomic commit) is moved back.
    """
    target = os.path.abspath(_local(target))
    folder, name = os.path.split(target)
    recover(target)
    try:
        entries = os.listdir(folder)
    except OSError:
        return 0
    removed = 0
    for entry in entries:
        m = _LEFTOVER.match(entry) or _LEGACY.match(entry)
        if m is None or m.group("name") != name or _pid_alive(int(m.group("pid"))):
            continue
        path = os.path.join(folder, entry)
        if m.groupdict().get("old") and not os.path.lexists(target):
            with contextlib.suppress(OSError):
                os.rename(path, target)
                continue
        _remove(path)
        removed += 1
    return removed


# --------------------------------------------------------------------------- renames


_EXCHANGE: Callable[[str, str], bool] | None = None
_EXCHANGE_CHECKED = False
_LOCK = threading.Lock()


def _exchange(a: str, b: str) -> bool:
    """Swap two existing paths atomically (Linux renameat2); False when not supported."""
    global _EXCHANGE, _EXCHANGE_CHECKED
    with _LOCK:
        if not _EXCHANGE_CHECKED:
            _EXCHANGE_CHECKED = True
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                fn = libc.renameat2
                fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]

                def swap(x: str, y: str) -> bool:
                    if fn(-100, os.fsencode(x), -100, os.fsencode(y), 2) == 0:  # AT_FDCWD, RENAME_EXCHANGE
                        return True
                    code = ctypes.get_errno()
                    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                        return False
                    raise OSError(code, os.strerror(code), y)

                _EXCHANGE = swap
            except (OSError, AttributeError):
                _EXCHANGE = None
    return _EXCHANGE(a, b) if _EXCHANGE is not None else False


def _swap_folder(staged: str, target: str) -> str | None:
    """Put the folder ``staged`` at ``target``; returns where the old target now is (to be
    removed), or None when there was none."""
    if not os.path.lexists(target):
        os.rename(staged, target)
        return None
    if _exchange(staged, target):
        return staged
    m = _LEFTOVER.match(os.path.basename(staged))
    token = m.group("token") if m else secrets.token_hex(4)
    folder, name = os.path.split(target)
    old = os.path.join(folder, f".{name}.mafmt-{os.getpid()}-{token}.old.tmp")
    os.rename(target, old)
    os.rename(staged, target)
    return old


# --------------------------------------------------------------------------- signals


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block ends (the renames of a commit, which must not
    stop half-way): a signal that comes meanwhile is delivered again after it. Only in the
    main thread, where Python runs signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        old = signal.getsignal(sig)
        if old is not None:  # (None: a handler not set from Python, which could not be put back)
            previous[sig] = old
            signal.signal(sig, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        for num, handler in previous.items():
            signal.signal(num, handler)
        for num in dict.fromkeys(held):
            signal.raise_signal(num)


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """While a transaction runs, SIGTERM raises ``SystemExit(143)`` (so the staging is removed)
    instead of killing the process outright -- only where Python lets us (the main thread) and
    only when nobody installed a handler of their own."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (ValueError, AttributeError):
        yield
        return
    if previous is not signal.SIG_DFL:
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------- transactions


class Transaction:
    """Owns one target. Use as a context manager; the block's end commits, an exception
    (including ``KeyboardInterrupt``) aborts::

        with Transaction("out/voc", folder=True, overwrite=False) as tx:
            with tx.open("Annotations/a.xml") as fh:
                fh.write(data)
        # out/voc now exists, complete

    Args:
        target: local path or object-storage URI.
        folder: the target is a folder (else a file).
        overwrite: replace an existing target (as a whole).
        append: (files) start from the existing content; implies no overwrite check.
        check: called with no arguments just before the commit; raising in it aborts.

    Raises:
        UsageError: the target exists and neither ``overwrite`` nor ``append`` is given, or it
            is a file where a folder is wanted (or the reverse).
    """

    def __init__(self, target: str, *, folder: bool, overwrite: bool = False, append: bool = False,
                 check: Callable[[], None] | None = None) -> None:
        if append and folder:
            raise UsageError("append applies to files only")
        self.target = target
        self.folder = folder
        self.overwrite = overwrite
        self.append = append
        self.check = check
        self.remote = _is_remote(target)
        self.staging = ""
        self._made: set[str] = set()
        self._parents: list[str] = []  # folders made for the target, deepest first (removed on abort)
        self._state = "new"
        self._signals: contextlib.ExitStack | None = None
        self._final_base: str | None = None  # the normalised local target (final paths), "" for another

    # ----------------------------------------------------------------- lifecycle

    def begin(self) -> Self:
        """Check the target and create the staging (done by ``__enter__``)."""
        if self._state != "new":
            return self
        if self.remote:
            self._begin_remote()
        else:
            self._begin_local()
        self._state = "open"
        self._signals = contextlib.ExitStack()
        self._signals.enter_context(_sigterm_as_exit())
        return self

    def _refuse(self, what: str) -> UsageError:
        return UsageError(f"{self.target}: {what}; pass --overwrite to replace it as a whole")

    def _begin_local(self) -> None:
        target = os.path.abspath(_local(self.target))
        parent, name = os.path.split(target)
        if not name:
            raise UsageError(f"{self.target}: not a file or folder name")
        if os.path.exists(parent) and not os.path.isdir(parent):
            raise UsageError(f"{self.target}: {parent} is a file, not a folder")
        clean_leftovers(target)
        if os.path.lexists(target):
            is_dir = os.path.isdir(target)
            if self.folder and not is_dir:
                raise UsageError(f"{self.target}: exists and is a file, not a folder")
            if not self.folder and is_dir:
                raise UsageError(f"{self.target}: is a folder, not a file")
            if self.folder and not self.overwrite and _nonempty(target):
                raise self._refuse("folder exists and is not empty")
            if not self.folder and not (self.overwrite or self.append):
                raise self._refuse("file exists")
        missing, up = [], parent
        while not os.path.lexists(up) and os.path.dirname(up) != up:
            missing.append(up)
            up = os.path.dirname(up)
        try:
            os.makedirs(parent, exist_ok=True)
            self._parents = missing
        except OSError as exc:
            raise StorageError(f"cannot create folder: {exc.strerror or exc}", uri=parent) from None
        self.staging = os.path.join(parent, f".{name}.mafmt-{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            if self.folder:
                os.mkdir(self.staging)
                if os.path.isdir(target):
                    _keep_mode(target, self.staging)
            else:
                with open(self.staging, "wb") as fh:
                    if self.append and os.path.isfile(target):
                        with open(target, "rb") as old:
                            shutil.copyfileobj(old, fh, 1 << 20)
        except OSError as exc:
            raise StorageError(f"cannot write: {exc.strerror or exc}", uri=self.target) from None

    def _begin_remote(self) -> None:
        from mafmt import storage

        if self.folder:
            if storage.is_dir(self.target) and not self.overwrite:
                raise self._refuse("folder exists and is not empty")
            self.staging = tempfile.mkdtemp(prefix=".mafmt-staging-")
        else:
            if storage.exists(self.target) and not (self.overwrite or self.append):
                raise self._refuse("file exists")
            fd, self.staging = tempfile.mkstemp(prefix=".mafmt-staging-", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                if self.append and storage.exists(self.target):
                    with storage.open_read(self.target) as old:
                        shutil.copyfileobj(old, fh, 1 << 20)

    def __enter__(self) -> Self:
        return self.begin()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    # ----------------------------------------------------------------- writing

    def path(self, rel: str = "") -> str:
        """The local path to write ``rel`` (inside a folder target) or the file target to.

        Folders on the way are created.
        """
        if self._state != "open":
            self.begin() if self._state == "new" else _closed(self.target)
        if not self.folder:
            if rel:
                raise UsageError("a file target has no inner paths")
            return self.staging
        if _plain_rel(rel):
            path = self.staging + os.sep + rel if os.sep == "/" else os.path.join(self.staging, *rel.split("/"))
        else:  # (the usual relative path above; here "\\", "//", "." and ".." parts, leading or trailing "/")
            rel = rel.replace("\\", "/").lstrip("/")
            parts = [p for p in rel.split("/") if p not in ("", ".")]
            if not parts or ".." in parts:
                raise UsageError(f"bad path inside a folder target: {rel!r}")
            path = os.path.join(self.staging, *parts)
        folder = os.path.dirname(path)
        if folder not in self._made:
            try:
                self._make_folder(folder)
            except (OSError, ValueError) as exc:
                raise self._unwritable(rel, exc) from None
            self._made.add(folder)
        return path

    def _make_folder(self, folder: str) -> None:
        """Create ``folder`` (inside the staging) and the folders on the way."""
        os.makedirs(folder, exist_ok=True)

    def open(self, rel: str = "", mode: str = "wb") -> IO[Any]:
        """Open ``rel`` (or the file target) for writing."""
        path = self.path(rel)
        try:
            return open(path, mode)
        except (OSError, ValueError) as exc:
            raise self._unwritable(rel, exc) from None

    def write_bytes(self, rel: str, data: bytes) -> str:
        """Write ``data`` to ``rel``; returns the final path or URI it will have. (With the
        system's calls, no file object: the writers' one file per image, 20,000 of them, cost
        about 6 µs a file less.)"""
        path = self.path(rel)
        try:
            fd = os.open(path, _WRITE_FLAGS, 0o666)
        except (OSError, ValueError) as exc:
            raise self._unwritable(rel, exc) from None
        try:
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    if not written:  # (a system that takes nothing: never a silent loop)
                        raise OSError(errno.EIO, "nothing written")
                    view = view[written:]
            finally:
                os.close(fd)  # (a file system that reports a failed write at close: an error, not success)
        except OSError as exc:
            raise self._unwritable(rel, exc) from None
        return self.final(rel)

    def write_text(self, rel: str, text: str) -> str:
        """Write ``text`` to ``rel`` as UTF-8; returns the final path or URI it will have.

        Raises:
            FormatError: the text holds a lone surrogate, which UTF-8 cannot hold (it is named).
        """
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = exc.object[max(0, exc.start - 30):exc.end + 30]
            raise FormatError(f"a lone surrogate, which UTF-8 cannot hold: {limits.clip(bad, 80)}",
                              file=self.final(rel)) from None
        return self.write_bytes(rel, data)

    def _unwritable(self, rel: str, exc: OSError | ValueError) -> StorageError:
        """The error for a file of the target that cannot be made: a name too long for the file
        system, or one holding a NUL or a lone surrogate (no file name can)."""
        reason = (exc.strerror or str(exc)).lower() if isinstance(exc, OSError) else "a NUL or a lone surrogate in the name"
        return StorageError(f"cannot write {limits.clip(rel or os.path.basename(self.target))}: {reason}", uri=self.target)

    def final(self, rel: str = "") -> str:
        """Where ``rel`` will be once committed (path or URI)."""
        if not rel:
            return self.target
        base = self._final_base
        if base is None:
            norm = os.path.normpath(self.target)
            plain = "://" not in self.target and os.sep == "/" and norm not in ("/", ".", "//")
            base = self._final_base = norm if plain else ""
        if base and _plain_rel(rel):
            return base + "/" + rel  # (what storage.join gives a plain path in a plain folder)
        from mafmt import storage

        return storage.join(self.target, rel)

    # ----------------------------------------------------------------- ending

    def commit(self) -> None:
        """Move the staging into place (after ``check`` passed); aborts on any error."""
        if self._state != "open":
            if self._state == "new":
                self.begin()
            else:
                return
        try:
            if self.check is not None:
                self.check()
            if self.remote:
                self._commit_remote()
            else:
                self._commit_local()
        except BaseException:
            self.abort()
            raise
        self._state = "done"
        self._release()

    def _commit_local(self) -> None:
        target = os.path.abspath(_local(self.target))
        try:
            if self.folder:
                with _signals_held():  # until the old folder is gone too: a signal leaves no leftover
                    old = _swap_folder(self.staging, target)
                    self.staging = ""
                    if old is not None:
                        _remove(old)
            else:
                _keep_mode(target, self.staging)
                os.replace(self.staging, target)
                self.staging = ""
        except OSError as exc:
            raise StorageError(f"cannot commit: {exc.strerror or exc}", uri=self.target) from None

    def _commit_remote(self) -> None:
        from mafmt import storage

        if not self.folder:
            storage.copy(self.staging, self.target, keep_last_dir=False)
            _remove(self.staging)
            self.staging = ""
            return
        marker = storage.join(self.target, INCOMPLETE_MARKER)
        storage.write_bytes(marker, b"written by mafmt: an upload is in progress or was interrupted\n")
        new = {os.path.relpath(os.path.join(d, f), self.staging).replace(os.sep, "/")
               for d, _, files in os.walk(self.staging) for f in files}
        summary = storage.copy(self.staging, self.target.rstrip("/") + "/", keep_last_dir=False)
        if getattr(summary, "failed", 0):
            raise StorageError(f"{summary.failed} file(s) could not be uploaded", uri=self.target)
        if self.overwrite:
            prefix = self.target.rstrip("/") + "/"
            for info in list(storage.ls(prefix, recursive=True)):
                rel = info.uri[len(prefix):]
                if rel != INCOMPLETE_MARKER and rel not in new:
                    storage.delete(info.uri)
        storage.delete(marker)
        _remove(self.staging)
        self.staging = ""

    def abort(self) -> None:
        """Remove the staging; the target stays as it was."""
        if self._state in ("done", "aborted"):
            return
        if self.staging:
            _remove(self.staging)
            self.staging = ""
        for made in self._parents:  # the folders made for the target, if nothing else went in
            try:
                os.rmdir(made)
            except OSError:
                break
        self._parents = []
        self._state = "aborted"
        self._release()

    def _release(self) -> None:
        if self._signals is not None:
            self._signals.close()
            self._signals = None


def _plain_rel(rel: str) -> bool:
    """Whether an inner path is plain: relative, its parts neither empty nor starting with a
    dot (no "." or ".." among them), no backslash, no leading or trailing "/"."""
    return bool(rel) and "\\" not in rel and "//" not in rel and "/." not in rel and rel[0] not in "/." \
        and rel[-1] != "/"


def _closed(target: str) -> None:
    raise UsageError(f"{target}: the write transaction is already finished")


def _nonempty(folder: str) -> bool:
    try:
        with os.scandir(folder) as it:
            return any(True for _ in it)
    except OSError:
        return True


def _keep_mode(old: str, new: str) -> None:
    try:
        os.chmod(new, os.stat(old).st_mode & 0o7777)
    except OSError:
        pass


# --------------------------------------------------------------------------- groups


class Group:
    """Several transactions committed together: folders first, then the one file, with a
    journal beside the file so a kill in between is undone by :func:`recover`.

    Only local targets take part in the journal (an object store has no rename to undo);
    remote members are committed in the same order.
    """

    def __init__(self, *members: Transaction) -> None:
        self.members = list(members)

    def add(self, tx: Transaction) -> Transaction:
        self.members.append(tx)
        return tx

    def __enter__(self) -> Self:
        for tx in self.members:  # first undo an interrupted commit of the file, which needs its folders' leftovers
            if not tx.folder and not tx.remote:
                recover(tx.target)
        for tx in self.members:
            tx.begin()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def abort(self) -> None:
        for tx in reversed(self.members):  # the last joined first: its folders may sit in the ones made for earlier
            tx.abort()

    def commit(self) -> None:
        live = [tx for tx in self.members if tx._state in ("new", "open")]
        for tx in live:
            tx.begin()
        files = [tx for tx in live if not tx.folder]
        folders = [tx for tx in live if tx.folder]
        local = all(not tx.remote for tx in live)
        if len(files) != 1 or not folders or not local:
            for tx in folders + files:
                tx.commit()
            return
        try:
            for tx in live:
                if tx.check is not None:
                    tx.check()
            self._commit_journaled(files[0], folders)
        except BaseException:
            self.abort()
            raise
        for tx in live:
            tx._state = "done"
            tx._release()

    def _commit_journaled(self, file_tx: Transaction, folders: list[Transaction]) -> None:
        target = os.path.abspath(_local(file_tx.target))
        journal = _journal_path(target)
        entries: list[dict[str, Any]] = []
        for tx in folders:
            ftarget = os.path.abspath(_local(tx.target))
            with open(os.path.join(tx.staging, _MARK_NEW), "wb"):
                pass
            entries.append({"target": ftarget, "staged": tx.staging, "existed": os.path.lexists(ftarget)})
        folder, name = os.path.split(target)
        tmp = os.path.join(folder, f".{name}.mafmt-{os.getpid()}-{secrets.token_hex(4)}.tmp")  # a kill leaves a leftover
        olds: list[str] = []
        with _signals_held():
            try:
                with open(tmp, "w", encoding="utf-8") as fh:
                    json.dump({"file": {"target": target, "staged": file_tx.staging}, "folders": entries}, fh)
                os.replace(tmp, journal)
            except OSError as exc:
                _remove(tmp)
                raise StorageError(f"cannot commit: {exc.strerror or exc}", uri=file_tx.target) from None
            try:
                for tx, entry in zip(folders, entries):
                    old = _swap_folder(tx.staging, entry["target"])
                    entry["old"] = old
                    tx.staging = ""
                    if old is not None:
                        olds.append(old)
                _keep_mode(target, file_tx.staging)
                _replace_file(file_tx.staging, target)
                file_tx.staging = ""
            except OSError as exc:
                recover(target)
                raise StorageError(f"cannot commit: {exc.strerror or exc}", uri=file_tx.target) from None
            for entry in entries:
                _remove(os.path.join(entry["target"], _MARK_NEW))
            _remove(journal)
            for old in olds:
                _remove(old)


def _replace_file(staged: str, target: str) -> None:
    os.replace(staged, target)


def recover(target: str) -> bool:
    """Finish or undo a :class:`Group` commit on the file ``target`` that a kill interrupted.

    Returns True when there was something to do. Called by every transaction on the same
    target and by the manifest reader, so an interrupted commit is never seen half-done.
    """
    target = os.path.abspath(_local(target))
    journal = _journal_path(target)
    try:
        with open(journal, encoding="utf-8") as fh:
            plan = json.load(fh)
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        _remove(journal)
        return True
    staged_file = plan.get("file", {}).get("staged", "")
    if staged_file and os.path.exists(staged_file):  # the file was not replaced: undo the folders
        for entry in plan.get("folders", []):
            ftarget, staged = entry.get("target", ""), entry.get("staged", "")
            if not ftarget:
                continue
            if os.path.exists(os.path.join(ftarget, _MARK_NEW)):  # the new folder was moved in
                if entry.get("existed") and os.path.lexists(staged) and _exchange(staged, ftarget):
                    _remove(staged)  # swapped back: the staging name holds the new one again
                    continue
                _remove(ftarget)
            else:
                _remove(staged)
            if not os.path.lexists(ftarget):  # put back an old folder moved aside by two renames
                for old in _old_folders(ftarget):
                    os.rename(old, ftarget)
                    break
        _remove(staged_file)
    else:  # the file was replaced: the new folders stay, the old ones go
        for entry in plan.get("folders", []):
            ftarget = entry.get("target", "")
            if ftarget:
                _remove(os.path.join(ftarget, _MARK_NEW))
            staged = entry.get("staged", "")
            if staged:
                _remove(staged)
            for old in _old_folders(ftarget):
                _remove(old)
    _remove(journal)
    return True


def _old_folders(target: str) -> list[str]:
    folder, name = os.path.split(target)
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    out = []
    for entry in entries:
        m = _LEFTOVER.match(entry)
        if m and m.group("old") and m.group("name") == name:
            out.append(os.path.join(folder, entry))
    return out


def check_complete(folder: str) -> None:
    """Refuse a dataset that an interrupted write left: a staging or old copy of a target (a
    hidden ``.NAME.mafmt-…`` file or folder, which the next write there removes), or a folder
    on object storage whose commit did not finish.

    Raises:
        FormatError: a leftover name in the path, or the :data:`INCOMPLETE_MARKER` is present.
    """
    from mafmt import storage

    for part in re.split(r"[/\\]", str(folder)):
        if part and is_leftover_name(part):
            raise FormatError(f"{part} is what an interrupted or running mafmt write left, not a dataset "
                              "(the next write into its target removes it)", file=folder)
    if _is_remote(folder) and storage.exists(storage.join(folder, INCOMPLETE_MARKER)):
        raise FormatError(f"an interrupted or running mafmt write left this folder incomplete "
                          f"({INCOMPLETE_MARKER} is present); write it again", file=folder)
