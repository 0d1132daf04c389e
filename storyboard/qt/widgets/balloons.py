"""The balloons of the current panel: add, letter, change kind and speaker, delete.

Balloons are vectors on the panel (not pixels in its image), so they survive regeneration; they are
moved on the comic page (drag; Alt+drag points the tail) and edited here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.commands import AddBalloon, Change, EditFields, RemoveBalloon
from storyboard.core.model import Balloon, BalloonKind, Panel
from storyboard.qt.document import Document
from storyboard.qt.lettering import letter_all_button, letter_all_panels
from storyboard.qt.selection import Selection
from storyboard.qt.widgets.forms import TypingSessions, row


class BalloonEditor(QWidget):
    message = Signal(str)  # what Letter all panels did, for the status bar

    def __init__(self, document: Document, selection: Selection) -> None:
        super().__init__()
        self.setObjectName("balloons")
        self.document = document
        self.selection = selection
        self._loading = False
        self._sessions = TypingSessions(self)
        self.list = QListWidget()
        self.list.currentRowChanged.connect(lambda _: self._fill())
        self.add = QPushButton("Add balloon")
        self.add.clicked.connect(self.add_balloon)
        self.delete = QPushButton("Delete")
        self.delete.clicked.connect(self.delete_balloon)
        self.letter_all = letter_all_button()
        self.letter_all.clicked.connect(lambda: self.message.emit(letter_all_panels(self.document)))
        self.kind = QComboBox()
        for kind in BalloonKind:
            self.kind.addItem(kind.value, kind)
        self.kind.activated.connect(  # Qt hands the enum back as a str
            lambda _: self._edit({"kind": BalloonKind(self.kind.currentData())})
        )
        self.speaker = QComboBox()
        self.speaker.activated.connect(
            lambda _: self._edit({"character_id": self.speaker.currentData()})
        )
        self.text = QPlainTextEdit()
        self.text.setObjectName("balloon-text")
        self.text.setFixedHeight(self.text.fontMetrics().lineSpacing() * 3 + 12)
        self._sessions.watch(self.text)
        self.text.textChanged.connect(self._text_changed)
        self.form = QWidget()
        form = QFormLayout(self.form)
        form.addRow("Kind", self.kind)
        form.addRow("Speaker", self.speaker)
        form.addRow("Text", self.text)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.list)
        layout.addWidget(row(self.add, self.delete))
        layout.addWidget(self.letter_all)
        layout.addWidget(self.form)
        selection.current_changed.connect(lambda _: self.reload())
        document.changed.connect(self._on_change)
        self.reload()

    def set_document(self, document: Document) -> None:
        self.document.changed.disconnect(self._on_change)
        self.document = document
        document.changed.connect(self._on_change)
        self.reload()

    def panel(self) -> Panel | None:
        return self.document.project.panels.get(self.selection.current or "")

    def current(self) -> Balloon | None:
        panel, item = self.panel(), self.list.currentItem()
        if panel is None or item is None:
            return None
        wanted = item.data(Qt.ItemDataRole.UserRole)
        return next((b for b in panel.balloons if b.id == wanted), None)

    def _on_change(self, change: Change) -> None:
        if self.selection.current in change.panels or change.structure or change.characters:
            self.reload()

    def reload(self) -> None:
        keep = self.current()
        panel = self.panel()
        self.list.blockSignals(True)
        self.list.clear()
        for balloon in panel.balloons if panel else []:
            item = QListWidgetItem(f"{balloon.kind.value}: {balloon.text or '(empty)'}")
            item.setData(Qt.ItemDataRole.UserRole, balloon.id)
            self.list.addItem(item)
            if keep is not None and balloon.id == keep.id:
                self.list.setCurrentItem(item)
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(self.list.count() - 1)
        self.list.blockSignals(False)
        self.add.setEnabled(panel is not None)
        self._fill()

    def _fill(self) -> None:
        balloon = self.current()
        self.form.setEnabled(balloon is not None)
        self.delete.setEnabled(balloon is not None)
        if balloon is None:
            return
        self._loading = True
        try:
            self.kind.setCurrentIndex(self.kind.findData(balloon.kind))
            self.speaker.clear()
            self.speaker.addItem("nobody", None)
            for character in self.document.project.ordered_characters():
                self.speaker.addItem(character.name, character.id)
            self.speaker.setCurrentIndex(max(0, self.speaker.findData(balloon.character_id)))
            if self.text.toPlainText() != balloon.text:
                self.text.setPlainText(balloon.text)
        finally:
            self._loading = False

    def _edit(self, changes: dict[str, object], merge_key: object = None) -> None:
        balloon = self.current()
        if self._loading or balloon is None:
            return
        if all(getattr(balloon, k) == v for k, v in changes.items()):
            return
        self.document.push(EditFields("balloon", balloon.id, changes, "Edit balloon", merge_key))

    def _text_changed(self) -> None:
        key = ("balloon-text", self._sessions.key(self.text))
        self._edit({"text": self.text.toPlainText()}, key)

    def add_balloon(self) -> None:
        panel = self.panel()
        if panel is None:
            return
        speaker = panel.character_ids[0] if len(panel.character_ids) == 1 else None
        balloon = Balloon(text="…", character_id=speaker)
        self.document.push(AddBalloon(panel.id, balloon))
        self.reload()
        self.list.setCurrentRow(self.list.count() - 1)
        self.text.setFocus()
        self.text.selectAll()

    def delete_balloon(self) -> None:
        balloon = self.current()
        if balloon is not None:
            self.document.push(RemoveBalloon(balloon.id))
