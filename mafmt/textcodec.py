"""One rule for putting a JSON value into text (XML element text, a CSV cell) and back.

Text formats hold strings only, yet the model keeps numbers, booleans, lists and RLE masks
in the unknown fields (``extra``) it carries through every format. The rule:

* **writing** -- a string is written as it is, unless reading it back would give something
  else: text that is the canonical JSON of another value (``1``, ``true``, ``null``, ``[1]``,
  ``{}``, ``"a"``), text with surrounding white space, or text with a character XML cannot
  hold (control characters, ``\\r``, lone surrogates). Such a string is written as a JSON
  string literal (``"1"``, ``" a "``, ``"bell\\u0007"``). Every other value is written as
  canonical JSON: ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``, with
  the characters XML cannot hold escaped as ``\\uXXXX``.
* **reading** -- text that is exactly the canonical JSON of a value is that value (a JSON
  string literal only when the string inside is one the writer would have quoted); anything
  else is the text itself.

So ``decode(encode(v)) == v`` for every JSON value (``NaN`` and infinities excepted: mafmt
never keeps them), and text another tool wrote reads back as the same text when it is
written again, because only canonical JSON is decoded. ModelArts' own reader sees plain text.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["decode", "encode", "has_unsafe", "is_plain"]

#: characters XML 1.0 cannot hold in text, plus CR (parsers turn it into LF) and lone surrogates
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: first characters of canonical JSON text (anything else cannot decode to a value)
_JSON_START = frozenset('-0123456789tfn["{')


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def _dumps(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _UNSAFE.sub(_escape, text)


def decode(text: str) -> Any:
    """The value ``text`` stands for: canonical JSON decoded, anything else as it is."""
    return _decode(text, 0)


def _decode(text: str, depth: int) -> Any:
    if not text or text[0] not in _JSON_START or depth > 8:
        return text
    try:
        value = _DECODER.decode(text)
        canonical = _dumps(value)
    except (ValueError, RecursionError):
        return text
    if canonical != text:
        return text
    if isinstance(value, str) and _plain(value, depth + 1):
        return text  # the encoder writes such a string as it is, so this literal is a string of its own
    return value


def _plain(text: str, depth: int) -> bool:
    return text == text.strip() and not _UNSAFE.search(text) and _decode(text, depth) == text


def has_unsafe(text: str) -> bool:
    """Whether ``text`` holds a character XML text cannot hold as it is."""
    return _UNSAFE.search(text) is not None


def is_plain(text: str) -> bool:
    """Whether the string ``text`` can be written as it is (reads back unchanged)."""
    return _plain(text, 0)


def encode(value: Any) -> str:
    """Text for ``value`` that :func:`decode` turns back into it.

    Raises:
        ValueError: ``value`` is not JSON data (or holds NaN or an infinity).
    """
    kind = type(value)
    if kind is int:  # what json.dumps gives, without its machinery (COCO ids and counts)
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    if isinstance(value, str) and is_plain(value):
        return value
    try:
        return _dumps(value)
    except TypeError as exc:
        raise ValueError(f"not JSON data: {exc}") from None
