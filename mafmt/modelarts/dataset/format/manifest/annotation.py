"""``modelarts.dataset.format.manifest.annotation``: the SDK's ``Annotation``."""

from __future__ import annotations

from typing import Any

from mafmt import model
from mafmt.manifest import annotation_from_dict
from mafmt.model import Origin

__all__ = ["Annotation"]

#: SDK attribute -> wire key, in the order the SDK documents them (table 7-27)
WIRE_KEYS = {
    "name": "name",
    "type": "type",
    "id": "id",
    "annotation_loc": "annotation-loc",
    "annotation_property": "property",
    "confidence": "confidence",
    "creation_time": "creation-time",
    "annotated_by": "annotated-by",
    "annotation_format": "annotation-format",
    "hard": "hard",
    "hard_coefficient": "hard-coefficient",
    "annotation_loc_map": "annotation-loc-map",
}


class Annotation:
    """One label of a sample, with the SDK's attribute names.

    ``annotation_property`` is the whole ``property`` object, including
    ``@modelarts:`` keys such as ``@modelarts:start_index``.
    """

    def __init__(
        self,
        name: str | None = None,
        type: str | None = None,
        id: str | None = None,
        annotation_loc: str | None = None,
        annotation_property: dict[str, Any] | None = None,
        confidence: float | None = None,
        creation_time: str | None = None,
        annotated_by: str | None = None,
        annotation_format: str | None = None,
        hard: bool | None = None,
        hard_coefficient: float | None = None,
        annotation_loc_map: str | None = None,
    ) -> None:
        self.name = name
        self.type = type
        self.id = id
        self.annotation_loc = annotation_loc
        self.annotation_property = annotation_property
        self.confidence = confidence
        self.creation_time = creation_time
        self.annotated_by = annotated_by
        self.annotation_format = annotation_format
        self.hard = hard
        self.hard_coefficient = hard_coefficient
        self.annotation_loc_map = annotation_loc_map
        self._model: model.Annotation | None = None

    def __getattr__(self, name: str) -> Any:
        # the open-source SDK's getters: get_name(), get_annotation_loc(), ...
        if name.startswith("get_") and name[4:] in WIRE_KEYS:
            return lambda: getattr(self, name[4:])
        raise AttributeError(name)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in WIRE_KEYS if getattr(self, k) is not None)
        return f"Annotation({fields})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Annotation) and all(getattr(self, k) == getattr(other, k) for k in WIRE_KEYS)

    __hash__ = None  # type: ignore[assignment]

    # ----------------------------------------------------------------- model bridge

    @classmethod
    def from_model(cls, ann: model.Annotation) -> Annotation:
        prop = dict(ann.property) if ann.property is not None else None
        typed = {key: getattr(ann, attr) for attr, key, _ in ann.typed_keys if getattr(ann, attr) is not None}
        if typed:
            prop = {**(prop or {}), **typed}
        if prop is None and "property" in ann.extra:
            prop = ann.extra["property"]
        self = cls(
            name=ann.name,
            type=ann.type,
            id=ann.id,  # type: ignore[arg-type]
            annotation_loc=ann.annotation_loc,
            annotation_property=prop,
            confidence=ann.confidence,
            creation_time=ann.creation_time,
            annotated_by=ann.annotated_by,
            annotation_format=ann.annotation_format,
            hard=ann.hard,
            hard_coefficient=ann.hard_coefficient,
            annotation_loc_map=ann.annotation_loc_map,
        )
        self._model = ann
        return self

    def to_model(self, index: int = 0) -> model.Annotation:
        wire = {WIRE_KEYS[k]: getattr(self, k) for k in WIRE_KEYS if getattr(self, k) is not None}
        base = self._model
        if base is not None:
            for key, value in base.extra.items():
                wire.setdefault(key, value)
        ann = annotation_from_dict(wire, where=f"annotation[{index}]", origin=Origin(None), base=None)
        if base is not None:
            ann.wire.update(base.wire)  # spelling hints apply only to unchanged values
            if isinstance(ann, model.Detection) and isinstance(base, model.Detection):
                ann.base, ann.origin = base.base, base.origin
                if ann.annotation_loc == base.annotation_loc:
                    ann.document = base.document
        return ann
