"""COCO run-length encoded masks with numpy, bit-compatible with pycocotools.

A mask is a ``(height, width)`` array of 0/1; runs are counted in column-major
(Fortran) order starting with a run of zeros. Uncompressed RLE keeps ``counts`` as a
list of ints; compressed RLE packs them into the ASCII string of COCO's ``maskApi``
(5 bits per char, offset 48, each count after the second stored as the difference to
the count two places before it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["area", "check_coco", "compress", "counts_to_string", "decode", "decompress", "encode",
           "string_to_counts", "to_bbox"]


def counts_to_string(counts: list[int] | np.ndarray) -> str:  # numpy only for the type
    """Pack run lengths into COCO's compressed string."""
    out: list[str] = []
    cnts = [int(c) for c in counts]
    for i, c in enumerate(cnts):
        x = c - cnts[i - 2] if i > 2 else c
        more = True
        while more:
            ch = x & 0x1F
            x >>= 5
            more = x != -1 if ch & 0x10 else x != 0
            if more:
                ch |= 0x20
            out.append(chr(ch + 48))
    return "".join(out)


def string_to_counts(s: str | bytes) -> list[int]:
    """Unpack COCO's compressed string into run lengths."""
    data = s.encode("ascii") if isinstance(s, str) else s
    counts: list[int] = []
    p, n = 0, len(data)
    while p < n:
        x, k, more = 0, 0, True
        while more:
            if p >= n:
                raise ValueError("truncated RLE string")
            if k == 13:  # 65 bits: no run of a mask is that long (and longer ones cost quadratic time)
                raise ValueError("RLE counts string has a run longer than 64 bits")
            c = data[p] - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def _counts(rle: dict[str, Any]) -> list[int]:
    counts = rle["counts"]
    if isinstance(counts, (str, bytes)):
        return string_to_counts(counts)
    return [int(c) for c in counts]


def encode(mask: np.ndarray) -> dict[str, Any]:
    """Compressed RLE (``{"size": [h, w], "counts": str}``) of a 2-D 0/1 mask."""
    import numpy as np

    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {m.shape}")
    h, w = m.shape
    flat = (m.reshape(-1, order="F") != 0).astype(np.int8)
    if flat.size == 0:
        return {"size": [int(h), int(w)], "counts": counts_to_string([0])}
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat[0] == 1:
        runs.insert(0, 0)
    return {"size": [int(h), int(w)], "counts": counts_to_string(runs)}


def decode(rle: dict[str, Any]) -> np.ndarray:
    """The ``(h, w)`` uint8 mask of a compressed or uncompressed RLE."""
    import numpy as np

    h, w = (int(v) for v in rle["size"])
    counts = np.asarray(_counts(rle), dtype=np.int64)
    if counts.sum() != h * w:
        raise ValueError(f"RLE counts sum to {int(counts.sum())}, expected {h * w}")
    values = np.zeros(len(counts), dtype=np.uint8)
    values[1::2] = 1
    flat = np.repeat(values, counts)
    return flat.reshape((h, w), order="F")


def compress(rle: dict[str, Any]) -> dict[str, Any]:
    """The compressed form of an RLE (unchanged if already compressed)."""
    if isinstance(rle["counts"], (str, bytes)):
        counts = rle["counts"]
        return {"size": list(rle["size"]), "counts": counts.decode("ascii") if isinstance(counts, bytes) else counts}
    return {"size": list(rle["size"]), "counts": counts_to_string(rle["counts"])}


def decompress(rle: dict[str, Any]) -> dict[str, Any]:
    """The uncompressed form (counts as a list of ints)."""
    return {"size": list(rle["size"]), "counts": _counts(rle)}


def area(rle: dict[str, Any]) -> int:
    """Number of foreground pixels."""
    return int(sum(_counts(rle)[1::2]))


def to_bbox(rle: dict[str, Any]) -> list[float]:
    """``[x, y, w, h]`` of the foreground, as pycocotools' ``toBbox`` (zeros when empty)."""
    import numpy as np

    h = int(rle["size"][0])
    counts = np.asarray(_counts(rle), dtype=np.int64)
    ends = np.cumsum(counts)
    starts = ends - counts
    fg = np.arange(len(counts)) % 2 == 1
    fg &= counts > 0
    if not fg.any() or h == 0:
        return [0.0, 0.0, 0.0, 0.0]
    s, e = starts[fg], ends[fg] - 1
    xs, xe = s // h, e // h
    ys_run, ye_run = s % h, e % h
    same = xs == xe
    y0 = int(np.where(same, ys_run, 0).min())
    y1 = int(np.where(same, ye_run, h - 1).max())
    x0, x1 = int(xs.min()), int(xe.max())
    return [float(x0), float(y0), float(x1 - x0 + 1), float(y1 - y0 + 1)]


def check_coco(seg: Any) -> tuple[int, int, str | tuple[int, ...]]:
    """``(height, width, counts)`` of a COCO RLE ``{"size": [h, w], "counts": ...}`` after
    checking it (counts as the string, or as a tuple of run lengths).

    Raises:
        ValueError: not an RLE, sizes out of range (:data:`mafmt.limits.MAX_MASK_PIXELS`),
            counts that do not add up to ``h * w``, or a malformed counts string (the message
            says which).
    """
    from mafmt import limits

    if not isinstance(seg, dict) or "counts" not in seg or "size" not in seg:
        raise ValueError("RLE needs 'counts' and 'size'")
    size = seg["size"]
    if (not isinstance(size, list) or len(size) != 2
            or not all(type(v) is int and 0 <= v <= limits.MAX_COORDINATE for v in size)):
        raise ValueError(f"RLE size must be [height, width], two integers, got {limits.clip(size)}")
    h, w = size
    if h * w > limits.MAX_MASK_PIXELS:
        raise ValueError(f"RLE of {h}x{w} pixels is over the limit of {limits.MAX_MASK_PIXELS}")
    counts = seg["counts"]
    if isinstance(counts, str):
        if not counts.isascii() or any(not 48 <= ord(c) < 48 + 64 for c in counts):
            raise ValueError("RLE counts string has characters outside COCO's alphabet")
        runs = string_to_counts(counts)
        form: str | tuple[int, ...] = counts
    elif isinstance(counts, list) and all(type(c) is int for c in counts):
        runs = counts
        form = tuple(counts)
    else:
        raise ValueError("RLE counts must be a string or a list of integers")
    if any(c < 0 for c in runs):
        raise ValueError("RLE counts must not be negative")
    if sum(runs) != h * w:
        raise ValueError(f"RLE counts add up to {sum(runs)}, not height x width = {h * w}")
    return h, w, form
