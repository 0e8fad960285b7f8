"""``modelarts.dataset.format.voc.pascal_voc``: the SDK's ``PascalVoc``."""

from __future__ import annotations

from typing import Any

from mafmt import model, voc
from mafmt.modelarts.dataset.format.voc.voc_object import VocObject

__all__ = ["PascalVoc", "Source"]


class Source:
    """The ``<source>`` block: ``database``, ``annotation``, ``image``."""

    def __init__(self, database: str | None = None, annotation: str | None = None, image: str | None = None) -> None:
        self.database = database
        self.annotation = annotation
        self.image = image

    def __repr__(self) -> str:
        return f"Source(database={self.database!r}, annotation={self.annotation!r}, image={self.image!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Source) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]


class PascalVoc:
    """One image's VOC document with the SDK's attribute names.

    New documents get the SDK's defaults: ``folder="Images"``, ``segmented="0"`` and a
    source database ``"Unknown"``, so what :meth:`save_xml` writes passes ModelArts'
    reader.
    """

    def __init__(
        self,
        file_name: str | None = None,
        width: int | None = None,
        height: int | None = None,
        depth: int | None = None,
        voc_objects: list[VocObject] | None = None,
        folder: str | None = "Images",
        source: Source | None = None,
        segmented: str | None = "0",
        mask_source: str | None = None,
    ) -> None:
        self.folder = folder
        self.file_name = file_name
        self.source = source if source is not None else Source(database="Unknown")
        self.width = width
        self.height = height
        self.depth = depth
        self.segmented = segmented
        self.mask_source = mask_source
        self.voc_objects = list(voc_objects or [])
        self._model: model.VocDocument | None = None

    @staticmethod
    def parse_xml(xml_file_path: str, session: Any = None) -> PascalVoc:
        """Read a local or ``obs://`` VOC file (leniently, like the SDK)."""
        return PascalVoc.from_model(voc.read_document(xml_file_path))

    def save_xml(self, xml_file_path: str, save_mode: str = "w", session: Any = None) -> None:
        """Write the document atomically. ``save_mode="a"`` never replaces an existing
        file (XML cannot be appended to): it refuses with an error instead."""
        voc.write_document(self.to_model(), xml_file_path, mode=save_mode)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("get_") and name[4:] in _ATTRS:
            return lambda: getattr(self, name[4:])
        raise AttributeError(name)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in _ATTRS)
        return f"PascalVoc({fields})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PascalVoc) and all(getattr(self, k) == getattr(other, k) for k in _ATTRS)

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_model(cls, doc: model.VocDocument) -> PascalVoc:
        src = doc.source
        self = cls(
            file_name=doc.filename,
            width=doc.width,
            height=doc.height,
            depth=doc.depth,
            voc_objects=[VocObject.from_model(o) for o in doc.objects],
            folder=doc.folder,
            segmented=None if doc.segmented is None else str(doc.segmented),
            mask_source=doc.mask_source,
        )
        self.source = Source(src.database, src.annotation, src.image) if src else None  # type: ignore[assignment]
        self._model = doc
        return self

    def to_model(self) -> model.VocDocument:
        base = self._model
        src = None
        if self.source is not None:
            src = model.VocSource(
                database=self.source.database, annotation=self.source.annotation, image=self.source.image
            )
            if base is not None and base.source is not None:
                src.extra = dict(base.source.extra)
        doc = model.VocDocument(
            folder=self.folder,
            filename=self.file_name,
            source=src,
            width=None if self.width is None else int(self.width),
            height=None if self.height is None else int(self.height),
            depth=None if self.depth is None else int(self.depth),
            segmented=None if self.segmented is None else int(self.segmented),
            mask_source=self.mask_source,
            objects=[o.to_model() for o in self.voc_objects],
            extra=dict(base.extra) if base else {},
        )
        if base is not None:
            doc.wire.update(base.wire)
        return doc


_ATTRS = ("folder", "file_name", "source", "width", "height", "depth", "segmented", "mask_source", "voc_objects")

