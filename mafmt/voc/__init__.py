"""ModelArts Pascal VOC XML: one image's size and labelled objects.

Reading (:mod:`mafmt.voc.parse`) is safe and lenient, and records oddities as issues with
file, line and element path; :func:`validate_bytes` applies ModelArts' rules (or the VOC
devkit's, ``rules="devkit"``). Writing (:mod:`mafmt.voc.serialize`) uses the canonical
child order of the spec with 4-space indentation, refuses values XML cannot hold, and is a
write transaction (:mod:`mafmt.storage.transaction`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mafmt import limits, storage
from mafmt.errors import FormatError, UsageError
from mafmt.formats import Format
from mafmt.losses import count_annotation_losses, count_sample_losses
from mafmt.model import (
    IMAGE_SEGMENTATION,
    OBJECT_DETECTION,
    SHAPE_KINDS,
    Annotation,
    CompactSample,
    Detection,
    Flags,
    Mask,
    MultiPolygon,
    Origin,
    PlainObject,
    Sample,
    VocDocument,
    VocObject,
    VocSource,
    set_document_reader,
)
from mafmt.report import ErrorPolicy, Report, Stream, check_policy
from mafmt.storage.transaction import Transaction
from mafmt.voc.parse import RULES, parse_bytes, parse_tree_bytes, plain_text_read, plain_text_records, safe_parser
from mafmt.voc.serialize import (
    XML_DECLARATION,
    document_to_bytes,
    is_xml_name,
    plain_records_to_bytes,
    standard_boxes_to_bytes,
)

__all__ = [
    "MAX_DEPTH",
    "RULES",
    "XML_DECLARATION",
    "VocNamer",
    "document_to_bytes",
    "is_xml_name",
    "modelarts_compact_bytes",
    "modelarts_document",
    "parse_bytes",
    "read",
    "read_document",
    "read_records",
    "safe_parser",
    "sample_documents",
    "standard_boxes_to_bytes",
    "validate_bytes",
    "write",
    "write_document",
]

#: deepest nesting of ``part`` elements (see :data:`mafmt.limits.MAX_XML_DEPTH`)
MAX_DEPTH = limits.MAX_XML_DEPTH


def read_document(uri: str, *, report: Report | None = None, strict: bool = False,
                  rules: str = "modelarts") -> VocDocument:
    """Read one VOC file (path or URI), never more than :data:`mafmt.limits.MAX_XML_BYTES`.

    Leniently by default: issues go to ``report.warnings`` and everything representable
    is kept. ``strict=True`` raises the first error-level issue instead.
    """
    data = storage.read_bytes(uri, limit=limits.MAX_XML_BYTES)
    doc, issues = parse_bytes(data, uri, rules=rules)
    _take_issues(issues, report, strict)
    return doc


def _take_issues(issues: list[FormatError], report: Report | None, strict: bool) -> None:
    """:func:`read_document`'s handling of a document's issues."""
    if strict:
        for issue in issues:
            if issue.severity == "error":
                raise issue
    if report is not None:
        for issue in issues:
            report.warn(issue.reason if issue.severity == "warning" else "voc: " + issue.reason.split(" (")[0], issue)


def read_records(uri: str) -> tuple[VocDocument, list[PlainObject], list[Flags]] | VocDocument:
    """One VOC file read once: :func:`~mafmt.voc.parse.plain_text_records` of a plain one (the
    document without its objects, their records and flags), else the document
    :func:`read_document` gives (its issues, as there without a report, not kept)."""
    data = storage.read_bytes(uri, limit=limits.MAX_XML_BYTES)
    found = plain_text_records(data, uri)
    if found is None:
        return parse_tree_bytes(data, uri)[0]
    return found[0], found[1], found[2]


def validate_bytes(data: bytes, name: str | None = None, *, rules: str = "modelarts") -> list[FormatError]:
    """All problems of a VOC document under ``rules``; empty when valid."""
    try:
        _, issues = parse_bytes(data, name, rules=rules)
    except FormatError as exc:
        return [exc]
    return issues


def write_document(doc: VocDocument, target: str | os.PathLike[str], *, mode: str = "w") -> str:
    """Write one document atomically (replacing ``target``); returns the target.

    ``mode="a"`` (the SDK's append mode) cannot append to XML: it writes only when the
    target does not exist yet, so no existing file is ever lost.
    """
    target = os.fspath(target)
    if mode not in ("w", "a"):
        raise UsageError(f"save mode must be 'w' or 'a', not {mode!r}")
    if mode == "a" and storage.exists(target):
        raise UsageError(f"{target}: exists; an XML document cannot be appended to (use save_mode='w')")
    data = document_to_bytes(doc)
    with storage.atomic_write(target) as fh:
        fh.write(data)
    return target


# --------------------------------------------------------------------------- documents for ModelArts


def modelarts_document(doc: VocDocument, image_name: str) -> VocDocument:
    """``doc`` ready for ModelArts' reader: the fields it requires and ``doc`` lacks are filled
    with ModelArts' defaults -- ``folder`` (``NA``), ``filename`` (the image's name),
    ``segmented`` (1 with masks, else 0) and each top-level object's ``difficult`` (0); a
    document from another format also gets ``source`` (``Unknown``). Nothing else is invented,
    and a document that has them all is returned unchanged (a round trip changes nothing)."""
    raw = doc.wire.get("raw", {})
    needs = (not doc.folder or not doc.filename or (doc.segmented is None and "segmented" not in raw)
             or any(o.difficult is None and "difficult" not in o.wire.get("raw", {}) for o in doc.objects)
             or (doc.origin is None and doc.source is None))
    if not needs:
        return doc
    masks = any(type(o.shape) in (Mask, MultiPolygon) for o in doc.iter_objects())
    new = doc.copy()
    new.folder = doc.folder or "NA"
    new.filename = doc.filename or image_name if doc.origin is not None else image_name
    new.source = doc.source if doc.source is not None or doc.origin is not None else VocSource(database="Unknown")
    new.segmented = doc.segmented if doc.segmented is not None or "segmented" in raw else (
        1 if masks or doc.mask_source else 0)
    new.objects = [_modelarts_object(o) for o in doc.objects]
    return new


def _modelarts_object(obj: VocObject) -> VocObject:
    if obj.difficult is not None or "difficult" in obj.wire.get("raw", {}):
        return obj
    copy = obj.copy()
    copy.difficult = 0
    return copy


def modelarts_compact_bytes(sample: CompactSample, doc: VocDocument, image_name: str) -> bytes | None:
    """:func:`document_to_bytes` of :func:`modelarts_document` of a compact sample's full
    document, written from ``doc`` (its :meth:`~CompactSample.shell`'s document, sized) and
    the sample's records without building its objects; None where the full path must write."""
    return plain_records_to_bytes(modelarts_document(doc, image_name), sample.objects, sample.values,
                                  _MODELARTS_FLAGS)


#: the flags :func:`_modelarts_object` gives an object of a compact sample (it has none)
_MODELARTS_FLAGS = "        <difficult>0</difficult>\n"


# --------------------------------------------------------------------------- samples


def sample_from_document(doc: VocDocument, xml_uri: str, *, link: bool = True) -> Sample:
    """Wrap a document as a sample: ``source`` is the image beside the XML file; ``link``:
    its detection's ``annotation_loc`` names the file (else it has none)."""
    folder = storage.parent(xml_uri)
    segmentation = doc.segmented == 1 or doc.mask_source is not None
    ann = Detection(
        type=IMAGE_SEGMENTATION if segmentation else OBJECT_DETECTION,
        annotation_loc="./" + xml_uri.replace("\\", "/").rsplit("/", 1)[-1] if link else None,
        annotation_format="PASCAL VOC",
        document=doc,
    )
    ann.base = folder
    ann.origin = Origin(xml_uri)
    return Sample(source=_source_of(doc, xml_uri), annotations=[ann], origin=Origin(xml_uri))


def _source_of(doc: VocDocument, xml_uri: str) -> str:
    return "./" + (doc.filename or os.path.splitext(os.path.basename(xml_uri))[0])


def _read_sample(path: str, report: Report, strict: bool, rules: str, compact: bool, link: bool) -> Sample:
    """The sample of one VOC file (see :func:`read`)."""
    if not compact:
        return sample_from_document(read_document(path, report=report, strict=strict, rules=rules), path, link=link)
    data = storage.read_bytes(path, limit=limits.MAX_XML_BYTES)
    quick = plain_text_read(data, path, rules)
    if quick is None:
        doc, issues = parse_tree_bytes(data, path, rules=rules)
        _take_issues(issues, report, strict)
        return sample_from_document(doc, path, link=link)
    head, records, flags, issues, document = quick
    _take_issues(issues, report, strict)
    sample = CompactSample.of(_source_of(head, path), None, None, {}, head.filename, head.width, head.height,
                              records, None, functools.partial(_annotations_of, document, path, link), head.depth,
                              Origin(path))
    sample.flags = flags
    return sample


def _annotations_of(document: Callable[[], VocDocument], path: str, link: bool) -> list[Annotation]:
    """The annotations of a compact sample of a VOC file: those of its document's sample."""
    return sample_from_document(document(), path, link=link).annotations



def _xml_files(src: str) -> Iterator[str]:
    if storage.is_dir(src):
        for path in storage.iter_files(src):
            if path.lower().endswith(".xml"):
                yield path
    else:
        yield src


def read(
    src: str | os.PathLike[str],
    *,
    on_error: ErrorPolicy = "raise",
    strict: bool = False,
    rules: str = "modelarts",
    compact: bool = False,
    link: bool = True,
) -> Stream[Sample]:
    """Stream samples from one VOC file or a folder of them (name order, not recursive).

    Each sample has one :class:`Detection` with the document inline. Issues that do not
    prevent reading are counted in the stream's ``report.warnings``; with ``strict=True``
    a file with an error-level issue (what ``mafmt validate`` rejects) is an error, handled
    by ``on_error`` like a malformed file. ``compact``: a plain file is read into a compact
    sample with VOC flags, its document built when asked for (see
    :func:`mafmt.converters.pascal_voc.read`); ``link``: each detection's ``annotation_loc``
    names its file.

    Raises (while iterating):
        FormatError: a folder holds no ``.xml`` file (nothing to read is never a success).
    """
    check_policy(on_error)
    if rules not in RULES:
        raise UsageError(f"rules must be one of {', '.join(RULES)}, not {rules!r}")
    src = os.fspath(src)
    report = Report()

    def gen() -> Iterator[Sample]:
        found = 0
        for path in _xml_files(src):
            found += 1
            try:
                sample = _read_sample(path, report, strict, rules, compact, link)
            except FormatError as exc:
                if on_error == "raise":
                    raise
                report.skip(exc)
                continue
            yield sample
        if not found:
            raise FormatError("no .xml file found: a VOC folder holds one Pascal VOC XML file per image", file=src)

    return Stream(gen(), report)


def sample_documents(sample: Sample, report: Report) -> list[VocDocument]:
    """The VOC documents of a sample's detection annotations (loaded when needed), counting
    in ``report`` everything else of the sample a VOC file cannot hold."""
    count_sample_losses(sample, report)
    docs = []
    for ann in sample.annotations:
        if isinstance(ann, Detection):
            docs.append(ann.load())
            count_annotation_losses(ann, report)
        else:
            report.lose(f"{ann.type}->dropped")
    return docs


def write(samples: Iterable[Sample], target: str | os.PathLike[str], *, overwrite: bool = False,
          check: Callable[[Report], None] | None = None, **options: Any) -> Report:
    """Write each sample's VOC document(s) into the folder ``target`` as ``<image stem>.xml``
    (named after the sample's ``source``), as one transaction.

    A target ending in ``.xml`` takes exactly one document. Annotations that are not
    detection or segmentation cannot be held by VOC: they are counted in ``report.lost``
    (e.g. ``"modelarts/text_entity->dropped"``); samples without any document are not
    written (``report.dropped``).

    Args:
        overwrite: replace an existing target as a whole.
        check: called with the report just before the commit; raising there aborts it.
    """
    if options:
        raise UsageError(f"unknown option(s) for voc: {', '.join(sorted(options))}")
    target = os.fspath(target)
    report = Report()
    single = target.lower().endswith(".xml")
    tx = Transaction(target, folder=not single, overwrite=overwrite,
                     check=(lambda: check(report)) if check is not None else None)
    with tx:
        namer = VocNamer("")
        for sample in samples:
            docs = sample_documents(sample, report)
            if not docs:
                report.drop("no detection annotation")
                continue
            for doc in docs:
                image = _image_name(sample)
                out = modelarts_document(doc, image)
                if single:
                    if report.written:
                        raise UsageError(f"{target}: more than one document for a single .xml target; give a folder")
                    with tx.open() as fh:
                        fh.write(document_to_bytes(out))
                    report.outputs.append(target)
                else:
                    rel = namer.name_for(image, report)
                    report.outputs.append(tx.write_bytes(rel, document_to_bytes(out)))
            report.written += 1
    return report


def _image_name(sample: Sample) -> str:
    return sample.source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or "sample"


class VocNamer:
    """Unique ``<image stem>.xml`` names (inside ``folder``) for the documents of one write;
    a clash gets ``_2``, ``_3`` and is counted as ``"file name->renamed"``."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.used: set[str] = set()

    def name_for(self, image: str, report: Report | None = None) -> str:
        stem = os.path.splitext(image)[0] or "sample"
        candidate, n = stem, 1
        while candidate.lower() in self.used:
            n += 1
            candidate = f"{stem}_{n}"
        self.used.add(candidate.lower())
        if n > 1 and report is not None:
            report.change("file name->renamed")
        name = candidate + ".xml"
        return storage.join(self.folder, name) if self.folder else name


def iter_documents(src: str) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of each XML file under ``src`` (a file or a folder)."""
    for path in _xml_files(src):
        yield path, storage.read_bytes(path, limit=limits.MAX_XML_BYTES)


def _sniff(path: str) -> bool:
    if storage.is_dir(path):
        return any(p.lower().endswith(".xml") for p in storage.iter_files(path))
    try:
        with storage.open_read(path) as fh:
            head = fh.read(4096).lstrip(b"\xef\xbb\xbf").lstrip()
    except Exception:  # noqa: BLE001 - sniffing never fails loudly
        return False
    return head.startswith(b"<") and b"<annotation" in head


set_document_reader(read_document, read_records)

FORMAT = Format(
    name="voc",
    read=read,
    write=write,
    holds=frozenset({OBJECT_DETECTION, IMAGE_SEGMENTATION}) | frozenset(SHAPE_KINDS)
    | {"properties", "parts", "hard-example", "multipolygon", "mask", "unknown-fields"},
    description="ModelArts Pascal VOC XML: one file per image, or a folder of them",
    extensions=(".xml",),
    directory=True,
    aliases=("pascal-voc", "modelarts-pascal-voc"),
    sniff=_sniff,
)
