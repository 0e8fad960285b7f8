"""``mafmt validate PATH``: every problem of a file or folder under its format's rules."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import Any, TextIO

from mafmt.commands._util import (
    add_path_arguments,
    add_scale_arguments,
    check_input,
    format_name_for,
    reader_options,
    scale_options,
)
from mafmt.errors import FormatError, UsageError

__all__ = ["add_parser", "run"]

_EXAMPLES = """examples:
  mafmt validate train.manifest
  mafmt validate voc_dataset/ --format voc          # the VOC devkit's rules
  mafmt validate import_folder/ --format modelarts-voc --max-errors 50
  mafmt validate yolo/ --size-table sizes.csv --json

Problems print as FILE:LINE: PATH: MESSAGE, one a line, as they are found.
exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage error."""


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt.progress import bar_for
    from mafmt.validation import PROGRESS_UNITS

    if args.max_errors < 0:
        raise UsageError(f"--max-errors must be 0 (all) or more, not {args.max_errors}")
    check_input(args)
    scale = scale_options(args)
    fmt = format_name_for(args)
    errors = warnings = 0
    first = True
    if args.json:
        out.write("[")
    unit = PROGRESS_UNITS.get(fmt)
    bar = bar_for("validating", err, quiet=args.quiet, unit=unit or "problem", unit_scale=unit == "B")
    try:
        for problem in _problems(args, fmt, scale, bar if unit else None):
            if problem.severity == "error":
                errors += 1
            else:
                warnings += 1
            if args.json:
                out.write(("\n  " if first else ",\n  ") + json.dumps(problem.to_dict(), ensure_ascii=False))
            else:
                out.write(f"{problem.severity}: {problem}\n")
            first = False
            if bar is not None and unit is None:  # a format without its own progress: count the problems
                bar(errors + warnings, None)
            if args.max_errors and errors >= args.max_errors:
                break
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        out.write("\n]\n" if not first else "]\n")
    else:
        verdict = "valid" if not errors else "invalid"
        more = " (stopped at --max-errors)" if args.max_errors and errors >= args.max_errors else ""
        out.write(f"{args.path}: {verdict} ({fmt}; {errors} error(s), {warnings} warning(s)){more}\n")
    return 1 if errors else 0


def _problems(args: argparse.Namespace, fmt: str, scale: dict[str, Any], progress: Any) -> Iterable[FormatError]:
    from mafmt import distributed

    if distributed.wanted(scale["workers"], scale["scheduler"]):
        from mafmt import scale as sharded

        return sharded.validate(args.path, fmt, remote=args.remote, read_options=reader_options(args), **scale)
    from mafmt.validation import iter_errors

    return iter_errors(args.path, fmt, remote=args.remote, read_options=reader_options(args), progress=progress)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("validate", help="check files against the format's rules",
                       description="Check a file or folder against its format's rules: JSON Schemas plus the rules a "
                                   "schema cannot say. VOC follows ModelArts' reader for modelarts-voc and manifests, "
                                   "the VOC devkit for --format voc.",
                       epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_path_arguments(p)
    p.add_argument("--json", action="store_true", help="print a JSON array of problems (file, line, path, message, "
                                                       "severity)")
    p.add_argument("--max-errors", type=int, default=0, metavar="N", help="stop after N errors (0: report all)")
    p.add_argument("--remote", action="store_true", help="also fetch VOC files named by obs:// / s3:// URIs")
    p.add_argument("--images", metavar="DIR", help="folder of the images (YOLO: their sizes)")
    p.add_argument("--size-table", metavar="FILE", help="CSV or JSON of image sizes (YOLO without images)")
    add_scale_arguments(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)
