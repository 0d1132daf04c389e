"""Pan and zoom inside a frame never show past the image and keep the frame's proportions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storyboard.core.framing import clamp_crop, pan_crop, zoom_crop
from storyboard.core.model import Rect


def test_zoom_keeps_the_point_under_the_cursor() -> None:
    crop = Rect(0.0, 0.25, 1.0, 0.5)
    zoomed = zoom_crop(crop, 2.0, at_x=0.25, at_y=0.5)
    assert (zoomed.w, zoomed.h) == (0.5, 0.25)
    # the image point that was a quarter across the frame still is
    assert zoomed.x + 0.25 * zoomed.w == pytest.approx(crop.x + 0.25 * crop.w)
    assert zoomed.y + 0.5 * zoomed.h == pytest.approx(crop.y + 0.5 * crop.h)


def test_pan_moves_the_image_with_the_cursor_and_stops_at_its_edge() -> None:
    crop = Rect(0.25, 0.25, 0.5, 0.5)
    moved = pan_crop(crop, 0.2, 0.0)  # cursor moved right: the image moves right, crop left
    assert moved.x == pytest.approx(0.15)
    assert pan_crop(crop, 5.0, -5.0) == Rect(0.0, 0.5, 0.5, 0.5)


@given(
    st.floats(-2, 2), st.floats(-2, 2), st.floats(0.01, 3), st.floats(0.01, 3), st.floats(0.2, 5)
)
def test_any_gesture_stays_inside_the_image(
    x: float, y: float, w: float, h: float, f: float
) -> None:
    for crop in (clamp_crop(Rect(x, y, w, h)), zoom_crop(Rect(0, 0, w / 3, h / 3), f, 0.3, 0.7)):
        assert 0 <= crop.x <= crop.x + crop.w <= 1 + 1e-9
        assert 0 <= crop.y <= crop.y + crop.h <= 1 + 1e-9
        assert crop.w / crop.h == pytest.approx(w / h)  # the frame's proportions are kept
