"""``mafmt draw PATH --images DIR --out DIR``: annotations drawn over their images."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._util import (
    add_path_arguments,
    check_input,
    format_for,
    print_json,
    read_labels,
    reader_options,
)
from mafmt.errors import UsageError

__all__ = ["add_parser", "run"]

_EXAMPLES = """examples:
  mafmt draw train.manifest --images imgs/ --out pics/
  mafmt draw instances.json --images imgs/ --out pics/ --only-issues --labels cat,dog
  mafmt draw voc_dataset/ --images voc_dataset/JPEGImages --out pics/ --limit 20 --overwrite"""


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt.draw import draw
    from mafmt.progress import bar_for

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    check_input(args)
    fmt = format_for(args)
    bar = bar_for("drawing", err, quiet=args.quiet)
    try:
        report = draw(args.path, images=args.images, out=args.out, format=fmt.name, limit=args.limit,
                      only_issues=args.only_issues, labels=read_labels(args.labels), overwrite=args.overwrite,
                      progress=bar, **{k: v for k, v in reader_options(args).items() if k != "images"})
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print_json(report.to_dict(), out)
    else:
        out.write(f"{len(report.written)} image(s) drawn into {args.out}")
        out.write(f"; contact sheet {report.contact_sheet}\n" if report.contact_sheet else "\n")
        err.writelines(f"skipped {s}: {r}\n" for s, r in report.skipped)
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("draw", help="render annotations over their images, plus a contact sheet",
                       description="Draw every sample's shapes and labels over its image into a folder of PNG files, "
                                   "plus contact_sheet.png; the folder is written as one transaction.",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_path_arguments(p)
    p.add_argument("--images", metavar="DIR", required=True, help="folder of the images")
    p.add_argument("--out", metavar="DIR", required=True, help="folder for the PNG files (refused when it exists, "
                                                               "unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder as a whole")
    p.add_argument("--limit", type=int, metavar="N", help="draw at most N samples")
    p.add_argument("--only-issues", action="store_true", help="only samples QA flags, offending shapes highlighted")
    p.add_argument("--labels", metavar="FILE|A,B", help="declared label set for QA (with --only-issues)")
    p.add_argument("--size-table", metavar="FILE", help="CSV or JSON of image sizes (YOLO without images)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)
