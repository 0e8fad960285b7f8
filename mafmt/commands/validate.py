"""``mafmt validate PATH``: every problem of a file or folder under its format's rules."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._util import print_json
from mafmt.errors import FormatError

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import converters
    from mafmt.validation import iter_errors

    fmt = converters.get(args.format) if args.format else converters.detect(args.path)
    found: list[FormatError] = []
    errors = 0
    for problem in iter_errors(args.path, fmt.name, remote=getattr(args, "remote", False)):
        found.append(problem)
        errors += problem.severity == "error"
        if args.max_errors and errors >= args.max_errors:
            break
    if args.json:
        print_json([p.to_dict() for p in found], out)
    else:
        for problem in found:
            out.write(f"{problem.severity}: {problem}\n")
        out.write(f"{args.path}: {'valid' if not errors else 'invalid'} ({fmt.name}; {errors} error(s), "
                  f"{len(found) - errors} warning(s))\n")
    return 1 if errors else 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("validate", help="check files against the format's rules")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--format", metavar="FMT")
    p.add_argument("--json", action="store_true", help="print a JSON list of problems")
    p.add_argument("--max-errors", type=int, default=0, metavar="N", help="stop after N errors (0: all)")
    p.add_argument("--remote", action="store_true", help="also fetch VOC files named by obs:// / s3:// URIs")
    p.set_defaults(func=run)
