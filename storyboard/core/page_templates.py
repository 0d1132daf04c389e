"""Comic page templates, frame splits, reading order and automatic pagination.

Frames tile the page's live area in relative coordinates (0..1) with no gutters: gutters are
applied when a page is laid out (:mod:`storyboard.export.layout`), so a template, a split or a
change of gutter width never has to rewrite every box. Reading order is derived from geometry
(tiers top to bottom, then left to right, or right to left for manga), so numbering follows
what the reader sees rather than the order frames were added in.
"""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.core.model import Page, PanelFrame, ReadingOrder, Rect

EPS = 1e-6


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    label: str
    boxes: tuple[Rect, ...]
    full_bleed: bool = False

    @property
    def capacity(self) -> int:
        return len(self.boxes)


def _grid(columns: int, rows: int) -> tuple[Rect, ...]:
    return tuple(
        Rect(c / columns, r / rows, 1 / columns, 1 / rows)
        for r in range(rows)
        for c in range(columns)
    )


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template("splash", "Splash (1 panel)", _grid(1, 1)),
        Template("tiers-2", "2 tiers", _grid(1, 2)),
        Template("tiers-3", "3 tiers", _grid(1, 3)),
        Template("tiers-4", "4 tiers", _grid(1, 4)),
        Template("grid-2x2", "Grid 2x2", _grid(2, 2)),
        Template("grid-2x3", "Grid 2x3 (6 panels)", _grid(2, 3)),
        Template("grid-3x3", "Grid 3x3 (9 panels)", _grid(3, 3)),
        # Yonkoma: one column of four equal panels, read top to bottom.
        Template("4koma", "Manga 4-koma", tuple(Rect(0.2, r / 4, 0.6, 0.25) for r in range(4))),
        # Cinematic strips run off the page on both sides.
        Template("widescreen", "Wide-screen strips", _grid(1, 3), full_bleed=True),
    )
}
DEFAULT_TEMPLATE = "grid-2x3"


def template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        known = ", ".join(TEMPLATES)
        raise ValueError(f"unknown page template {name!r} (known: {known})") from None


def frames_for(name: str, panel_ids: list[str], order: ReadingOrder) -> list[PanelFrame]:
    """A template's frames holding ``panel_ids`` in reading order (RTL puts 1 top right)."""
    chosen = template(name)
    frames = [PanelFrame("", Rect(b.x, b.y, b.w, b.h), chosen.full_bleed) for b in chosen.boxes]
    for slot, panel_id in zip(
        reading_order([f.box for f in frames], order), panel_ids, strict=False
    ):
        frames[slot].panel_id = panel_id
    return frames


def paginate(
    panel_ids: list[str], order: ReadingOrder, template_name: str = DEFAULT_TEMPLATE
) -> list[Page]:
    """Pages holding every panel in story order, for projects that have no page layout yet."""
    size = template(template_name).capacity
    return [
        Page(
            template=template_name, frames=frames_for(template_name, panel_ids[i : i + size], order)
        )
        for i in range(0, len(panel_ids), size)
    ]


def split_frame(frames: list[PanelFrame], index: int, vertical: bool) -> list[PanelFrame]:
    """Split one frame in two halves (side by side when ``vertical``); the panel stays first."""
    frame = frames[index]
    box = frame.box
    if vertical:
        first = Rect(box.x, box.y, box.w / 2, box.h)
        second = Rect(box.x + box.w / 2, box.y, box.w / 2, box.h)
    else:
        first = Rect(box.x, box.y, box.w, box.h / 2)
        second = Rect(box.x, box.y + box.h / 2, box.w, box.h / 2)
    return [
        *frames[:index],
        PanelFrame(frame.panel_id, first, frame.full_bleed),
        PanelFrame("", second, frame.full_bleed),
        *frames[index + 1 :],
    ]


def reading_order(boxes: list[Rect], order: ReadingOrder) -> list[int]:
    """Indices of ``boxes`` in reading order: tiers top to bottom, then across each tier.

    A tier is a run of boxes whose vertical extents overlap by more than half of the smaller
    one, so a tall panel beside two stacked ones reads before both of them (LTR).
    """
    remaining = sorted(range(len(boxes)), key=lambda i: (boxes[i].y, boxes[i].x))
    result: list[int] = []
    while remaining:
        first = remaining[0]
        top, bottom = boxes[first].y, boxes[first].y + boxes[first].h
        tier = [
            i
            for i in remaining
            if min(bottom, boxes[i].y + boxes[i].h) - max(top, boxes[i].y)
            > 0.5 * min(boxes[i].h, bottom - top) - EPS
        ]
        rtl = order == ReadingOrder.RIGHT_TO_LEFT
        tier.sort(key=lambda i: -(boxes[i].x + boxes[i].w) if rtl else boxes[i].x)
        result.extend(tier)
        remaining = [i for i in remaining if i not in tier]
    return result
