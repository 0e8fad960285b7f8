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


def add_all(sub: Any) -> None:
    """Add every command to the ``mafmt`` sub-parser action ``sub``."""
    import importlib

    for name in MODULES:
        importlib.import_module(f"mafmt.commands.{name}").add_parser(sub)
