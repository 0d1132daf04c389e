"""Comic page geometry in points (1/72 in): presets, trim, bleed, live and safe areas, gutters.

Pure Python, so the same numbers drive the editor's Pages view, the PDF and the PNGs, and can be
tested without Qt. Page coordinates start at the top-left corner of the *media*: the trim plus
its bleed, plus a slug around it when crop marks are printed.

- trim: where the printer cuts;
- bleed: art that must reach the cut runs this far past it (0.125 in / 3 mm);
- live: where panels go (frame boxes are relative to it);
- safe: where all text stays (0.25 in inside the trim or more), so nothing readable is cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from storyboard.core.model import Page, PanelFrame, ReadingOrder
from storyboard.core.page_templates import EPS, reading_order

INCH = 72.0
MM = INCH / 25.4
SLUG = 0.375 * INCH  # room for crop marks outside the bleed


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in points."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def inset(self, left: float, top: float, right: float, bottom: float) -> Box:
        return Box(self.x + left, self.y + top, self.w - left - right, self.h - top - bottom)

    def grown(self, by: float) -> Box:
        return self.inset(-by, -by, -by, -by)

    def contains(self, other: Box, tolerance: float = 0.01) -> bool:
        return (
            other.x >= self.x - tolerance
            and other.y >= self.y - tolerance
            and other.right <= self.right + tolerance
            and other.bottom <= self.bottom + tolerance
        )


@dataclass(frozen=True, slots=True)
class Margins:
    top: float
    bottom: float
    inner: float  # the binding side
    outer: float


@dataclass(frozen=True, slots=True)
class PagePreset:
    name: str
    label: str
    trim_w: float
    trim_h: float
    bleed: float
    live: Margins  # from the trim to the panels
    safe: float  # from the trim to the text-safe area

    @property
    def inches(self) -> tuple[float, float]:
        return self.trim_w / INCH, self.trim_h / INCH


PRESETS: dict[str, PagePreset] = {
    p.name: p
    for p in (
        # ComiXpress: 6x9 in live area; 0.5 in top, 0.75 in bottom, 0.3125 in sides.
        PagePreset(
            "us-comic",
            "US comic 6.625 x 10.25 in",
            6.625 * INCH,
            10.25 * INCH,
            0.125 * INCH,
            Margins(0.5 * INCH, 0.75 * INCH, 0.3125 * INCH, 0.3125 * INCH),
            0.25 * INCH,
        ),
        # European album template: 15 mm top/bottom, 10 mm sides.
        PagePreset(
            "a4",
            "A4 210 x 297 mm",
            210 * MM,
            297 * MM,
            3 * MM,
            Margins(15 * MM, 15 * MM, 10 * MM, 10 * MM),
            7 * MM,
        ),
        PagePreset(
            "letter",
            "US Letter 8.5 x 11 in",
            8.5 * INCH,
            11 * INCH,
            0.125 * INCH,
            Margins(0.5 * INCH, 0.6 * INCH, 0.4 * INCH, 0.4 * INCH),
            0.25 * INCH,
        ),
        # Japanese B5 doujinshi: 3 mm bleed, 150 x 220 mm standard frame inside 162 x 237 safe.
        PagePreset(
            "b5-manga",
            "B5 manga 182 x 257 mm",
            182 * MM,
            257 * MM,
            3 * MM,
            Margins(18.5 * MM, 18.5 * MM, 16 * MM, 16 * MM),
            10 * MM,
        ),
        PagePreset(
            "a5",
            "A5 148 x 210 mm",
            148 * MM,
            210 * MM,
            3 * MM,
            Margins(12 * MM, 14 * MM, 10 * MM, 10 * MM),
            6 * MM,
        ),
        # ComiXpress digest: 5.375 x 8 in live.
        PagePreset(
            "digest",
            "Digest 6 x 9 in",
            6 * INCH,
            9 * INCH,
            0.125 * INCH,
            Margins(0.5 * INCH, 0.5 * INCH, 0.3125 * INCH, 0.3125 * INCH),
            0.25 * INCH,
        ),
    )
}
DEFAULT_GUTTER = 0.15 * INCH  # 1/4 in on 10x15 in original art, at print size


def preset(name: str) -> PagePreset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown page preset {name!r} (known: {', '.join(PRESETS)})") from None


@dataclass(frozen=True, slots=True)
class PageSpec:
    """The geometry every page of one export shares."""

    preset: PagePreset
    gutter: float = DEFAULT_GUTTER
    bleed: bool = True
    crop_marks: bool = False
    order: ReadingOrder = ReadingOrder.LEFT_TO_RIGHT

    @property
    def bleed_size(self) -> float:
        return self.preset.bleed if self.bleed else 0.0

    @property
    def slug(self) -> float:
        return SLUG if self.crop_marks else 0.0

    @property
    def media(self) -> Box:
        """Rounded up to whole points: PDF writers store page sizes as integers."""
        edge = 2 * (self.bleed_size + self.slug)
        w, h = self.preset.trim_w + edge, self.preset.trim_h + edge
        return Box(0, 0, math.ceil(w - 1e-6), math.ceil(h - 1e-6))

    @property
    def trim(self) -> Box:
        """Centred on the media, so any rounding slack is shared by opposite edges."""
        media = self.media
        return Box(
            (media.w - self.preset.trim_w) / 2,
            (media.h - self.preset.trim_h) / 2,
            self.preset.trim_w,
            self.preset.trim_h,
        )

    @property
    def art_limit(self) -> Box:
        """How far full-bleed art runs: the media edge, unless crop marks need the slug."""
        return self.bleed_box if self.crop_marks else self.media

    @property
    def bleed_box(self) -> Box:
        return self.trim.grown(self.bleed_size)

    @property
    def safe(self) -> Box:
        s = self.preset.safe
        return self.trim.inset(s, s, s, s)

    def live(self, page_index: int) -> Box:
        """The panel area; the inner margin sits on the binding side of each page.

        Page 1 is a right-hand page in a left-bound (Western) book and a left-hand page in a
        right-bound (manga) one, so the binding side alternates from there.
        """
        m = self.preset.live
        bound_left = (page_index % 2 == 0) != (self.order == ReadingOrder.RIGHT_TO_LEFT)
        left, right = (m.inner, m.outer) if bound_left else (m.outer, m.inner)
        return self.trim.inset(left, m.top, right, m.bottom)


@dataclass(frozen=True, slots=True)
class FrameLayout:
    """One frame placed on a page: where its art goes and where its border is drawn."""

    index: int  # in page.frames
    frame: PanelFrame
    art: Box  # the image area (reaches the bleed edge on full-bleed sides)
    border: Box  # the drawn frame (within the live area)
    number: int  # reading-order number on the page, from 1
    bled: tuple[bool, bool, bool, bool]  # left, top, right, bottom run off the page


@dataclass(frozen=True, slots=True)
class PageLayout:
    page: Page
    number: int  # page number in the book, from 1
    spec: PageSpec
    live: Box
    frames: list[FrameLayout] = field(default_factory=list)

    def frame_at(self, x: float, y: float) -> FrameLayout | None:
        for placed in reversed(self.frames):
            b = placed.art
            if b.x <= x <= b.right and b.y <= y <= b.bottom:
                return placed
        return None


def layout_page(page: Page, number: int, spec: PageSpec) -> PageLayout:
    """Place every frame of ``page`` (page ``number`` from 1) in points on the media."""
    live = spec.live(number - 1)
    bleed = spec.art_limit
    half = spec.gutter / 2
    order = reading_order([f.box for f in page.frames], spec.order)
    numbers = {index: n for n, index in enumerate(order, start=1)}
    placed: list[FrameLayout] = []
    for index, frame in enumerate(page.frames):
        b = frame.box
        left, top = live.x + b.x * live.w, live.y + b.y * live.h
        right, bottom = live.x + (b.x + b.w) * live.w, live.y + (b.y + b.h) * live.h
        edges = (b.x <= EPS, b.y <= EPS, b.x + b.w >= 1 - EPS, b.y + b.h >= 1 - EPS)
        border = Box(
            left + (0 if edges[0] else half),
            top + (0 if edges[1] else half),
            right - left - (0 if edges[0] else half) - (0 if edges[2] else half),
            bottom - top - (0 if edges[1] else half) - (0 if edges[3] else half),
        )
        bled = (
            frame.full_bleed and edges[0],
            frame.full_bleed and edges[1],
            frame.full_bleed and edges[2],
            frame.full_bleed and edges[3],
        )
        art_x = bleed.x if bled[0] else border.x
        art_y = bleed.y if bled[1] else border.y
        art = Box(
            art_x,
            art_y,
            (bleed.right if bled[2] else border.right) - art_x,
            (bleed.bottom if bled[3] else border.bottom) - art_y,
        )
        placed.append(FrameLayout(index, frame, art, border, numbers[index], bled))
    return PageLayout(page, number, spec, live, placed)


def layout_pages(pages: list[Page], spec: PageSpec, first_number: int = 1) -> list[PageLayout]:
    return [layout_page(p, n, spec) for n, p in enumerate(pages, start=first_number)]
