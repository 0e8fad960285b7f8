"""The shared model every format reads into and writes from.

Three levels, as in ModelArts itself::

    Sample                 one manifest line: the thing labelled (image, text, clip)
      Annotation           one label; subclasses by task (Classification, Detection, ...)
        VocDocument        geometry of an image (ModelArts Pascal VOC), for Detection
          VocObject        one labelled object with exactly one Shape and nested parts

Conventions:
    * pixel coordinates are absolute, origin top-left, y down; numbers keep their kind
      (``12`` stays an int, ``12.5`` a float);
    * shapes and origins are values: hashable and treated as immutable (not frozen, so that
      they are cheap to build by the million);
    * labels are strings;
    * every object has ``extra``: fields the format had that mafmt does not model, kept
      verbatim and written back;
    * ``wire`` (not compared, not shown) remembers how a value was spelled on disk
      (an alias key, ``"true"`` for a boolean) so a round trip rewrites it the same way.
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from mafmt.errors import FormatError, StorageError

__all__ = [
    "ANNOTATION_TYPES",
    "SHAPE_KINDS",
    "Annotation",
    "BndBox",
    "Circle",
    "Classification",
    "CompactSample",
    "Dashed",
    "Detection",
    "Entity",
    "Flags",
    "Line",
    "Mask",
    "MultiPolygon",
    "Number",
    "Origin",
    "PlainObject",
    "Point",
    "Polygon",
    "Polyline",
    "Sample",
    "Shape",
    "SpeechSegment",
    "Transcript",
    "Triplet",
    "VocDocument",
    "VocObject",
    "VocSource",
    "compact_view",
    "image_detection",
    "linked_view",
    "read_linked",
    "set_document_reader",
    "shape_from_feature",
]

Number = int | float
Pair = tuple[Number, Number]

IMAGE_CLASSIFICATION = "modelarts/image_classification"
OBJECT_DETECTION = "modelarts/object_detection"
IMAGE_SEGMENTATION = "modelarts/image_segmentation"
TEXT_CLASSIFICATION = "modelarts/text_classification"
TEXT_ENTITY = "modelarts/text_entity"
TEXT_TRIPLET = "modelarts/text_triplet"
AUDIO_CLASSIFICATION = "modelarts/audio_classification"
AUDIO_CONTENT = "modelarts/audio_content"
AUDIO_SEGMENTATION = "modelarts/audio_segmentation"

#: Every annotation type string ModelArts documents, in canonical spelling.
ANNOTATION_TYPES: tuple[str, ...] = (
    IMAGE_CLASSIFICATION,
    OBJECT_DETECTION,
    IMAGE_SEGMENTATION,
    TEXT_CLASSIFICATION,
    TEXT_ENTITY,
    TEXT_TRIPLET,
    AUDIO_CLASSIFICATION,
    AUDIO_CONTENT,
    AUDIO_SEGMENTATION,
)


def _wire() -> dict[str, Any]:
    return {}


@dataclass(slots=True, unsafe_hash=True)
class Origin:
    """Where a record was read from: file (or URI), 1-based line, and where inside it
    (``$.annotations[3]``, ``/annotation/object[2]``) when a line does not say it."""

    file: str | None
    line: int | None = None
    path: str | None = None


# --------------------------------------------------------------------------- shapes


@dataclass(slots=True, unsafe_hash=True)
class BndBox:
    """Axis-aligned box; ``xmin <= xmax`` and ``ymin <= ymax`` when valid."""

    xmin: Number
    ymin: Number
    xmax: Number
    ymax: Number
    kind: ClassVar[str] = "bndbox"

    def bbox(self) -> tuple[Number, Number, Number, Number]:
        return (self.xmin, self.ymin, self.xmax, self.ymax)

    def feature(self) -> list[Any]:
        return [[self.xmin, self.ymin], [self.xmax, self.ymax]]

    def area(self) -> float:
        return float(max(0, self.xmax - self.xmin) * max(0, self.ymax - self.ymin))


@dataclass(slots=True, unsafe_hash=True)
class Point:
    """A single point."""

    x: Number
    y: Number
    kind: ClassVar[str] = "point"

    def bbox(self) -> tuple[Number, Number, Number, Number]:
        return (self.x, self.y, self.x, self.y)

    def feature(self) -> list[Any]:
        return [self.x, self.y]

    def area(self) -> float:
        return 0.0


@dataclass(slots=True, unsafe_hash=True)
class Circle:
    """Centre ``(cx, cy)`` and radius ``r`` in pixels."""

    cx: Number
    cy: Number
    r: Number
    kind: ClassVar[str] = "circle"

    def bbox(self) -> tuple[Number, Number, Number, Number]:
        return (self.cx - self.r, self.cy - self.r, self.cx + self.r, self.cy + self.r)

    def feature(self) -> list[Any]:
        return [self.cx, self.cy, self.r]

    def area(self) -> float:
        return math.pi * float(self.r) ** 2


@dataclass(slots=True, unsafe_hash=True)
class _PointList:
    points: tuple[Pair, ...]
    kind: ClassVar[str] = ""

    def bbox(self) -> tuple[Number, Number, Number, Number]:
        xs, ys = zip(*self.points)
        return (min(xs), min(ys), max(xs), max(ys))

    def feature(self) -> list[Any]:
        return [[x, y] for x, y in self.points]

    def area(self) -> float:
        return 0.0


@dataclass(slots=True, unsafe_hash=True)
class Polygon(_PointList):
    """Closed outline, vertices in order; a repeated closing vertex is kept as written."""

    kind: ClassVar[str] = "polygon"

    def area(self) -> float:
        """Shoelace area (absolute)."""
        return _ring_area(self.points)

    @property
    def closed_explicitly(self) -> bool:
        """True when the last vertex repeats the first."""
        return len(self.points) > 1 and self.points[0] == self.points[-1]


@dataclass(slots=True, unsafe_hash=True)
class Polyline(_PointList):
    """Open path of two or more vertices."""

    kind: ClassVar[str] = "polyline"


@dataclass(slots=True, unsafe_hash=True)
class Line(_PointList):
    """Straight segment: exactly two points."""

    kind: ClassVar[str] = "line"


@dataclass(slots=True, unsafe_hash=True)
class Dashed(_PointList):
    """Dashed segment: like :class:`Line`, drawn dashed."""

    kind: ClassVar[str] = "dashed"


def _ring_area(points: tuple[Pair, ...]) -> float:
    if not points:
        return 0.0
    xs, ys = zip(*points)
    return ring_area(xs, ys)


def ring_area(xs: Any, ys: Any) -> float:
    """Shoelace area of the ring with vertices ``(xs[i], ys[i])``; the products are summed
    exactly (``math.fsum``), so the result is the same on every Python."""
    if not xs:
        return 0.0
    return abs(math.fsum(map(operator.mul, xs, ys[1:] + ys[:1])) - math.fsum(map(operator.mul, xs[1:] + xs[:1], ys))) / 2.0


@dataclass(slots=True, unsafe_hash=True)
class MultiPolygon:
    """One object outlined by several closed rings (COCO ``segmentation`` with two or more
    polygons), rings and vertices in order."""

    rings: tuple[tuple[Pair, ...], ...]
    kind: ClassVar[str] = "multipolygon"

    def bbox(self) -> tuple[Number, Number, Number, Number]:
        xs = [p[0] for ring in self.rings for p in ring]
        ys = [p[1] for ring in self.rings for p in ring]
        return (min(xs), min(ys), max(xs), max(ys))

    def feature(self) -> list[Any]:
        return [[[x, y] for x, y in ring] for ring in self.rings]

    def area(self) -> float:
        """Sum of the rings' shoelace areas."""
        return sum(_ring_area(r) for r in self.rings)

    def largest(self) -> Polygon:
        """The ring with the largest area (the first of equals), as a :class:`Polygon`."""
        best = max(range(len(self.rings)), key=lambda i: (_ring_area(self.rings[i]), -i))
        return Polygon(self.rings[best])

    def coco(self) -> list[list[Number]]:
        """COCO's form: one flat ``[x1, y1, x2, y2, ...]`` list per ring."""
        return [[c for p in ring for c in p] for ring in self.rings]


@dataclass(slots=True, unsafe_hash=True)
class Mask:
    """A pixel mask in COCO run-length encoding: ``height`` x ``width`` pixels, ``counts`` as
    COCO's compressed string or as the list of run lengths (uncompressed, as crowd
    annotations are written), kept in the form it was read."""

    height: int
    width: int
    counts: str | tuple[int, ...]
    kind: ClassVar[str] = "mask"

    @classmethod
    def from_coco(cls, seg: Any) -> Mask:
        """The mask of a COCO RLE ``{"size": [h, w], "counts": ...}``.

        Raises:
            ValueError: not a valid RLE (the message says why).
        """
        from mafmt import rle

        return cls(*rle.check_coco(seg))

    def _rle(self) -> dict[str, Any]:
        return {"size": [self.height, self.width], "counts": list(self.counts) if isinstance(self.counts, tuple)
                else self.counts}

    def bbox(self) -> tuple[Number, Number, Number, Number]:
        """The box around the foreground pixels (``x + w`` is one past the last column)."""
        from mafmt import rle

        x, y, w, h = rle.to_bbox(self._rle())
        return (int(x), int(y), int(x + w), int(y + h))

    def feature(self) -> dict[str, Any]:
        return self._rle()

    def area(self) -> float:
        """Foreground pixels."""
        from mafmt import rle

        return float(rle.area(self._rle()))

    def coco(self) -> dict[str, Any]:
        """COCO's ``{"size": [h, w], "counts": ...}``."""
        return self._rle()


Shape = BndBox | Point | Circle | Polygon | Polyline | Line | Dashed | MultiPolygon | Mask

#: Shape element name -> class, in the order voc.md lists them.
SHAPE_KINDS: dict[str, type] = {
    "point": Point,
    "line": Line,
    "dashed": Dashed,
    "bndbox": BndBox,
    "polygon": Polygon,
    "polyline": Polyline,
    "circle": Circle,
}


def shape_from_feature(kind: str, feature: Any) -> Shape:
    """Build a shape from the SDK's ``@modelarts:shape`` / ``@modelarts:feature`` pair.

    Raises:
        ValueError: unknown kind or a feature of the wrong layout.
    """
    try:
        if kind == "point":
            x, y = feature
            return Point(x, y)
        if kind == "circle":
            cx, cy, r = feature
            return Circle(cx, cy, r)
        if kind == "bndbox":
            (x1, y1), (x2, y2) = feature
            return BndBox(x1, y1, x2, y2)
        if kind in ("polygon", "polyline", "line", "dashed"):
            pts = tuple((p[0], p[1]) for p in feature)
            if kind in ("line", "dashed") and len(pts) != 2:
                raise ValueError(f"{kind} needs exactly 2 points, got {len(pts)}")
            return SHAPE_KINDS[kind](pts)  # type: ignore[no-any-return]
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"bad @modelarts:feature for {kind}: {exc}") from None
    raise ValueError(f"unknown @modelarts:shape {kind!r}")


# --------------------------------------------------------------------------- VOC


@dataclass(slots=True, kw_only=True)
class VocObject:
    """One labelled object (or, nested, one part) of a Pascal VOC document."""

    name: str | None = None
    shape: Shape | None = None
    #: user attributes, key -> value in order of appearance; None when the element is absent
    properties: dict[str, str] | None = None
    pose: str | None = None
    truncated: int | None = None
    occluded: int | None = None
    difficult: int | None = None
    confidence: Number | None = None
    hard_coefficient: Number | None = None
    hard_reasons: str | None = None
    mask_color: str | None = None
    parts: list[VocObject] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    wire: dict[str, Any] = field(default_factory=_wire, compare=False, repr=False)
    #: where the object was read (a YOLO label line, a COCO annotation, a CSV row, an XML element)
    origin: Origin | None = field(default=None, compare=False, repr=False)

    def iter_tree(self) -> Any:
        """Yield this object and all nested parts, depth first."""
        yield self
        for part in self.parts:
            yield from part.iter_tree()

    @classmethod
    def plain(cls, name: str | None, shape: Shape | None, pose: str | None = None, truncated: int | None = None,
              occluded: int | None = None, difficult: int | None = None, extra: dict[str, Any] | None = None,
              origin: Origin | None = None) -> VocObject:
        """An object with a label, a shape, the standard VOC flags and nothing else, built at
        a fraction of the keyword constructor's cost (readers build millions)."""
        obj = _new_object(cls)
        obj.name, obj.shape, obj.pose, obj.truncated, obj.occluded, obj.difficult = (name, shape, pose, truncated,
                                                                                     occluded, difficult)
        obj.properties = obj.confidence = obj.hard_coefficient = obj.hard_reasons = obj.mask_color = None
        obj.parts = []
        obj.extra = {} if extra is None else extra
        obj.wire = {}
        obj.origin = origin
        return obj


    def copy(self) -> VocObject:
        """A shallow copy (what ``dataclasses.replace(obj)`` gives, at a fraction of its cost; a
        test keeps it in step with the fields)."""
        new = _new_object(type(self))
        (new.name, new.shape, new.properties, new.pose, new.truncated, new.occluded, new.difficult, new.confidence,
         new.hard_coefficient, new.hard_reasons, new.mask_color, new.parts, new.extra, new.wire, new.origin) = (
            self.name, self.shape, self.properties, self.pose, self.truncated, self.occluded, self.difficult,
            self.confidence, self.hard_coefficient, self.hard_reasons, self.mask_color, self.parts, self.extra,
            self.wire, self.origin)
        return new


_new_object = object.__new__


@dataclass(slots=True, kw_only=True)
class VocSource:
    """The ``<source>`` block of a VOC document."""

    database: str | None = None
    annotation: str | None = None
    image: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    wire: dict[str, Any] = field(default_factory=_wire, compare=False, repr=False)


@dataclass(slots=True, kw_only=True)
class VocDocument:
    """A ModelArts Pascal VOC document: one image's size and labelled objects."""

    folder: str | None = None
    filename: str | None = None
    source: VocSource | None = None
    width: int | None = None
    height: int | None = None
    depth: int | None = None
    segmented: int | None = None
    mask_source: str | None = None
    objects: list[VocObject] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    wire: dict[str, Any] = field(default_factory=_wire, compare=False, repr=False)
    origin: Origin | None = field(default=None, compare=False, repr=False)

    def iter_objects(self) -> Any:
        """Yield every object and nested part, depth first."""
        for obj in self.objects:
            yield from obj.iter_tree()

    def copy(self) -> VocDocument:
        """A shallow copy (what ``dataclasses.replace(doc)`` gives, at a fraction of its cost; a
        test keeps it in step with the fields)."""
        new = _new_object(type(self))
        (new.folder, new.filename, new.source, new.width, new.height, new.depth, new.segmented, new.mask_source,
         new.objects, new.extra, new.wire, new.origin) = (
            self.folder, self.filename, self.source, self.width, self.height, self.depth, self.segmented,
            self.mask_source, self.objects, self.extra, self.wire, self.origin)
        return new


_T = TypeVar("_T")

# --------------------------------------------------------------------------- manifest

#: reads one VOC file (path or URI) for :meth:`Detection.load`; :mod:`mafmt.voc` sets it on import,
#: so the model never imports the VOC module (which imports the model)
_document_reader: Callable[[str], VocDocument] | None = None
#: reads one VOC file in compact form for :meth:`Sample.plain` (``linked``): the document
#: without its objects, their :data:`PlainObject` records and their flags (see
#: :attr:`CompactSample.flags`), or the whole document when it is not plain
_records_reader: Callable[[str], tuple[VocDocument, list[PlainObject], list[Flags]] | VocDocument] | None = None


def set_document_reader(reader: Callable[[str], VocDocument],
                        records: Callable[[str], tuple[VocDocument, list[PlainObject], list[Flags]] | VocDocument]
                        | None = None) -> None:
    """Install the functions :meth:`Detection.load` (and :meth:`Sample.plain`) read VOC files with."""
    global _document_reader, _records_reader
    _document_reader, _records_reader = reader, records


@dataclass(slots=True, kw_only=True)
class Annotation:
    """One label of a sample. Use the subclass of the task; this base class carries
    annotations whose ``type`` mafmt does not know (kept and written back verbatim)."""

    type: str
    name: str | None = None
    id: str | int | None = None
    #: attributes of the label; the typed ``@modelarts:`` keys of a subclass live in its fields
    property: dict[str, Any] | None = None
    annotation_loc: str | None = None
    annotation_format: str | None = None
    annotated_by: str | None = None
    creation_time: str | None = None
    confidence: Number | None = None
    hard: bool | None = None
    hard_coefficient: Number | None = None
    annotation_loc_map: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    wire: dict[str, Any] = field(default_factory=_wire, compare=False, repr=False)

    #: (attribute, property key, python type) pairs a subclass lifts out of ``property``
    typed_keys: ClassVar[tuple[tuple[str, str, builtins.type], ...]] = ()


@dataclass(slots=True, kw_only=True)
class Classification(Annotation):
    """Image, text or sound classification: ``name`` is the label."""

    type: str = IMAGE_CLASSIFICATION


@dataclass(slots=True, kw_only=True)
class Detection(Annotation):
    """Object detection or image segmentation: geometry is a VOC document.

    The document is either given inline (``document=``) or loaded on first use from
    ``annotation_loc``, resolved against the folder of the manifest it came from.
    """

    type: str = OBJECT_DETECTION
    document: VocDocument | None = None
    #: folder (path or URI) relative ``annotation_loc`` values are resolved against
    base: str | None = field(default=None, compare=False, repr=False)
    origin: Origin | None = field(default=None, compare=False, repr=False)

    def location(self) -> str | None:
        """The absolute path or URI of the VOC file, or None when there is none."""
        if not self.annotation_loc:
            return None
        from mafmt import storage  # only when a document is loaded: importing the model stays cheap

        return storage.resolve(self.base, self.annotation_loc)

    def load(self) -> VocDocument:
        """Return the VOC document, reading ``annotation_loc`` the first time.

        Raises:
            FormatError: the file is missing or malformed; the message names the
                manifest line that referenced it.
        """
        if self.document is None:
            if _document_reader is None:
                where = self.origin or Origin(None)
                raise FormatError("no VOC reader is loaded (import mafmt.voc)", file=where.file, line=where.line)
            self.document = self.read(_document_reader)
        return self.document

    def read(self, reader: Callable[[str], _T]) -> _T:
        """``reader(location)``, its errors named as :meth:`load` names them (with the manifest line)."""
        where = self.origin or Origin(None)
        loc = self.location()
        if loc is None:
            raise FormatError("detection annotation has no annotation-loc", file=where.file, line=where.line)
        try:
            return reader(loc)
        except (FormatError, StorageError) as exc:
            raise FormatError(f"annotation-loc {self.annotation_loc!r}: {exc}", file=where.file, line=where.line) from exc

    @property
    def objects(self) -> list[VocObject]:
        """The document's objects (loads the document if needed)."""
        return self.load().objects


@dataclass(slots=True, kw_only=True)
class Entity(Annotation):
    """Named entity: ``name`` is the label, ``[start, end)`` code-point offsets into the text."""

    type: str = TEXT_ENTITY
    start: int | None = None
    end: int | None = None
    typed_keys = (("start", "@modelarts:start_index", int), ("end", "@modelarts:end_index", int))


@dataclass(slots=True, kw_only=True)
class Triplet(Annotation):
    """Relation between two entities of the same sample (``id`` values of Entity)."""

    type: str = TEXT_TRIPLET
    head: str | None = None
    tail: str | None = None
    typed_keys = (("head", "@modelarts:from", str), ("tail", "@modelarts:to", str))


@dataclass(slots=True, kw_only=True)
class Transcript(Annotation):
    """Speech content: the transcript of the whole clip."""

    type: str = AUDIO_CONTENT
    content: str | None = None
    typed_keys = (("content", "@modelarts:content", str),)


@dataclass(slots=True, kw_only=True)
class SpeechSegment(Annotation):
    """One speech segment: times as written (``hh:mm:ss.SSS``), speaker and content."""

    type: str = AUDIO_SEGMENTATION
    start_time: str | None = None
    end_time: str | None = None
    speaker: str | None = None
    content: str | None = None
    typed_keys = (
        ("start_time", "@modelarts:start_time", str),
        ("end_time", "@modelarts:end_time", str),
        ("speaker", "@modelarts:source", str),
        ("content", "@modelarts:content", str),
    )


#: canonical type string -> annotation class
ANNOTATION_CLASSES: dict[str, type[Annotation]] = {
    IMAGE_CLASSIFICATION: Classification,
    TEXT_CLASSIFICATION: Classification,
    AUDIO_CLASSIFICATION: Classification,
    OBJECT_DETECTION: Detection,
    IMAGE_SEGMENTATION: Detection,
    TEXT_ENTITY: Entity,
    TEXT_TRIPLET: Triplet,
    AUDIO_CONTENT: Transcript,
    AUDIO_SEGMENTATION: SpeechSegment,
}


@dataclass(slots=True, kw_only=True)
class Sample:
    """One manifest line: a source (image, audio, ``content://`` text) and its labels.

    ``usage`` keeps the spelling read (exports use lower case); compare with
    :meth:`usage_upper`. ``hard_reasons`` are reason ids (``"1-5"`` on disk).
    """

    source: str
    annotations: list[Annotation] = field(default_factory=list)
    usage: str | None = None
    id: str | int | None = None
    inference_loc: str | None = None
    hard: bool | None = None
    hard_coefficient: Number | None = None
    hard_reasons: list[int] | None = None
    #: attributes of the sample itself (video-frame origin, table schema, ...)
    property: dict[str, Any] | None = None
    source_type: str | None = None
    sample_type: int | None = None
    source_map: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    wire: dict[str, Any] = field(default_factory=_wire, compare=False, repr=False)
    origin: Origin | None = field(default=None, compare=False, repr=False)

    def plain(self, *, linked: bool = False) -> CompactSample | None:
        """The sample in compact form, when it is one (:class:`CompactSample`), else None.

        ``linked``: the caller writes an image's size and its objects' labels, shapes and VOC
        flags only (COCO, YOLO), and also takes a sample whose one annotation is a detection
        linked to a VOC file not read yet: the file is read now, a plain document gives a
        compact view of the sample (:func:`linked_view`), any other becomes the detection's
        document (so that the general path does not read it again)."""
        return linked_view(self) if linked else None

    def usage_upper(self) -> str | None:
        """``usage`` in the documented upper-case spelling."""
        return self.usage.upper() if self.usage is not None else None

    @builtins.property  # the field ``property`` shadows the builtin in this class body
    def text(self) -> str | None:
        """The inline text of a ``content://`` source, else None."""
        if self.source.startswith("content://"):
            return self.source[len("content://"):]
        return None


#: VOC's standard flags of an object in a compact sample: pose, truncated, occluded, difficult
Flags = tuple["str | None", "int | None", "int | None", "int | None"]

#: one object of a :class:`CompactSample`: label, box ``(xmin, ymin, xmax, ymax)``, for a
#: polygon its ring in COCO's flat form ``[x1, y1, x2, y2, ...]`` (the box is then the ring's
#: extent as it is, untidied) else None, and the keys of the ``extra`` its full form has
PlainObject = tuple[str, Number, Number, Number, Number, "list[Number] | None", tuple[str, ...]]

_ANNOTATIONS = Sample.__dict__["annotations"]  # the slot that CompactSample's property fills


def image_detection(filename: str | None, width: int | None, height: int | None, objects: list[VocObject],
                    depth: int | None = None) -> Detection:
    """An image's objects as one inline PASCAL VOC detection (what the COCO and YOLO readers give an image)."""
    return Detection(type=OBJECT_DETECTION, annotation_format="PASCAL VOC",
                     document=VocDocument(filename=filename, width=width, height=height, depth=depth, objects=objects))


class CompactSample(Sample):
    """A plain image sample in compact form: an image size and its objects as
    :data:`PlainObject` tuples (labels, boxes, polygons, the names of their extra keys).

    A reader yields it when every object of an image is plain; a writer that knows the form
    takes :meth:`plain` and writes from it directly. Anything else sees a :class:`Sample`:
    ``annotations`` is built on first use (the same ones the reader's general path gives) and
    from then on the sample is a full one (:meth:`plain` is None). Its annotations are one
    :func:`image_detection` of the objects; ``filename`` and ``depth`` are its document's.
    """

    __slots__ = ("_build", "annotation", "depth", "filename", "flags", "height", "objects", "values", "width")
    filename: str | None
    width: int | None
    height: int | None
    depth: int | None
    objects: list[PlainObject]
    #: where the values of each object's extra keys are (``objects[i]``'s extra is
    #: ``{k: values[i][k] for k in objects[i][6]}``; for COCO the annotation itself)
    values: list[dict[str, Any]]
    #: each object's VOC flags (``objects[i]``'s are ``flags[i]``; its full form has them and no
    #: extra keys), or None when its full form has none of them (COCO, YOLO)
    flags: list[Flags] | None
    #: the detection the objects are the document of, whose own fields a writer counts (a
    #: manifest line's: :func:`linked_view`), or None
    annotation: Detection | None
    _build: Callable[[], list[Annotation]] | None

    @classmethod
    def of(cls, source: str, id: str | int | None, usage: str | None, extra: dict[str, Any], filename: str | None,
           width: int | None, height: int | None, objects: list[PlainObject], values: list[dict[str, Any]] | None,
           build: Callable[[], list[Annotation]], depth: int | None = None,
           origin: Origin | None = None) -> CompactSample:
        """A compact sample; ``build`` makes its annotations when something asks for them;
        ``values`` None: its objects have no extra keys."""
        new = cls(source=source, id=id, usage=usage, extra=extra, origin=origin)
        new.filename, new.width, new.height, new.depth, new.objects, new.values, new._build = (
            filename, width, height, depth, objects, values if values is not None else [_NO_VALUES] * len(objects),
            build)
        new.flags = new.annotation = None
        return new

    def shell(self) -> Detection:
        """Its annotation without the objects: what a writer that takes the objects from the
        compact form writes around them."""
        return image_detection(self.filename, self.width, self.height, [], self.depth)

    @builtins.property
    def annotations(self) -> list[Annotation]:  # type: ignore[override]
        """The sample's annotations, built from the compact form on first use."""
        if self._build is not None:
            _ANNOTATIONS.__set__(self, self._build())
            self._build = None
        return _ANNOTATIONS.__get__(self)  # type: ignore[no-any-return]

    @annotations.setter
    def annotations(self, value: list[Annotation]) -> None:
        self._build = None
        _ANNOTATIONS.__set__(self, value)

    def plain(self, *, linked: bool = False) -> CompactSample | None:
        """This sample while it is still in compact form (nobody took its annotations), else
        None; a view with VOC flags only for a caller that writes them (``linked``, see
        :meth:`Sample.plain`)."""
        return self if self._build is not None and (linked or self.flags is None) else None

    def full(self) -> Sample:
        """The same sample as a :class:`Sample`."""
        return Sample(**{name: getattr(self, name) for name in Sample.__dataclass_fields__})

    def __eq__(self, other: object) -> bool:
        return self.full() == other if isinstance(other, Sample) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Callable[[Sample], Sample], tuple[Sample]]:  # a copy or a pickle is a full Sample
        return _itself, (self.full(),)


def _itself(sample: Sample) -> Sample:
    return sample


#: the fields of a sample besides its annotations, and those of them :meth:`CompactSample.of` does not take
_VIEW_FIELDS = tuple(name for name in Sample.__dataclass_fields__ if name != "annotations")
_OTHER_FIELDS = tuple(name for name in _VIEW_FIELDS if name not in ("source", "usage", "id", "extra", "origin"))
_NO_VALUES: dict[str, Any] = {}


def linked_view(sample: Sample) -> CompactSample | None:
    """A compact view of ``sample`` when its one annotation is a detection linked to a VOC file
    not read yet and that file is plain (read now): :func:`compact_view`, its annotations the
    sample's (the file read again when they are asked for). Any other file read becomes the
    detection's document; None then, and for any other sample."""
    anns = sample.annotations
    if len(anns) != 1:
        return None
    ann = anns[0]
    if type(ann) is not Detection or ann.document is not None or not ann.annotation_loc:
        return None
    found = read_linked(ann)
    if not isinstance(found, tuple):
        ann.document = found
        return None
    fields = {name: getattr(sample, name) for name in _VIEW_FIELDS}
    return compact_view(fields, ann, found, lambda: sample.annotations)


def read_linked(ann: Detection) -> tuple[VocDocument, list[PlainObject], list[Flags]] | VocDocument | None:
    """The VOC file of ``ann`` read once (see :func:`set_document_reader`): in compact form
    when it is plain, else its document; None when no reader is installed."""
    return ann.read(_records_reader) if _records_reader is not None else None


def compact_view(fields: dict[str, Any], ann: Detection, found: tuple[VocDocument, list[PlainObject], list[Flags]],
                 build: Callable[[], list[Annotation]]) -> CompactSample:
    """The compact sample of a sample's ``fields`` (all but its annotations) whose one
    annotation ``ann`` links the plain VOC file read as ``found`` (:func:`read_linked`): its
    objects have their :attr:`~CompactSample.flags`, its :attr:`~CompactSample.annotation` is
    ``ann``, and ``build`` gives its annotations when they are asked for."""
    head, objects, flags = found
    view = CompactSample.of(fields["source"], fields["id"], fields["usage"], fields["extra"], head.filename,
                            head.width, head.height, objects, None, build, head.depth,
                            fields["origin"])
    for name in _OTHER_FIELDS:
        setattr(view, name, fields[name])
    view.flags, view.annotation = flags, ann
    return view
