"""``mafmt convert SRC DST``: any readable format to any writable one, with a loss report."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._util import add_scale_arguments, check_size_table, parse_options, print_json, scale_options
from mafmt.errors import UsageError

__all__ = ["add_parser", "run"]

_EXAMPLES = """examples:
  mafmt convert instances.json out/voc --to voc --images imgs/
  mafmt convert train.manifest yolo/ --to yolo -o task=segment --strict
  mafmt convert yolo/ data.json --to coco -o categories=original_instances.json
  mafmt convert voc/ data.json --to coco --overwrite --json

formats: run 'mafmt formats' for the names and what each can hold."""


def _check_paths(args: argparse.Namespace) -> None:
    """The mistakes a user makes with paths are usage errors (exit 2), found before any work."""
    from mafmt import storage

    if not storage.scheme_of(args.src) and not storage.exists(args.src):
        raise UsageError(f"SRC {args.src}: no such file or folder")
    if args.images is not None and not storage.scheme_of(args.images) and not storage.is_dir(args.images):
        what = "is a file" if storage.exists(args.images) else "no such folder"
        raise UsageError(f"--images {args.images}: {what} (give the folder that holds the images)")
    check_size_table(args.size_table)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import mafmt
    from mafmt import converters
    from mafmt.converters._common import accepted
    from mafmt.progress import bar_for

    _check_paths(args)
    scale = scale_options(args)
    src_fmt = converters.get(args.src_format) if args.src_format else converters.detect(args.src)
    dst_fmt = converters.get(args.dst_format) if args.dst_format else converters.target_format(args.dst)
    shared = {"images": args.images, "size_table": args.size_table}
    read_options = {**accepted(src_fmt.read, shared), **parse_options(args.read_option or [])}
    write_options = {**accepted(dst_fmt.write, shared), **parse_options(args.option or [])}
    bar = bar_for("converting", err, quiet=args.quiet, force=args.progress)
    try:
        report = mafmt.convert(
            args.src,
            args.dst,
            src_fmt.name,
            dst_fmt.name,
            strict=args.strict,
            on_error=args.on_error,
            overwrite=args.overwrite,
            read_options=read_options,
            progress=bar,
            **scale,
            **write_options,
        )
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print_json(report.to_dict(), out)
    else:
        out.write(f"{args.src} -> {args.dst} ({dst_fmt.name})\n{report}\n")
        if report.lost or report.dropped:
            out.write(f"(not written and lost: what {dst_fmt.name} cannot hold -- 'mafmt formats' says what each "
                      "format holds; --strict refuses any loss)\n")
        err.writelines(f"{problem.severity}: {problem}\n" for problem in report.problems[:20])
        if len(report.problems) > 20:
            err.write(f"... and {len(report.problems) - 20} more (--json lists them)\n")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("convert", help="convert a dataset between formats",
                       description="Convert a dataset from one format to another through mafmt's model. The target "
                                   "is written as one transaction: it appears complete or not at all. Everything the "
                                   "target cannot hold is counted in the report.",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    from mafmt.commands._util import format_names

    names = format_names()
    p.add_argument("src", metavar="SRC", help="source file, folder or obs:// URI")
    p.add_argument("dst", metavar="DST", help="target file or folder (refused when it exists, unless --overwrite)")
    p.add_argument("--from", dest="src_format", metavar="FMT", help=f"source format (default: detected); one of {names}")
    p.add_argument("--to", dest="dst_format", metavar="FMT",
                   help=f"target format (default: from DST's extension); one of {names}")
    p.add_argument("--overwrite", action="store_true", help="replace an existing DST as a whole (never merged)")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 and leave DST untouched when any sample, data or identity would be lost")
    p.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                   help="stop at the first bad record (raise) or leave bad records out and count them (skip)")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.add_argument("--images", metavar="DIR", help="folder where images are looked up (sizes from headers, copies)")
    p.add_argument("--size-table", metavar="FILE", help="CSV (filename,width,height) or JSON of image sizes")
    p.add_argument("-o", "--option", action="append", metavar="KEY=VALUE",
                   help="writer option, e.g. task=segment, layout=darknet, pixel_base=1, classes=a,b, "
                        "categories=FILE (repeatable; see the format's docs)")
    p.add_argument("--read-option", action="append", metavar="KEY=VALUE", help="reader option (repeatable)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    add_scale_arguments(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
