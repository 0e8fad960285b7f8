"""Reducing shapes to what a target holds, each reduction counted in the report.

Coordinates are absolute pixels, continuous, origin top-left (COCO's convention); a box
``BndBox(0, 0, 10, 10)`` covers pixels 0..9.
"""

from __future__ import annotations

import math

from mafmt.model import BndBox, Circle, Mask, MultiPolygon, Number, Polygon, Shape
from mafmt.report import Report

__all__ = ["as_box", "as_box_or_polygon", "box_of", "circle_to_polygon", "tidy"]


def tidy(v: Number) -> Number:
    """A float that is an integer becomes an int; other floats keep 6 decimals."""
    if type(v) is float:
        if -_BOUND < v < _BOUND:  # round(v, 6) without its decimal string, where that is exact:
            s = v * 1e6  # (below 2**40, off v's exact millionths by at most 2**-13)
            n = round(s)
            if -_NEAR_HALF < s - n < _NEAR_HALF:  # far from a tie: n is v's millionths rounded
                return n // 1000000 if n % 1000000 == 0 else n / 1e6  # (the double nearest n / 10**6)
        r = round(v, 6)
        return int(r) if r.is_integer() else r
    return v


#: where :func:`tidy` rounds in binary: ``abs(v) * 1e6`` below 2**40; a product that far
#: from a half millionth rounds as its exact value does (a half is a float there and the
#: product's rounding cannot cross it; an exact tie, 1/128 say, takes round())
_BOUND = float(1 << 20)
_NEAR_HALF = 0.4995


def circle_to_polygon(c: Circle, vertices: int = 32) -> Polygon:
    """A regular polygon with ``vertices`` corners on the circle (first at angle 0)."""
    step = 2 * math.pi / vertices
    return Polygon(tuple((tidy(c.cx + c.r * math.cos(step * i)), tidy(c.cy + c.r * math.sin(step * i)))
                         for i in range(vertices)))


def box_of(shape: Shape) -> BndBox:
    """The axis-aligned box around any shape."""
    if type(shape) is BndBox:
        return shape
    x0, y0, x1, y1 = shape.bbox()
    return BndBox(tidy(x0), tidy(y0), tidy(x1), tidy(y1))


def as_box_or_polygon(shape: Shape, report: Report, circle_vertices: int = 32) -> BndBox | Polygon:
    """Reduce a shape to what box/polygon formats hold, counting each change.

    circle -> polygon (``circle_vertices`` corners); a multi-ring polygon -> its largest
    ring; point, line, dashed, polyline, mask -> bbox.
    """
    kind = type(shape)
    if kind is BndBox or kind is Polygon:
        return shape  # type: ignore[return-value]
    if kind is Circle:
        report.lose("circle->polygon")
        return circle_to_polygon(shape, circle_vertices)  # type: ignore[arg-type]
    if kind is MultiPolygon:
        report.lose("multipolygon->largest ring")
        return shape.largest()  # type: ignore[union-attr]
    report.lose(f"{shape.kind}->bbox")
    return box_of(shape)


def as_box(shape: Shape, report: Report) -> BndBox:
    """Reduce any shape to its bounding box, counting ``"<kind>->bbox"`` for non-boxes."""
    if type(shape) is BndBox:
        return shape  # type: ignore[return-value]
    report.lose(f"{shape.kind}->bbox")
    return box_of(shape)


def is_mask(shape: Shape | None) -> bool:
    """Whether ``shape`` is a pixel mask (RLE)."""
    return type(shape) is Mask
