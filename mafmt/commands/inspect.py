"""``mafmt inspect PATH``: counts of samples, annotations, labels and shapes."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._util import print_json

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import mafmt

    summary = mafmt.inspect(args.path, args.format)
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
    p = sub.add_parser("inspect", help="count samples, annotations, labels and shapes")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--format", metavar="FMT")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
