"""``mafmt inspect PATH``: counts of samples, annotations, labels and shapes."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._util import add_path_arguments, check_input, format_for, print_json, reader_options

__all__ = ["add_parser", "run"]

_EXAMPLES = """examples:
  mafmt inspect train.manifest
  mafmt inspect instances.json --json
  mafmt inspect yolo_dataset/ --format yolo --size-table sizes.csv

exit codes: 0 read, 1 bad records were found (listed on stderr), 2 usage error."""


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import mafmt
    from mafmt.progress import bar_for

    check_input(args)
    fmt = format_for(args)
    bar = bar_for("reading", err, quiet=args.quiet)
    try:
        summary = mafmt.inspect(args.path, fmt.name, progress=bar, **reader_options(args))
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print_json(summary.to_dict(), out)
    else:
        out.write(f"format:      {summary.format}\n")
        out.write(f"samples:     {summary.samples}\n")
        out.write(f"annotations: {summary.annotations}\n")
        out.write(f"objects:     {summary.objects}\n")
        for title, counter in (("by type", summary.by_type), ("labels", summary.labels), ("shapes", summary.shapes)):
            if counter:
                out.write(f"{title}:\n")
                width = max(len(k) for k in counter)
                out.writelines(f"  {key:<{width}}  {n}\n" for key, n in counter.most_common())
        err.writelines(f"{problem.severity}: {problem}\n" for problem in summary.problems)
    return 1 if any(p.severity == "error" for p in summary.problems) else 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("inspect", help="count samples, annotations, labels and shapes",
                       description="Read a dataset of any format and count what it holds: samples, annotations by "
                                   "type, objects, labels, shapes and splits. Bad records are skipped and listed.",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_path_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (format, samples, annotations, "
                                                       "by_type, labels, shapes, objects, usage)")
    p.add_argument("--images", metavar="DIR", help="folder of the images (YOLO: their sizes)")
    p.add_argument("--size-table", metavar="FILE", help="CSV or JSON of image sizes (YOLO without images)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)
