"""The Pages view: comic pages painted by the export painter, so what the artist sees prints.

The canvas shows the page exactly as the PDF will (same layout, same painter), plus the trim
and safe guides and reading-order numbers. Every edit (add a page, apply a template, split a
frame, drop a panel into a frame, full bleed, reading order, page size) is a core command pushed
on the Document, so it undoes like any other edit.
"""

from __future__ import annotations

import copy
import dataclasses
import json

from PySide6.QtCore import QMimeData, QPointF, QRectF, Signal
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
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.commands import AddItem, Change, EditFields
from storyboard.core.framing import pan_crop, zoom_crop
from storyboard.core.model import Page, PanelFrame, ReadingOrder, Rect
from storyboard.core.page_templates import DEFAULT_TEMPLATE, TEMPLATES, frames_for, split_frame
from storyboard.export.comic_pdf import ComicOptions, page_spec
from storyboard.export.layout import INCH, PRESETS, PageLayout, layout_page
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

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setMinimumSize(240, 320)
        self.layout_: PageLayout | None = None
        self.image_dpi = 72.0
        self.selected = -1
        self._image: QImage | None = None
        self.document: Document | None = None
        self._press: tuple[QPointF, int] | None = None  # where a click or pan started
        self._panning: tuple[int, Rect] | None = None  # frame index and crop while dragging

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
            options = PaintOptions(dpi=self.image_dpi, reading_numbers=True, guides=True)
            images = asset_loader(self.document.assets)
            layout = self.layout_
            if self._panning is not None:  # show the drag before it becomes an edit
                index, crop = self._panning
                frames = list(layout.frames)
                moved = dataclasses.replace(frames[index].frame, crop=crop)
                frames[index] = dataclasses.replace(frames[index], frame=moved)
                layout = dataclasses.replace(layout, frames=frames)
            self._image = render_page_image(
                layout, self.document.project, images, self.image_dpi, options
            )
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
        size = QImageReader(str(self.document.assets.path(panel.image))).size()
        if size.isEmpty():
            return None
        return cover_crop(size.width(), size.height(), placed.art.w, placed.art.h)

    def _relative(self, index: int, point: QPointF) -> tuple[float, float]:
        assert self.layout_ is not None
        art, scale = self.layout_.frames[index].art, self._scale()
        return ((point.x() / scale - art.x) / art.w, (point.y() / scale - art.y) / art.h)

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

    def frame_at(self, x: float, y: float) -> int:
        if self.layout_ is None:
            return -1
        placed = self.layout_.frame_at(x / self._scale(), y / self._scale())
        return -1 if placed is None else placed.index

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(90, 90, 96))
        image = self.page_image()
        if image is not None and self.layout_ is not None:
            painter.drawImage(QPointF(0, 0), image)
            if 0 <= self.selected < len(self.layout_.frames):
                b = self.layout_.frames[self.selected].border
                s = self._scale()
                painter.setPen(QPen(QColor(30, 110, 220), 3))
                painter.drawRect(QRectF(b.x * s, b.y * s, b.w * s, b.h * s))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        index = self.frame_at(event.position().x(), event.position().y())
        self._press = (event.position(), index)
        self.frame_clicked.emit(index)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._press is None or self.layout_ is None:
            return
        start, index = self._press
        crop = self.current_crop(index) if index >= 0 else None
        moved = event.position() - start
        if crop is None or (self._panning is None and moved.manhattanLength() < 4):
            return
        art, scale = self.layout_.frames[index].art, self._scale()
        self._panning = (
            index,
            pan_crop(crop, moved.x() / scale / art.w, moved.y() / scale / art.h),
        )
        self._image = None
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        panned, self._panning, self._press = self._panning, None, None
        if panned is not None:
            self._image = None
            self.crop_changed.emit(*panned)

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


class PagesView(QWidget):
    """The comic page editor. ``PagesView(document)``; add it as a dock or tab."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.page_index = 0
        self.selected = -1
        self._crop_session = 0
        self.canvas = PageCanvas(self)
        self.pages = QComboBox()
        self.add_page = QPushButton("Add page")
        self.template = QComboBox()
        for name, chosen in TEMPLATES.items():
            self.template.addItem(chosen.label, name)
        self.split_across = QPushButton("Split side by side")
        self.split_down = QPushButton("Split top/bottom")
        self.full_bleed = QCheckBox("Full bleed")
        self.gutter_box = QDoubleSpinBox(suffix=" pt", minimum=0, maximum=36)
        self.order = QComboBox()
        self.order.addItem("Left to right", ReadingOrder.LEFT_TO_RIGHT.value)
        self.order.addItem("Right to left (manga)", ReadingOrder.RIGHT_TO_LEFT.value)
        self.preset = QComboBox()
        for name, known in PRESETS.items():
            self.preset.addItem(known.label, name)
        top, second = QHBoxLayout(), QHBoxLayout()
        tools: tuple[QWidget, ...] = (self.pages, self.add_page, QLabel("Template"), self.template)
        for widget in (*tools, self.preset):
            top.addWidget(widget)
        for widget in (self.split_across, self.split_down, self.full_bleed, QLabel("Gutter"),
                       self.gutter_box, self.order):  # fmt: skip
            second.addWidget(widget)
        column = QVBoxLayout(self)
        column.addLayout(top)
        column.addLayout(second)
        column.addWidget(self.canvas, 1)
        self.pages.activated.connect(self._page_chosen)
        self.add_page.clicked.connect(self.append_page)
        self.template.activated.connect(lambda _: self.apply_template(self.template.currentData()))
        self.split_across.clicked.connect(lambda: self.split(vertical=True))
        self.split_down.clicked.connect(lambda: self.split(vertical=False))
        self.full_bleed.clicked.connect(self.set_full_bleed)
        self.gutter_box.valueChanged.connect(self._gutter_changed)
        self.order.activated.connect(
            lambda _: self._edit_settings("reading_order", ReadingOrder(self.order.currentData()))
        )
        self.preset.activated.connect(
            lambda _: self._edit_settings("page_preset", self.preset.currentData())
        )
        self.canvas.frame_clicked.connect(self.select_frame)
        self.canvas.panel_dropped.connect(self.assign_panel)
        self.canvas.crop_changed.connect(self.set_crop)
        document.changed.connect(self._changed)
        self.refresh()

    # -- state ------------------------------------------------------------------------------

    def current_page(self) -> Page | None:
        ids = self.document.project.page_ids
        return self.document.project.pages[ids[self.page_index]] if ids else None

    def current_layout(self) -> PageLayout | None:
        page = self.current_page()
        if page is None:
            return None
        spec = page_spec(self.document.project, ComicOptions())
        return layout_page(page, self.page_index + 1, spec)

    def refresh(self) -> None:
        project = self.document.project
        self.page_index = min(self.page_index, max(0, len(project.page_ids) - 1))
        self.pages.clear()
        self.pages.addItems([f"Page {n}" for n in range(1, len(project.page_ids) + 1)])
        self.pages.setCurrentIndex(self.page_index)
        self.order.setCurrentIndex(self.order.findData(project.settings.reading_order.value))
        self.preset.setCurrentIndex(self.preset.findData(project.settings.page_preset))
        self.gutter_box.blockSignals(True)
        self.gutter_box.setValue(project.settings.page_gutter)
        self.gutter_box.blockSignals(False)
        page = self.current_page()
        if page is not None and page.template in TEMPLATES:
            self.template.setCurrentIndex(self.template.findData(page.template))
        frames = page.frames if page is not None else []
        if not 0 <= self.selected < len(frames):
            self.selected = -1
        has_frame = self.selected >= 0
        for widget in (self.split_across, self.split_down, self.full_bleed):
            widget.setEnabled(has_frame)
        self.full_bleed.setChecked(has_frame and frames[self.selected].full_bleed)
        self.canvas.show_page(self.current_layout(), self.document, self.selected)

    def set_document(self, document: Document) -> None:
        self.document.changed.disconnect(self._changed)
        self.document = document
        document.changed.connect(self._changed)
        self.page_index, self.selected = 0, -1
        self.refresh()

    def _changed(self, change: Change) -> None:
        self.refresh()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self.canvas.show_page(self.current_layout(), self.document, self.selected)

    def _page_chosen(self, index: int) -> None:
        self.page_index, self.selected = index, -1
        self.refresh()

    def _gutter_changed(self, value: float) -> None:
        if value != self.document.project.settings.page_gutter:
            self._edit_settings("page_gutter", value)

    # -- edits --------------------------------------------------------------------------------

    def _edit_frames(self, frames: list[PanelFrame], label: str, **extra: str) -> None:
        page = self.current_page()
        if page is not None:
            self.document.push(
                EditFields("page", page.id, {"frames": frames, **extra}, label=label)
            )

    def _edit_settings(self, name: str, value: object) -> None:
        self.document.push(EditFields("settings", "", {name: value}, label="Page settings"))

    def append_page(self) -> None:
        """A new page with the chosen template, filled with the next panels on no page yet."""
        project = self.document.project
        placed = {f.panel_id for page in project.pages.values() for f in page.frames}
        rest = [p.id for p in project.ordered_panels() if p.id not in placed]
        name = self.template.currentData() or DEFAULT_TEMPLATE
        page = Page(template=name, frames=frames_for(name, rest, project.settings.reading_order))
        self.page_index = len(project.page_ids)
        self.document.push(AddItem("pages", page, len(project.page_ids), label="Add page"))

    def apply_template(self, name: str) -> None:
        """Re-lay the page with a template, keeping its panels in reading order."""
        page, layout = self.current_page(), self.current_layout()
        if page is None or layout is None:
            return
        ordered = sorted(layout.frames, key=lambda f: f.number)
        panels = [f.frame.panel_id for f in ordered if f.frame.panel_id]
        frames = frames_for(name, panels, self.document.project.settings.reading_order)
        self._edit_frames(frames, "Page template", template=name)

    def split(self, *, vertical: bool) -> None:
        page = self.current_page()
        if page is not None and self.selected >= 0:
            self._edit_frames(split_frame(page.frames, self.selected, vertical), "Split frame")

    def set_full_bleed(self, on: bool) -> None:
        page = self.current_page()
        if page is not None and self.selected >= 0:
            frames = copy.deepcopy(page.frames)
            frames[self.selected].full_bleed = on
            self._edit_frames(frames, "Full bleed")

    def set_crop(self, index: int, crop: Rect) -> None:
        """Pan/zoom of a frame's image; wheel notches on one frame merge into one undo step."""
        page = self.current_page()
        if page is None:
            return
        frames = copy.deepcopy(page.frames)
        frames[index].crop = crop
        key = ("crop", page.id, index, self._crop_session)
        self.document.push(
            EditFields("page", page.id, {"frames": frames}, label="Crop image", merge_key=key)
        )

    def select_frame(self, index: int) -> None:
        self._crop_session += 1  # a click starts a new crop gesture (a new undo step)
        self.selected = index
        self.refresh()

    def assign_panel(self, index: int, panel_id: str) -> None:
        """Put a panel into a frame; it leaves any other frame of this page it was in."""
        page = self.current_page()
        if page is None or panel_id not in self.document.project.panels:
            return
        frames = copy.deepcopy(page.frames)
        for frame in frames:
            if frame.panel_id == panel_id:
                frame.panel_id = ""
        frames[index].panel_id = panel_id
        self.selected = index
        self._edit_frames(frames, "Place panel")
