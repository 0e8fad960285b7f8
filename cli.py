"""The ``mafmt`` command line: argument parsing and output only; the work is in the library.

Exit codes everywhere: 0 ok, 1 bad data or failed operation, 2 usage error.
Installed as ``mafmt.cli``; ``main(argv)`` returns the exit code (testable in-process).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from mafmt.errors import MafmtError, UsageError

__all__ = ["build_parser", "main", "main_entry"]

class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` decides the exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


# --------------------------------------------------------------------------- parser


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser (one sub-command per verb): whole, or, given the ``argv`` of a
    run, with only the command it names built in full (the others listed by name)."""
    from mafmt import __version__

    parser = _Parser(prog="mafmt", description="ModelArts dataset annotations: convert, inspect, validate.")
    parser.add_argument("--version", action="version", version=f"mafmt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    from mafmt.commands import add_all

    add_all(sub, None if argv is None else _command_word(argv))
    return parser


def _command_word(argv: Sequence[str]) -> str:
    """The command an argv names (its first word that is not an option), or ``""``."""
    return next((a for a in argv if not a.startswith("-")), "")


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 bad data, 2 usage)."""
    for stream in (out, err):
        if stream is None:  # the real terminal: a file name that is not valid UTF-8 must not end the run
            for std in (sys.stdout, sys.stderr):
                reconfigure = getattr(std, "reconfigure", None)
                if reconfigure is not None:
                    reconfigure(errors="backslashreplace")
            break
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = None
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(err)
            return 2
        return int(args.func(args, out, err))
    except MafmtError as exc:
        message = " ".join(str(exc).split("\n"))  # one line, whatever the message holds
        err.write(f"mafmt: error: {message}\n")
        if getattr(args, "json", False):  # a --json caller reads stdout: it gets the error there too
            import json

            out.write(json.dumps({"error": message, "exit_code": exc.exit_code, "kind": type(exc).__name__},
                                 ensure_ascii=False) + "\n")
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
