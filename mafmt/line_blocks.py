"""A JSON Lines file read in blocks of whole lines, with the line-length limit enforced.

The manifest reader and the manifest validator both take their lines from here: one
``read`` and one ``split`` per block instead of one ``readline`` per line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mafmt import limits

__all__ = ["BLOCK", "DIGITS_TO_ZERO", "line_blocks"]

#: bytes read at a time (256 KiB: a block is still in the cache when its lines are taken)
BLOCK = 1 << 18
#: a ``bytes.translate`` table that turns every digit into "0": a run of digits, or a digit
#: pattern such as an exponent, is then one substring test over a whole block (several times
#: faster than a regular expression)
DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


def line_blocks(fh: Any) -> Iterator[tuple[bytes, bool]]:
    """The lines of ``fh`` in blocks of about :data:`BLOCK` bytes, each line with its newline
    (but for a last line without one), and whether the next line is longer than
    :data:`mafmt.limits.MAX_LINE_BYTES` (which ends the file). Memory stays within a block
    and the limit."""
    limit = limits.MAX_LINE_BYTES
    head: list[bytes] = []  # the start of a line that no block has finished yet
    held = 0
    while chunk := fh.read(BLOCK):
        cut = chunk.rfind(b"\n") + 1
        if not cut:
            head.append(chunk)
            held += len(chunk)
            if held > limit:
                yield b"", True
                return
            continue
        block = b"".join([*head, memoryview(chunk)[:cut]])  # one copy
        head, held = ([chunk[cut:]], len(chunk) - cut) if cut < len(chunk) else ([], 0)
        at = _long_line(block, limit) if len(block) > limit else None
        if at is not None:
            yield block[:at], True
            return
        yield block, held > limit
        if held > limit:
            return
    if head:
        yield b"".join(head), False


def _long_line(block: bytes, limit: int) -> int | None:
    """Where the first line of ``block`` longer than ``limit`` bytes (its newline not counted) starts."""
    pos = 0
    for line in block.split(b"\n"):
        if len(line) > limit:
            return pos
        pos += len(line) + 1
    return None
