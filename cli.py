"""The ``mafmt`` command line: argument parsing and output only; the work is in the library.

Exit codes everywhere: 0 ok, 1 bad data or failed operation, 2 usage error.
Installed as ``mafmt.cli``; ``main(argv)`` returns the exit code (testable in-process).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from mafmt.errors import FormatError, MafmtError, UsageError

__all__ = ["build_parser", "main", "main_entry"]

Command = Callable[[argparse.Namespace, TextIO, TextIO], int]


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` decides the exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _print_json(obj: Any, out: TextIO) -> None:
    out.write(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


# --------------------------------------------------------------------------- commands


def cmd_convert(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import mafmt

    report = mafmt.convert(
        args.src,
        args.dst,
        args.src_format,
        args.dst_format,
        strict=args.strict,
        on_error=args.on_error,
    )
    if args.json:
        _print_json(report.to_dict(), out)
    else:
        out.write(f"{args.src} -> {args.dst}\n{report}\n")
        for problem in report.problems[:20]:
            err.write(f"{problem.severity}: {problem}\n")
    return 0


def cmd_inspect(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import mafmt

    summary = mafmt.inspect(args.path, args.format)
    if args.json:
        _print_json(summary.to_dict(), out)
    else:
        out.write(f"format:      {summary.format}\n")
        out.write(f"samples:     {summary.samples}\n")
        out.write(f"annotations: {summary.annotations}\n")
        out.write(f"objects:     {summary.objects}\n")
        for title, counter in (("by type", summary.by_type), ("labels", summary.labels), ("shapes", summary.shapes)):
            if counter:
                out.write(f"{title}:\n")
                width = max(len(k) for k in counter)
                for key, n in counter.most_common():
                    out.write(f"  {key:<{width}}  {n}\n")
        for problem in summary.problems:
            err.write(f"{problem.severity}: {problem}\n")
    return 1 if any(p.severity == "error" for p in summary.problems) else 0


def cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import converters
    from mafmt.validation import iter_errors

    fmt = converters.get(args.format) if args.format else converters.detect(args.path)
    found: list[FormatError] = []
    errors = 0
    for problem in iter_errors(args.path, fmt.name):
        found.append(problem)
        errors += problem.severity == "error"
        if args.max_errors and errors >= args.max_errors:
            break
    if args.json:
        _print_json([p.to_dict() for p in found], out)
    else:
        for problem in found:
            out.write(f"{problem.severity}: {problem}\n")
        out.write(f"{args.path}: {'valid' if not errors else 'invalid'} ({fmt.name}; {errors} error(s), "
                  f"{len(found) - errors} warning(s))\n")
    return 1 if errors else 0


def cmd_formats(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import converters

    if args.json:
        _print_json([f.to_dict() for f in converters.FORMATS.values()], out)
        return 0
    for fmt in converters.FORMATS.values():
        alias = f" (also: {', '.join(fmt.aliases)})" if fmt.aliases else ""
        out.write(f"{fmt.name}{alias}\n    {fmt.description}\n    holds: {', '.join(sorted(fmt.holds))}\n")
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (one sub-command per verb)."""
    from mafmt import __version__

    parser = _Parser(prog="mafmt", description="ModelArts dataset annotations: convert, inspect, validate.")
    parser.add_argument("--version", action="version", version=f"mafmt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("convert", help="convert a dataset between formats")
    p.add_argument("src", metavar="SRC", help="source file, folder or obs:// URI")
    p.add_argument("dst", metavar="DST", help="target file or folder")
    p.add_argument("--from", dest="src_format", metavar="FMT", help="source format (default: detected)")
    p.add_argument("--to", dest="dst_format", metavar="FMT", help="target format (default: from DST's extension)")
    p.add_argument("--strict", action="store_true", help="fail (exit 1) instead of losing anything")
    p.add_argument("--on-error", choices=("raise", "skip"), default="raise", help="stop at or skip bad records")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("inspect", help="count samples, annotations, labels and shapes")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--format", metavar="FMT")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("validate", help="check files against the format's rules")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--format", metavar="FMT")
    p.add_argument("--json", action="store_true", help="print a JSON list of problems")
    p.add_argument("--max-errors", type=int, default=0, metavar="N", help="stop after N errors (0: all)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("formats", help="list the formats and what each can hold")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_formats)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 bad data, 2 usage)."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(err)
            return 2
        return int(args.func(args, out, err))
    except MafmtError as exc:
        err.write(f"mafmt: error: {exc}\n")
        return exc.exit_code
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        err.write("mafmt: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def main_entry() -> None:
    """Console-script entry point: exits with :func:`main`'s code."""
    sys.exit(main())
