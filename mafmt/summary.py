"""Counts over a dataset: what ``mafmt inspect`` prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mafmt.errors import FormatError
from mafmt.model import Detection, Sample, VocObject

__all__ = ["Summary", "summarize"]


@dataclass(slots=True)
class Summary:
    """Samples, annotations by type, labels and shapes of a dataset.

    ``labels`` counts classification names, entity/relation names and every VOC
    object and part name; ``shapes`` counts VOC objects and parts by shape kind
    (``"none"`` for an object without a readable shape).
    """

    format: str
    samples: int = 0
    annotations: int = 0
    objects: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)
    shapes: Counter[str] = field(default_factory=Counter)
    usage: Counter[str] = field(default_factory=Counter)
    problems: list[FormatError] = field(default_factory=list)

    def count_object(self, obj: VocObject) -> None:
        """Hook for subclasses: called once per VOC object and part."""

    def end_sample(self, objects: int | None) -> None:
        """Hook for subclasses: called after each sample with its object count (None when
        it has no detection document)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "samples": self.samples,
            "annotations": self.annotations,
            "objects": self.objects,
            "by_type": dict(self.by_type.most_common()),
            "labels": dict(self.labels.most_common()),
            "shapes": dict(self.shapes.most_common()),
            "usage": dict(self.usage.most_common()),
            "problems": [p.to_dict() for p in self.problems],
        }


def summarize(samples: Iterable[Sample], format: str, into: Summary | None = None) -> Summary:
    """Count a stream of samples; detection documents are loaded one at a time.

    A document that cannot be loaded is recorded in ``problems``; counting goes on.
    ``into`` may be a subclass instance that collects more (see :class:`mafmt.dataset_stats.Stats`).
    """
    s = into if into is not None else Summary(format=format)
    for sample in samples:
        s.samples += 1
        s.usage[sample.usage_upper() or "UNSET"] += 1
        objects: int | None = None
        for ann in sample.annotations:
            s.annotations += 1
            s.by_type[ann.type] += 1
            if isinstance(ann, Detection):
                try:
                    doc = ann.load()
                except FormatError as exc:
                    s.problems.append(exc)
                    continue
                objects = objects or 0
                for obj in doc.iter_objects():
                    objects += 1
                    s.objects += 1
                    s.shapes[obj.shape.kind if obj.shape is not None else "none"] += 1
                    if obj.name is not None:
                        s.labels[obj.name] += 1
                    s.count_object(obj)
            elif ann.name is not None:
                s.labels[ann.name] += 1
        s.end_sample(objects)
    report = getattr(samples, "report", None)
    if report is not None:
        s.problems[:0] = report.problems
    return s
