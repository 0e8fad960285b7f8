"""Counting what a target format cannot hold: one vocabulary of loss kinds for every writer.

Keys read ``"<what>-><what became of it>"``: ``"sample hard->dropped"``,
``"annotation creation_time->dropped"``, ``"usage->dropped"``.
"""

from __future__ import annotations

from mafmt.model import Annotation, Sample
from mafmt.report import Report

__all__ = ["SAMPLE_FIELDS", "count_annotation_losses", "count_sample_losses"]

#: sample attributes besides source, usage, id and annotations
SAMPLE_FIELDS = ("hard", "hard_coefficient", "hard_reasons", "inference_loc", "property", "source_type",
                 "sample_type", "source_map")


def count_annotation_losses(ann: Annotation, report: Report) -> None:
    """Count manifest-level fields of an annotation an image format cannot hold."""
    for attr in ("id", "confidence", "hard", "hard_coefficient", "property", "annotation_loc_map", "annotated_by",
                 "creation_time"):
        if getattr(ann, attr) is not None:
            report.lose(f"annotation {attr}->dropped")
    if ann.extra:
        report.lose("annotation unknown fields->dropped")


def count_sample_losses(sample: Sample, report: Report, holds: frozenset[str] = frozenset()) -> None:
    """Count sample-level fields the target cannot hold (``holds`` names the ones it can)."""
    for attr in SAMPLE_FIELDS:
        if attr not in holds and getattr(sample, attr) is not None:
            report.lose(f"sample {attr}->dropped")
    if "usage" not in holds and sample.usage is not None:
        report.lose("usage->dropped")
    if "id" not in holds and sample.id is not None:
        report.lose("sample id->dropped")
    if "extra" not in holds and sample.extra:
        report.lose("sample unknown fields->dropped")
