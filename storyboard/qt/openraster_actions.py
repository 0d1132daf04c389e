"""OpenRaster in the editor: the selected panels out to a paint program, a painted file back in.

Export runs in the background like the other exports (``ExportActions.export_openraster``).
Import reads the file into the current panel (:mod:`storyboard.core.openraster`): a changed
image is kept as a candidate like a generated one, and the layers and accepted image change in
one undoable edit, so Undo gives the panel back its layers and image as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QWidget

from storyboard.core.errors import ProjectError
from storyboard.core.openraster import OraImport, import_commands, import_ora
from storyboard.qt.document import Document
from storyboard.qt.errors import show_error
from storyboard.qt.exports import ExportActions
from storyboard.qt.selection import Selection


def import_openraster(document: Document, panel_id: str, source: Path) -> OraImport:
    """Give the panel the file's layers and image: one undo step (raises ProjectError)."""
    panel = document.project.panels[panel_id]
    result = import_ora(source, panel, document.assets)
    add, edit = import_commands(result, panel)
    if add is not None:
        document.record_result(add)
    document.push(edit)
    return result


class OpenRasterActions(QObject):
    imported = Signal(object)  # OraImport

    def __init__(
        self,
        window: QWidget,
        document: Callable[[], Document],
        selection: Selection,
        exports: ExportActions,
    ) -> None:
        super().__init__(window)
        self.window, self.document, self.selection = window, document, selection
        self.export_action = QAction("Export panels as OpenRaster…", self)
        self.export_action.setToolTip("Layered .ora files for Krita, GIMP or MyPaint")
        self.export_action.triggered.connect(lambda: exports.export_openraster(selection.selected))
        self.export_psd_action = QAction("Export panels as Photoshop (.psd)…", self)
        self.export_psd_action.setToolTip("Layered .psd files for Photoshop, Krita or Clip Studio")
        self.export_psd_action.triggered.connect(
            lambda: exports.export_openraster(selection.selected, kind="psd")
        )
        self.import_action = QAction("Import OpenRaster into panel…", self)
        self.import_action.triggered.connect(self._ask_and_import)

    def _ask_and_import(self) -> None:  # (triggered's "checked" is not a file)
        self.import_file()

    def import_file(self, source: Path | None = None) -> OraImport | None:
        document, panel_id = self.document(), self.selection.current
        if panel_id is None or panel_id not in document.project.panels:
            show_error(self.window, "No panel", "Select the panel to import the file into.")
            return None
        if document.read_only:
            document.edit_refused.emit()
            return None
        if source is None:
            name, _ = QFileDialog.getOpenFileName(
                self.window, "Import OpenRaster", "", "OpenRaster (*.ora)"
            )
            if not name:
                return None
            source = Path(name)
        try:
            result = import_openraster(document, panel_id, source)
        except ProjectError as exc:
            show_error(self.window, "OpenRaster not imported", str(exc))
            return None
        self.imported.emit(result)
        return result
