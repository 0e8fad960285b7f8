"""``modelarts.dataset.format.manifest.sample``: the SDK's ``Sample``."""

from __future__ import annotations

from typing import Any

from mafmt import model
from mafmt.manifest import sample_from_dict
from mafmt.modelarts.dataset.format.manifest.annotation import Annotation

__all__ = ["Sample"]

#: SDK attribute -> wire key (table 7-26); ``annotations`` is handled separately
WIRE_KEYS = {
    "source": "source",
    "usage": "usage",
    "inference_loc": "inference-loc",
    "id": "id",
    "source_type": "source-type",
    "source_property": "property",
    "hard": "hard",
    "hard_coefficient": "hard-coefficient",
    "hard_reasons": "hard-reasons",
    "source_map": "source-map",
}


class Sample:
    """One manifest line with the SDK's attribute names (``annotations`` is a list of
    :class:`Annotation`; ``hard_reasons`` is the dash-joined string, e.g. ``"1-5"``)."""

    def __init__(
        self,
        source: str | None = None,
        usage: str | None = None,
        annotations: list[Annotation] | None = None,
        inference_loc: str | None = None,
        id: str | None = None,
        source_type: str | None = None,
        source_property: dict[str, Any] | None = None,
        hard: bool | None = None,
        hard_coefficient: float | None = None,
        hard_reasons: str | None = None,
        source_map: str | None = None,
    ) -> None:
        self.source = source
        self.usage = usage
        self.annotations = annotations
        self.inference_loc = inference_loc
        self.id = id
        self.source_type = source_type
        self.source_property = source_property
        self.hard = hard
        self.hard_coefficient = hard_coefficient
        self.hard_reasons = hard_reasons
        self.source_map = source_map
        self._model: model.Sample | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("get_") and (name[4:] in WIRE_KEYS or name[4:] == "annotations"):
            return lambda: getattr(self, name[4:])
        raise AttributeError(name)

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{k}={getattr(self, k)!r}" for k in (*WIRE_KEYS, "annotations") if getattr(self, k) is not None
        )
        return f"Sample({fields})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sample) and all(
            getattr(self, k) == getattr(other, k) for k in (*WIRE_KEYS, "annotations")
        )

    __hash__ = None  # type: ignore[assignment]

    # ----------------------------------------------------------------- model bridge

    @classmethod
    def from_model(cls, s: model.Sample) -> Sample:
        prop = s.property if s.property is not None else s.extra.get("property")
        self = cls(
            source=s.source,
            usage=s.usage,
            annotations=[Annotation.from_model(a) for a in s.annotations] if s.annotations else None,
            inference_loc=s.inference_loc,
            id=s.id,  # type: ignore[arg-type]
            source_type=s.source_type,
            source_property=prop,
            hard=s.hard,
            hard_coefficient=s.hard_coefficient,
            hard_reasons="-".join(map(str, s.hard_reasons)) if s.hard_reasons is not None else None,
            source_map=s.source_map,
        )
        self._model = s
        return self

    def to_model(self) -> model.Sample:
        wire: dict[str, Any] = {WIRE_KEYS[k]: getattr(self, k) for k in WIRE_KEYS if getattr(self, k) is not None}
        base = self._model
        if base is not None:
            for key, value in base.extra.items():
                if key != "annotation":  # annotations come from the facade's list
                    wire.setdefault(key, value)
        s = sample_from_dict(wire, origin=base.origin if base else None)
        s.annotations = [a.to_model(i) for i, a in enumerate(self.annotations or [])]
        if base is not None:
            s.wire.update(base.wire)
        return s
