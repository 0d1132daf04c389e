"""Errors in the editor: logged to a rotating file, shown to the artist, never a silent crash.

An unexpected exception in a slot would end a PySide6 application; the hook installed here logs
it with its traceback and shows it in a dialog with "Copy details", and the editor keeps running
with the project as it was.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from storyboard.core.settings import log_dir

log = logging.getLogger(__name__)


def setup_logging() -> Path | None:
    """Log INFO and above to ``editor.log`` (5 x 1 MB) in the user's log folder."""
    folder = log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(folder / "editor.log", maxBytes=1_000_000, backupCount=5)
    except OSError as exc:
        logging.basicConfig(level=logging.INFO)
        log.warning("no log file (%s); logging to the console", exc)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return folder / "editor.log"


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(message)
    if details:
        box.setDetailedText(details)
        copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
        copy.clicked.disconnect()
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(f"{message}\n\n{details}"))
    box.addButton(QMessageBox.StandardButton.Close)
    box.exec()


def install_exception_hook(parent: QWidget | None = None) -> None:
    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        details = "".join(traceback.format_exception(kind, error, tb))
        log.error("unexpected error\n%s", details)
        show_error(
            parent,
            "Something went wrong",
            f"{kind.__name__}: {error}\n\nYour project is still open. Please save, and report "
            "this with the details below.",
            details,
        )

    sys.excepthook = hook


class ErrorBanner(QWidget):
    """An inline message above the workspace: for problems that need reading, not a click."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("banner")
        self.setStyleSheet(  # its own text colour: the light yellow stays under a dark theme
            "#banner { background: #fff3cd; border-bottom: 1px solid #e0c36a; }"
            "#banner QLabel { color: #3d3000; }"
        )
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.details = ""
        self.action = QPushButton()  # the one thing that fixes it, where there is one
        self.action.hide()
        self.action.clicked.connect(self._on_action)
        self._act: Callable[[], object] = lambda: None
        copy, close = QPushButton("Copy details"), QPushButton("Dismiss")
        copy.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(f"{self.label.text()}\n{self.details}")
        )
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action)
        layout.addWidget(copy)
        layout.addWidget(close)
        self.hide()

    def show_message(
        self,
        message: str,
        details: str = "",
        action: tuple[str, Callable[[], object]] | None = None,
    ) -> None:
        """Show ``message``; ``action`` (a button's text and what it does) offers the fix."""
        log.warning("%s %s", message, details)
        self.label.setText(message)
        self.details = details
        self.action.setVisible(action is not None)
        if action is not None:
            self.action.setText(action[0])
            self._act = action[1]
        self.show()

    def _on_action(self) -> None:
        self._act()
