"""``mafmt formats``: the registered formats and what each can hold."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mafmt.commands._util import print_json

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import converters

    if args.json:
        print_json([f.to_dict() for f in converters.FORMATS.values()], out)
        return 0
    for fmt in converters.FORMATS.values():
        alias = f" (also: {', '.join(fmt.aliases)})" if fmt.aliases else ""
        out.write(f"{fmt.name}{alias}\n    {fmt.description}\n    holds: {', '.join(sorted(fmt.holds))}\n")
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("formats", help="list the formats and what each can hold",
                       description="List every format mafmt reads and writes: its name (for --from, --to, --format), "
                                   "aliases, and what it can hold; what a target cannot hold is counted as lost.",
                       epilog="example:\n  mafmt formats --json", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print a JSON list (name, aliases, description, extensions, "
                                                       "directory, holds)")
    p.set_defaults(func=run)
