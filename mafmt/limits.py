"""Every limit mafmt enforces on its input, in one place.

Readers import this module and read the limits when they run (``limits.MAX_XML_BYTES``),
so a program can change one (``mafmt.limits.MAX_JSON_BYTES = 8 << 30``) and a test can lower
one. Each can also be set from the environment as ``MAFMT_<NAME>`` (e.g.
``MAFMT_MAX_JSON_BYTES=8589934592``). Going over a limit raises :class:`LimitError`, a
:class:`~mafmt.errors.FormatError` that names the file and what was too big.

==========================  ===========  ==================================================
limit                       default      what it bounds
==========================  ===========  ==================================================
``MAX_XML_BYTES``           32 MiB       one Pascal VOC document
``MAX_JSON_BYTES``          4 GiB        a JSON document read whole (COCO)
``MAX_LINE_BYTES``          64 MiB       one manifest line
``MAX_TEXT_BYTES``          64 MiB       a small text file: label files, class lists,
                                         ImageSets lists, size tables, CSV files
``MAX_YAML_BYTES``          1 MiB        a YOLO ``data.yaml``; YAML aliases are refused
``MAX_JSON_DEPTH``          64           nesting of arrays/objects in any JSON value kept,
                                         and of a YOLO ``data.yaml``
``MAX_XML_DEPTH``           16           nesting of ``part`` elements in a VOC object
``MAX_NUMBER_CHARS``        100          characters of one number written as text
``MAX_COORDINATE``          1e9          absolute value of a pixel coordinate or size
``MAX_MASK_PIXELS``         2**28        height x width of an RLE mask
``MAX_FIELD_BYTES``         16 MiB       one CSV cell
``MAX_ZIP_BYTES``           16 GiB       total unpacked size of a zip archive
``MAX_ZIP_MEMBERS``         100000       entries of a zip archive
``MAX_ZIP_RATIO``           200          unpacked / packed size of a zip archive
``MAX_MESSAGE_CHARS``       200          a value quoted in an error message
``MAX_DOCUMENT_FINDINGS``   1000         problems listed for one VOC document (then one finding
                                         says how many more)
==========================  ===========  ==================================================

Non-finite numbers (``NaN``, ``Infinity``) are never accepted where a number is expected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from mafmt.errors import LimitError

__all__ = [
    "MAX_COORDINATE",
    "MAX_DOCUMENT_FINDINGS",
    "MAX_FIELD_BYTES",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_LINE_BYTES",
    "MAX_MASK_PIXELS",
    "MAX_MESSAGE_CHARS",
    "MAX_NUMBER_CHARS",
    "MAX_TEXT_BYTES",
    "MAX_XML_BYTES",
    "MAX_XML_DEPTH",
    "MAX_YAML_BYTES",
    "MAX_ZIP_BYTES",
    "MAX_ZIP_MEMBERS",
    "MAX_ZIP_RATIO",
    "LimitError",
    "check_depth",
    "clip",
]


def _env(name: str, default: int) -> int:
    text = os.environ.get(f"MAFMT_{name}")
    if text is None:
        return default
    try:
        return int(float(text))
    except ValueError:
        return default


MAX_XML_BYTES = _env("MAX_XML_BYTES", 32 << 20)
MAX_JSON_BYTES = _env("MAX_JSON_BYTES", 4 << 30)
MAX_LINE_BYTES = _env("MAX_LINE_BYTES", 64 << 20)
MAX_TEXT_BYTES = _env("MAX_TEXT_BYTES", 64 << 20)
MAX_YAML_BYTES = _env("MAX_YAML_BYTES", 1 << 20)
MAX_JSON_DEPTH = _env("MAX_JSON_DEPTH", 64)
MAX_XML_DEPTH = _env("MAX_XML_DEPTH", 16)
MAX_NUMBER_CHARS = _env("MAX_NUMBER_CHARS", 100)
MAX_COORDINATE = _env("MAX_COORDINATE", 10**9)
MAX_MASK_PIXELS = _env("MAX_MASK_PIXELS", 1 << 28)
MAX_FIELD_BYTES = _env("MAX_FIELD_BYTES", 16 << 20)
MAX_ZIP_BYTES = _env("MAX_ZIP_BYTES", 16 << 30)
MAX_ZIP_MEMBERS = _env("MAX_ZIP_MEMBERS", 100_000)
MAX_ZIP_RATIO = _env("MAX_ZIP_RATIO", 200)
MAX_MESSAGE_CHARS = _env("MAX_MESSAGE_CHARS", 200)
MAX_DOCUMENT_FINDINGS = _env("MAX_DOCUMENT_FINDINGS", 1000)


def clip(value: Any, limit: int | None = None) -> str:
    """``repr(value)`` cut to at most ``limit`` characters (default :data:`MAX_MESSAGE_CHARS`),
    for quoting input in a message without ever copying a whole document into it."""
    n = MAX_MESSAGE_CHARS if limit is None else limit
    if isinstance(value, (list, dict)) and len(value) > n:  # never repr a huge container only to cut it
        return f"<{type(value).__name__} of {len(value)} items>"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= n else text[: max(1, n - 3)] + "..."


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        return iter(value.values())
    if isinstance(value, list):
        return iter(value)
    return iter(())


#: types that hold nothing nested
_SCALARS = frozenset({str, int, float, bool, type(None)})


def check_depth(value: Any, *, file: str | None = None, line: int | None = None, path: str | None = None,
                limit: int | None = None) -> None:
    """Raise :class:`LimitError` when ``value`` nests lists/dicts deeper than ``limit``
    (default :data:`MAX_JSON_DEPTH`). Iterative: safe on any depth."""
    n = MAX_JSON_DEPTH if limit is None else limit
    if not isinstance(value, (list, dict)):
        return
    if n >= 1 and type(value) is dict and _SCALARS.issuperset(map(type, value.values())):
        return  # (the usual record of scalars, at a glance)
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > n:
            raise LimitError(f"nested deeper than {n} levels", file=file, line=line, path=path)
        for child in _children(item):
            if isinstance(child, (list, dict)):
                stack.append((child, depth + 1))
