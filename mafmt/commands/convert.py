"""``mafmt convert SRC DST``: any readable format to any writable one, with a loss report."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._util import parse_options, print_json

__all__ = ["add_parser", "run"]


class _Progress:
    """A one-line sample counter on stderr, redrawn at most 10 times a second."""

    def __init__(self, err: TextIO) -> None:
        import time

        self.err = err
        self.clock = time.monotonic
        self.last = 0.0
        self.n = 0

    def __call__(self, n: int) -> None:
        self.n = n
        now = self.clock()
        if now - self.last >= 0.1:
            self.last = now
            self.err.write(f"\rconverting: {n} samples")
            self.err.flush()

    def close(self) -> None:
        if self.last:
            self.err.write(f"\rconverting: {self.n} samples\n")
            self.err.flush()


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import converters
    from mafmt.converters._common import accepted

    src_fmt = converters.get(args.src_format) if args.src_format else converters.detect(args.src)
    dst_fmt = converters.get(args.dst_format) if args.dst_format else converters.target_format(args.dst)
    shared = {"images": args.images, "size_table": args.size_table}
    read_options = {**accepted(src_fmt.read, shared), **parse_options(args.read_option or [])}
    write_options = {**accepted(dst_fmt.write, shared), **parse_options(args.option or [])}
    show = args.progress if args.progress is not None else err.isatty()
    progress = _Progress(err) if show else None
    try:
        report = converters.convert(
            args.src,
            args.dst,
            src_fmt.name,
            dst_fmt.name,
            strict=args.strict,
            on_error=args.on_error,
            read_options=read_options,
            progress=progress,
            **write_options,
        )
    finally:
        if progress is not None:
            progress.close()
    if args.json:
        print_json(report.to_dict(), out)
    else:
        out.write(f"{args.src} -> {args.dst}\n{report}\n")
        err.writelines(f"{problem.severity}: {problem}\n" for problem in report.problems[:20])
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("convert", help="convert a dataset between formats")
    p.add_argument("src", metavar="SRC", help="source file, folder or obs:// URI")
    p.add_argument("dst", metavar="DST", help="target file or folder")
    p.add_argument("--from", dest="src_format", metavar="FMT", help="source format (default: detected)")
    p.add_argument("--to", dest="dst_format", metavar="FMT", help="target format (default: from DST's extension)")
    p.add_argument("--strict", action="store_true", help="fail (exit 1) instead of losing anything")
    p.add_argument("--on-error", choices=("raise", "skip"), default="raise", help="stop at or skip bad records")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--images", metavar="DIR", help="folder where images are looked up (sizes, copies)")
    p.add_argument("--size-table", metavar="FILE", help="CSV (filename,width,height) or JSON of image sizes")
    p.add_argument("-o", "--option", action="append", metavar="KEY=VALUE",
                   help="writer option, e.g. task=segment, layout=darknet, pixel_base=1, classes=a,b (repeatable)")
    p.add_argument("--read-option", action="append", metavar="KEY=VALUE", help="reader option (repeatable)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress on stderr (default: when stderr is a terminal)")
    p.set_defaults(func=run)
