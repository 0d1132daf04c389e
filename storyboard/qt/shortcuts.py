"""Help > Keyboard shortcuts: every action of the window with its keys, read from the actions
themselves so the list can never drift from what the keys really do."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget


def shortcut_rows(actions: Sequence[QAction]) -> list[tuple[str, str]]:
    rows = {}
    for action in actions:
        keys = ", ".join(
            k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
        )
        if keys:
            rows[action.text().replace("&", "")] = keys
    return sorted(rows.items())


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None, actions: Sequence[QAction]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(actions)
        table = QTableWidget(len(rows), 2)
        table.setObjectName("shortcuts")
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        for number, (text, keys) in enumerate(rows):
            table.setItem(number, 0, QTableWidgetItem(text))
            table.setItem(number, 1, QTableWidgetItem(keys))
        table.resizeColumnsToContents()
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        self.resize(460, 520)
