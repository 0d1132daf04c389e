"""What a window shows when it is not the only one on a project.

A project open in another window, or being written by ``main.py generate``, opens read-only here
(:class:`storyboard.qt.document.Document`): the banner says who holds it, and once they are gone
offers to take the project over (it reloads from disk, with their autosave offered back if they
crashed). A save that finds ``project.json`` changed on disk asks what to do instead of
overwriting it.
"""

from __future__ import annotations

import socket
from enum import Enum

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from storyboard.core.ownership import LOCK_FILE, live_holder
from storyboard.core.save_guard import ProjectChangedOnDisk
from storyboard.qt.document import Document

POLL_MS = 2000  # how often a read-only window looks whether the holder is gone


class ReadOnlyBanner(QWidget):
    """Above the workspace of a read-only window: who holds the project; *Take over* once the
    holder is gone."""

    take_over = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("readOnlyBanner")
        self.setStyleSheet(  # its own colours, like the error banner, readable in either theme
            "#readOnlyBanner { background: #dbe9f7; border-bottom: 1px solid #8fb3d9; }"
            "#readOnlyBanner QLabel { color: #102a43; }"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton("Take over")
        self.button.clicked.connect(self.take_over)
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self.document: Document | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.refresh)
        self.hide()

    def watch(self, document: Document) -> None:
        """Follow ``document``: shown while it is read-only."""
        self.document = document
        if document.read_only:
            self.refresh()
            self.show()
            self.timer.start()
        else:
            self.timer.stop()
            self.hide()

    def refresh(self) -> None:
        document = self.document
        if document is None or document.holder is None or document.path is None:
            return
        holder = live_holder(document.path)
        if holder is not None:
            document.holder = holder  # another window may have taken over meanwhile
            text = (
                f"Read-only: this project is open in {holder.describe()}. You can look at it "
                "here and use Save As for a copy; edits made here are not kept."
            )
            if holder.host != socket.gethostname():  # its process cannot be checked
                text += (
                    f" If that computer no longer has it open, delete {document.path / LOCK_FILE}"
                    " and open the project again."
                )
        else:
            text = (
                f"Read-only: {document.holder.describe()} no longer has this project open. "
                "Take over to edit it here (it is read again from disk)."
            )
        self.label.setText(text)
        self.button.setVisible(holder is None)

    def holder_gone(self) -> bool:
        return self.isVisible() and self.button.isVisible()


class Conflict(Enum):
    SAVE_AS = "Save As…"
    RELOAD = "Reload"
    OVERWRITE = "Overwrite"
    CANCEL = "Cancel"


def ask_save_conflict(parent: QWidget, error: ProjectChangedOnDisk) -> Conflict:
    """``project.json`` changed on disk since it was opened here: what now?"""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("The project changed on disk")
    box.setText(
        f"{error.path} was saved by another program or window after you opened it here. "
        "Saving now would overwrite that version."
    )
    box.setInformativeText(
        "Save As keeps your version as a new project beside it. Reload shows the version on "
        "disk (your changes since your last save here are lost). Overwrite replaces the version "
        "on disk with yours."
    )
    buttons: dict[object, Conflict] = {
        box.addButton(Conflict.SAVE_AS.value, QMessageBox.ButtonRole.AcceptRole): Conflict.SAVE_AS,
        box.addButton(Conflict.RELOAD.value, QMessageBox.ButtonRole.DestructiveRole): (
            Conflict.RELOAD
        ),
        box.addButton(Conflict.OVERWRITE.value, QMessageBox.ButtonRole.DestructiveRole): (
            Conflict.OVERWRITE
        ),
        box.addButton(QMessageBox.StandardButton.Cancel): Conflict.CANCEL,
    }
    box.exec()
    return buttons.get(box.clickedButton(), Conflict.CANCEL)
