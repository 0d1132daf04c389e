"""The Pages view: comic pages painted by the export painter, so what the artist sees prints.

The canvas shows the page exactly as the PDF will (same layout, same painter), plus the trim
and safe guides and reading-order numbers. Every edit (add a page, apply a template, split a
frame, drop a panel into a frame, full bleed, reading order, page size) is a core command pushed
on the Document, so it undoes like any other edit.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import Signal
from PySide6.QtGui import (
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.commands import AddItem, Change, EditFields
from storyboard.core.model import Page, PageMargins, PanelFrame, Point, Project, ReadingOrder, Rect
from storyboard.core.page_templates import DEFAULT_TEMPLATE, TEMPLATES, frames_for, split_frame
from storyboard.export.comic_pdf import ComicOptions, page_spec
from storyboard.export.layout import INCH, PRESETS, PageLayout, layout_page
from storyboard.qt.document import Document
from storyboard.qt.lettering import letter_all_button, letter_all_panels
from storyboard.qt.widgets.forms import tool_strip
from storyboard.qt.widgets.page_canvas import PageCanvas


class PagesView(QWidget):
    """The comic page editor. ``PagesView(document)``; add it as a dock or tab."""

    message = Signal(str)  # what Letter all panels did, for the status bar

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
        # a first page takes the usual six panels, not the first template in the list (a splash)
        self.template.setCurrentIndex(self.template.findData(DEFAULT_TEMPLATE))
        self.split_across = QPushButton("Split side by side")
        self.split_down = QPushButton("Split top/bottom")
        self.full_bleed = QCheckBox("Full bleed")
        self.gutter_box = QDoubleSpinBox(suffix=" pt", minimum=0, maximum=36)
        self.margins = QPushButton("Margins…")
        self.margins.clicked.connect(self.edit_margins)
        self.letter_all = letter_all_button()
        self.letter_all.clicked.connect(lambda: self.message.emit(letter_all_panels(self.document)))
        self.order = QComboBox()
        self.order.addItem("Left to right", ReadingOrder.LEFT_TO_RIGHT.value)
        self.order.addItem("Right to left (manga)", ReadingOrder.RIGHT_TO_LEFT.value)
        self.preset = QComboBox()
        for name, known in PRESETS.items():
            self.preset.addItem(known.label, name)
        page_tools = (self.pages, self.add_page, None, QLabel("Template"), self.template)
        frame_tools = (
            self.split_across, self.split_down, self.full_bleed, self.margins, self.letter_all, None
        )  # fmt: skip
        column = QVBoxLayout(self)
        column.addWidget(tool_strip("page-tools", *page_tools, self.preset))
        column.addWidget(tool_strip("frame-tools", *frame_tools, QLabel("Gutter"),
                                    self.gutter_box, self.order))  # fmt: skip
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
        self.canvas.balloon_moved.connect(self.move_balloon)
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

    def move_balloon(self, balloon_id: str, box: Rect, tail: Point | None) -> None:
        changes = {"box": box, "tail": tail}
        self.document.push(EditFields("balloon", balloon_id, changes, label="Move balloon"))

    def edit_margins(self) -> None:
        """Page margins for the whole book (None: back to the page preset's)."""
        project = self.document.project
        current = project.settings.page_margins
        dialog = MarginsDialog(current, preset_margins(project), self)
        if dialog.exec():
            chosen = dialog.margins()
            if chosen != current:
                self._edit_settings("page_margins", chosen)

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


def preset_margins(project: Project) -> PageMargins:
    known = PRESETS.get(project.settings.page_preset)
    if known is None:
        return PageMargins()
    live = known.live
    return PageMargins(live.top, live.bottom, live.inner, live.outer)


class MarginsDialog(QDialog):
    """Four margins in inches (stored in points), or the page preset's."""

    def __init__(self, current: PageMargins | None, preset: PageMargins, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Page margins")
        self.use_preset = QCheckBox("Use the page size's standard margins")
        self.use_preset.setChecked(current is None)
        shown = current or preset
        self.boxes: dict[str, QDoubleSpinBox] = {}
        form = QFormLayout(self)
        form.addRow(self.use_preset)
        for name, label in (("top", "Top"), ("bottom", "Bottom"), ("inner", "Inner (binding)"),
                            ("outer", "Outer")):  # fmt: skip
            box = QDoubleSpinBox(
                minimum=0.0, maximum=3.0, decimals=3, singleStep=0.125, suffix=" in"
            )
            box.setValue(getattr(shown, name) / INCH)
            box.setEnabled(current is not None)
            self.use_preset.toggled.connect(lambda on, b=box: b.setEnabled(not on))
            self.boxes[name] = box
            form.addRow(label, box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def margins(self) -> PageMargins | None:
        if self.use_preset.isChecked():
            return None
        return PageMargins(**{name: box.value() * INCH for name, box in self.boxes.items()})
