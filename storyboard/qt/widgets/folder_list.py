"""A list of folders with *Add folder…* and *Remove*: the settings' model folders and LoRA folders.

One widget for both, so the two lists look and work alike; ``changed`` fires after an add or a
remove (the model folders are scanned again on it).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class FolderList(QWidget):
    changed = Signal()

    def __init__(
        self, folders: list[str], chooser_title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.chooser_title = chooser_title
        self.list = QListWidget()
        self.list.addItems(folders)
        self.list.setMaximumHeight(90)
        add, remove = QPushButton("Add folder…"), QPushButton("Remove")
        add.clicked.connect(self._choose)
        remove.clicked.connect(self._remove_selected)
        buttons = QVBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(buttons)

    def folders(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def add(self, folder: str) -> None:
        """Add ``folder`` (once; an empty name is ignored)."""
        if folder and folder not in self.folders():
            self.list.addItem(folder)
            self.changed.emit()

    def clear(self) -> None:
        self.list.clear()

    def _choose(self) -> None:
        self.add(QFileDialog.getExistingDirectory(self, self.chooser_title))

    def _remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.changed.emit()
