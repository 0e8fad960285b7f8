"""``mafmt qa PATH``: semantic checks (QA101..QA120) of a dataset of any format."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._util import (
    add_path_arguments,
    add_scale_arguments,
    check_input,
    format_for,
    print_json,
    read_labels,
    reader_options,
    scale_options,
    table,
)

__all__ = ["add_parser", "run"]

_EXAMPLES = """examples:
  mafmt qa train.manifest --images imgs/ --labels cat,dog
  mafmt qa voc_dataset/ --labels labels.txt --fail-on warning
  mafmt qa --list-checks

Every finding has a stable id (QA101..QA120; --list-checks names them all).
exit codes: 0 no finding at --fail-on or worse, 1 findings, 2 usage error."""


def _list_checks(out: TextIO) -> int:
    from mafmt.quality import CHECKS

    table([[cid, name, severity, what] for cid, (name, severity, what) in CHECKS.items()],
          ["check", "name", "severity", "what it finds"], out)
    return 0


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import qa
    from mafmt.progress import bar_for
    from mafmt.quality import CHECKS

    if args.list_checks:
        return _list_checks(out)
    if args.path is None:
        from mafmt.errors import UsageError

        raise UsageError("mafmt qa: give PATH (or --list-checks)")
    check_input(args)
    scale = scale_options(args)
    fmt = format_for(args)
    labels = read_labels(args.labels)
    bar = bar_for("checking", err, quiet=args.quiet)
    try:
        report = qa(args.path, fmt.name, images=args.images, labels=labels, remote=args.remote, progress=bar,
                    **scale, **{k: v for k, v in reader_options(args).items() if k != "images"})
    finally:
        if bar is not None:
            bar.close()
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
    p = sub.add_parser("qa", help="semantic checks: shapes, image sizes, labels, ids, offsets, segments",
                       description="Check what a schema cannot: shapes inside the image, sizes against the image "
                                   "files, undeclared or near-duplicate labels, duplicate ids and sources, entity "
                                   "offsets, speech segments.",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_path_arguments(p, optional=True)  # PATH is not needed with --list-checks
    p.add_argument("--list-checks", action="store_true", help="print every check id with its name and exit")
    p.add_argument("--images", metavar="DIR", help="folder of the images (sizes read from headers only)")
    p.add_argument("--size-table", metavar="FILE", help="CSV or JSON of image sizes (YOLO without images)")
    p.add_argument("--labels", metavar="FILE|A,B", help="declared label set: a file (one a line) or a comma list")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--remote", action="store_true", help="also fetch VOC files named by obs:// / s3:// URIs")
    p.add_argument("--fail-on", choices=("error", "warning"), default="error",
                   help="exit 1 when an issue of this severity or worse is found (default: error)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar on stderr")
    add_scale_arguments(p)
    p.set_defaults(func=run)
