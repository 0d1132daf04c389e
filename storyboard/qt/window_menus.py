"""The window's menu bar: File, Edit, Panel, Generate, View and Help.

The menus gather actions that other parts own (the panel, generation, export and OpenRaster
actions, the player's, each dock's toggle) and make the few that belong to no one else: the
project-file items (which call the window's ``files``), Undo/Redo, the recent projects, and
Help's shortcuts table and About box. The toolbars (``toolbar.py``) show some of these same
actions, so they are kept here as attributes (``new``, ``open``, ``save``, ``undo``, …).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence, QUndoGroup
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from storyboard.qt.document import Document
from storyboard.qt.shortcuts import ShortcutsDialog

if TYPE_CHECKING:
    from storyboard.qt.main_window import MainWindow


class WindowMenus(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        bar = window.menuBar()
        file, files = bar.addMenu("&File"), window.files
        self.new = self._add(file, "&New", QKeySequence.StandardKey.New, files.new_project)
        self.from_script = self._add(
            file, "New from story &script…", "Ctrl+Shift+N", files.new_from_script
        )
        self.open = self._add(file, "&Open…", QKeySequence.StandardKey.Open, files.open_dialog)
        self.recent = file.addMenu("Open &recent")
        self.recent.aboutToShow.connect(self._fill_recent)
        self._add(file, "Import &Storyboarder…", None, files.import_storyboarder)
        file.addSeparator()
        self.save = self._add(file, "&Save", QKeySequence.StandardKey.Save, files.save)
        self._add(file, "Save &as…", QKeySequence.StandardKey.SaveAs, files.save_as)
        export = file.addMenu("&Export")
        for action in window.exports.actions():
            export.addAction(action)
        openraster = window.openraster
        export.addActions([openraster.export_action, openraster.export_psd_action])
        file.addAction(openraster.import_action)
        file.addAction(window.conform_action.action)
        file.addSeparator()
        self._add(file, "Project settings…", "Ctrl+Shift+,", window.edit_project_settings)
        self._add(file, "Settings…", QKeySequence.StandardKey.Preferences, window.edit_settings)
        file.addSeparator()
        self._add(file, "&Close project", QKeySequence.StandardKey.Close, files.close_project)
        self._add(file, "&Quit", QKeySequence.StandardKey.Quit, window.close)

        edit = bar.addMenu("&Edit")
        self._install_undo_actions(edit, window.document)

        panels = bar.addMenu("&Panel")
        for action in window.panel_actions.actions():
            panels.addAction(action)
        panels.addSeparator()
        panels.addActions(
            [openraster.export_action, openraster.export_psd_action, openraster.import_action]
        )
        panels.addSeparator()
        panels.addActions(window.player.menu_actions())
        generate = bar.addMenu("&Generate")
        for action in window.generation.actions():
            generate.addAction(action)
        view = bar.addMenu("&View")
        for dock in window.docks.values():
            view.addAction(dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        self._add(help_menu, "&Keyboard shortcuts", "F1", self.show_shortcuts)
        self._add(help_menu, "&About", None, self.about)

    def _add(
        self,
        menu: QMenu,
        text: str,
        key: QKeySequence.StandardKey | str | None,
        slot: Callable[[], object],
    ) -> QAction:
        action = QAction(text, self.window)
        if key is not None:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _install_undo_actions(self, edit: QMenu, document: Document) -> None:
        """Undo/Redo menu items named after the next step ("Undo Edit dialogue"); a QUndoGroup
        keeps them following whichever project is open (``set_document``)."""
        self.undo_group = QUndoGroup(self.window)
        self.set_document(document)
        self.undo = self.undo_group.createUndoAction(self.window, "&Undo")
        self.undo.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.redo = self.undo_group.createRedoAction(self.window, "&Redo")
        self.redo.setShortcuts(
            [QKeySequence(QKeySequence.StandardKey.Redo), QKeySequence("Ctrl+Y")]
        )
        edit.addAction(self.undo)
        edit.addAction(self.redo)

    def set_document(self, document: Document) -> None:
        """Undo and Redo act on this project's steps from now on."""
        self.undo_group.addStack(document.undo_stack)
        self.undo_group.setActiveStack(document.undo_stack)

    def _fill_recent(self) -> None:
        self.recent.clear()
        recent = self.window.settings.recent_projects
        for entry in recent:
            action = self.recent.addAction(entry)
            action.triggered.connect(lambda _=False, p=entry: self.window.files.open_path(Path(p)))
        if not recent:
            self.recent.addAction("(none)").setEnabled(False)

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.window, self.window.findChildren(QAction)).exec()

    def about(self) -> None:
        QMessageBox.about(
            self.window,
            "About",
            f"Storyboard editor {QApplication.applicationVersion()}: consistent characters "
            "across every panel, generated offline on your own GPU.\nApache License 2.0. "
            "Fonts: Comic Neue and Noto Sans (SIL Open Font License).",
        )
