"""``modelarts.dataset.format.voc.voc_object``: the SDK's ``VocObject``."""

from __future__ import annotations

from typing import Any

from mafmt import model
from mafmt.errors import FormatError
from mafmt.model import shape_from_feature

__all__ = ["VocObject"]

_LEAVES = ("pose", "truncated", "occluded", "difficult")


class VocObject:
    """One labelled object with the SDK's attribute names.

    As in the SDK, ``properties`` may carry the geometry as ``@modelarts:shape`` /
    ``@modelarts:feature`` and the leaves ``pose``, ``truncated``, ``occluded``,
    ``difficult``; saving turns those into XML elements, not properties. Every other
    key (``@modelarts:color`` included) is written as a property.
    ``position`` is a mafmt shape (``BndBox``, ``Polygon``, ...).
    """

    def __init__(
        self,
        name: str | None = None,
        properties: dict[str, Any] | None = None,
        pose: str | None = None,
        truncated: str | None = None,
        occluded: str | None = None,
        difficult: str | None = None,
        confidence: float | None = None,
        position: model.Shape | None = None,
        parts: list[VocObject] | None = None,
        mask_color: str | None = None,
    ) -> None:
        self.name = name
        self.properties = properties
        self.pose = pose
        self.truncated = truncated
        self.occluded = occluded
        self.difficult = difficult
        self.confidence = confidence
        self.position = position
        self.parts = parts or []
        self.mask_color = mask_color
        self._model: model.VocObject | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("get_") and name[4:] in _ATTRS:
            return lambda: getattr(self, name[4:])
        raise AttributeError(name)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in _ATTRS if getattr(self, k) not in (None, []))
        return f"VocObject({fields})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VocObject) and all(getattr(self, k) == getattr(other, k) for k in _ATTRS)

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_model(cls, obj: model.VocObject) -> VocObject:
        self = cls(
            name=obj.name,
            properties=dict(obj.properties) if obj.properties is not None else None,
            pose=obj.pose,
            truncated=_str(obj.truncated),
            occluded=_str(obj.occluded),
            difficult=_str(obj.difficult),
            confidence=obj.confidence,
            position=obj.shape,
            parts=[cls.from_model(p) for p in obj.parts],
            mask_color=obj.mask_color,
        )
        self._model = obj
        return self

    def to_model(self) -> model.VocObject:
        props = dict(self.properties) if self.properties is not None else None
        leaves: dict[str, Any] = {k: getattr(self, k) for k in _LEAVES}
        shape = self.position
        if props is not None:
            kind, feature = props.pop("@modelarts:shape", None), props.pop("@modelarts:feature", None)
            if shape is None and kind is not None:
                try:
                    shape = shape_from_feature(str(kind), feature)
                except ValueError as exc:
                    raise FormatError(str(exc), path=f"VocObject({self.name!r}).properties") from None
            for key in _LEAVES:
                if key in props:
                    value = props.pop(key)
                    if leaves[key] is None:
                        leaves[key] = value
            props = {str(k): v if isinstance(v, str) else _json(v) for k, v in props.items()}
        base = self._model
        obj = model.VocObject(
            name=self.name,
            shape=shape,
            properties=props,
            pose=None if leaves["pose"] is None else str(leaves["pose"]),
            truncated=_int(leaves["truncated"], "truncated"),
            occluded=_int(leaves["occluded"], "occluded"),
            difficult=_int(leaves["difficult"], "difficult"),
            confidence=self.confidence,
            hard_coefficient=base.hard_coefficient if base else None,
            hard_reasons=base.hard_reasons if base else None,
            mask_color=self.mask_color,
            parts=[p.to_model() for p in self.parts],
            extra=dict(base.extra) if base else {},
        )
        if base is not None:
            obj.wire.update(base.wire)
        return obj


_ATTRS = ("name", "properties", "pose", "truncated", "occluded", "difficult", "confidence", "position", "parts", "mask_color")


def _str(value: int | None) -> str | None:
    return None if value is None else str(value)


def _int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FormatError(f"expected 0 or 1, got {value!r}", path=field) from None


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
