"""The candidates strip under the canvas: every image made for the current panel, newest first.

Below the panel, not at the bottom of the inspector, so the artist compares the candidates with
the panel they are for without scrolling (issue 28). Selecting one shows it large on the canvas;
a double click or *Use this image* accepts it (an undoable edit, autosaved at once). Each
thumbnail keeps its image's own shape (a 64 px square stays square in a 16:9 project).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.commands import Change, accept_image
from storyboard.core.model import Panel
from storyboard.qt.document import Document
from storyboard.qt.icons import icon
from storyboard.qt.selection import Selection

THUMB = QSize(96, 54)


class CandidateStrip(QWidget):
    preview_requested = Signal(object)  # asset id to show large, or None for the accepted image

    def __init__(self, document: Document, selection: Selection) -> None:
        super().__init__()
        self.setObjectName("candidates-strip")
        self.document = document
        self.selection = selection
        self._shown: tuple[object, ...] = ()
        self.candidates = QListWidget()
        self.candidates.setObjectName("candidates")
        self.candidates.setViewMode(QListWidget.ViewMode.IconMode)
        self.candidates.setFlow(QListWidget.Flow.LeftToRight)
        self.candidates.setWrapping(False)
        self.candidates.setIconSize(THUMB)
        self.candidates.setFixedHeight(THUMB.height() + 30)
        self.candidates.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.candidates.currentItemChanged.connect(self._previewed)
        self.candidates.itemDoubleClicked.connect(lambda _: self.accept_current_candidate())
        self.accept = QPushButton(icon("check"), "Use this image")
        self.accept.setObjectName("accept")
        self.accept.setToolTip("Make the selected candidate the panel's image (double click)")
        self.accept.clicked.connect(self.accept_current_candidate)
        self.title = QLabel("Images")
        self.title.setObjectName("candidates-title")
        side = QVBoxLayout()
        side.addWidget(self.title)
        side.addWidget(self.accept)
        side.addStretch()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(side)
        layout.addWidget(self.candidates, 1)
        selection.current_changed.connect(lambda _: self.refresh())
        document.changed.connect(self._on_change)
        self.refresh()

    def set_document(self, document: Document) -> None:
        self.document.changed.disconnect(self._on_change)
        self.document = document
        document.changed.connect(self._on_change)
        self._shown = ()
        self.refresh()

    def _panel(self) -> Panel | None:
        return self.document.project.panels.get(self.selection.current or "")

    def _on_change(self, change: Change) -> None:
        if self.selection.current in change.panels or change.structure:
            self.refresh()

    def refresh(self) -> None:
        """The panel's images, newest first; decoded again only when they change (not per key)."""
        panel = self._panel()
        shown = (panel.id, panel.image, tuple(c.id for c in panel.candidates)) if panel else ()
        if shown == self._shown:
            return
        self._shown = shown
        self.candidates.blockSignals(True)
        self.candidates.clear()
        count = len(panel.candidates) if panel else 0
        self.title.setText(f"Images ({count})" if count else "No images yet")
        self.accept.setEnabled(count > 0)
        for number, candidate in enumerate(reversed(panel.candidates if panel else []), start=1):
            path = self.document.assets.file(candidate.asset)
            pixmap = QPixmap(str(path)) if path else QPixmap()
            chosen = panel is not None and candidate.asset == panel.image
            item = QListWidgetItem(QIcon(pixmap), "✓ in use" if chosen else "")
            item.setData(Qt.ItemDataRole.UserRole, candidate.asset)
            seed = "" if candidate.seed is None else f" seed {candidate.seed}"
            item.setToolTip(f"#{count - number + 1}{seed}\n{candidate.prompt}")
            self.candidates.addItem(item)
        self.candidates.blockSignals(False)

    def _previewed(self, item: QListWidgetItem | None, _: object = None) -> None:
        self.preview_requested.emit(item.data(Qt.ItemDataRole.UserRole) if item else None)

    def accept_current_candidate(self) -> None:
        item = self.candidates.currentItem()
        panel = self._panel()
        if item is not None and panel is not None:
            self.document.push(accept_image(panel.id, item.data(Qt.ItemDataRole.UserRole)))
            self.document.write_recovery()  # an accepted image is autosaved at once
