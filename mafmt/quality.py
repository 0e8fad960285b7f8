"""Annotation QA: semantic checks over the samples of any format (``mafmt qa``).

Each check has a stable id, a name and a default severity (:data:`CHECKS`). Checks run on
the shared model, so every registered format gets them; image checks read image headers
only (Pillow opens lazily and never decodes pixels here).

    report = mafmt.qa("train.manifest", images="images/", labels=["cat", "dog"])
    for issue in report.issues:
        print(issue)          # train.manifest:12: $.annotation[0].object[1]: [QA101] ...
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mafmt import storage
from mafmt.errors import FormatError, StorageError, UsageError
from mafmt.model import (
    BndBox,
    Circle,
    Classification,
    Detection,
    Entity,
    Origin,
    Point,
    Polygon,
    Sample,
    SpeechSegment,
    Triplet,
    VocDocument,
)

__all__ = ["CHECKS", "Issue", "QaReport", "check_samples", "image_path", "qa"]

#: check id -> (name, default severity, what it finds)
CHECKS: dict[str, tuple[str, str, str]] = {
    "QA101": ("shape-outside-image", "error", "a box, polygon, point, line or circle reaches outside the image"),
    "QA102": ("negative-size", "error", "a box with xmin > xmax or ymin > ymax, or a circle with negative radius"),
    "QA103": ("degenerate-shape", "warning", "zero area, polygon < 3 distinct points, polyline/line < 2, zero radius"),
    "QA104": ("image-size-mismatch", "error",
              "the annotation's image size differs from the image header or from another annotation of the sample"),
    "QA105": ("image-missing", "error", "the image file does not exist"),
    "QA106": ("image-unreadable", "error", "the image file exists but its header cannot be read"),
    "QA107": ("duplicate-id", "error", "two samples share an id"),
    "QA108": ("duplicate-source", "warning", "two samples share a source"),
    "QA109": ("undeclared-label", "error", "a label that is not in the declared label set"),
    "QA110": ("empty-label", "error", "a label name that is missing, empty or only whitespace"),
    "QA111": ("label-case-variant", "warning", "labels that differ only in case or whitespace"),
    "QA112": ("score-out-of-range", "error", "confidence or hard coefficient outside [0, 1]"),
    "QA113": ("unknown-usage", "warning", "usage other than TRAIN, EVAL, TEST, INFERENCE"),
    "QA114": ("entity-offset", "error", "entity offsets missing, reversed or outside the text"),
    "QA115": ("entity-span-mismatch", "error", "the entity's given text differs from the text at its offsets"),
    "QA116": ("triplet-dangling", "error", "a triplet whose from/to entity is missing in the sample"),
    "QA117": ("speech-segment-order", "warning", "speech segments that overlap or are out of order"),
    "QA118": ("speech-segment-time", "error", "a speech segment time that does not parse, or start >= end"),
    "QA119": ("voc-missing", "error", "the VOC file named by annotation-loc does not exist"),
    "QA120": ("voc-unreadable", "error", "the VOC file named by annotation-loc cannot be parsed"),
}
SEVERITIES = ("warning", "error")
USAGES = frozenset({"TRAIN", "EVAL", "TEST", "INFERENCE"})
#: property keys that may carry an entity's own text, compared with the text at its offsets
SPAN_KEYS = ("@modelarts:text", "@modelarts:span", "text", "span")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_TIME = re.compile(r"^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$")
_REMOTE = ("s3://", "s3a://", "obs://", "http://", "https://", "content://")


@dataclass(slots=True)
class Issue:
    """One QA finding, located by file, line and path, and by sample / annotation /
    object index (the object index counts VOC objects and parts depth first)."""

    check: str
    message: str
    severity: str
    file: str | None = None
    line: int | None = None
    path: str | None = None
    sample: int | None = None
    source: str | None = None
    annotation: int | None = None
    object: int | None = None

    @property
    def name(self) -> str:
        return CHECKS[self.check][0]

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else (self.file or self.source or "")
        return ": ".join(p for p in (where, self.path, f"[{self.check} {self.name}] {self.message}") if p)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message,
                "severity": self.severity, "check": self.check, "name": self.name, "sample": self.sample,
                "source": self.source, "annotation": self.annotation, "object": self.object}


@dataclass(slots=True)
class QaReport:
    """All issues of a dataset, in sample order (label-set findings last)."""

    samples: int = 0
    issues: list[Issue] = field(default_factory=list)
    #: what the reader could not read (the samples are missing from the checks)
    problems: list[FormatError] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        """Issues per check id."""
        return Counter(i.check for i in self.issues)

    def failed(self, fail_on: str = "error") -> bool:
        """Whether any issue (or read problem) is at least as severe as ``fail_on``."""
        if fail_on not in SEVERITIES:
            raise UsageError(f"fail_on must be 'error' or 'warning', not {fail_on!r}")
        level = SEVERITIES.index(fail_on)
        found = [i.severity for i in self.issues] + [p.severity for p in self.problems]
        return any(SEVERITIES.index(s) >= level for s in found if s in SEVERITIES)

    def flagged(self) -> dict[int, list[Issue]]:
        """Sample index -> its issues."""
        out: dict[int, list[Issue]] = {}
        for issue in self.issues:
            if issue.sample is not None:
                out.setdefault(issue.sample, []).append(issue)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"samples": self.samples, "counts": dict(sorted(self.counts().items())),
                "issues": [i.to_dict() for i in self.issues], "problems": [p.to_dict() for p in self.problems]}


def qa(path: str | os.PathLike[str], format: str | None = None, *, images: str | None = None,
       labels: Iterable[str] | None = None, remote: bool = False, progress: Any = None, **options: Any) -> QaReport:
    """Run every check over a file or folder of any registered format.

    Args:
        images: folder holding the images (looked up by the source's base name, then the
            VOC ``filename``); without it, local relative sources are resolved against the
            annotation file and remote ones are not checked.
        labels: the declared label set; without it QA109 does not run.
        remote: also fetch VOC files named by object-storage URIs (off by default).
        progress: ``progress(done, total)`` after each sample.
        options: go to the format's reader (``size_table=``, ``encoding=``).
    """
    from mafmt import converters
    from mafmt.converters._common import accepted
    from mafmt.progress import Tracked

    path = os.fspath(path)
    fmt = converters.get(format) if format else converters.detect(path)
    if images is not None and not storage.is_dir(images):
        raise UsageError(f"{images}: not a folder (--images)")
    stream = fmt.read(path, on_error="skip", **accepted(fmt.read, {"images": images, **options}))
    report = check_samples(Tracked(stream, progress), images=images, labels=labels, remote=remote)
    read_report = getattr(stream, "report", None)
    if read_report is not None:
        report.problems.extend(read_report.problems)
    return report


def check_samples(samples: Iterable[Sample], *, images: str | None = None,
                  labels: Iterable[str] | None = None, remote: bool = False, start: int = 0,
                  ids: dict[Any, int] | None = None, sources: dict[str, int] | None = None,
                  spellings: dict[str, dict[str, Issue]] | None = None) -> QaReport:
    """Run every check over a stream of samples (consumed once).

    For a shard of a dataset (:mod:`mafmt.scale`): ``start`` is the index of its first sample,
    ``ids``/``sources`` the first sample of each id and source before it; with ``spellings``
    the labels seen are gathered there and the label-spelling check (QA111, which needs the
    whole dataset) is left to the caller (:func:`spelling_issues`)."""
    declared = set(labels) if labels is not None else None
    report = QaReport()
    ids = {} if ids is None else ids
    sources = {} if sources is None else sources
    whole = spellings is None
    spellings = {} if spellings is None else spellings
    for index, sample in enumerate(samples, start):
        report.samples += 1
        ctx = _Ctx(sample, index, report)
        ctx.remote = remote
        if sample.id is not None:
            if sample.id in ids:
                ctx.add("QA107", f"id {sample.id!r} is also used by sample {ids[sample.id] + 1}", "$.id")
            ids.setdefault(sample.id, index)
        if sample.source in sources:
            ctx.add("QA108", f"source is also used by sample {sources[sample.source] + 1}", "$.source")
        sources.setdefault(sample.source, index)
        if sample.usage is not None and sample.usage.upper() not in USAGES:
            ctx.add("QA113", f"unknown usage {sample.usage!r}", "$.usage")
        _score(ctx, sample.hard_coefficient, "hard-coefficient", "$")
        _sample_checks(ctx, sample, images)
        for label, issue in ctx.labels:
            if not label.strip():
                ctx.emit(Issue("QA110", "empty label name", "error", issue.file, issue.line, issue.path, index,
                               sample.source, issue.annotation, issue.object))
                continue
            if declared is not None and label not in declared:
                ctx.emit(Issue("QA109", f"label {label!r} is not declared", "error", issue.file, issue.line,
                               issue.path, index, sample.source, issue.annotation, issue.object))
            spellings.setdefault(" ".join(label.split()).casefold(), {}).setdefault(label, issue)
    if whole:
        report.issues.extend(spelling_issues(spellings))
    return report


def spelling_issues(spellings: dict[str, dict[str, Issue]]) -> list[Issue]:
    """QA111: every spelling of a label but the first, where they differ only in case or spaces."""
    out = []
    for variants in spellings.values():
        if len(variants) > 1:
            names = ", ".join(repr(v) for v in variants)
            for label, where in list(variants.items())[1:]:
                where.check, where.severity = "QA111", CHECKS["QA111"][1]
                where.message = f"label {label!r} differs only in case or whitespace from another ({names})"
                out.append(where)
    return out


class _Ctx:
    """Adds issues located at one sample."""

    def __init__(self, sample: Sample, index: int, report: QaReport) -> None:
        self.sample, self.index, self.report = sample, index, report
        origin = sample.origin
        self.file = origin.file if origin else None
        self.line = origin.line if origin else None
        if self.file is not None and self.file.endswith("(dataset)"):  # a folder format: the sample is its image
            self.file = storage.resolve(storage.parent(self.file), sample.source)
        self.labels: list[tuple[str, Issue]] = []
        self.remote = False
        #: where the object being checked was read (a label line, an annotation, a row), when known
        self.at: Origin | None = None

    def make(self, check: str, message: str, path: str | None, ann: int | None = None, obj: int | None = None) -> Issue:
        at = self.at
        if at is not None and obj is not None:  # the object's own place beats a path into mafmt's model
            detail = path.split(".", 3)[-1] if path and path.count(".") >= 3 else None
            sep = "/" if at.path and at.path.startswith("/") else "."
            where = sep.join(p for p in (at.path, detail) if p) or None
            return Issue(check, message, CHECKS[check][1], at.file, at.line, where, self.index, self.sample.source,
                         ann, obj)
        return Issue(check, message, CHECKS[check][1], self.file, self.line, path, self.index, self.sample.source, ann, obj)

    def add(self, check: str, message: str, path: str | None, ann: int | None = None, obj: int | None = None) -> None:
        self.emit(self.make(check, message, path, ann, obj))

    def emit(self, issue: Issue) -> None:
        self.report.issues.append(issue)

    def label(self, name: str | None, path: str, ann: int, obj: int | None = None) -> None:
        if name is None:
            self.add("QA110", "label name is missing", path, ann, obj)
        else:
            self.labels.append((name, self.make("QA110", "", path, ann, obj)))


def _score(ctx: _Ctx, value: Any, what: str, path: str, ann: int | None = None, obj: int | None = None) -> None:
    if value is not None and not 0 <= value <= 1:
        ctx.add("QA112", f"{what} {value} is outside [0, 1]", f"{path}.{what}" if path != "$" else f"$.{what}", ann, obj)


def _sample_checks(ctx: _Ctx, sample: Sample, images: str | None) -> None:
    text = sample.text
    entity_ids = {a.id for a in sample.annotations if isinstance(a, Entity) and a.id is not None}
    image = image_path(sample, images)
    size: tuple[int, int] | None = None
    image_checked = False
    last: tuple[float, float, int] | None = None
    declared: tuple[int, int, int] | None = None  # (annotation, width, height) of the first document
    for i, ann in enumerate(sample.annotations):
        where = f"$.annotation[{i}]"
        _score(ctx, ann.confidence, "confidence", where, i)
        _score(ctx, ann.hard_coefficient, "hard-coefficient", where, i)
        if isinstance(ann, Classification):
            ctx.label(ann.name, where + ".name", i)
        elif isinstance(ann, Entity):
            ctx.label(ann.name, where + ".name", i)
            _entity(ctx, ann, text, where, i)
        elif isinstance(ann, Triplet):
            for attr, key in (("head", "@modelarts:from"), ("tail", "@modelarts:to")):
                ref = getattr(ann, attr)
                if ref is None or ref not in entity_ids:
                    msg = f"{key} is missing" if ref is None else f"{key} {ref!r} names no entity of this sample"
                    ctx.add("QA116", msg, f"{where}.property['{key}']", i)
        elif isinstance(ann, SpeechSegment):
            last = _segment(ctx, ann, where, i, last)
        elif isinstance(ann, Detection):
            doc = _document(ctx, ann, where, i)
            if doc is None:
                continue
            if not image_checked:
                image_checked = True
                size = _image_size(ctx, image or image_path(sample, images, doc), where)
            if size is not None and doc.width is not None and doc.height is not None and size != (doc.width, doc.height):
                ctx.add("QA104", f"annotation says {doc.width}x{doc.height}, image is {size[0]}x{size[1]}",
                        where + ".size", i)
            if doc.width and doc.height:
                if declared is not None and declared[1:] != (doc.width, doc.height):
                    ctx.add("QA104", f"annotation says {doc.width}x{doc.height}, annotation {declared[0]} of the same "
                            f"sample says {declared[1]}x{declared[2]}", where + ".size", i)
                declared = declared or (i, doc.width, doc.height)
            bounds = (doc.width, doc.height) if doc.width and doc.height else size
            for j, obj in enumerate(doc.iter_objects()):
                opath = f"{where}.object[{j}]"
                ctx.at = obj.origin
                ctx.label(obj.name, opath + ".name", i, j)
                _score(ctx, obj.confidence, "confidence", opath, i, j)
                _score(ctx, obj.hard_coefficient, "hard-coefficient", opath, i, j)
                if obj.shape is not None:
                    _shape(ctx, obj.shape, bounds, f"{opath}.{obj.shape.kind}", i, j, obj.name)
            ctx.at = None
    if image is not None and not image_checked:
        if image.lower().endswith(IMAGE_EXTENSIONS):
            _image_size(ctx, image, "$.source")
        elif not storage.exists(image):
            ctx.add("QA105", f"file {image} does not exist", "$.source")


def image_path(sample: Sample, images: str | None, doc: VocDocument | None = None) -> str | None:
    """Where the sample's image is: in ``images`` by base name (or the VOC ``filename``),
    else the local source resolved against the annotation file; None when remote."""
    source = sample.source
    if source.startswith("content://"):
        return None
    if images is not None:
        name = source.replace("\\", "/").rsplit("/", 1)[-1]
        candidate = storage.join(images, name)
        if doc is not None and doc.filename and not storage.exists(candidate):
            candidate = storage.join(images, os.path.basename(doc.filename))
        return candidate
    if source.lower().startswith(_REMOTE):
        return None
    base = storage.parent(sample.origin.file) if sample.origin and sample.origin.file else None
    if base is None:
        return source if os.path.isabs(source) else None
    return storage.resolve(base, source)


def _image_size(ctx: _Ctx, path: str | None, where: str) -> tuple[int, int] | None:
    if path is None:
        return None
    if not storage.exists(path):
        ctx.add("QA105", f"image {path} does not exist", "$.source")
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with storage.open_read(path) as fh, Image.open(fh) as img:  # header only: no .load()
            return (int(img.width), int(img.height))
    except (OSError, UnidentifiedImageError, StorageError) as exc:
        ctx.add("QA106", f"image {path}: {exc}", "$.source")
        return None


def _document(ctx: _Ctx, ann: Detection, where: str, i: int) -> VocDocument | None:
    if ann.document is None:
        loc = ann.location()
        if loc is None or (not ctx.remote and storage.scheme_of(loc) not in (None, "file")):
            return None
        if not storage.exists(loc):
            ctx.add("QA119", f"VOC file {ann.annotation_loc} does not exist", where + "['annotation-loc']", i)
            return None
    try:
        return ann.load()
    except FormatError as exc:
        ctx.add("QA120", str(exc.reason), where + "['annotation-loc']", i)
        return None


def _entity(ctx: _Ctx, ann: Entity, text: str | None, where: str, i: int) -> None:
    start, end = ann.start, ann.end
    path = where + ".property['@modelarts:end_index']"
    if start is None or end is None:
        ctx.add("QA114", "@modelarts:start_index or @modelarts:end_index is missing", where + ".property", i)
    elif start < 0 or start >= end:
        ctx.add("QA114", f"offsets [{start}, {end}) are empty or reversed", path, i)
    elif text is not None and end > len(text):
        ctx.add("QA114", f"end {end} is past the end of the text ({len(text)} characters)", path, i)
    elif text is not None:
        for key in SPAN_KEYS:
            given = (ann.property or {}).get(key)
            if isinstance(given, str) and given != text[start:end]:
                ctx.add("QA115", f"{key} is {given!r} but the text at [{start}, {end}) is {text[start:end]!r}",
                        f"{where}.property['{key}']", i)


def seconds(value: str | None) -> float | None:
    """``hh:mm:ss(.SSS)`` in seconds, or None when it does not parse."""
    m = _TIME.match(value.strip()) if isinstance(value, str) else None
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)) if m else None


def _segment(ctx: _Ctx, ann: SpeechSegment, where: str, i: int,
             last: tuple[float, float, int] | None) -> tuple[float, float, int] | None:
    start, end = seconds(ann.start_time), seconds(ann.end_time)
    if start is None or end is None:
        bad = "start_time" if start is None else "end_time"
        ctx.add("QA118", f"{bad} {getattr(ann, bad)!r} is not hh:mm:ss.SSS", f"{where}.property['@modelarts:{bad}']", i)
        return last
    if start >= end:
        ctx.add("QA118", f"start {ann.start_time} is not before end {ann.end_time}", where + ".property", i)
        return last
    if last is not None:
        if start < last[0]:
            ctx.add("QA117", f"segment starts at {ann.start_time}, before segment {last[2]} does", where, i)
        elif start < last[1]:
            ctx.add("QA117", f"segment starting {ann.start_time} overlaps segment {last[2]}", where, i)
    return (start, end, i)


def _shape(ctx: _Ctx, shape: Any, bounds: tuple[int, int] | None, path: str, i: int, j: int, name: str | None) -> None:
    what = f"{shape.kind} {name!r}" if name else shape.kind
    if isinstance(shape, BndBox):
        if shape.xmin > shape.xmax or shape.ymin > shape.ymax:
            ctx.add("QA102", f"{what} has negative size {shape.bbox()}", path, i, j)
            return
        if shape.xmin == shape.xmax or shape.ymin == shape.ymax:
            ctx.add("QA103", f"{what} has zero area {shape.bbox()}", path, i, j)
    elif isinstance(shape, Circle):
        if shape.r < 0:
            ctx.add("QA102", f"{what} has negative radius {shape.r}", path, i, j)
            return
        if shape.r == 0:
            ctx.add("QA103", f"{what} has zero radius", path, i, j)
    elif not isinstance(shape, Point):
        distinct = len(set(shape.points))
        need = 3 if isinstance(shape, Polygon) else 2
        if distinct < need or (isinstance(shape, Polygon) and shape.area() == 0):
            ctx.add("QA103", f"{what} has {distinct} distinct point(s) (needs {need}{' and an area' if need == 3 else ''})",
                    path, i, j)
    if bounds is not None:
        x0, y0, x1, y1 = shape.bbox()
        w, h = bounds
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
            ctx.add("QA101", f"{what} spans ({x0}, {y0})-({x1}, {y1}), outside the {w}x{h} image", path, i, j)


def iter_checks() -> Iterator[tuple[str, str, str, str]]:
    """(id, name, severity, description) of every check, in id order."""
    for cid, (name, severity, text) in sorted(CHECKS.items()):
        yield cid, name, severity, text
