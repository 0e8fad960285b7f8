"""Counting what a target format cannot hold: one vocabulary for every writer.

Each field of the model is either *data* (a loss when a target drops it: ``report.lose``)
or *metadata* (bookkeeping nobody expects every format to keep: ``report.note_metadata``).
Loss kinds read ``"<what>-><what became of it>"`` (``"usage->dropped"``); metadata kinds
name the field (``"sample id"``, ``"annotation creation_time"``).
"""

from __future__ import annotations

import operator
from typing import Any

from mafmt.model import Annotation, CompactSample, Sample, VocDocument, VocObject
from mafmt.report import Report

__all__ = [
    "OBJECT_FIELDS",
    "SAMPLE_FIELDS",
    "count_annotation_losses",
    "count_document_losses",
    "count_object_losses",
    "count_objects_losses",
    "count_plain_losses",
    "count_sample_losses",
    "writable_objects",
]

#: sample attributes besides source, usage, id and annotations
SAMPLE_FIELDS = ("hard", "hard_coefficient", "hard_reasons", "inference_loc", "property", "source_type",
                 "sample_type", "source_map")
_SAMPLE_METADATA = frozenset({"hard", "hard_coefficient", "hard_reasons", "inference_loc", "source_type",
                              "sample_type", "source_map"})
_ANNOTATION_DATA = ("confidence", "property")
_ANNOTATION_METADATA = ("id", "hard", "hard_coefficient", "annotation_loc_map", "annotated_by", "creation_time")
#: image keys of COCO (and similar) that are bookkeeping, not annotation
_IMAGE_METADATA_KEYS = frozenset({"license", "coco_url", "flickr_url", "date_captured", "id"})
#: object extras that are derived or bookkeeping: a stored area/bbox (kept only when it differs from
#: the shape's own), a record id
_OBJECT_METADATA_KEYS = frozenset({"area", "bbox", "id"})
#: object extras with a name of their own in the loss counts
_NAMED_OBJECT_KEYS = frozenset({"iscrowd", "keypoints", "num_keypoints", "attributes", "score", "segmentation",
                                "track_id", "group_id", "occluded"})

#: VocObject scalar fields and the value that means "not set" for a writer
OBJECT_FIELDS: tuple[tuple[str, object], ...] = (
    ("pose", "Unspecified"),
    ("truncated", 0),
    ("occluded", 0),
    ("difficult", 0),
    ("confidence", None),
    ("hard_coefficient", None),
    ("hard_reasons", None),
    ("mask_color", None),
)
_OBJECT_METADATA = frozenset({"hard_coefficient", "hard_reasons"})


_SAMPLE_VALUES = operator.attrgetter(*SAMPLE_FIELDS)


def _extra_kind(key: str, scope: str, metadata_keys: frozenset[str]) -> tuple[bool, str]:
    """(is metadata, kind) of an unknown field a target drops."""
    if key in metadata_keys:
        return True, f"{scope} {key}"
    if key in _NAMED_OBJECT_KEYS and scope == "object":
        return False, f"{key}->dropped"
    return False, f"{scope} unknown fields->dropped"


def _count_keys(keys: dict[str, int], report: Report, scope: str, metadata_keys: frozenset[str]) -> None:
    for key, n in keys.items():
        metadata, kind = _extra_kind(key, scope, metadata_keys)
        if metadata:
            report.note_metadata(kind, n)
        else:
            report.lose(kind, n)


def count_extra_losses(extra: dict[str, object], report: Report, *, scope: str,
                       metadata_keys: frozenset[str] = frozenset()) -> None:
    """Count the unknown fields of a record that a target drops (a COCO ``segmentation: []``
    is no field at all)."""
    for key, value in extra.items():
        if key == "segmentation" and value == []:
            continue
        metadata, kind = _extra_kind(key, scope, metadata_keys)
        if metadata:
            report.note_metadata(kind)
        else:
            report.lose(kind)


def count_annotation_losses(ann: Annotation, report: Report) -> None:
    """Count manifest-level fields of an annotation an image format cannot hold."""
    for attr in _ANNOTATION_DATA:
        if getattr(ann, attr) is not None:
            report.lose(f"annotation {attr}->dropped")
    for attr in _ANNOTATION_METADATA:
        if getattr(ann, attr) is not None:
            report.note_metadata(f"annotation {attr}")
    if ann.extra:
        count_extra_losses(ann.extra, report, scope="annotation")


def count_sample_losses(sample: Sample, report: Report, holds: frozenset[str] = frozenset()) -> None:
    """Count sample-level fields the target cannot hold (``holds`` names the ones it can)."""
    if _SAMPLE_VALUES(sample).count(None) != len(SAMPLE_FIELDS):  # (most samples have none of them)
        for attr in SAMPLE_FIELDS:
            if attr not in holds and getattr(sample, attr) is not None:
                if attr in _SAMPLE_METADATA:
                    report.note_metadata(f"sample {attr}")
                else:
                    report.lose(f"sample {attr}->dropped")
    if "usage" not in holds and sample.usage is not None:
        report.lose("usage->dropped")
    if "id" not in holds and sample.id is not None:
        report.note_metadata("sample id")
    if "extra" not in holds and sample.extra:
        count_extra_losses(sample.extra, report, scope="sample", metadata_keys=_IMAGE_METADATA_KEYS)


def count_object_losses(obj: VocObject, report: Report, holds: frozenset[str] = frozenset()) -> None:
    """Count per-object fields the target cannot hold (``holds`` names the ones it can).

    Parts are counted per part (with everything below them), as ``"part->dropped"``.
    """
    count_objects_losses([obj], report, holds)


_FLAGS = operator.attrgetter(*(attr for attr, _ in OBJECT_FIELDS))
_FLAG_DEFAULTS = tuple(default for _, default in OBJECT_FIELDS)


def writable_objects(objects: list[VocObject], report: Report, holds: frozenset[str] = frozenset()) -> list[VocObject]:
    """The objects a target can write (a shape and a name; the others counted as dropped), with
    what the target cannot hold of them counted (:func:`count_objects_losses`)."""
    kept = [o for o in objects if o.shape is not None and o.name]
    if len(kept) < len(objects):
        report.lose("object without shape or name->dropped", len(objects) - len(kept))
    count_objects_losses(kept, report, holds)
    return kept


def count_objects_losses(objects: list[VocObject], report: Report, holds: frozenset[str] = frozenset()) -> None:
    """:func:`count_object_losses` for a list of objects (a sample's), each kind counted once."""
    if not objects:
        return
    _count_flags(list(map(_FLAGS, objects)), report, holds)
    keys: dict[str, int] = {}
    properties = parts = 0
    for obj in objects:
        if obj.properties:
            properties += 1
        if obj.parts:
            parts += sum(1 for _ in obj.iter_tree()) - 1
        extra = obj.extra
        if extra:
            empty_segmentation = extra.get("segmentation", 0) == []  # a COCO "segmentation": [] is no field at all
            for k in extra:
                if not (empty_segmentation and k == "segmentation"):
                    keys[k] = keys.get(k, 0) + 1
    if properties and "properties" not in holds:
        report.lose("properties->dropped", properties)
    if keys and "extra" not in holds:
        _count_keys(keys, report, "object", _OBJECT_METADATA_KEYS)
    if parts and "parts" not in holds:
        report.lose("part->dropped", parts)


def _count_flags(flags: list[tuple[Any, ...]], report: Report, holds: frozenset[str]) -> None:
    """Count the objects' values of :data:`OBJECT_FIELDS` (the first ones: a compact sample's
    :data:`~mafmt.model.Flags`) that are set, not their default, and not held."""
    for values in dict.fromkeys(flags):  # (a few tuples, again and again, in order; the defaults lose nothing)
        if values == _FLAG_DEFAULTS[:len(values)]:
            continue
        n = flags.count(values)
        for (attr, default), value in zip(OBJECT_FIELDS, values):
            if value is not None and value != default and attr not in holds:
                if attr in _OBJECT_METADATA:
                    report.note_metadata(f"object {attr}", n)
                else:
                    report.lose(f"{attr}->dropped", n)


_KEYS_OF = operator.itemgetter(6)


def count_plain_losses(sample: CompactSample, report: Report, holds: frozenset[str] = frozenset()) -> None:
    """:func:`count_objects_losses` for the objects of a compact sample (their extra keys and
    their VOC flags can be lost), and :func:`count_annotation_losses` for the detection they
    came from (:attr:`~mafmt.model.CompactSample.annotation`), each kind counted once."""
    if sample.annotation is not None:
        count_annotation_losses(sample.annotation, report)
    objects = sample.objects
    if not objects:
        return
    if sample.flags is not None:
        _count_flags(sample.flags, report, holds)
    if "extra" in holds:
        return
    keys = list(map(_KEYS_OF, objects))
    for names in dict.fromkeys(keys):  # (a few tuples of key names, the same ones again and again, in order)
        n = keys.count(names)
        kinds = _PLAIN_KINDS.get(names)
        if kinds is None:
            kinds = _PLAIN_KINDS[names] = [_extra_kind(key, "object", _OBJECT_METADATA_KEYS) for key in names]
        for metadata, kind in kinds:
            if metadata:
                report.note_metadata(kind, n)
            else:
                report.lose(kind, n)


#: the kinds a compact object's extra keys count as, by the tuple of their names
_PLAIN_KINDS: dict[tuple[str, ...], list[tuple[bool, str]]] = {}


def count_document_losses(doc: VocDocument, report: Report) -> None:
    """Count document-level fields (unknown elements such as VOC's ``owner``) a target drops."""
    if doc.extra:
        report.note_metadata("document unknown fields")
