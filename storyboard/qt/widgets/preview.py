"""The large view of the current panel: its accepted image (or a candidate being looked at), or
a sketch card with the prompt when the panel has no image yet."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from storyboard.core.commands import Change
from storyboard.core.numbering import panel_numbers
from storyboard.qt.document import Document
from storyboard.qt.selection import Selection


class PanelPreview(QWidget):
    def __init__(self, document: Document, selection: Selection) -> None:
        super().__init__()
        self.setObjectName("preview")
        self.document = document
        self.selection = selection
        self.candidate: str | None = None
        self._image = QImage()
        self._image_asset: str | None = None
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        selection.current_changed.connect(self._current_changed)
        document.changed.connect(self._on_change)

    def set_document(self, document: Document) -> None:
        self.document.changed.disconnect(self._on_change)
        self.document = document
        document.changed.connect(self._on_change)
        self._current_changed(self.selection.current)

    def show_candidate(self, asset: str | None) -> None:
        self.candidate = asset
        self.update()

    def shown_asset(self) -> str | None:
        panel = self.document.project.panels.get(self.selection.current or "")
        if panel is None:
            return None
        return self.candidate or panel.image

    def _current_changed(self, _: object) -> None:
        self.candidate = None
        self.update()

    def _on_change(self, change: Change) -> None:
        if self.selection.current in change.panels or change.structure:
            self.update()

    def _load(self, asset: str | None) -> QImage:
        if asset != self._image_asset:
            self._image_asset = asset
            path = self.document.assets.file(asset)
            self._image = QImage(str(path)) if path else QImage()
        return self._image

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.fillRect(self.rect(), QColor("#3a3a3a"))
        project = self.document.project
        panel = project.panels.get(self.selection.current or "")
        if panel is None:
            painter.setPen(QColor("#cccccc"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Select a panel")
            return
        ratio = project.settings.aspect_ratio
        area = QRectF(self.rect()).adjusted(16, 16, -16, -16)
        width = min(area.width(), area.height() * ratio)
        frame = QRectF(0, 0, width, width / ratio)
        frame.moveCenter(area.center())
        image = self._load(self.shown_asset())
        if not image.isNull():
            painter.drawImage(frame, image)
        else:
            painter.fillRect(frame, QColor("#fbf8ef"))
            painter.setPen(QColor("#6b6250"))
            missing = self.shown_asset() is not None
            text = "The image file is missing from the project." if missing else panel.prompt
            painter.drawText(
                frame.adjusted(24, 24, -24, -24),
                int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                text or "Empty panel: write a prompt, draw, or generate.",
            )
        painter.setPen(QPen(QColor("#111111"), 2))
        painter.drawRect(frame)
        painter.setPen(QColor("#eeeeee"))
        number = panel_numbers(project)[panel.id]
        painter.drawText(QPointF(frame.left(), frame.top() - 4), number)
