"""``mafmt qa PATH``: semantic checks (QA101..QA120) of a dataset of any format."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._util import print_json, read_labels, table

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt.quality import CHECKS, qa

    report = qa(args.path, args.format, images=args.images, labels=read_labels(args.labels), remote=args.remote)
    if args.json:
        print_json(report.to_dict(), out)
    else:
        rows = []
        for i in report.issues:
            where = f"{i.file}:{i.line}" if i.file and i.line else (i.file or i.source or "")
            rows.append([i.severity, i.check, CHECKS[i.check][0], where, i.path or "", i.message])
        if rows:
            table(rows, ["severity", "check", "name", "where", "path", "message"], out)
        out.writelines(f"{p.severity}: {p}\n" for p in report.problems)
        counts = ", ".join(f"{cid} {CHECKS[cid][0]}: {n}" for cid, n in sorted(report.counts().items()))
        errors = sum(i.severity == "error" for i in report.issues)
        out.write(f"{args.path}: {report.samples} sample(s), {errors} error(s), {len(report.issues) - errors} "
                  f"warning(s){' (' + counts + ')' if counts else ''}\n")
    return 1 if report.failed(args.fail_on) else 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("qa", help="semantic checks: shapes, image sizes, labels, ids, offsets, segments")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--format", metavar="FMT")
    p.add_argument("--images", metavar="DIR", help="folder of the images (sizes read from headers only)")
    p.add_argument("--labels", metavar="FILE|A,B", help="declared label set: a file (one a line) or a comma list")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--remote", action="store_true", help="also fetch VOC files named by obs:// / s3:// URIs")
    p.add_argument("--fail-on", choices=("error", "warning"), default="error",
                   help="exit 1 when an issue of this severity or worse is found (default: error)")
    p.set_defaults(func=run)
