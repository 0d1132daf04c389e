"""A panel's sound (recorded dialogue, effects) for the animatic: choose, remove, gain."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from storyboard.core.commands import Change, EditFields
from storyboard.core.model import Panel
from storyboard.qt.document import Document
from storyboard.qt.selection import Selection
from storyboard.qt.widgets.forms import SOUND_FILTER


class PanelSound(QWidget):
    def __init__(self, document: Document, selection: Selection) -> None:
        super().__init__()
        self.setObjectName("panel-sound")
        self.document = document
        self.selection = selection
        self._loading = False
        self.label = QLabel()
        self.choose = QPushButton("Sound…")
        self.choose.clicked.connect(self._choose)
        self.remove = QPushButton("None")
        self.remove.clicked.connect(lambda: self._edit({"audio": None}, "Remove sound"))
        self.gain = QDoubleSpinBox(minimum=-40.0, maximum=12.0, suffix=" dB")
        self.gain.valueChanged.connect(lambda v: self._edit({"audio_gain_db": v}, "Sound gain"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.choose, self.remove, self.gain):
            layout.addWidget(widget)
        selection.current_changed.connect(lambda _: self.refresh())
        document.changed.connect(self._on_change)
        self.refresh()

    def set_document(self, document: Document) -> None:
        self.document.changed.disconnect(self._on_change)
        self.document = document
        document.changed.connect(self._on_change)
        self.refresh()

    def panel(self) -> Panel | None:
        return self.document.project.panels.get(self.selection.current or "")

    def _on_change(self, change: Change) -> None:
        if self.selection.current in change.panels:
            self.refresh()

    def refresh(self) -> None:
        panel = self.panel()
        self._loading = True
        try:
            self.label.setText(panel.audio[:10] + "…" if panel and panel.audio else "no sound")
            self.remove.setEnabled(bool(panel and panel.audio))
            self.gain.setEnabled(bool(panel and panel.audio))
            self.gain.setValue(panel.audio_gain_db if panel else 0.0)
        finally:
            self._loading = False

    def _edit(self, changes: dict[str, object], label: str) -> None:
        panel = self.panel()
        if self._loading or panel is None:
            return
        if all(getattr(panel, k) == v for k, v in changes.items()):
            return
        self.document.push(EditFields("panel", panel.id, changes, label))

    def _choose(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Panel sound", "", SOUND_FILTER)
        if name:
            self.use_file(Path(name))

    def use_file(self, path: Path) -> None:
        """Copy the sound into the project and give it to the panel (undoable)."""
        self._edit({"audio": self.document.assets.put_file(path)}, "Set sound")
