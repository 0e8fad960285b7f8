"""The sub-commands of ``mafmt``: one module per command, each with ``add_parser(sub)``.

The modules only parse arguments and print; the work is in the library. ``cli.py``
assembles them in the order of :data:`MODULES` (the order ``mafmt --help`` lists them).
Heavy imports happen inside the command functions, so building the parser stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MODULES", "add_all"]

#: module names below ``mafmt.commands``, in help order
MODULES = (
    "convert",
    "inspect",
    "validate",
    "formats",
    "qa",
    "stats",
    "draw",
    "obs",
    "dataset",
    "publish",
    "label_task",
    "train",
    "model",
    "service",
    "emulator",
)


def add_all(sub: Any, only: str | None = None) -> None:
    """Add every command to the ``mafmt`` sub-parser action ``sub``.

    With ``only`` (the command word a run was given), that command is built whole and the
    others only as names with their one-line help (what ``mafmt --help`` lists): building
    every argument of every command costs more than most runs.
    """
    import importlib

    target = sub if only is None else _OnlyOne(sub, only)
    for name in MODULES:
        importlib.import_module(f"mafmt.commands.{name}").add_parser(target)


class _OnlyOne:
    """A sub-parser action that builds only the command named ``only`` in full."""

    def __init__(self, sub: Any, only: str) -> None:
        self.sub, self.only = sub, only

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if self.only == name or self.only in kwargs.get("aliases", ()):
            return self.sub.add_parser(name, **kwargs)
        keep = {k: v for k, v in kwargs.items() if k in ("help", "aliases")}
        self.sub.add_parser(name, add_help=False, **keep)
        return _Sink()


class _Sink:
    """Takes every parser-building call and keeps nothing."""

    def __getattr__(self, name: str) -> Any:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self

    def __iter__(self) -> Any:
        return iter(())
