"""``mafmt draw PATH --images DIR --out DIR``: annotations drawn over their images."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._util import print_json, read_labels
from mafmt.errors import UsageError

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt.draw import draw

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    report = draw(args.path, images=args.images, out=args.out, format=args.format, limit=args.limit,
                  only_issues=args.only_issues, labels=read_labels(args.labels))
    if args.json:
        print_json(report.to_dict(), out)
    else:
        out.write(f"{len(report.written)} image(s) drawn into {args.out}")
        out.write(f"; contact sheet {report.contact_sheet}\n" if report.contact_sheet else "\n")
        err.writelines(f"skipped {s}: {r}\n" for s, r in report.skipped)
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("draw", help="render annotations over their images, plus a contact sheet")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--format", metavar="FMT")
    p.add_argument("--images", metavar="DIR", required=True, help="folder of the images")
    p.add_argument("--out", metavar="DIR", required=True, help="folder for the PNG files")
    p.add_argument("--limit", type=int, metavar="N", help="draw at most N samples")
    p.add_argument("--only-issues", action="store_true", help="only samples QA flags, offending shapes highlighted")
    p.add_argument("--labels", metavar="FILE|A,B", help="declared label set for QA (with --only-issues)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=run)
