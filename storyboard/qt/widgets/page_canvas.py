"""The comic page canvas: a page painted by the export painter, with the gestures the Pages view
turns into edits: select a frame, drop a panel, zoom/pan the image, move a balloon or its tail."""

from __future__ import annotations

import copy
import dataclasses
import json

from PySide6.QtCore import QMimeData, QPointF, QRectF, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QImage,
    QImageReader,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QWidget,
)

from storyboard.core.framing import pan_crop, zoom_crop
from storyboard.core.model import Balloon, Point, Project, Rect
from storyboard.export.layout import INCH, PageLayout
from storyboard.export.painter import PaintOptions, asset_loader, cover_crop, render_page_image
from storyboard.qt.document import Document
from storyboard.qt.models.timeline_model import PANEL_MIME


def panel_id_from(mime: QMimeData) -> str | None:
    """The first panel of a drag from the timeline (its mime data lists panel ids as JSON)."""
    if not mime.hasFormat(PANEL_MIME):
        return None
    ids = json.loads(bytes(mime.data(PANEL_MIME).data()).decode())
    return str(ids[0]) if ids else None


class PageCanvas(QWidget):
    """One page, rendered to an image at the widget's size; click selects, drop assigns, the
    wheel zooms and a drag pans the image inside a frame."""

    frame_clicked = Signal(int)
    panel_dropped = Signal(int, str)  # frame index, panel id
    crop_changed = Signal(int, object)  # frame index, Rect: one undoable step each
    balloon_moved = Signal(str, object, object)  # balloon id, new box (Rect), new tail (Point)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setMinimumSize(180, 240)
        self.layout_: PageLayout | None = None
        self.image_dpi = 72.0
        self.selected = -1
        self._image: QImage | None = None
        self.document: Document | None = None
        self._press: tuple[QPointF, int] | None = None  # where a click or pan started
        self._panning: tuple[int, Rect] | None = None  # frame index and crop while dragging
        self._balloon: tuple[Balloon, Balloon] | None = None  # (as it was, as dragged so far)
        self._tail = False  # the balloon drag moves its tail, not its box

    def show_page(self, layout: PageLayout | None, document: Document, selected: int) -> None:
        """Take the page to show; it is rendered when painted, so a hidden tab costs nothing."""
        self.layout_, self.selected, self.document = layout, selected, document
        self._image = None
        if layout is not None:
            media = layout.spec.media
            self.image_dpi = INCH * min(self.width() / media.w, self.height() / media.h)
        self.update()

    def page_image(self) -> QImage | None:
        if self._image is None and self.layout_ is not None and self.document is not None:
            options = PaintOptions(
                dpi=self.image_dpi, reading_numbers=True, guides=True, empty_frames=True
            )
            images = asset_loader(self.document.assets)
            layout = self.layout_
            project = self.document.project
            if self._panning is not None:  # show the drag before it becomes an edit
                index, crop = self._panning
                frames = list(layout.frames)
                moved = dataclasses.replace(frames[index].frame, crop=crop)
                frames[index] = dataclasses.replace(frames[index], frame=moved)
                layout = dataclasses.replace(layout, frames=frames)
            if self._balloon is not None:
                project = _with_balloon(project, self._balloon[1])
            self._image = render_page_image(layout, project, images, self.image_dpi, options)
        return self._image

    def current_crop(self, index: int) -> Rect | None:
        """The frame's crop, or the centred cover it shows by default; None without an image."""
        if self.layout_ is None or self.document is None:
            return None
        placed = self.layout_.frames[index]
        panel = self.document.project.panels.get(placed.frame.panel_id)
        if panel is None or panel.image is None:
            return None
        if placed.frame.crop is not None:
            return placed.frame.crop
        path = self.document.assets.file(panel.image)
        size = QImageReader(str(path)).size() if path else None
        if size is None or size.isEmpty():
            return None
        return cover_crop(size.width(), size.height(), placed.art.w, placed.art.h)

    def _relative(self, index: int, point: QPointF) -> tuple[float, float]:
        assert self.layout_ is not None
        art, at = self.layout_.frames[index].art, self.to_page(point)
        return ((at.x() - art.x) / art.w, (at.y() - art.y) / art.h)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt API)
        point = event.position()
        index = self.frame_at(point.x(), point.y())
        crop = self.current_crop(index) if index >= 0 else None
        if crop is None:
            event.ignore()
            return
        at_x, at_y = self._relative(index, point)
        factor = 1.15 ** (event.angleDelta().y() / 120)
        self.crop_changed.emit(index, zoom_crop(crop, factor, at_x, at_y))
        event.accept()

    def _scale(self) -> float:
        return self.image_dpi / INCH

    def origin(self) -> QPointF:
        """Where the page's top-left corner is drawn: the page is centred in the widget."""
        if self.layout_ is None:
            return QPointF(0, 0)
        media, scale = self.layout_.spec.media, self._scale()
        return QPointF(
            max(0.0, (self.width() - media.w * scale) / 2),
            max(0.0, (self.height() - media.h * scale) / 2),
        )

    def to_widget(self, x: float, y: float) -> QPointF:
        """Where the page point (``x``, ``y``) in points is on the widget."""
        return self.origin() + QPointF(x, y) * self._scale()

    def to_page(self, point: QPointF) -> QPointF:
        """The page point, in points, under the widget position ``point``."""
        return (point - self.origin()) / self._scale()

    def frame_at(self, x: float, y: float) -> int:
        """The index of the frame under the widget position (``x``, ``y``), or -1."""
        if self.layout_ is None:
            return -1
        at = self.to_page(QPointF(x, y))
        placed = self.layout_.frame_at(at.x(), at.y())
        return -1 if placed is None else placed.index

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(90, 90, 96))
        image = self.page_image()
        if image is not None and self.layout_ is not None:
            painter.drawImage(self.origin(), image)
            if 0 <= self.selected < len(self.layout_.frames):
                b = self.layout_.frames[self.selected].border
                s = self._scale()
                painter.setPen(QPen(QColor(30, 110, 220), 3))
                painter.drawRect(QRectF(self.to_widget(b.x, b.y), QSizeF(b.w * s, b.h * s)))
        painter.end()

    def balloon_at(self, index: int, point: QPointF) -> Balloon | None:
        """The top-most balloon of frame ``index`` under ``point`` (widget coordinates)."""
        if self.layout_ is None or self.document is None or index < 0:
            return None
        panel = self.document.project.panels.get(self.layout_.frames[index].frame.panel_id)
        if panel is None:
            return None
        b, at = self.layout_.frames[index].border, self.to_page(point)
        x, y = (at.x() - b.x) / b.w, (at.y() - b.y) / b.h
        for balloon in reversed(panel.balloons):
            r = balloon.box
            if r.x <= x <= r.x + r.w and r.y <= y <= r.y + r.h:
                return balloon
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        index = self.frame_at(event.position().x(), event.position().y())
        self._press = (event.position(), index)
        balloon = self.balloon_at(index, event.position())
        if balloon is not None:  # with Alt held at the press, the drag points the tail
            self._balloon = (balloon, copy.deepcopy(balloon))
            self._tail = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        self.frame_clicked.emit(index)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._press is None or self.layout_ is None:
            return
        start, index = self._press
        moved = event.position() - start
        if self._balloon is not None:
            self._drag_balloon(index, moved)
            return
        crop = self.current_crop(index) if index >= 0 else None
        if crop is None or (self._panning is None and moved.manhattanLength() < 4):
            return
        art, scale = self.layout_.frames[index].art, self._scale()
        self._panning = (
            index,
            pan_crop(crop, moved.x() / scale / art.w, moved.y() / scale / art.h),
        )
        self._image = None
        self.update()

    def _drag_balloon(self, index: int, moved: QPointF) -> None:
        assert self._balloon is not None and self.layout_ is not None
        original, _ = self._balloon
        b, scale = self.layout_.frames[index].border, self._scale()
        dx, dy = moved.x() / scale / b.w, moved.y() / scale / b.h
        dragged = copy.deepcopy(original)
        if self._tail:
            start = original.tail or Point(original.box.x + original.box.w / 2, original.box.y + 1)
            dragged.tail = Point(start.x + dx, start.y + dy)
        else:
            r = original.box
            dragged.box = Rect(
                min(max(r.x + dx, 0.0), 1 - r.w), min(max(r.y + dy, 0.0), 1 - r.h), r.w, r.h
            )
        self._balloon = (original, dragged)
        self._image = None
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        panned, self._panning, self._press = self._panning, None, None
        balloon, self._balloon = self._balloon, None
        if panned is not None:
            self._image = None
            self.crop_changed.emit(*panned)
        if balloon is not None and balloon[0] != balloon[1]:
            self._image = None
            self.balloon_moved.emit(balloon[1].id, balloon[1].box, balloon[1].tail)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if panel_id_from(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if panel_id_from(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        panel_id = panel_id_from(event.mimeData())
        index = self.frame_at(event.position().x(), event.position().y())
        if panel_id is not None and index >= 0:
            self.panel_dropped.emit(index, panel_id)
            event.acceptProposedAction()


def _with_balloon(project: Project, balloon: Balloon) -> Project:
    """A shallow copy of ``project`` showing ``balloon`` as dragged (for painting only)."""
    panels = dict(project.panels)
    for panel_id, panel in panels.items():
        if any(b.id == balloon.id for b in panel.balloons):
            balloons = [balloon if b.id == balloon.id else b for b in panel.balloons]
            panels[panel_id] = dataclasses.replace(panel, balloons=balloons)
    return dataclasses.replace(project, panels=panels)
