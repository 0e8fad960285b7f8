"""Structural validation of ModelArts files: what ``mafmt validate`` checks.

Manifest: every line decodes into the model, the per-type required fields of
manifest.md section 12 are present, and every VOC file referenced by a detection
annotation exists and passes the VOC rules. VOC: the rules ModelArts' own reader
enforces (voc.md), see :func:`mafmt.voc.validate_bytes`.
"""

from __future__ import annotations

from collections.abc import Iterator

from mafmt import manifest, storage, voc
from mafmt.errors import FormatError, StorageError
from mafmt.model import Classification, Detection, Entity, Sample, Triplet

__all__ = ["iter_errors"]


def iter_errors(path: str, format: str) -> Iterator[FormatError]:
    """Every problem of the file or folder ``path`` in ``format``, lazily, in file order.

    Items with ``severity == "warning"`` do not make the input invalid.
    """
    if format == "voc":
        yield from _voc_errors(path)
    elif format == "manifest":
        yield from _manifest_errors(path)
    else:
        from mafmt.errors import UsageError

        raise UsageError(f"validation of {format!r} is not supported yet")


def _voc_errors(path: str) -> Iterator[FormatError]:
    for xml_path, data in voc.iter_documents(path):
        yield from voc.validate_bytes(data, xml_path)


def _manifest_errors(path: str) -> Iterator[FormatError]:
    stream = manifest.read(path, on_error="skip")
    checked: dict[str, list[FormatError]] = {}
    seen_problems = 0
    for sample in stream:
        problems = stream.report.problems
        while seen_problems < len(problems):
            yield problems[seen_problems]
            seen_problems += 1
        yield from _sample_errors(sample, checked)
    problems = stream.report.problems
    yield from problems[seen_problems:]


def _err(sample: Sample, path: str, reason: str, severity: str = "error") -> FormatError:
    origin = sample.origin
    return FormatError(
        reason, file=origin.file if origin else None, line=origin.line if origin else None, path=path, severity=severity
    )


def _sample_errors(sample: Sample, checked: dict[str, list[FormatError]]) -> Iterator[FormatError]:
    if not sample.source:
        yield _err(sample, "source", "must not be empty")
    entity_ids = {a.id for a in sample.annotations if isinstance(a, Entity) and a.id is not None}
    text = sample.text
    for i, ann in enumerate(sample.annotations):
        where = f"annotation[{i}]"
        if isinstance(ann, Classification) and not ann.name:
            yield _err(sample, f"{where}.name", "required for classification")
        elif isinstance(ann, Detection):
            if not ann.annotation_loc:
                yield _err(sample, f"{where}.annotation-loc", "required for detection and segmentation")
                continue
            loc = ann.location() or ""
            if loc not in checked:
                checked[loc] = _document_errors(loc)
            for e in checked[loc]:
                yield _err(sample, f"{where}.annotation-loc", f"{ann.annotation_loc}: {e}", e.severity)
        elif isinstance(ann, Entity):
            if ann.start is None or ann.end is None:
                yield _err(sample, f"{where}.property", "integer @modelarts:start_index and @modelarts:end_index required")
            elif not ann.start < ann.end:
                yield _err(sample, f"{where}.property", f"start_index {ann.start} is not before end_index {ann.end}")
            elif text is not None and ann.end > len(text):
                yield _err(sample, f"{where}.property['@modelarts:end_index']", f"{ann.end} is past the end of the text ({len(text)})")
        elif isinstance(ann, Triplet):
            for attr, key in (("head", "@modelarts:from"), ("tail", "@modelarts:to")):
                ref = getattr(ann, attr)
                if ref is None:
                    yield _err(sample, f"{where}.property['{key}']", "required for text_triplet")
                elif ref not in entity_ids:
                    yield _err(sample, f"{where}.property['{key}']", f"no entity with id {ref!r} in this sample")
            if ann.id is None:
                yield _err(sample, f"{where}.id", "required for text_triplet")
        for attr in ("confidence", "hard_coefficient"):
            value = getattr(ann, attr)
            if value is not None and not 0 <= value <= 1:
                yield _err(sample, f"{where}.{attr.replace('_', '-')}", f"{value} is outside [0, 1]")
    if sample.hard_coefficient is not None and not 0 <= sample.hard_coefficient <= 1:
        yield _err(sample, "hard-coefficient", f"{sample.hard_coefficient} is outside [0, 1]")


def _document_errors(loc: str) -> list[FormatError]:
    try:
        data = storage.read_bytes(loc)
    except StorageError as exc:
        return [FormatError(exc.message)]
    return [FormatError(e.reason, path=e.path, severity=e.severity) for e in voc.validate_bytes(data, loc)]
