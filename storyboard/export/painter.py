"""The one renderer of a comic page: the Pages view, the PDF and the PNGs all call paint_page.

The painter's user unit is one point with the origin at the media's top-left corner, on a
device that reports 72 dpi (see :mod:`storyboard.export.text`), so lettering fitted here fits
identically on every output. Images are cropped to their frame and resampled to the output
resolution before drawing, because QPdfWriter embeds whatever pixels it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPen

from storyboard.core.assets import AssetStore
from storyboard.core.model import Panel, Project, ReadingOrder, Rect
from storyboard.core.numbering import panel_numbers
from storyboard.core.print_jobs import SizeOf, print_assets
from storyboard.export.balloons import paint_balloon
from storyboard.export.layout import INCH, Box, FrameLayout, PageLayout
from storyboard.export.text import body, metrics, tag_72_dpi, wrap_breaking

log = logging.getLogger(__name__)

ImageLoader = Callable[[str], QImage | None]
BORDER = 1.5  # pt, the panel border; balloons use a thinner line
PLACEHOLDER_FILL = QColor(226, 229, 235)
PLACEHOLDER_INK = QColor(70, 76, 88)
MARK_OFFSET = 3.0  # pt between the bleed edge and a crop mark


@dataclass(frozen=True, slots=True)
class PaintOptions:
    dpi: float = 300.0  # images are resampled to this many pixels per inch of page
    page_numbers: bool = True
    reading_numbers: bool = False  # the Pages view shows reading order; print does not
    guides: bool = False  # trim, bleed and safe lines for the Pages view
    balloons: bool = True  # off for the cover, which shows the art alone
    empty_frames: bool = False  # frames holding no panel: drop targets in the Pages view only,
    # never printed as empty boxes


def asset_loader(store: AssetStore) -> ImageLoader:
    """Images by asset id; a missing or unreadable file gives None (a placeholder, not a crash)."""

    def load(asset: str) -> QImage | None:
        path = store.file(asset)
        image = QImage(str(path)) if path else QImage()
        if image.isNull():
            log.warning("panel image %s is missing or unreadable", path)
            return None
        return image

    return load


def header_sizes(store: AssetStore) -> SizeOf:
    """Asset id -> pixel size from the file's header (cached; the pixels are never decoded);
    None when the file is missing or unreadable."""
    sizes: dict[str, tuple[int, int] | None] = {}

    def size_of(asset: str) -> tuple[int, int] | None:
        if asset not in sizes:
            path = store.file(asset)
            found = QImageReader(str(path)).size() if path is not None else None
            valid = found is not None and found.width() > 0 and found.height() > 0
            sizes[asset] = (found.width(), found.height()) if found is not None and valid else None
        return sizes[asset]

    return size_of


def print_loader(project: Project, store: AssetStore) -> ImageLoader:
    """What print loads for a panel's accepted image: the largest version of that picture (the
    Print size step's result, even when the artist went back to the original)."""
    load = asset_loader(store)
    largest = print_assets(project, header_sizes(store))
    return lambda asset: load(largest.get(asset, asset))


def to_qrect(box: Box) -> QRectF:
    return QRectF(box.x, box.y, box.w, box.h)


def cover_crop(image_w: int, image_h: int, target_w: float, target_h: float) -> Rect:
    """The centred part of an image that fills a target of another aspect ratio (relative)."""
    if min(image_w, image_h, target_w, target_h) <= 0:  # margins and gutters left no room
        return Rect()
    image_aspect, target_aspect = image_w / image_h, target_w / target_h
    if image_aspect > target_aspect:
        w = target_aspect / image_aspect
        return Rect((1 - w) / 2, 0.0, w, 1.0)
    h = image_aspect / target_aspect
    return Rect(0.0, (1 - h) / 2, 1.0, h)


def frame_crop(image: QImage, art: Box, crop: Rect | None, dpi: float) -> QImage:
    """The part of ``image`` shown in ``art`` (``crop`` relative to the image, else centred
    cover), resampled to ``dpi`` at the art's printed size; never upsampled."""
    part = crop or cover_crop(image.width(), image.height(), art.w, art.h)
    source = image.copy(
        round(part.x * image.width()),
        round(part.y * image.height()),
        max(1, round(part.w * image.width())),
        max(1, round(part.h * image.height())),
    )
    want_w, want_h = max(1, round(art.w / INCH * dpi)), max(1, round(art.h / INCH * dpi))
    if source.width() > want_w * 1.02 or source.height() > want_h * 1.02:
        source = source.scaled(
            want_w,
            want_h,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    return source


def _placeholder(painter: QPainter, placed: FrameLayout, panel: Panel, number: str) -> None:
    """A card that says which panel belongs here and what it should show."""
    art, border = to_qrect(placed.art), to_qrect(placed.border)
    painter.fillRect(art, PLACEHOLDER_FILL)
    pad = min(8.0, border.width() * 0.06)
    inner = border.adjusted(pad, pad, -pad, -pad)
    painter.setPen(PLACEHOLDER_INK)
    title = body(min(16.0, max(7.0, inner.height() * 0.14)), bold=True)
    fm = metrics(title)
    small = body(max(5.5, min(8.0, inner.width() / 28)))
    sfm = metrics(small)
    label = "no image yet" if not panel.image else "image missing"
    lines = [label.upper(), *wrap_breaking(panel.prompt, sfm, inner.width())]
    # Anchored to the bottom of the card: balloons usually sit at the top of a panel.
    room = int((inner.height() - fm.lineSpacing()) // sfm.lineSpacing())
    lines = lines[: max(0, room)]
    top = inner.bottom() - len(lines) * sfm.lineSpacing() - fm.lineSpacing()
    painter.setFont(title)
    painter.drawText(QPointF(inner.left(), top + fm.ascent()), number)
    painter.setFont(small)
    top += fm.lineSpacing()
    for line in lines:
        painter.drawText(QPointF(inner.left(), top + sfm.ascent()), line)
        top += sfm.lineSpacing()


def _fit_inside(box: QRectF, area: QRectF) -> QRectF:
    """Move (and if needed shrink) a balloon so it stays inside the text-safe area."""
    w, h = min(box.width(), area.width()), min(box.height(), area.height())
    x = min(max(box.left(), area.left()), area.right() - w)
    y = min(max(box.top(), area.top()), area.bottom() - h)
    return QRectF(x, y, w, h)


def _balloons(painter: QPainter, placed: FrameLayout, panel: Panel, safe: QRectF) -> list[str]:
    overflowing = []
    b = placed.border
    for balloon in panel.balloons:
        if not balloon.text.strip():
            continue
        r = balloon.box
        box = _fit_inside(QRectF(b.x + r.x * b.w, b.y + r.y * b.h, r.w * b.w, r.h * b.h), safe)
        tip = None
        if balloon.tail is not None:
            tip = QPointF(b.x + balloon.tail.x * b.w, b.y + balloon.tail.y * b.h)
        if paint_balloon(painter, balloon, box, tip).overflow:
            overflowing.append(balloon.id)
    return overflowing


def _reading_number(painter: QPainter, placed: FrameLayout, order: ReadingOrder) -> None:
    b = to_qrect(placed.border)
    d = 16.0
    x = b.right() - d - 4 if order == ReadingOrder.RIGHT_TO_LEFT else b.left() + 4
    disc = QRectF(x, b.top() + 4, d, d)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(30, 110, 220))
    painter.drawEllipse(disc)
    painter.setPen(QColor(255, 255, 255))
    painter.setFont(body(9, bold=True))
    painter.drawText(disc, Qt.AlignmentFlag.AlignCenter, str(placed.number))


def _crop_marks(painter: QPainter, layout: PageLayout) -> None:
    spec = layout.spec
    trim, media = spec.trim, spec.media
    start = spec.bleed_size + MARK_OFFSET
    painter.setPen(QPen(QColor(0, 0, 0), 0.25))
    for x in (trim.x, trim.right):
        for y0, y1 in ((media.y, trim.y - start), (trim.bottom + start, media.bottom)):
            painter.drawLine(QPointF(x, y0), QPointF(x, y1))
    for y in (trim.y, trim.bottom):
        for x0, x1 in ((media.x, trim.x - start), (trim.right + start, media.right)):
            painter.drawLine(QPointF(x0, y), QPointF(x1, y))


def _guides(painter: QPainter, layout: PageLayout) -> None:
    spec = layout.spec
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for box, color in ((spec.trim, QColor(220, 40, 40)), (spec.safe, QColor(40, 140, 220))):
        pen = QPen(color, 0.5)
        pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRect(to_qrect(box))


def _page_number(painter: QPainter, layout: PageLayout) -> None:
    safe, live = layout.spec.safe, layout.live
    font = body(8)
    painter.setFont(font)
    painter.setPen(QColor(0, 0, 0))
    fm = metrics(font)
    text = str(layout.number)
    baseline = (live.bottom + safe.bottom + fm.ascent() - fm.descent()) / 2
    x = live.x + live.w / 2 - fm.horizontalAdvance(text) / 2
    painter.drawText(QPointF(x, baseline), text)


def paint_page(
    painter: QPainter,
    layout: PageLayout,
    project: Project,
    images: ImageLoader,
    options: PaintOptions,
) -> list[str]:
    """Paint one page; returns the ids of balloons whose text could not fit at the minimum size."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    numbers = panel_numbers(project)
    safe = to_qrect(layout.spec.safe)
    overflowing: list[str] = []
    frames = [
        placed
        for placed in layout.frames
        if options.empty_frames or placed.frame.panel_id in project.panels
    ]
    for placed in frames:
        panel = project.panels.get(placed.frame.panel_id)
        if panel is not None:
            image = images(panel.image) if panel.image else None
            if image is None:
                _placeholder(painter, placed, panel, numbers.get(panel.id, ""))
            else:
                # PanelFrame.crop (the part of the image shown) once the model holds it.
                crop = frame_crop(image, placed.art, placed.frame.crop, options.dpi)
                painter.drawImage(to_qrect(placed.art), crop)
        if not placed.frame.full_bleed:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            pen = QPen(QColor(0, 0, 0), BORDER)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            half = BORDER / 2
            painter.drawRect(to_qrect(placed.border).adjusted(half, half, -half, -half))
    for placed in frames:
        panel = project.panels.get(placed.frame.panel_id)
        if panel is not None and options.balloons:
            overflowing += _balloons(painter, placed, panel, safe)
        if options.reading_numbers:
            _reading_number(painter, placed, layout.spec.order)
    if options.page_numbers:
        _page_number(painter, layout)
    if layout.spec.crop_marks:
        _crop_marks(painter, layout)
    if options.guides:
        _guides(painter, layout)
    return overflowing


def render_page_image(
    layout: PageLayout,
    project: Project,
    images: ImageLoader,
    dpi: float,
    options: PaintOptions | None = None,
) -> QImage:
    """The page as an RGB image at ``dpi`` (PNG export, the Pages view, tests)."""
    media = layout.spec.media
    scale = dpi / INCH
    image = QImage(round(media.w * scale), round(media.h * scale), QImage.Format.Format_RGB32)
    image.fill(QColor(255, 255, 255))
    tag_72_dpi(image)
    painter = QPainter(image)
    try:
        painter.scale(scale, scale)
        paint_page(painter, layout, project, images, options or PaintOptions(dpi=dpi))
    finally:
        painter.end()
    image.setDotsPerMeterX(round(dpi / 0.0254))
    image.setDotsPerMeterY(round(dpi / 0.0254))
    return image
