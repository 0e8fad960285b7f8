"""``mafmt stats PATH``: counts and distributions, optionally a picture of them."""

from __future__ import annotations

import argparse
import os
from typing import Any, TextIO

from mafmt.commands._util import (
    add_path_arguments,
    add_scale_arguments,
    check_input,
    format_for,
    print_json,
    reader_options,
    scale_options,
)
from mafmt.errors import UsageError

__all__ = ["add_parser", "run"]

_EXAMPLES = """examples:
  mafmt stats train.manifest
  mafmt stats instances.json --plot stats.png
  mafmt stats voc_dataset/ --json"""


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import stats, storage
    from mafmt.draw import picture_type
    from mafmt.progress import bar_for

    check_input(args)
    if args.plot:
        picture_type(args.plot)  # a wrong --plot is a usage error before any work
        if not args.overwrite and not storage.scheme_of(args.plot) and os.path.lexists(args.plot):
            raise UsageError(f"--plot {args.plot}: file exists; pass --overwrite to replace it")
    scale = scale_options(args)
    fmt = format_for(args)
    bar = bar_for("reading", err, quiet=args.quiet)
    try:
        result = stats(args.path, fmt.name, progress=bar, **scale, **reader_options(args))
    finally:
        if bar is not None:
            bar.close()
    if args.plot:
        result.plot(args.plot, overwrite=args.overwrite)
    if args.json:
        print_json(result.to_dict(), out)
    else:
        for name, frame in result.tables().items():
            if len(frame):
                index = name not in ("overview", "types", "labels", "shapes", "usage")
                out.write(f"== {name} ==\n{frame.to_string(index=index)}\n\n")
        if args.plot:
            out.write(f"dashboard: {args.plot}\n")
    err.writelines(f"{p.severity}: {p}\n" for p in result.problems)
    return 1 if any(p.severity == "error" for p in result.problems) else 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("stats", help="samples, labels, objects per image, box sizes, usage split",
                       description="Statistics of a dataset of any format: label distribution, objects per image, "
                                   "box sizes and aspect ratios, the train/eval/test split.",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_path_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="OUT.png", help="also draw a dashboard picture (.png, .jpg or .webp)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --plot file")
    p.add_argument("--images", metavar="DIR", help="folder of the images (YOLO: their sizes)")
    p.add_argument("--size-table", metavar="FILE", help="CSV or JSON of image sizes (YOLO without images)")
    add_scale_arguments(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)
