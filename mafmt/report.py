"""What a read or write did: how many samples were written, and everything that was not kept.

Every value a target cannot hold is counted by kind, in one of four counters, so a real loss
stands out from what is expected of the target:

* ``dropped`` -- samples not written at all, by reason (``"no image size"``);
* ``lost`` -- data: a shape approximated or dropped, a label, an attribute, a mask, a split
  (``"circle->polygon"``, ``"properties->dropped"``);
* ``changed`` -- identities that changed: renumbered class ids, renamed files
  (``"category id->renumbered"``, ``"file name->renamed"``);
* ``metadata`` -- bookkeeping the target format has no place for and nobody expects it to
  keep: record ids, creation times, COCO ``info``/``licenses``, supercategories
  (``"image id"``, ``"annotation creation_time"``).

``--strict`` fails on the first three, never on ``metadata``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from mafmt.errors import FormatError, UsageError

__all__ = ["ErrorPolicy", "Report", "Stream", "check_policy"]

ErrorPolicy = Literal["raise", "skip"]

#: how many individual problems a report keeps (counts are always exact)
MAX_KEPT = 1000

T = TypeVar("T")


def check_policy(on_error: str) -> None:
    """Refuse an unknown error policy early, with a usage error."""
    if on_error not in ("raise", "skip"):
        raise UsageError(f"on_error must be 'raise' or 'skip', not {on_error!r}")


def _counted(title: str, counter: Counter[str], unit: str = "") -> list[str]:
    total = sum(counter.values())
    lines = [f"{title}: {total}{unit}"]
    width = max(len(k) for k in counter)
    lines.extend(f"  {k:<{width}}  {v}" for k, v in sorted(counter.items()))
    return lines


@dataclass(slots=True)
class Report:
    """Counts and problems of one read, write or conversion.

    Attributes:
        written: samples written.
        read: samples the source gave (set by a conversion; None for a plain write).
        skipped: bad records the reader left out (``on_error="skip"``).
        dropped: samples not written, by reason.
        lost: data the target could not hold, by kind (e.g. ``{"circle->polygon": 3}``).
        changed: identities the target changed (renumbered ids, renamed files), by kind.
        metadata: bookkeeping fields the target has no place for, by kind (expected).
        warnings: tolerated oddities by kind (e.g. ``{"hard given as a string": 2}``).
        problems: the first :data:`MAX_KEPT` errors and warnings with their location.
        outputs: files written (for folders: the folder itself first).
        target: the target path or URI, and ``format`` the target format's name.
    """

    written: int = 0
    skipped: int = 0
    read: int | None = None
    dropped: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    changed: Counter[str] = field(default_factory=Counter)
    metadata: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    problems: list[FormatError] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    target: str | None = None
    format: str | None = None

    def skip(self, error: FormatError) -> None:
        """Count a skipped record and remember why."""
        self.skipped += 1
        self._keep(error)

    def warn(self, kind: str, error: FormatError | None = None) -> None:
        """Count a tolerated oddity."""
        self.warnings[kind] += 1
        if error is not None:
            self._keep(error)

    def drop(self, reason: str, count: int = 1) -> None:
        """Count samples that were not written at all."""
        self.dropped[reason] += count

    def drop_unsized(self, source: str) -> None:
        """Drop a sample whose image size no source gave, naming it (``convert`` turns these
        into one error naming the first images, unless the caller skips them)."""
        from mafmt.errors import FormatError
        from mafmt.limits import clip

        self.drop("no image size")
        self.problems.append(FormatError(f"image size of {clip(source)} unknown (give --images DIR or --size-table "
                                         "FILE)", path="size"))

    def lose(self, kind: str, count: int = 1) -> None:
        """Count data the target could not hold."""
        self.lost[kind] += count

    def change(self, kind: str, count: int = 1) -> None:
        """Count an identity the target changed (an id renumbered, a file renamed)."""
        self.changed[kind] += count

    def note_metadata(self, kind: str, count: int = 1) -> None:
        """Count bookkeeping the target has no place for (expected, not a loss)."""
        self.metadata[kind] += count

    def _keep(self, error: FormatError) -> None:
        if len(self.problems) < MAX_KEPT:
            self.problems.append(error)

    def merge(self, other: Report) -> None:
        """Add another report's counts to this one."""
        self.written += other.written
        self.skipped += other.skipped
        if other.read is not None:
            self.read = (self.read or 0) + other.read
        for mine, theirs in ((self.dropped, other.dropped), (self.lost, other.lost), (self.changed, other.changed),
                             (self.metadata, other.metadata), (self.warnings, other.warnings)):
            mine.update(theirs)
        for p in other.problems:
            self._keep(p)
        self.outputs.extend(other.outputs)

    @property
    def lossless(self) -> bool:
        """Nothing dropped, lost or changed (metadata does not count)."""
        return not (self.lost or self.dropped or self.changed)

    def losses(self) -> dict[str, int]:
        """Everything ``--strict`` refuses: dropped samples, lost data and changed identities."""
        out = {f"sample: {k}": v for k, v in self.dropped.items()}
        out.update(self.lost)
        out.update(self.changed)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``--json`` prints)."""
        return {
            "target": self.target,
            "format": self.format,
            "read": self.read,
            "written": self.written,
            "skipped": self.skipped,
            "dropped": dict(sorted(self.dropped.items())),
            "lost": dict(sorted(self.lost.items())),
            "changed": dict(sorted(self.changed.items())),
            "metadata": dict(sorted(self.metadata.items())),
            "warnings": dict(sorted(self.warnings.items())),
            "problems": [p.to_dict() for p in self.problems],
            "outputs": list(self.outputs),
        }

    def __str__(self) -> str:
        of = f" of {self.read}" if self.read is not None else ""
        lines = [f"written: {self.written}{of} samples"]
        if self.skipped:
            lines.append(f"skipped: {self.skipped} bad records (see the problems below)")
        if self.dropped:
            lines += _counted("not written", self.dropped, " samples")
        lines += _counted("lost", self.lost) if self.lost else ["lost: nothing"]
        if self.changed:
            lines += _counted("changed", self.changed)
        if self.metadata:
            where = f" by {self.format}" if self.format else ""
            lines += _counted(f"metadata not kept{where} (expected)", self.metadata)
        if self.warnings:
            lines += _counted("warnings", self.warnings)
        return "\n".join(lines)


class Stream(Generic[T]):
    """An iterator of records that carries the :class:`Report` of its reading.

    ``report.skipped`` and ``report.warnings`` grow while the stream is consumed; ``total``
    is the number of records expected when the reader knows it (for progress), else None.
    """

    __slots__ = ("_it", "report", "total")

    def __init__(self, it: Iterator[T], report: Report, total: int | None = None) -> None:
        self._it = it
        self.report = report
        self.total = total

    def __iter__(self) -> Iterator[T]:
        return self._it  # (a for loop then resumes the reader itself, with no call of __next__ between)

    def __next__(self) -> T:
        return next(self._it)
