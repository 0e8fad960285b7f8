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


def _option_value(key: str, text: str) -> Any:
    if key in ("classes", "categories") and not text.lower().endswith((".json", ".txt", ".names")):
        return [c for c in text.split(",") if c]
    if text.lower() in ("true", "yes", "on", "false", "no", "off"):
        return text.lower() in ("true", "yes", "on")
    try:
        return int(text)
    except ValueError:
        return text


def _parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"option {pair!r} is not KEY=VALUE")
        key = key.strip().replace("-", "_")
        options[key] = _option_value(key, value.strip())
    return options


class _Progress:
    """A one-line sample counter on stderr, redrawn at most 10 times a second."""

    def __init__(self, err: TextIO) -> None:
        import time

        self.err = err
        self.clock = time.monotonic
        self.last = 0.0
        self.n = 0

    def __call__(self, n: int) -> None:
        self.n = n
        now = self.clock()
        if now - self.last >= 0.1:
            self.last = now
            self.err.write(f"\rconverting: {n} samples")
            self.err.flush()

    def close(self) -> None:
        if self.last:
            self.err.write(f"\rconverting: {self.n} samples\n")
            self.err.flush()


def cmd_convert(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from mafmt import converters
    from mafmt.converters._common import accepted

    src_fmt = converters.get(args.src_format) if args.src_format else converters.detect(args.src)
    dst_fmt = converters.get(args.dst_format) if args.dst_format else converters.target_format(args.dst)
    shared = {"images": args.images, "size_table": args.size_table}
    read_options = {**accepted(src_fmt.read, shared), **_parse_options(args.read_option or [])}
    write_options = {**accepted(dst_fmt.write, shared), **_parse_options(args.option or [])}
    show = args.progress if args.progress is not None else err.isatty()
    progress = _Progress(err) if show else None
    try:
        report = converters.convert(
            args.src,
            args.dst,
            src_fmt.name,
            dst_fmt.name,
            strict=args.strict,
            on_error=args.on_error,
            read_options=read_options,
            progress=progress,
            **write_options,
        )
    finally:
        if progress is not None:
            progress.close()
    if args.json:
        _print_json(report.to_dict(), out)
    else:
        out.write(f"{args.src} -> {args.dst}\n{report}\n")
        err.writelines(f"{problem.severity}: {problem}\n" for problem in report.problems[:20])
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
                out.writelines(f"  {key:<{width}}  {n}\n" for key, n in counter.most_common())
        err.writelines(f"{problem.severity}: {problem}\n" for problem in summary.problems)
    return 1 if any(p.severity == "error" for p in summary.problems) else 0


def cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
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
    p.add_argument("--images", metavar="DIR", help="folder where images are looked up (sizes, copies)")
    p.add_argument("--size-table", metavar="FILE", help="CSV (filename,width,height) or JSON of image sizes")
    p.add_argument("-o", "--option", action="append", metavar="KEY=VALUE",
                   help="writer option, e.g. task=segment, layout=darknet, pixel_base=1, classes=a,b (repeatable)")
    p.add_argument("--read-option", action="append", metavar="KEY=VALUE", help="reader option (repeatable)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress on stderr (default: when stderr is a terminal)")
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
    p.add_argument("--remote", action="store_true", help="also fetch VOC files named by obs:// / s3:// URIs")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("formats", help="list the formats and what each can hold")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_formats)

    from mafmt.cli_qa import add_qa_parsers  # mafmt qa|stats|draw

    add_qa_parsers(sub)

    from mafmt.storage.cli_obs import add_obs_parser  # mafmt obs ls|cp|rm|cat|stat

    add_obs_parser(sub)

    from mafmt.cli_api import add_api_parsers  # mafmt dataset|label-task|emulator

    add_api_parsers(sub)
    from mafmt.cli_train import add_train_parsers  # mafmt train|model|service

    add_train_parsers(sub)
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
