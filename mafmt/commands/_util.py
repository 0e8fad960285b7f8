"""Helpers the command modules share: JSON output, tables, ``-o KEY=VALUE`` options."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from mafmt.errors import UsageError

__all__ = ["format_names", "parse_options", "print_json", "read_labels", "table"]


def print_json(obj: Any, out: TextIO) -> None:
    """Pretty JSON on ``out`` (non-JSON values as strings)."""
    out.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def table(rows: Iterable[Sequence[str]], header: Sequence[str], out: TextIO, *, rule: bool = True) -> None:
    """A left-aligned text table (the last column is not padded)."""
    rows = [list(r) for r in rows]
    widths = [max([len(header[k]), *(len(r[k]) for r in rows)]) for k in range(len(header))]
    lines = [list(header), *([["-" * w for w in widths]] if rule else []), *rows]
    for row in lines:
        cells = [c.ljust(widths[k]) if k < len(row) - 1 else c for k, c in enumerate(row)]
        out.write("  ".join(cells).rstrip() + "\n")


def _option_value(key: str, text: str) -> Any:
    if key in ("classes", "categories") and not text.lower().endswith((".json", ".txt", ".names", ".yaml", ".yml")):
        return [c for c in text.split(",") if c]
    if text.lower() in ("true", "yes", "on", "false", "no", "off"):
        return text.lower() in ("true", "yes", "on")
    try:
        return int(text)
    except ValueError:
        return text


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """``-o KEY=VALUE`` pairs as keyword arguments (``true``/``false`` and integers typed)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"option {pair!r} is not KEY=VALUE")
        key = key.strip().replace("-", "_")
        options[key] = _option_value(key, value.strip())
    return options


def read_labels(value: str | None) -> list[str] | None:
    """``--labels``: a file with one label a line, or a comma-separated list."""
    if value is None:
        return None
    from mafmt import storage

    if storage.exists(value) and not storage.is_dir(value):
        text = storage.read_bytes(value).decode("utf-8-sig")
        return [line.strip() for line in text.splitlines() if line.strip()]
    return [v.strip() for v in value.split(",") if v.strip()]


def format_names() -> str:
    """The registered format names, for help texts (without importing the registry)."""
    from mafmt.formats import NAMES

    return ", ".join(NAMES)
