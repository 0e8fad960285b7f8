"""``tidy`` (6 decimals, integral floats as ints) rounds in binary where that is exact; it must
give what ``round(v, 6)`` gives for every float, ties and their neighbours included."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mafmt.converters._geometry import tidy


def reference(v: float) -> int | float:
    r = round(v, 6)
    return int(r) if r.is_integer() else r


def same(v: float) -> bool:
    got, want = tidy(v), reference(v)
    if math.isnan(want):
        return math.isnan(got)
    return type(got) is type(want) and got == want and math.copysign(1, got) == math.copysign(1, want)


millionths = st.integers(-(1 << 40), 1 << 40)


@st.composite
def near_a_tie(draw: st.DrawFn) -> float:
    """A half millionth (the ties of 6 decimals) or a float a few steps from one."""
    v = (draw(millionths) + 0.5) / 1e6
    for _ in range(draw(st.integers(0, 3))):
        v = math.nextafter(v, draw(st.sampled_from([math.inf, -math.inf])))
    return v


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.floats(), st.floats(-2e6, 2e6), millionths.map(lambda n: n / 1e6), near_a_tie(),
                 st.sampled_from([0.0, -0.0, 1 / 128, -3 / 128, 2.5e-6, 1e-7, -4e-7, -6e-7, 2.0**20, -(2.0**20), 2.0**20 - 1e-6, 1e16]),
                 st.integers(-10**6, 10**6).map(lambda n: n / 100 - 0.005)))
def test_tidy_is_round_to_six_decimals(v: float) -> None:
    assert same(v), (v, tidy(v), reference(v))


def test_tidy_leaves_other_numbers_as_they_are() -> None:
    assert tidy(7) == 7 and type(tidy(7)) is int and tidy(True) is True


def snap_reference(value: float, scale: int) -> int | float:
    """What the YOLO reader's snapping gave before it rounded in binary."""
    px = value * scale
    r = round(px)
    return r if abs(px - r) <= scale * 1e-6 + 1e-9 else round(px, 4)


@st.composite
def near_a_snap_tie(draw: st.DrawFn) -> tuple[float, int]:
    """A normalised coordinate whose pixel value is a half ten-thousandth, or a few floats from one."""
    scale = draw(st.integers(1, 10000))
    v = (draw(st.integers(-(1 << 30), 1 << 30)) + 0.5) / 1e4 / scale
    for _ in range(draw(st.integers(0, 3))):
        v = math.nextafter(v, draw(st.sampled_from([math.inf, -math.inf])))
    return v, scale


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.tuples(st.one_of(st.floats(), st.floats(-2, 2), st.floats(-1e-4, 1e-4),
                                     st.integers(-10**6, 10**6).map(lambda n: n / 1e6)), st.integers(1, 10**6)),
                 near_a_snap_tie()))
def test_yolo_snapping_rounds_as_round_does(case: tuple[float, int]) -> None:
    """The YOLO reader's pixel snapping (4 decimals off the pixel grid, in binary where that is
    exact) gives what ``round(px, 4)`` gives: the same type, value and sign of zero."""
    from mafmt.converters.yolo import _snapper

    value, scale = case
    try:
        want = snap_reference(value, scale)
    except (OverflowError, ValueError):  # (inf and nan: round() refuses them, and so must the snap)
        with pytest.raises((OverflowError, ValueError)):
            _snapper(scale)(value)
        return
    got = _snapper(scale)(value)
    if isinstance(want, float) and math.isnan(want):
        assert math.isnan(got)
        return
    assert type(got) is type(want) and got == want and math.copysign(1, got) == math.copysign(1, want), (value, scale)
