"""Page geometry: presets, gutters, full bleed, reading order and automatic pages (no Qt)."""

from __future__ import annotations

import pytest

from storyboard.core.model import Page, PanelFrame, ReadingOrder, Rect
from storyboard.core.page_templates import TEMPLATES, paginate, reading_order, split_frame
from storyboard.export.layout import INCH, PRESETS, PageSpec, layout_page, preset


def test_us_comic_sizes_match_the_printers_numbers() -> None:
    spec = PageSpec(preset("us-comic"))
    assert (spec.media.w, spec.media.h) == (495, 756)  # 6.875 x 10.5 in
    assert (spec.trim.w / INCH, spec.trim.h / INCH) == (6.625, 10.25)
    live = spec.live(0)
    assert (live.w / INCH, live.h / INCH) == (6.0, 9.0)
    no_bleed = PageSpec(preset("us-comic"), bleed=False)
    assert (no_bleed.media.w, no_bleed.media.h) == (477, 738)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_nests_media_bleed_trim_safe_live(name: str) -> None:
    for marks in (False, True):
        spec = PageSpec(preset(name), crop_marks=marks)
        assert spec.media.contains(spec.bleed_box)
        assert spec.bleed_box.contains(spec.trim)
        assert spec.trim.contains(spec.safe)
        for index in (0, 1):
            assert spec.safe.contains(spec.live(index))


def test_gutters_separate_neighbours_and_outer_edges_sit_on_the_live_area() -> None:
    page = Page(frames=[PanelFrame(str(i), b) for i, b in enumerate(TEMPLATES["grid-2x2"].boxes)])
    spec = PageSpec(preset("us-comic"), gutter=10)
    placed = layout_page(page, 1, spec)
    a, b, c = (f.border for f in placed.frames[:3])
    assert b.x - a.right == pytest.approx(10)
    assert c.y - a.bottom == pytest.approx(10)
    assert a.x == pytest.approx(placed.live.x) and a.y == pytest.approx(placed.live.y)
    assert placed.frames[3].border.right == pytest.approx(placed.live.right)


def test_full_bleed_art_runs_to_the_page_edge_only_on_outer_sides() -> None:
    page = Page(
        frames=[
            PanelFrame("a", Rect(0, 0, 1, 0.5), full_bleed=True),
            PanelFrame("b", Rect(0, 0.5, 1, 0.5)),
        ]
    )
    spec = PageSpec(preset("us-comic"))
    top, bottom = layout_page(page, 1, spec).frames
    assert (top.art.x, top.art.y, top.art.right) == (0, 0, spec.media.w)
    assert top.art.bottom == pytest.approx(top.border.bottom)  # the gutter side stays put
    assert bottom.art == bottom.border


def test_binding_margin_alternates_and_flips_for_manga() -> None:
    ltr = PageSpec(preset("b5-manga"))
    rtl = PageSpec(preset("b5-manga"), order=ReadingOrder.RIGHT_TO_LEFT)
    assert ltr.live(0) == rtl.live(1)
    assert ltr.live(1) == rtl.live(0)


def test_reading_order_is_a_z_path_mirrored_for_rtl() -> None:
    boxes = list(TEMPLATES["grid-2x3"].boxes)
    assert reading_order(boxes, ReadingOrder.LEFT_TO_RIGHT) == [0, 1, 2, 3, 4, 5]
    assert reading_order(boxes, ReadingOrder.RIGHT_TO_LEFT) == [1, 0, 3, 2, 5, 4]
    tall_left = [Rect(0.5, 0, 0.5, 0.5), Rect(0, 0, 0.5, 1), Rect(0.5, 0.5, 0.5, 0.5)]
    assert reading_order(tall_left, ReadingOrder.LEFT_TO_RIGHT) == [1, 0, 2]


def test_paginate_puts_every_panel_on_a_page_first_panel_top_right_in_rtl() -> None:
    ids = [f"p{i}" for i in range(14)]
    pages = paginate(ids, ReadingOrder.RIGHT_TO_LEFT, "grid-2x3")
    assert len(pages) == 3
    assert [f.panel_id for f in pages[-1].frames if f.panel_id] == ["p13", "p12"]
    first = next(f for f in pages[0].frames if f.panel_id == "p0")
    assert (first.box.x, first.box.y) == (0.5, 0.0)


def test_split_frame_keeps_the_panel_and_adds_an_empty_half() -> None:
    frames = [PanelFrame("p", Rect(0, 0, 1, 1))]
    halves = split_frame(frames, 0, vertical=True)
    assert [(f.panel_id, f.box) for f in halves] == [
        ("p", Rect(0, 0, 0.5, 1)),
        ("", Rect(0.5, 0, 0.5, 1)),
    ]
    assert split_frame(halves, 1, vertical=False)[2].box == Rect(0.5, 0.5, 0.5, 0.5)
