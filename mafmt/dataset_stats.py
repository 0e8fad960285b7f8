"""Dataset statistics (``mafmt stats``): counts and distributions as pandas tables, and
a small PNG dashboard drawn with Pillow.

    s = mafmt.stats("train.manifest")
    s.tables()["labels"]        # DataFrame: label, count, share
    s.plot("stats.png")
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mafmt.model import Sample, VocObject
from mafmt.summary import Summary, summarize

__all__ = ["Stats", "collect", "stats"]


@dataclass(slots=True)
class Stats(Summary):
    """What a dataset holds: the :class:`~mafmt.summary.Summary` counts plus distributions.
    ``boxes`` has one ``(label, width, height)`` per VOC object or part with a shape (its
    bounding box); ``objects_per_image`` one count per detection sample."""

    objects_per_image: list[int] = field(default_factory=list)
    boxes: list[tuple[str, float, float]] = field(default_factory=list)

    def count_object(self, obj: VocObject) -> None:
        if obj.shape is not None:
            x0, y0, x1, y1 = obj.shape.bbox()
            self.boxes.append((obj.name or "", float(x1 - x0), float(y1 - y0)))

    def end_sample(self, objects: int | None) -> None:
        if objects is not None:
            self.objects_per_image.append(objects)

    def tables(self) -> dict[str, Any]:
        """The statistics as pandas DataFrames, by name."""
        import pandas as pd  # type: ignore[import-untyped]

        def counts(counter: Counter[str], key: str) -> Any:
            df = pd.DataFrame(counter.most_common(), columns=[key, "count"])
            total = df["count"].sum()
            df["share"] = (df["count"] / total).round(4) if total else 0.0
            return df

        boxes = pd.DataFrame(self.boxes, columns=["label", "width", "height"]).astype(
            {"width": "float64", "height": "float64"})  # numeric even when there are no boxes
        boxes["area"] = boxes["width"] * boxes["height"]
        boxes["aspect"] = (boxes["width"] / boxes["height"].where(boxes["height"] != 0)).round(4)
        per_image = pd.Series(self.objects_per_image, name="objects", dtype="int64")
        return {
            "overview": pd.DataFrame(
                [("format", self.format), ("samples", self.samples), ("annotations", self.annotations),
                 ("objects", self.objects), ("labels", len(self.labels))], columns=["what", "value"]),
            "types": counts(self.by_type, "type"),
            "labels": counts(self.labels, "label"),
            "shapes": counts(self.shapes, "shape"),
            "usage": counts(self.usage, "usage"),
            "objects_per_image": per_image.describe().to_frame().T if len(per_image) else pd.DataFrame(),
            "box_size": boxes[["width", "height", "area", "aspect"]].describe().T if len(boxes) else pd.DataFrame(),
            "box_size_by_label": boxes.groupby("label")[["width", "height", "aspect"]].median() if len(boxes) else pd.DataFrame(),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (distributions summarised)."""
        out: dict[str, Any] = {
            "format": self.format, "samples": self.samples, "annotations": self.annotations,
            "objects": self.objects, "by_type": dict(self.by_type.most_common()),
            "labels": dict(self.labels.most_common()), "shapes": dict(self.shapes.most_common()),
            "usage": dict(self.usage.most_common()),
            "objects_per_image": dict(Counter(self.objects_per_image).most_common()),
            "problems": [p.to_dict() for p in self.problems],
        }
        if self.boxes:
            tables = self.tables()
            out["box_size"] = {
                col: {k: _plain(v) for k, v in row.items()} for col, row in tables["box_size"].iterrows()
            }
        return out

    def plot(self, target: str | os.PathLike[str], *, overwrite: bool = False) -> str:
        """Render a PNG dashboard (labels, usage, objects per image, aspect ratios) into
        ``target`` (``.png``, ``.jpg`` or ``.webp``), as a file transaction.

        Raises:
            UsageError: another extension, ``target`` names a folder or sits in a file, or
                it exists and ``overwrite`` is not given.
        """
        from mafmt.draw import dashboard, picture_type

        aspects = Counter(_aspect_bin(bw / bh) for _, bw, bh in self.boxes if bh > 0)
        panels: list[tuple[str, list[tuple[Any, int]]]] = [
            (f"labels ({len(self.labels)})", self.labels.most_common(12)),
            ("usage", self.usage.most_common()),
            ("objects per image", sorted(Counter(self.objects_per_image).items())[:15]),
            ("box aspect ratio w/h", [(k, aspects[k]) for k in _ASPECT_BINS if aspects[k]]),
        ]
        footer = f"{self.samples} samples, {self.annotations} annotations, {len(self.boxes)} objects"
        picture_type(os.fspath(target))  # refuse an unknown extension before drawing anything
        return dashboard([(t, [(str(a), int(b)) for a, b in items]) for t, items in panels], footer, os.fspath(target),
                         overwrite=overwrite)


_ASPECT_BINS = ["<1/4", "1/4-1/2", "1/2-1", "1-2", "2-4", ">4"]


def _aspect_bin(r: float) -> str:
    for edge, name in ((0.25, "<1/4"), (0.5, "1/4-1/2"), (1.0, "1/2-1"), (2.0, "1-2"), (4.0, "2-4")):
        if r < edge:
            return name
    return ">4"


def _plain(value: Any) -> Any:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return value
    return None if math.isnan(f) else round(f, 4)


def stats(path: str | os.PathLike[str], format: str | None = None, *, progress: Any = None, **options: Any) -> Stats:
    """Statistics of a file or folder of any registered format (``options`` go to the reader;
    ``progress(done, total)`` is called after each sample)."""
    from mafmt import converters
    from mafmt.converters._common import accepted
    from mafmt.progress import Tracked

    path = os.fspath(path)
    fmt = converters.get(format) if format else converters.detect(path)
    return collect(Tracked(fmt.read(path, on_error="skip", **accepted(fmt.read, options)), progress), fmt.name)


def collect(samples: Iterable[Sample], format: str | None = None) -> Stats:
    """Statistics of a stream of samples (consumed once)."""
    return summarize(samples, format or "", into=Stats(format=format or ""))  # type: ignore[return-value]
