"""Local training (``train_instance_type="local"``, api.md §11.6): no ModelArts call.

Inputs are downloaded from OBS to their local folders (``.zip`` objects are unpacked by
:func:`safe_unzip`: unsafe entry names and links are refused, and the zip limits of
:mod:`mafmt.limits` hold), the boot file runs with the chosen interpreter and
``--name=value`` parameters, its output is streamed to the console and a log file, then
outputs and the log are uploaded to OBS::

    result = run_local(LocalJob(code_dir="train/", boot_file="train.py",
                                inputs=[("obs://b/data.zip", "/tmp/data/", "data_url", False)],
                                outputs=[("/tmp/out/", "obs://b/out/", "output_dir")],
                                parameters=[{"name": "epochs", "value": 2}], log_url="obs://b/log/"))
    result.exit_code
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO

from mafmt import limits, storage
from mafmt.errors import FormatError, LimitError, UsageError

__all__ = ["LocalJob", "LocalResult", "download", "run_local", "safe_unzip", "upload"]

#: environment variables kept from the training script (unless passed in ``env`` explicitly)
SECRET_VARS = frozenset({"HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_PASSWORD"})


@dataclass
class LocalJob:
    """What a local run needs. ``inputs``: (obs_path, local_path, name|None, is_local_source);
    ``outputs``: (local_path, obs_path|None, name|None)."""

    code_dir: str
    boot_file: str
    job_name: str = "local-job"
    inputs: list[tuple[str, str, str | None, bool]] = field(default_factory=list)
    outputs: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    parameters: list[dict[str, Any]] = field(default_factory=list)
    interpreter: str | None = None
    working_dir: str | None = None
    env: dict[str, str] = field(default_factory=dict, repr=False)
    log_url: str | None = None
    timeout: float | None = None


@dataclass
class LocalResult:
    """The outcome: ``exit_code`` (0 = success), the local log file and its OBS copy."""

    job_name: str
    exit_code: int
    log_file: str
    log_url: str | None = None
    uploaded: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def _is_remote(path: str) -> bool:
    return "://" in path


def _unsafe_name(info: zipfile.ZipInfo, root: Path) -> bool:
    """Whether a zip entry could write outside ``root`` or has no file name at all."""
    name = info.filename  # zipfile cuts names at a NUL; orig_filename keeps it
    posix = name.replace("\\", "/")
    parts = posix.split("/")
    if posix.startswith("/") or ":" in parts[0] or ".." in parts or "\0" in info.orig_filename:
        return True  # absolute, drive letter (C:), parent folder, NUL
    if stat.S_ISLNK(info.external_attr >> 16):
        return True
    if not [p for p in parts if p not in ("", ".")]:
        return not name.endswith("/")  # "" and "." name no file; a "./" folder entry is harmless
    target = (root / posix).resolve()
    return not (target == root or root in target.parents)


def _check_archive(zf: zipfile.ZipFile, root: Path, packed: int, shown: str) -> list[zipfile.ZipInfo]:
    """The members, after checking names and the declared totals against the limits."""
    members = zf.infolist()
    if len(members) > limits.MAX_ZIP_MEMBERS:
        raise LimitError(f"{len(members)} entries, more than the limit of {limits.MAX_ZIP_MEMBERS}", file=shown)
    for info in members:
        if _unsafe_name(info, root):
            raise UsageError(f"unsafe path in {shown}: {limits.clip(info.orig_filename)}")
    _check_total(sum(i.file_size for i in members), packed, shown, "declares")
    return members


def _check_total(unpacked: int, packed: int, shown: str, verb: str) -> None:
    if unpacked > limits.MAX_ZIP_BYTES:
        raise LimitError(f"{verb} {unpacked} bytes unpacked, more than the limit of {limits.MAX_ZIP_BYTES}",
                         file=shown)
    if unpacked > limits.MAX_ZIP_RATIO * max(packed, 1):
        raise LimitError(f"{verb} {unpacked} bytes unpacked from {packed}, a ratio over the limit of "
                         f"{limits.MAX_ZIP_RATIO}", file=shown)


def safe_unzip(archive: str | Path, dest: str | Path, *, name: str | None = None) -> list[str]:
    """Unpack ``archive`` into ``dest``; returns the files written.

    Refuses, before writing anything, names that are empty, ``.``, absolute, with a drive
    letter, a ``..`` component or a NUL, symbolic links and anything resolving outside
    ``dest`` (:class:`UsageError`), and archives over the limits of :mod:`mafmt.limits`
    read when called: ``MAX_ZIP_MEMBERS`` entries, ``MAX_ZIP_BYTES`` unpacked,
    ``MAX_ZIP_RATIO`` unpacked / archive size (:class:`LimitError`). Header sizes are not
    trusted: bytes are counted as they are written, and going over a limit (or past a
    member's declared size) stops the extraction and removes the files it wrote. A damaged
    archive is a :class:`FormatError`. ``name`` is how messages call the archive.
    """
    shown = name or os.path.basename(str(archive))
    root = Path(dest).resolve()
    packed = os.path.getsize(archive)
    written: list[str] = []
    try:
        with zipfile.ZipFile(archive) as zf:
            members = _check_archive(zf, root, packed, shown)
            root.mkdir(parents=True, exist_ok=True)
            total = 0
            for info in members:
                target = root / info.filename.replace("\\", "/")
                if info.filename.endswith("/"):
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                written.append(str(target))
                with zf.open(info) as src, open(target, "wb") as dst:
                    total = _copy_member(src, dst, info, total, packed, shown)
    except zipfile.BadZipFile as exc:
        _remove(written)
        raise FormatError(f"damaged or not a zip archive ({exc})", file=shown) from None
    except (zlib.error, EOFError, NotImplementedError) as exc:
        _remove(written)
        raise FormatError(f"cannot unpack ({exc})", file=shown) from None
    except BaseException:
        _remove(written)
        raise
    return written


def _copy_member(src: IO[bytes], dst: IO[bytes], info: zipfile.ZipInfo, total: int, packed: int, shown: str) -> int:
    """Copy one member, counting bytes; returns the running total of the archive."""
    size = 0
    while chunk := src.read(1 << 20):
        size += len(chunk)
        total += len(chunk)
        if size > info.file_size:
            raise LimitError(f"entry {limits.clip(info.filename)} is larger than its header says "
                             f"({info.file_size} bytes)", file=shown)
        _check_total(total, packed, shown, "unpacks")
        dst.write(chunk)
    return total


def _remove(paths: list[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass


def _fetch(uri: str, target: str | Path) -> None:
    """Stream one object (or file) to ``target`` without holding it in memory."""
    with storage.open_read(uri) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def download(obs_path: str, local_dir: str) -> list[str]:
    """Copy an OBS object or folder into ``local_dir`` (unzipping ``.zip`` objects)."""
    Path(local_dir).mkdir(parents=True, exist_ok=True)
    if not obs_path.endswith("/") and storage.exists(obs_path) and not storage.is_dir(obs_path + "/"):
        if obs_path.lower().endswith(".zip"):
            with tempfile.TemporaryDirectory() as tmp:
                archive = os.path.join(tmp, "input.zip")
                _fetch(obs_path, archive)
                return safe_unzip(archive, local_dir, name=obs_path)
        target = os.path.join(local_dir, obs_path.rstrip("/").rsplit("/", 1)[-1])
        _fetch(obs_path, target)
        return [target]
    base = obs_path.rstrip("/") + "/"
    out = []
    root = Path(local_dir).resolve()
    for uri in storage.iter_files(base, recursive=True):
        rel = uri[len(base):]
        dest = (root / rel).resolve()
        if root not in dest.parents:
            raise UsageError(f"unsafe object name under {base}: {rel!r}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        _fetch(uri, dest)
        out.append(str(dest))
    if not out:
        raise UsageError(f"no input data at {obs_path}")
    return out


def upload(local: str, obs_dir: str) -> list[str]:
    """Copy a local file or folder's files to the OBS folder ``obs_dir`` (in parallel, large
    files by multipart; nothing is read into memory whole); returns the URIs written."""
    from mafmt.storage.local import is_temp_name

    base = obs_dir.rstrip("/") + "/"
    src = Path(local)
    if src.is_file():
        rels = [src.name]
    else:
        rels = sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file() and not is_temp_name(p.name))
    if rels:
        storage.copy(str(src), base, keep_last_dir=False, progress=False)
    return [base + rel for rel in rels]


def _args(parameters: list[dict[str, Any]]) -> list[str]:
    out = []
    for p in parameters:
        if not p.get("name"):
            raise UsageError(f"a parameter needs a name: {p!r}")
        out.append(f"--{p['name']}" if p.get("value") is None else f"--{p['name']}={p['value']}")
    return out


def run_local(job: LocalJob, *, stream: TextIO | None = None) -> LocalResult:
    """Run ``job`` on this machine; returns its :class:`LocalResult` (never raises for a
    non-zero exit; raises :class:`UsageError` for a bad setup)."""
    stream = stream if stream is not None else sys.stdout
    with tempfile.TemporaryDirectory(prefix="mafmt-local-") as tmp:
        code_dir = job.code_dir
        if _is_remote(code_dir):
            code_dir = os.path.join(tmp, "code")
            download(job.code_dir, code_dir)
        boot = job.boot_file
        if _is_remote(boot):
            boot = os.path.join(code_dir, boot.rstrip("/").rsplit("/", 1)[-1])
        elif not os.path.isabs(boot):
            boot = os.path.join(code_dir, boot)
        if not os.path.isfile(boot):
            raise UsageError(f"boot file not found: {boot}")
        params = list(job.parameters)
        given = {p.get("name") for p in params}
        for obs_path, local_path, name, is_local in job.inputs:
            if not is_local:
                download(obs_path, local_path)
            if name and name not in given:
                params.append({"name": name, "value": local_path})
        for local_path, _obs, name in job.outputs:
            Path(local_path).mkdir(parents=True, exist_ok=True)
            if name and name not in given:
                params.append({"name": name, "value": local_path})
        cmd = [job.interpreter or sys.executable, boot, *_args(params)]
        log_dir = Path(tempfile.mkdtemp(prefix="mafmt-log-"))
        log_file = log_dir / f"{job.job_name}.log"
        env = {k: x for k, x in os.environ.items() if k not in SECRET_VARS}  # the script gets no credentials
        env.update({k: str(x) for k, x in job.env.items()})
        with open(log_file, "w", encoding="utf-8") as log:
            proc = subprocess.Popen(cmd, cwd=job.working_dir or code_dir, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, bufsize=1)
            assert proc.stdout is not None
            for line in proc.stdout:
                stream.write(line)
                log.write(line)
            code = proc.wait(timeout=job.timeout)
        result = LocalResult(job.job_name, code, str(log_file))
        for local_out, obs_out, _name in job.outputs:
            if obs_out:
                result.uploaded += upload(local_out, obs_out)
        if job.log_url:
            result.log_url = upload(str(log_file), job.log_url)[0]
    return result
