"""File > Conform to edited timeline…: an editor's cut applied back to the open project.

The timeline (``.otio``, FCP7 ``.xml``, ``.edl``) is read and matched to the panels
(:mod:`storyboard.core.conform`); its changes (durations, order, removed shots) are pushed as one
command, so one Undo puts the project back. The summary opens beside the window (not blocking
it): what changed, and what could not be matched (left alone). A read-only project, or a
timeline that cannot be read or matches nothing, changes nothing and says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from storyboard.core.conform import ConformResult, conform
from storyboard.core.errors import ProjectError
from storyboard.qt.document import Document
from storyboard.qt.errors import show_error

log = logging.getLogger(__name__)

FILTER = "Edited timeline (*.otio *.xml *.edl)"


class ConformAction(QObject):
    conformed = Signal(object)  # the ConformResult (tests, the status bar)

    def __init__(self, window: QWidget, document: Callable[[], Document]) -> None:
        super().__init__(window)
        self.window = window
        self.document = document
        self.action = QAction("Conform to edited &timeline…", self)
        self.action.setStatusTip(
            "Apply an editor's cut (.otio, Premiere/FCP7 .xml, .edl) to the panels: "
            "durations, order, removed shots, as one undo step"
        )
        self.action.triggered.connect(self._ask)
        self.summary: QMessageBox | None = None

    def _ask(self) -> None:  # (triggered passes a bool that is no path)
        self.conform()

    def conform(self, path: Path | None = None) -> ConformResult | None:
        """Conform the open project to ``path`` (asked for when None); the result, or None when
        nothing was read."""
        from storyboard.export.timeline_read import read_timeline

        document = self.document()
        if document.read_only:
            show_error(
                self.window,
                "Conform not possible",
                "This project is open read-only (another window or program holds it).",
            )
            return None
        if path is None:
            name, _ = QFileDialog.getOpenFileName(
                self.window, "Conform to edited timeline", "", FILTER
            )
            if not name:
                return None
            path = Path(name)
        try:
            edited = read_timeline(path, document.project.settings.fps)
            result = conform(document.project, edited)
        except ProjectError as exc:
            show_error(self.window, "Timeline not conformed", str(exc))
            return None
        if result.command is not None:
            document.push(result.command)
        self._show(path, result)
        self.conformed.emit(result)
        return result

    def _show(self, path: Path, result: ConformResult) -> None:
        if self.summary is not None:
            self.summary.close()
        box = QMessageBox(self.window)
        box.setObjectName("conform-summary")
        box.setWindowTitle("Conformed to edited timeline")
        box.setIcon(QMessageBox.Icon.Information)
        done = f"{result.counts()} (Edit > Undo puts them back)"
        box.setText(f"Conformed to {path.name}: {done if result.command else 'nothing to change'}.")
        box.setInformativeText("\n".join(result.lines()))
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.open()  # beside the window: the artist can look at the timeline meanwhile
        self.summary = box
