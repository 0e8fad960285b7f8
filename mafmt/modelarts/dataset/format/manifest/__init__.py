"""``modelarts.dataset.format.manifest``: the SDK's ``Manifest`` (parse and save).

``session`` is accepted everywhere for compatibility; ``obs://`` paths go through
mafmt's storage layer and its configuration.
"""

from __future__ import annotations

from typing import Any

from mafmt import manifest as _manifest
from mafmt.modelarts.dataset.format.manifest.annotation import Annotation
from mafmt.modelarts.dataset.format.manifest.sample import Sample

__all__ = ["Annotation", "Manifest", "Sample"]


class Manifest:
    """A whole manifest in memory: ``samples`` (list of :class:`Sample`) and ``size``."""

    def __init__(self, samples: list[Sample] | None = None, size: int | None = None) -> None:
        self.samples = list(samples or [])
        self.size = size if size is not None else len(self.samples)

    @staticmethod
    def parse_manifest(manifest_path: str, encoding: str = "utf-8", session: Any = None) -> Manifest:
        """Read a local or ``obs://`` manifest.

        Raises:
            mafmt.errors.FormatError: a bad line, naming the file and line number.
        """
        samples = [Sample.from_model(s) for s in _manifest.read(manifest_path, encoding=encoding)]
        return Manifest(samples=samples, size=len(samples))

    def save(self, path: str, session: Any = None, save_mode: str = "w") -> None:
        """Write the manifest (``save_mode="w"`` overwrites, ``"a"`` appends), atomically.

        ``save_mode="w"`` is the SDK's explicit overwrite, so an existing file is replaced (as a
        whole); ``locs="keep"``: ``annotation-loc`` values are written as given.
        """
        _manifest.write((s.to_model() for s in self.samples), path, mode=save_mode, locs="keep",
                        overwrite=save_mode == "w")

    def get_size(self) -> int:
        return self.size

    def get_sample_list(self) -> list[Sample]:
        return self.samples

    def __repr__(self) -> str:
        return f"Manifest(size={self.size}, samples=[{len(self.samples)} samples])"
