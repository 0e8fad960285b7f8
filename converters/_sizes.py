"""Image sizes without decoding pixels (a size table, then image headers), and finding images.

A size table is a CSV (``filename,width,height[,depth]``, header optional) or a JSON object
(``{name: [width, height]}`` or ``{name: {"width": w, "height": h}}``). Names are looked up
by relative path, then by base name, then by stem, so a table written for ``.png`` images
answers for a label file ``a.txt`` too.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

from mafmt import limits, storage
from mafmt.errors import FormatError, LimitError, StorageError
from mafmt.model import Sample

from ._common import stem

__all__ = ["SizeResolver", "copy_image", "header_size", "image_candidates", "load_size_table", "sample_size"]

Size = tuple[int, int, "int | None"]


class SizeResolver:
    """Image sizes without decoding pixels: a size table first, then image headers.

    Args:
        images: folder where images are looked up (by relative path, then by base name).
        size_table: a CSV or JSON size table file, or a ready mapping name -> (width, height[, depth]).
    """

    def __init__(self, images: str | None = None, size_table: str | dict[str, Any] | None = None) -> None:
        self.images = os.fspath(images) if images is not None else None
        self.table: dict[str, Size] = {}
        self._stems: dict[str, Size] = {}
        if size_table is not None:
            self.table = load_size_table(size_table)
            for key, size in self.table.items():
                self._stems.setdefault(stem(key), size)

    def lookup(self, name: str, near: Iterable[str] = ()) -> Size | None:
        """(width, height, depth) of the image ``name`` or None when it cannot be found.

        ``near`` lists extra folders to look in (e.g. the label file's folder).
        """
        key = name.replace("\\", "/")
        if self.table:
            base = key.rsplit("/", 1)[-1]
            for k in (key, key.removeprefix("./"), base):
                if k in self.table:
                    return self.table[k]
            found = self._stems.get(stem(key))
            if found is not None:
                return found
        for path in self.candidates(name, near):
            size = header_size(path)
            if size is not None:
                return size
        return None

    def candidates(self, name: str, near: Iterable[str] = (), *, remote: bool = False) -> Iterator[str]:
        """Paths where the image ``name`` may be found (existing ones only).

        Object-storage URIs are probed only with ``remote=True`` (a probe is a request)."""
        rel = name.replace("\\", "/")
        folders = [*near, *([self.images] if self.images else [])]
        scheme = storage.scheme_of(rel)
        direct = bool((scheme and (remote or scheme == "file")) or os.path.isabs(rel))
        if not direct and not folders:
            return iter(())  # (a relative name and no folder to look in: nothing to probe, no generator)
        return self._found(rel, folders, direct)

    def _found(self, rel: str, folders: list[str], direct: bool) -> Iterator[str]:
        base = rel.rsplit("/", 1)[-1]
        if direct and _exists(rel):
            yield rel
        for folder in folders:
            for ref in dict.fromkeys((rel.removeprefix("./"), base)):
                if storage.scheme_of(ref) or os.path.isabs(ref):
                    continue
                path = storage.join(folder, ref)
                if _exists(path):
                    yield path


def _exists(uri: str) -> bool:
    try:
        return storage.exists(uri) and not storage.is_dir(uri)
    except (StorageError, ValueError):  # no backend for the scheme, or a name the OS refuses (NUL)
        return False


_DEPTH = {"1": 1, "L": 1, "P": 1, "I": 1, "F": 1, "I;16": 1, "LA": 2, "RGB": 3, "YCbCr": 3, "LAB": 3, "HSV": 3,
          "RGBA": 4, "CMYK": 4, "RGBX": 4}


def header_size(path: str) -> Size | None:
    """(width, height, depth) from an image file's header (Pillow, no pixel decoding)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with storage.open_read(path) as fh, Image.open(fh) as im:
            w, h = im.size
            return int(w), int(h), _DEPTH.get(im.mode)
    except (UnidentifiedImageError, OSError, ValueError, StorageError):
        return None
    except Exception:  # noqa: BLE001 - an odd decoder on a broken header: treat as not found
        return None


def load_size_table(src: str | dict[str, Any]) -> dict[str, Size]:
    """A size table as name -> (width, height, depth).

    Raises:
        FormatError: not UTF-8, not CSV/JSON of the expected shape, or a bad row (named by line).
    """
    if isinstance(src, dict):
        return _entries(src.items(), "<size table>")
    global _last_table
    name = os.fspath(src)
    data = storage.read_bytes(name, limit=limits.MAX_TEXT_BYTES)
    last = _last_table
    if last is not None and last[0] == name and last[1] == data:
        return dict(last[2])
    table = _parse_table(data, name)
    _last_table = (name, data, table)
    return dict(table)


#: the last table read from a file, with its bytes: a conversion's reader and writer are
#: given the same one (a copy is returned, so that a caller's changes stay its own)
_last_table: tuple[str, bytes, dict[str, Size]] | None = None


def _parse_table(data: bytes, name: str) -> dict[str, Size]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"size table is not UTF-8 (byte {exc.start + 1})", file=name) from None
    if name.lower().endswith(".json") or text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise FormatError(f"size table is not valid JSON: {limits.clip(str(exc), 120)}", file=name) from None
        if not isinstance(doc, dict):
            raise FormatError("a JSON size table is an object {name: [width, height]}", file=name)
        return _entries(doc.items(), name)
    return _entries(_csv_rows(text, name), name, csv_rows=True)


def _csv_rows(text: str, name: str) -> list[tuple[str, Any]]:
    csv.field_size_limit(limits.MAX_FIELD_BYTES)
    rows: list[tuple[str, Any]] = []
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text)), 1):
            if not row or not row[0].strip():
                continue
            if i == 1 and not (len(row) > 1 and row[1].strip().isdigit()):
                continue  # a header
            rows.append((row[0].strip(), (i, row[1:])))
    except csv.Error as exc:
        raise FormatError(f"size table is not valid CSV: {exc}", file=name) from None
    return rows


def _entries(items: Iterable[tuple[Any, Any]], name: str, *, csv_rows: bool = False) -> dict[str, Size]:
    out: dict[str, Size] = {}
    for n, (key, value) in enumerate(items, 1):
        line = None
        if csv_rows:
            line, value = value
        if isinstance(value, dict):
            value = [value.get("width"), value.get("height"), *([value["depth"]] if "depth" in value else [])]
        if not isinstance(value, (list, tuple)):
            value = [value]
        if len(value) == 3 and value[2] is None:  # (width, height, unknown depth)
            value = value[:2]
        try:
            if not isinstance(key, str) or len(value) < 2:
                raise ValueError
            vals = [_size_int(v) for v in value[:3]]
        except (ValueError, TypeError, OverflowError):
            raise FormatError(f"bad size entry for {limits.clip(key, 80)}: expected width and height, got "
                              f"{limits.clip(value, 80)}", file=name, line=line if line is not None else None,
                              path=None if csv_rows else f"[{n}]") from None
        out[key.replace("\\", "/")] = (vals[0], vals[1], vals[2] if len(vals) > 2 else None)
    return out


def _size_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    text = str(value).strip()
    if len(text) > 12:
        raise ValueError
    v = int(text)
    if not 0 < v <= limits.MAX_COORDINATE:
        raise ValueError
    return v


def image_candidates(sample: Sample, sizes: SizeResolver, *, remote: bool = False) -> Iterator[str]:
    """Existing files that may be the image (or audio) of ``sample``: its own path, then
    the folder it was read from, then ``--images`` (object storage only with ``remote``)."""
    near = [storage.parent(sample.origin.file)] if sample.origin is not None and sample.origin.file else []
    if not remote:
        near = [f for f in near if not storage.scheme_of(f)]
    return sizes.candidates(sample.source, near, remote=remote)


def sample_size(sample: Sample, sizes: SizeResolver) -> Size | None:
    """Size of a sample's image from the size table or its header (local files only)."""
    near = [storage.parent(sample.origin.file)] if sample.origin is not None and sample.origin.file else []
    return sizes.lookup(sample.source, [f for f in near if not storage.scheme_of(f)])


def copy_image(sample: Sample, sizes: SizeResolver, tx: Any, rel: str, report: Any, *, remote: bool = False) -> bool:
    """Copy the image of ``sample`` (when found) into the transaction ``tx`` at ``rel``."""
    for path in image_candidates(sample, sizes, remote=remote):
        try:
            with storage.open_read(path) as fin, tx.open(rel) as fout:
                while chunk := fin.read(1 << 20):
                    fout.write(chunk)
        except LimitError:
            raise
        except StorageError:
            continue
        report.outputs.append(tx.final(rel))
        return True
    if sizes.images is not None:
        report.warn("image not found, not copied")
    return False
