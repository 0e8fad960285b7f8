"""``mafmt stats PATH``: counts and distributions, optionally a PNG dashboard."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._util import print_json

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt.dataset_stats import stats

    result = stats(args.path, args.format)
    if args.plot:
        result.plot(args.plot)
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
    p = sub.add_parser("stats", help="samples, labels, objects per image, box sizes, usage split")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--format", metavar="FMT")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="OUT.png", help="also render a PNG dashboard")
    p.set_defaults(func=run)
