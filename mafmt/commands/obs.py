"""``mafmt obs ls|cp|rm|cat|stat``: the storage commands of the CLI.

Every command takes local paths and ``obs://`` (``s3://``) URIs alike. Connection settings
come from the environment (see :mod:`mafmt.storage.config`) or the group's options.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, TextIO

__all__ = ["add_parser"]


def _configure(args: argparse.Namespace) -> None:
    settings = {k: getattr(args, k) for k in ("endpoint", "region", "signature") if getattr(args, k, None)}
    if getattr(args, "path_style", False):
        settings["path_style"] = True
    if settings:
        from mafmt import storage
        from mafmt.storage.obs import ObsBackend, ObsConfig

        current = storage._BACKENDS.get("obs")
        if isinstance(current, ObsBackend):
            storage.configure_obs(current.config.replace(**settings))
        else:
            storage.configure_obs(ObsConfig.from_env(**settings))


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) if ts is not None else "-" * 19


def _info_dict(info: Any) -> dict[str, Any]:
    return {"uri": info.uri, "size": info.size, "mtime": info.mtime, "etag": info.etag, "is_dir": info.is_dir}


def cmd_ls(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import storage

    _configure(args)
    rows = []
    for uri in args.uris:
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

    _configure(args)
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

    _configure(args)
    binary = getattr(out, "buffer", None)
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

    _configure(args)
    total = 0
    for uri in args.uris:
        total += storage.delete(uri, recursive=args.recursive)
    if not args.quiet:
        out.write(f"removed {total} file(s)\n")
    return 0


def cmd_cp(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import storage
    from mafmt.errors import UsageError
    from mafmt.storage.transfer import TransferSummary

    _configure(args)
    *sources, dst = args.paths
    if not sources:
        raise UsageError("mafmt obs cp: give a source and a destination")
    if len(sources) > 1 and not (dst.endswith("/") or storage.is_dir(dst)):
        raise UsageError("mafmt obs cp: with several sources the destination must be a folder (end it with /)")
    total = TransferSummary()
    for src in sources:
        if not args.recursive and storage.stat(src).is_dir:
            raise UsageError(f"mafmt obs cp: {src} is a folder (use -r)")
        summary = storage.copy(src, dst, keep_last_dir=not args.no_keep_last_dir, workers=args.jobs,
                               skip_existing=args.skip_existing, progress=args.progress, on_error="continue")
        total.transferred += summary.transferred
        total.skipped += summary.skipped
        total.failed += summary.failed
        total.bytes += summary.bytes
        total.seconds += summary.seconds
        total.errors += summary.errors
    if args.json:
        out.write(json.dumps(total.to_dict(), indent=2) + "\n")
    else:
        for src, exc in total.errors[:20]:
            err.write(f"failed: {src}: {exc}\n")
        out.write(f"{total}\n")
    return 1 if total.failed else 0


def add_parser(sub: Any) -> None:
    """Add the ``obs`` command group to the CLI's sub-parsers."""
    group = sub.add_parser("obs", help="list, copy, remove, print and stat files on OBS or locally")
    conn = argparse.ArgumentParser(add_help=False)
    conn.add_argument("--endpoint", metavar="URL", help="OBS endpoint (default: $MAFMT_OBS_ENDPOINT)")
    conn.add_argument("--region", metavar="ID", help="region id (default: $MAFMT_OBS_REGION)")
    conn.add_argument("--signature", choices=("obs", "v2", "v4"), help="signing dialect (default: obs)")
    conn.add_argument("--path-style", action="store_true", help="address buckets as server/bucket")
    verbs = group.add_subparsers(dest="obs_command", metavar="VERB", parser_class=type(group))

    p = verbs.add_parser("ls", parents=[conn], help="list a folder (or prefix)")
    p.add_argument("uris", nargs="+", metavar="URI")
    p.add_argument("-r", "--recursive", action="store_true", help="every file below, no folder entries")
    p.add_argument("-l", "--long", action="store_true", help="show time and size")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ls)

    p = verbs.add_parser("cp", parents=[conn], help="copy files or folders (local <-> OBS, OBS -> OBS)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="one or more sources, then the destination")
    p.add_argument("-r", "--recursive", action="store_true", help="copy folders")
    p.add_argument("--no-keep-last-dir", action="store_true",
                   help="put a folder's content directly in DST instead of DST/<folder name>/")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help="parallel transfers")
    p.add_argument("--skip-existing", action="store_true", help="skip files whose target has the same size and ETag")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress line on stderr (default: when it is a terminal)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_cp)

    p = verbs.add_parser("rm", parents=[conn], help="remove files (folders with -r)")
    p.add_argument("uris", nargs="+", metavar="URI")
    p.add_argument("-r", "--recursive", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_rm)

    p = verbs.add_parser("cat", parents=[conn], help="print files to stdout")
    p.add_argument("uris", nargs="+", metavar="URI")
    p.set_defaults(func=cmd_cat)

    p = verbs.add_parser("stat", parents=[conn], help="size, time and ETag")
    p.add_argument("uris", nargs="+", metavar="URI")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stat)

    def need_verb(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        group.print_help(err)
        return 2

    group.set_defaults(func=need_verb)
