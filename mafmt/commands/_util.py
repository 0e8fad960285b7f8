"""Helpers the command modules share: JSON output, tables, ``-o KEY=VALUE`` options."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from mafmt.errors import UsageError

__all__ = ["add_path_arguments", "check_input", "check_size_table", "format_for", "format_name_for", "format_names",
           "parse_options", "print_json", "read_labels", "reader_options", "table"]


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
    """``--labels``: a file with one label a line, or a comma-separated list (a value that looks
    like a file name but names no file is a usage error, never a label)."""
    if value is None:
        return None
    from mafmt import storage

    if not storage.exists(value) and "," not in value and (
            "/" in value or "\\" in value or value.lower().endswith((".txt", ".names", ".csv", ".json", ".yaml"))):
        raise UsageError(f"--labels {value}: no such file (give a file of labels or a comma-separated list)")
    if storage.exists(value) and not storage.is_dir(value):
        from mafmt import limits

        try:
            text = storage.read_bytes(value, limit=limits.MAX_TEXT_BYTES).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UsageError(f"--labels {value}: not a UTF-8 text file") from None
        return [line.strip() for line in text.splitlines() if line.strip()]
    return [v.strip() for v in value.split(",") if v.strip()]


def format_names() -> str:
    """The registered format names, for help texts (without importing the registry)."""
    from mafmt.format_names import NAMES

    return ", ".join(NAMES)


def add_path_arguments(p: Any, *, optional: bool = False) -> None:
    """``PATH``, ``--format`` and ``--encoding``, as every reading command takes them."""
    p.add_argument("path", metavar="PATH", nargs="?" if optional else None,
                   help="file, folder or obs:// URI of the dataset")
    p.add_argument("--format", metavar="FMT", help=f"format of PATH (default: detected); one of {format_names()}")
    p.add_argument("--encoding", metavar="CODEC", help="text encoding of a manifest (default utf-8; e.g. gbk)")


def check_input(args: Any) -> None:
    """Usage errors (exit 2) for a missing PATH or a wrong ``--images``/``--size-table``, before any work."""
    from mafmt import storage

    if not storage.scheme_of(args.path) and not storage.exists(args.path):
        raise UsageError(f"PATH {args.path}: no such file or folder")
    images = getattr(args, "images", None)
    if images is not None and not storage.scheme_of(images) and not storage.is_dir(images):
        what = "is a file" if storage.exists(images) else "no such folder"
        raise UsageError(f"--images {images}: {what} (give the folder that holds the images)")
    check_size_table(getattr(args, "size_table", None))
    if getattr(args, "encoding", None):
        import codecs

        try:
            codecs.lookup(args.encoding)
        except LookupError:
            raise UsageError(f"--encoding {args.encoding}: unknown encoding") from None


def check_size_table(table: str | None) -> None:
    """A missing ``--size-table`` (local or on object storage) or a folder is a usage error (exit 2)."""
    from mafmt import storage

    if table is None:
        return
    if not storage.exists(table):
        raise UsageError(f"--size-table {table}: no such file")
    if storage.is_dir(table):
        raise UsageError(f"--size-table {table}: is a folder (give a CSV or JSON file)")


def format_for(args: Any) -> Any:
    """The format ``--format`` names, or the one detected from PATH."""
    from mafmt import converters

    return converters.get(args.format) if args.format else converters.detect(args.path)


def format_name_for(args: Any) -> str:
    """The name of :func:`format_for`'s format (:func:`mafmt.format_lookup.name_of`: a local
    manifest without loading the registry)."""
    from mafmt.format_lookup import name_of

    return name_of(args.path, args.format)


def reader_options(args: Any) -> dict[str, Any]:
    """The reader options a command's flags give (only those set)."""
    keys = ("images", "size_table", "encoding")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def add_scale_arguments(p: Any) -> None:
    """``--workers`` and ``--scheduler`` (Dask; the extra ``mafmt[dask]``)."""
    p.add_argument("--workers", metavar="N", default="1",
                   help="run shards on N local worker processes ('auto': the cores available; default 1, no Dask); "
                        "needs pip install 'mafmt[dask]'")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run shards on the Dask cluster at ADDRESS (tcp://host:8786); its workers read the data "
                        "themselves, with the credentials of their own environment")


def scale_options(args: Any) -> dict[str, Any]:
    """``workers``/``scheduler`` for the library call; a usage error (exit 2) for a bad
    ``--workers`` or when Dask is wanted but not installed, before any work."""
    from mafmt import distributed

    workers = distributed.parse_workers(getattr(args, "workers", None) or "1")
    scheduler = getattr(args, "scheduler", None)
    if distributed.wanted(workers, scheduler):
        distributed.require()
    return {"workers": workers, "scheduler": scheduler}
