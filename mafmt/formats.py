"""What a format is to mafmt: a reader, a writer, and what it can hold."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mafmt.format_names import NAMES

if TYPE_CHECKING:  # (annotations only: the CLI's help lists the names without the model)
    from mafmt.model import Sample
    from mafmt.report import Report

__all__ = ["NAMES", "Format"]


@dataclass(frozen=True, slots=True)
class Format:
    """One registered format.

    Attributes:
        name: the name used by ``--from``/``--to`` and ``format=``.
        read: ``read(src, **options)`` -> iterator of samples (with a ``report``).
        write: ``write(samples, target, **options)`` -> :class:`Report`.
        holds: annotation types and shape kinds the format can represent.
        description: one line for ``mafmt formats``.
        extensions: file suffixes that identify it (lower case, with the dot).
        directory: whether the format is a folder rather than one file.
        aliases: other accepted names.
        takes_flags: its writer takes compact samples whose objects carry VOC flags
            (:meth:`~mafmt.model.Sample.plain` with ``linked``), so that a reader that can give
            them (a ``compact`` option) is asked to.
    """

    name: str
    read: Callable[..., Iterable[Sample]]
    write: Callable[..., Report]
    holds: frozenset[str]
    description: str
    extensions: tuple[str, ...] = ()
    directory: bool = False
    aliases: tuple[str, ...] = ()
    sniff: Callable[[str], bool] | None = field(default=None, compare=False)
    takes_flags: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "description": self.description,
            "extensions": list(self.extensions),
            "directory": self.directory,
            "holds": sorted(self.holds),
        }
