"""What a read or write did: counts of records written and skipped, and every loss.

A lossy step (a circle approximated by a polygon, properties a target cannot hold)
is counted under a key such as ``"circle->polygon"`` in :attr:`Report.lost`; nothing
is dropped without a count.
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


@dataclass(slots=True)
class Report:
    """Counts and problems of one read, write or conversion.

    Attributes:
        written: records (samples, files) written.
        skipped: records left out because they were bad (``on_error="skip"``).
        lost: what a target could not hold, by kind (e.g. ``{"circle->polygon": 3}``).
        warnings: tolerated oddities by kind (e.g. ``{"hard given as a string": 2}``).
        problems: the first :data:`MAX_KEPT` errors and warnings with their location.
        outputs: files written.
    """

    written: int = 0
    skipped: int = 0
    lost: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    problems: list[FormatError] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def skip(self, error: FormatError) -> None:
        """Count a skipped record and remember why."""
        self.skipped += 1
        self._keep(error)

    def warn(self, kind: str, error: FormatError | None = None) -> None:
        """Count a tolerated oddity."""
        self.warnings[kind] += 1
        if error is not None:
            self._keep(error)

    def lose(self, kind: str, count: int = 1) -> None:
        """Count something the target could not hold."""
        self.lost[kind] += count

    def _keep(self, error: FormatError) -> None:
        if len(self.problems) < MAX_KEPT:
            self.problems.append(error)

    def merge(self, other: Report) -> None:
        """Add another report's counts to this one."""
        self.written += other.written
        self.skipped += other.skipped
        self.lost.update(other.lost)
        self.warnings.update(other.warnings)
        for p in other.problems:
            self._keep(p)
        self.outputs.extend(other.outputs)

    @property
    def lossless(self) -> bool:
        return not self.lost

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``--json`` prints)."""
        return {
            "written": self.written,
            "skipped": self.skipped,
            "lost": dict(sorted(self.lost.items())),
            "warnings": dict(sorted(self.warnings.items())),
            "problems": [p.to_dict() for p in self.problems],
            "outputs": list(self.outputs),
        }

    def __str__(self) -> str:
        lines = [f"written: {self.written}", f"skipped: {self.skipped}"]
        for title, counter in (("lost", self.lost), ("warnings", self.warnings)):
            if counter:
                lines.append(f"{title}: {sum(counter.values())}")
                lines.extend(f"  {k} {v}" for k, v in sorted(counter.items()))
            elif title == "lost":
                lines.append("lost: nothing")
        return "\n".join(lines)


class Stream(Generic[T]):
    """An iterator of records that carries the :class:`Report` of its reading.

    ``report.skipped`` and ``report.warnings`` grow while the stream is consumed.
    """

    __slots__ = ("_it", "report")

    def __init__(self, it: Iterator[T], report: Report) -> None:
        self._it = it
        self.report = report

    def __iter__(self) -> Stream[T]:
        return self

    def __next__(self) -> T:
        return next(self._it)
