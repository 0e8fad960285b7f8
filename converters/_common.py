"""What the converter modules share: dataset metadata, streams, the write transaction, names.

Conventions every converter follows:

* geometry in the model is absolute pixels, continuous, origin top-left (COCO's
  convention) -- see :mod:`._geometry`;
* a writer counts everything it does not keep (see :mod:`mafmt.report`): samples it does
  not write (``report.drop``), data (``report.lose``), identities it changes
  (``report.change``) and metadata it has no place for (``report.note_metadata``);
* a writer writes its target as one transaction (:func:`output`); ``overwrite`` and the
  caller's ``check`` (run just before the commit) come through ``**options``;
* "header" fields a writer regenerates anyway (VOC ``folder``/``source``, ``depth``,
  default ``pose`` ``Unspecified`` and 0 flags) are not losses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mafmt import limits, storage
from mafmt.errors import FormatError, UsageError
from mafmt.model import CompactSample, Detection, Origin, Sample, VocDocument, VocObject
from mafmt.report import Report, Stream
from mafmt.storage.transaction import Transaction

__all__ = [
    "AUDIO_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "Category",
    "DatasetMeta",
    "MetaStream",
    "UniqueNames",
    "accepted",
    "basename",
    "check_options",
    "describe",
    "detection_objects",
    "get_meta",
    "note_categories_not_kept",
    "not_an_image",
    "output",
    "read_text",
    "root_origin",
    "stem",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".wma")


# --------------------------------------------------------------------------- dataset metadata


@dataclass(slots=True)
class Category:
    """One class of a dataset as its source names it.

    Attributes:
        name: the label.
        id: the source's id (COCO ``id``, YOLO index), None when the source has none.
        supercategory: COCO's supercategory, if any.
        extra: other keys of a COCO category (``keypoints``, ``skeleton``, ``color``...).
    """

    name: str
    id: int | None = None
    supercategory: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class DatasetMeta:
    """Dataset-level facts a reader knows and a writer may reuse.

    Attributes:
        categories: the classes in the source's order, used or not (COCO ``categories``,
            YOLO names in index order, a VOC ``labelmap.txt``).
        index_labels: labels are class indices written as text (YOLO without names): a YOLO
            writer keeps the indices.
        index_ids: category ids are 0-based class indices (YOLO), not COCO ids.
        top: other top-level parts of the source (COCO ``info``, ``licenses``, unknown keys).
    """

    categories: list[Category] = field(default_factory=list)
    index_labels: bool = False
    index_ids: bool = False
    top: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        """Category names in source order."""
        return [c.name for c in self.categories]

    def by_id(self) -> list[Category]:
        """Categories sorted by id, integer ids before string ids (COCO allows both); those
        without id keep their place at the end."""
        with_id = sorted((c for c in self.categories if c.id is not None), key=lambda c: (type(c.id) is str, c.id))
        return with_id + [c for c in self.categories if c.id is None]


def note_categories_not_kept(meta: DatasetMeta, report: Report, *, keeps_class_list: bool = False,
                             keeps_index_labels: bool = False) -> None:
    """Count the source's class identity a target has no place for (expected, but counted, so
    that a later COCO or YOLO writer's ids are not silently new ones): COCO category ids,
    supercategories and other category keys, and a YOLO dataset's class indices (its order,
    or index labels without names).

    Args:
        keeps_class_list: the target keeps the class names in order (YOLO names, VOC's
            ``labelmap.txt``), so YOLO indices survive there but COCO ids do not.
        keeps_index_labels: the target keeps YOLO index labels as indices (the YOLO writers).
    """
    if meta.index_labels:
        if not keeps_index_labels:
            report.note_metadata("class index (YOLO, no names)")
        return
    if not meta.categories:
        return
    if meta.index_ids:
        if not keeps_class_list:
            report.note_metadata("class index (YOLO)", len(meta.categories))
    elif any(c.id is not None for c in meta.categories):
        report.note_metadata("category ids", len(meta.categories))
    if any(c.supercategory for c in meta.categories):
        report.note_metadata("category supercategory")
    if any(c.extra for c in meta.categories):
        report.note_metadata("category keys (keypoints, skeleton, ...)")


class MetaStream(Stream[Sample]):
    """A :class:`Stream` that also carries the :class:`DatasetMeta` of its source.

    ``meta`` is complete once the first sample was taken (or the stream is exhausted).
    """

    __slots__ = ("meta",)

    def __init__(self, it: Iterator[Sample], report: Report, meta: DatasetMeta, total: int | None = None) -> None:
        super().__init__(it, report, total)
        self.meta = meta


def get_meta(samples: Iterable[Sample]) -> DatasetMeta | None:
    """The metadata riding on a reader's stream, if any."""
    meta = getattr(samples, "meta", None)
    return meta if isinstance(meta, DatasetMeta) else None


def describe(report: Report) -> str:
    """Why samples were not written, in one line (for an error that says so)."""
    parts = [f"{reason}: {n}" for reason, n in report.dropped.most_common(3)]
    return "; ".join(parts) if parts else "nothing could be written"


# --------------------------------------------------------------------------- options, outputs


def check_options(fmt: str, options: dict[str, Any]) -> None:
    """Refuse unknown writer/reader options with a usage error."""
    if options:
        raise UsageError(f"unknown option(s) for {fmt}: {', '.join(sorted(options))}")


def accepted(func: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``options`` that ``func`` takes as keyword parameters."""
    import inspect

    params = inspect.signature(func).parameters
    return {k: v for k, v in options.items() if k in params and v is not None}


@contextmanager
def output(target: str, report: Report, *, folder: bool, overwrite: bool = False,
           check: Callable[[Report], None] | None = None) -> Iterator[Transaction]:
    """The write transaction of a writer's target; ``check(report)`` runs before the commit.

    On success the target (the folder itself, for folders) is the first of ``report.outputs``.
    """
    tx = Transaction(target, folder=folder, overwrite=overwrite,
                     check=(lambda: check(report)) if check is not None else None)
    with tx:
        yield tx
    report.outputs.insert(0, target)


def root_origin(folder: str) -> Origin:
    """An origin whose folder is ``folder``: relative ``source`` values of samples read from
    a dataset folder resolve against it (the manifest writer rebases them with it)."""
    return Origin(storage.join(folder, "(dataset)"))


# --------------------------------------------------------------------------- samples


def detection_objects(sample: Sample, report: Report) -> tuple[VocDocument | None, list[VocObject]]:
    """The image document and top-level objects of a sample, for an image-box format.

    Annotations a box format cannot hold are counted as ``"<type>->dropped"``; several
    detection documents of one sample are merged into one image (their objects joined), but
    objects of a document whose image size differs from the first's cannot be placed on
    that image: they are counted as ``"objects of a document of another size->dropped"``.
    """
    from mafmt.losses import count_annotation_losses, count_document_losses

    doc: VocDocument | None = None
    objects: list[VocObject] = []
    if not any(isinstance(ann, Detection) for ann in sample.annotations):
        return None, []  # the writer leaves such a sample out whole (counted there, not once per label)
    for ann in sample.annotations:
        if isinstance(ann, Detection):
            d = ann.load()
            if doc is None:
                doc = d
            elif (d.width, d.height) != (doc.width, doc.height) and None not in (d.width, doc.width):
                report.lose("objects of a document of another size->dropped", len(d.objects))
                count_annotation_losses(ann, report)
                continue
            else:
                report.warn("detection documents merged into one image")
            objects.extend(d.objects)
            count_annotation_losses(ann, report)
            count_document_losses(d, report)
        else:
            report.lose(f"{ann.type}->dropped")
    return doc, objects


def not_an_image(sample: Sample, doc: VocDocument | CompactSample | None, report: Report) -> bool:
    """Whether an image-box writer must leave ``sample`` out: it has labels but none is a
    detection (an image-classification sample is no "background image"), or it is a text.
    ``doc`` is the sample's image document (a compact sample stands for its own). Counted in
    ``report.dropped``; unlabelled images are kept."""
    if sample.source.startswith("content://"):
        report.drop("a text, not an image")
        return True
    if doc is None and sample.annotations:
        report.drop("no detection annotation")
        return True
    return False


# --------------------------------------------------------------------------- names and text files

#: what ``str.splitlines`` ends a line at (the readers of line files split with it), and NUL
#: (which makes a file binary to them)
_NOT_IN_A_LINE = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00")


def as_line(label: str, file: str, *, comments: bool = False) -> str:
    """``label`` as one line of a line-per-label file (a class list, an image's label file),
    which its reader reads back stripped (and, with ``comments``, without blank and ``#`` lines).

    Raises:
        FormatError: the label would not read back the same, naming it and the file.
    """
    if label != label.strip() or not _NOT_IN_A_LINE.isdisjoint(label) or (comments and (not label or label[0] == "#")):
        raise FormatError(f"label {limits.clip(label)} cannot be a line of {os.path.basename(file)}: it would not "
                          "read back the same (a line break or NUL, white space at an end"
                          f"{', a leading #' if comments else ''})", file=file)
    return label


def stem(name: str) -> str:
    """File name without folder and extension (as ``os.path.splitext`` cuts it: the last dot
    that has something besides dots before it)."""
    base = name.replace("\\", "/").rpartition("/")[2]
    dot = base.rfind(".")
    return base[:dot] if dot > 0 and base[:dot].lstrip(".") else base


def basename(name: str) -> str:
    """File name without folder."""
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


class UniqueNames:
    """Hands out unique file names within one write (``a.jpg``, ``a_2.jpg``, ...); a renamed
    file is counted as ``"file name->renamed"``."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, name: str, report: Report | None = None) -> str:
        candidate, n = name, 1
        while candidate.lower() in self.used:
            root, ext = os.path.splitext(name)
            n += 1
            candidate = f"{root}_{n}{ext}"
        if n > 1 and report is not None:
            report.change("file name->renamed")
        self.used.add(candidate.lower())
        return candidate


def read_text(uri: str, limit: int | None = None) -> tuple[str, bool]:
    """Text of a small file (at most ``limit`` bytes, default :data:`mafmt.limits.MAX_TEXT_BYTES`):
    UTF-8 (BOM skipped), else GBK. Returns (text, was_gbk).

    Raises:
        FormatError: neither encoding decodes it, or it holds NUL bytes (not a text file).
        LimitError: larger than the limit.
    """
    data = storage.read_bytes(uri, limit=limits.MAX_TEXT_BYTES if limit is None else limit)
    if b"\0" in data:
        raise FormatError("holds NUL bytes: not a text file", file=uri)
    try:
        return data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        try:
            return data.decode("gbk"), True
        except UnicodeDecodeError as exc:
            raise FormatError(f"cannot decode as UTF-8 or GBK (byte {exc.start + 1})", file=uri) from None
