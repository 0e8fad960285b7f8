"""``mafmt obs ls|cp|rm|cat|stat``: the storage commands of the CLI.

Every command takes local paths and ``obs://`` (``s3://``, ``s3a://``) URIs alike.
Connection settings come from the environment (see :mod:`mafmt.storage.config`) or the
group's options. Mistakes are usage errors (exit 2) in the command line's words: a missing
source, a folder without ``-r``, a bad URI, no endpoint or no credentials; a failed
operation (the server refused, stopped answering, some files failed) is exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from mafmt.errors import MafmtError, StorageError, UsageError

if TYPE_CHECKING:
    from mafmt.progress import Bar, Progress

__all__ = ["add_parser"]

_OBJECT_SCHEMES = ("obs", "s3", "s3a")
_MISSING = ("NoSuchKey", "NoSuchBucket", "NotFound")


def _is_object(uri: str) -> bool:
    head, sep, _ = uri.partition("://")
    return bool(sep) and head.lower() in _OBJECT_SCHEMES


def _check_uris(uris: Sequence[str]) -> None:
    for uri in uris:
        head, sep, rest = uri.partition("://")
        if sep and head.lower() not in (*_OBJECT_SCHEMES, "file"):
            raise UsageError(f"{uri}: not a local path or an obs://, s3:// or s3a:// URI")
        if sep and head.lower() != "file" and rest.startswith("/"):
            raise UsageError(f"{uri}: no bucket name after {head}://")


def _configure(args: argparse.Namespace, uris: Sequence[str]) -> None:
    """Apply the connection options; with object URIs, require an endpoint and credentials."""
    _check_uris(uris)
    if not any(_is_object(u) for u in uris):
        return
    from mafmt import storage
    from mafmt.storage.obs import ObsBackend, ObsConfig

    settings: dict[str, Any] = {k: getattr(args, k) for k in ("endpoint", "region", "signature", "timeout")
                                if getattr(args, k, None) is not None}
    if getattr(args, "path_style", False):
        settings["path_style"] = True
    if args.endpoint is not None and not args.endpoint.startswith(("http://", "https://")):
        raise UsageError(f"--endpoint must be an http:// or https:// URL, not {args.endpoint!r}")
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {args.timeout:g}")
    if args.anonymous:
        settings.update(access_key="", secret_key="", security_token=None)
    current = storage._BACKENDS.get("obs")  # importing storage.obs registered one
    base = current.config if isinstance(current, ObsBackend) else ObsConfig.from_env()
    cfg = base.replace(**settings) if settings else base
    if not (cfg.endpoint or cfg.region):
        raise UsageError("no OBS endpoint: set MAFMT_OBS_ENDPOINT (or MAFMT_OBS_REGION), or pass --endpoint URL")
    if cfg.anonymous and not args.anonymous:
        raise UsageError("no OBS credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK "
                         "(or pass --anonymous for a public bucket)")
    if settings or not isinstance(current, ObsBackend):
        storage.configure_obs(cfg)


@contextmanager
def _cli_terms(verb: str) -> Iterator[None]:
    """Library errors in the command line's words: missing inputs, folders without ``-r``
    and bad URIs become usage errors (exit 2); other failures pass unchanged (exit 1)."""
    try:
        yield
    except UsageError:
        raise
    except StorageError as exc:
        raise _cli_error(exc, verb) from None


def _cli_error(exc: StorageError, verb: str) -> MafmtError:
    where = f"{exc.uri}: " if exc.uri else ""
    if exc.code in _MISSING:
        if exc.code == "NoSuchBucket":
            return UsageError(f"{where}no such bucket")
        return UsageError(f"{where}no such {'object or folder' if _is_object(exc.uri or '') else 'file or folder'}")
    if exc.code == "IsFolder":
        hint = ": use -r to include everything below it" if verb in ("cp", "rm") else ", not a file"
        return UsageError(f"{where}is a folder{hint}")
    if exc.code == "InvalidURI":
        return UsageError(f"{where}{exc.message}")
    return exc


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) if ts is not None else "-" * 19


def _info_dict(info: Any) -> dict[str, Any]:
    return {"uri": info.uri, "size": info.size, "mtime": info.mtime, "etag": info.etag, "is_dir": info.is_dir}


def cmd_ls(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import storage

    _configure(args, args.uris)
    rows = []
    with _cli_terms("ls"):
        for uri in args.uris:
            if not _is_object(uri) and not os.path.exists(uri.removeprefix("file://")):
                raise UsageError(f"{uri}: no such file or folder")
            for info in storage.ls(uri, recursive=args.recursive):
                if args.json:
                    rows.append(_info_dict(info))
                elif args.long:
                    kind = "DIR" if info.is_dir else f"{info.size:>12}"
                    out.write(f"{_when(info.mtime)}  {kind:>12}  {info.uri}\n")
                else:
                    out.write(info.uri + "\n")
    if args.json:
        out.write(json.dumps(rows, indent=2) + "\n")
    return 0


def cmd_stat(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import storage

    _configure(args, args.uris)
    with _cli_terms("stat"):
        infos = [storage.stat(uri) for uri in args.uris]
    if args.json:
        out.write(json.dumps([_info_dict(i) for i in infos], indent=2) + "\n")
        return 0
    for info in infos:
        out.write(f"{info.uri}\n  type:  {'folder' if info.is_dir else 'file'}\n  size:  {info.size}\n"
                  f"  mtime: {_when(info.mtime)} UTC\n")
        if info.etag:
            out.write(f"  etag:  {info.etag}\n")
    return 0


def cmd_cat(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import storage

    _configure(args, args.uris)
    binary = getattr(out, "buffer", None)
    with _cli_terms("cat"):
        for uri in args.uris:
            with storage.open_read(uri) as fh:
                while chunk := fh.read(1 << 20):
                    if binary is not None:
                        binary.write(chunk)
                    else:
                        out.write(chunk.decode("utf-8", errors="replace"))
    if binary is not None:
        binary.flush()
    return 0


def cmd_rm(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import storage

    _configure(args, args.uris)
    total = 0
    with _cli_terms("rm"):
        for uri in args.uris:
            total += storage.delete(uri, recursive=args.recursive)
    if not args.quiet:
        out.write(f"removed {total} file(s)\n")
    return 0


def _progress(args: argparse.Namespace, err: TextIO) -> tuple[Bar | None, Callable[[], Progress | bool]]:
    """The bar (or None) and a factory of per-source callbacks feeding it one running total."""
    from mafmt.progress import bar_for

    bar = bar_for("copying", err, quiet=args.quiet, force=args.progress, unit="B", unit_scale=True)
    state = {"done": 0, "total": 0}

    def for_source() -> Progress | bool:
        if bar is None:
            return False
        shown = bar
        base_done, base_total = state["done"], state["total"]

        def feed(done: int, total: int | None) -> None:
            state["done"], state["total"] = base_done + done, base_total + (total or 0)
            shown(state["done"], state["total"])

        return feed

    return bar, for_source


def _check_cp(args: argparse.Namespace, sources: Sequence[str], dst: str) -> None:
    from mafmt import storage

    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"-j/--jobs must be at least 1, not {args.jobs}")
    with _cli_terms("cp"):
        if _is_object(dst):
            bucket = dst.partition("://")[2].partition("/")[0]
            if not storage.exists(f"obs://{bucket}/"):
                raise UsageError(f"{dst}: no such bucket")
        if len(sources) > 1 and not (dst.endswith("/") or storage.is_dir(dst)):
            raise UsageError("with several sources the destination must be a folder (end it with /)")
        for src in sources:
            if not _is_object(src) and not os.path.exists(src.removeprefix("file://")):
                raise UsageError(f"{src}: no such file or folder")
            is_dir = storage.stat(src).is_dir
            if is_dir and not args.recursive:
                raise UsageError(f"{src}: is a folder: use -r to copy it")
            if not _is_object(src) and not _is_object(dst) and os.path.abspath(src) == os.path.abspath(dst):
                raise UsageError(f"{src}: source and destination are the same")
            if is_dir and not _is_object(dst) and os.path.isfile(dst):
                raise UsageError(f"{dst}: is a file; a folder can only be copied into a folder")


def cmd_cp(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import storage
    from mafmt.storage.transfer import TransferSummary

    *sources, dst = args.paths
    if not sources:
        raise UsageError("give a source and a destination")
    _configure(args, args.paths)
    _check_cp(args, sources, dst)
    bar, for_source = _progress(args, err)
    total = TransferSummary()
    try:
        with _cli_terms("cp"):
            for src in sources:
                total.add(storage.copy(src, dst, keep_last_dir=not args.no_keep_last_dir, workers=args.jobs,
                                       skip_existing=args.skip_existing,
                                       progress=for_source(), on_error="continue"))
                if total.not_attempted:
                    break
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        out.write(json.dumps(total.to_dict(), indent=2) + "\n")
    elif total.not_attempted:
        out.write(f"{total}\n")
    else:
        for src, exc in total.errors[:20]:
            err.write(f"failed: {src}: {exc}\n")
        if len(total.errors) > 20:
            err.write(f"failed: ... and {len(total.errors) - 20} more\n")
        if not args.quiet or total.failed:
            out.write(f"{total}\n")
    if total.not_attempted and total.errors:
        first = total.errors[-1][1]
        err.write(f"mafmt: error: {first} ({total.failed} failed, {total.not_attempted} not attempted)\n")
    return 1 if total.failed or total.not_attempted else 0


_EXAMPLES = {
    "ls": "examples:\n  mafmt obs ls obs://bucket/data/\n  mafmt obs ls -r -l obs://bucket/data/\n"
          "  mafmt obs ls obs://            # the buckets",
    "cp": "examples:\n  mafmt obs cp -r ./images obs://bucket/data/ -j 16 --skip-existing\n"
          "  mafmt obs cp obs://bucket/data/train.manifest ./\n  mafmt obs cp -r obs://bucket/a/ obs://bucket/b/",
    "rm": "examples:\n  mafmt obs rm obs://bucket/data/old.manifest\n  mafmt obs rm -r obs://bucket/tmp/",
    "cat": "examples:\n  mafmt obs cat obs://bucket/data/train.manifest | head",
    "stat": "examples:\n  mafmt obs stat obs://bucket/data/train.manifest\n  mafmt obs stat --json obs://bucket/data/",
}


def add_parser(sub: Any) -> None:
    """Add the ``obs`` command group to the CLI's sub-parsers."""
    fmt = argparse.RawDescriptionHelpFormatter
    group = sub.add_parser("obs", help="list, copy, remove, print and stat files on OBS or locally",
                           description="Files on OBS (obs://, s3://, s3a://) and local paths, with the same verbs.",
                           epilog="examples:\n  mafmt obs ls -r obs://bucket/data/\n"
                                  "  mafmt obs cp -r ./images obs://bucket/data/ -j 16 --skip-existing\n\n"
                                  "settings: HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, MAFMT_OBS_ENDPOINT (see README)",
                           formatter_class=fmt)
    conn = argparse.ArgumentParser(add_help=False)
    c = conn.add_argument_group("connection")
    c.add_argument("--endpoint", metavar="URL", help="OBS endpoint (default: $MAFMT_OBS_ENDPOINT)")
    c.add_argument("--region", metavar="ID", help="region id; gives the endpoint when none is set "
                                                   "(default: $MAFMT_OBS_REGION)")
    c.add_argument("--signature", choices=("obs", "v2", "v4"), help="signing dialect (default: obs)")
    c.add_argument("--path-style", action="store_true", help="address buckets as server/bucket")
    c.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="read timeout: how long the server may stay silent (default: 20)")
    c.add_argument("--anonymous", action="store_true", help="send unsigned requests (public buckets); without it "
                                                            "credentials are required")
    verbs = group.add_subparsers(dest="obs_command", metavar="VERB", parser_class=type(group))

    def verb(name: str, summary: str) -> Any:
        return verbs.add_parser(name, parents=[conn], help=summary, description=summary + ".",
                                epilog=_EXAMPLES[name], formatter_class=fmt)

    p = verb("ls", "list a folder (or prefix) or a bucket")
    p.add_argument("uris", nargs="+", metavar="URI", help="local folders or obs:// URIs (obs:// alone: the buckets)")
    p.add_argument("-r", "--recursive", action="store_true", help="every file below, no folder entries")
    p.add_argument("-l", "--long", action="store_true", help="show time and size")
    p.add_argument("--json", action="store_true", help="print a JSON list of entries")
    p.set_defaults(func=cmd_ls)

    p = verb("cp", "copy files or folders (local <-> OBS, OBS -> OBS)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="one or more sources, then the destination")
    p.add_argument("-r", "--recursive", action="store_true", help="copy folders")
    p.add_argument("--no-keep-last-dir", action="store_true",
                   help="put a folder's content directly in DST instead of DST/<folder name>/")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help="parallel transfers (default: 16)")
    p.add_argument("--skip-existing", action="store_true", help="skip files whose target has the same size and ETag")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when it is a terminal)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary unless files failed")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_cp)

    p = verb("rm", "remove files (folders with -r)")
    p.add_argument("uris", nargs="+", metavar="URI", help="local paths or obs:// URIs to remove")
    p.add_argument("-r", "--recursive", action="store_true", help="remove folders and everything below them")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print how many files were removed")
    p.set_defaults(func=cmd_rm)

    p = verb("cat", "print files to stdout")
    p.add_argument("uris", nargs="+", metavar="URI", help="local files or obs:// objects, printed in order")
    p.set_defaults(func=cmd_cat)

    p = verb("stat", "show type, size, time and ETag")
    p.add_argument("uris", nargs="+", metavar="URI", help="local paths or obs:// URIs")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_stat)

    def need_verb(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        raise UsageError("mafmt obs: give a verb: ls, cp, rm, cat or stat (see mafmt obs --help)")

    group.set_defaults(func=need_verb)
