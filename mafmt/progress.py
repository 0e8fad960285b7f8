"""Progress: a callback the library calls, and the bar the command line draws from it.

Long-running library functions take ``progress=``, a callable ``progress(done, total)``:
``done`` is the number of units finished so far (samples, files, bytes, polls), ``total``
the number expected, or None when it is not known. It is called from the working thread,
often; keep it cheap. :class:`Bar` is such a callable that draws a tqdm bar (total,
percentage, rate and ETA; a count and rate when the total is unknown) on a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, Self, TextIO, TypeVar

T = TypeVar("T")

__all__ = ["Bar", "Progress", "Tracked", "bar_for"]

#: ``progress(done, total)``
Progress = Callable[[int, "int | None"], None]


class Bar:
    """A progress bar on ``stream`` (stderr), fed by ``bar(done, total)`` calls.

    tqdm is imported on the first call, so a bar that never shows costs nothing. Use it as
    a context manager (or call :meth:`close`) so the line is finished on success and error.
    """

    def __init__(self, desc: str, *, unit: str = "sample", stream: TextIO | None = None,
                 unit_scale: bool = False) -> None:
        self.desc = desc
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.unit_scale = unit_scale
        self._bar: Any = None

    def __call__(self, done: int, total: int | None) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=self.stream, leave=True,
                             dynamic_ncols=True, mininterval=0.1, unit_scale=self.unit_scale)
        bar = self._bar
        if total is not None and bar.total != total:
            bar.total = total
            bar.refresh()
        if done > bar.n:
            bar.update(done - bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bar_for(desc: str, stream: TextIO, *, quiet: bool = False, force: bool | None = None, unit: str = "sample",
            unit_scale: bool = False) -> Bar | None:
    """The bar a command shows: on a terminal only (``force`` overrides), never with ``quiet``."""
    show = (stream.isatty() if force is None else force) and not quiet
    return Bar(desc, unit=unit, stream=stream, unit_scale=unit_scale) if show else None


class Tracked(Generic[T]):
    """An iterable that counts the items taken and calls ``progress(count, total)`` after each;
    the wrapped reader stream's ``report``, ``meta`` and ``total`` stay reachable."""

    def __init__(self, items: Iterable[T], progress: Progress | None = None) -> None:
        self._src = items
        self._it: Iterator[T] = iter(items)
        self.count = 0
        self._progress = progress

    @property
    def meta(self) -> Any:
        return getattr(self._src, "meta", None)

    @property
    def report(self) -> Any:
        return getattr(self._src, "report", None)

    @property
    def total(self) -> int | None:
        return getattr(self._src, "total", None)

    def __iter__(self) -> Iterator[T]:
        return self if self._progress is not None else self._counted()

    def _counted(self) -> Iterator[T]:
        for item in self._it:  # (a generator's resume costs less than a call of __next__)
            self.count += 1
            yield item

    def __next__(self) -> T:
        item = next(self._it)
        self.count += 1
        if self._progress is not None:
            self._progress(self.count, self.total)
        return item
