"""The window's project files: which project is open, and its way to and from the disk.

New, new from a script, the sample, open, import, reload and take over each bring a project into
the window; save and save as write it (a save conflict asks what to do); the autosave keeps it
in ``recovery.json``; an untitled project says where its images go. Each asks before the open
project, or results held in memory, would be lost. The window owns one of these and shows
whichever document it hands over (``MainWindow.set_document``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from storyboard.core.errors import ProjectCorrupt, ProjectError
from storyboard.core.model import Project, Scene
from storyboard.core.persistence import BUNDLE_SUFFIX, LoadedProject, load_project
from storyboard.core.resources import sample_project
from storyboard.core.save_guard import ProjectChangedOnDisk
from storyboard.qt.document import Document
from storyboard.qt.errors import show_error
from storyboard.qt.ownership import Conflict, ask_save_conflict
from storyboard.qt.recovery import offer_recovery, offer_untitled, open_damaged
from storyboard.qt.widgets.script_dialog import ScriptDialog

if TYPE_CHECKING:
    from storyboard.qt.main_window import MainWindow


def empty_project() -> Project:
    """What New opens: one empty scene, so that the first panel has somewhere to go."""
    project = Project()
    scene = Scene(title="Scene 1")
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    return project


class ProjectFiles(QObject):
    UNTITLED_NOTICE = (
        "Not saved yet: the images are kept with the autosave until you save the project "
        "(after a crash, the next start offers them back)."
    )

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start(max(5, window.settings.autosave_seconds) * 1000)
        self._told_untitled: set[int] = set()  # documents told where their images go
        window.controller.busy.connect(self._tell_where_untitled_work_goes)

    # -- closing the open project ---------------------------------------------------------------

    def may_close(self) -> bool:
        """Before the project or the window closes: False when the artist keeps it open (results
        held in memory, or unsaved changes, they chose not to lose)."""
        return self.window.held.may_drop() and self.maybe_save()

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False means the user cancelled."""
        if not self.window.document.is_modified():
            return True
        answer = QMessageBox.question(
            self.window,
            "Unsaved changes",
            "Save the changes to this project before closing it?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def replace_document(self, document: Document) -> bool:
        """Show ``document`` instead of the open project once that one may close; else
        ``document``'s session ends and the window keeps what it had."""
        if not self.may_close():
            document.close_session()
            return False
        self._swap(document)
        return True

    def _swap(self, document: Document) -> None:
        window = self.window
        for job in window.controller.jobs:  # the old project's jobs stop; their images are kept
            if job.document is window.document:
                window.controller.cancel(job.id)
        window.document.close_session()
        window.set_document(document)

    def close_project(self) -> None:
        self.new_project()

    # -- bringing a project in ------------------------------------------------------------------

    def new_project(self) -> None:
        self.replace_document(Document(empty_project()))

    def new_from_script(self) -> None:
        dialog = ScriptDialog(self.window, model_source=self.window.settings.model_source)
        if dialog.exec() and dialog.project() is not None:
            project = dialog.project()
            assert project is not None
            self.replace_document(Document(project))

    def open_sample(self) -> None:
        """The sample story as a new untitled project: the artist's edits never change it."""
        sample = sample_project()
        if sample is None:
            return
        try:
            loaded = load_project(sample, remove_temps=False)
        except ProjectError as exc:
            show_error(self.window, "Could not open the sample", str(exc))
            return
        self.replace_document(Document(loaded.project))

    def open_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Open project folder (….storyboard)")
        if folder:
            self.open_path(Path(folder))

    def open_path(self, path: Path) -> bool:
        here = self.window.document.path
        if here is not None and here.absolute() == Path(path).absolute():
            return self.may_close() and self.reload()
        try:
            document, loaded = Document.open(path)
        except ProjectCorrupt as exc:  # its autosave may still be good
            damaged = open_damaged(self.window, path, exc)
            if damaged is None:
                show_error(self.window, "Could not open the project", str(exc))
                return False
            document, loaded = damaged
        except ProjectError as exc:
            show_error(self.window, "Could not open the project", str(exc))
            return False
        if not self.replace_document(document):
            return False
        self.after_open(loaded)
        return True

    def after_open(self, loaded: LoadedProject) -> None:
        """What follows opening a project: recovery offer, warnings, recent files."""
        window = self.window
        document = window.document
        recovered = offer_recovery(window, document)
        if recovered is not None:
            document.close_session()
            window.set_document(recovered)
        if loaded.warnings:
            window.banner.show_message(
                f"The project opened with {len(loaded.warnings)} warning(s).",
                "\n".join(loaded.warnings),
            )
        window.settings.add_recent(document.bundle)
        window.store_settings()
        # read ahead so that a regenerate after a restart finds its banks in the file cache
        window.bank_readahead.open(document.bundle)

    def reload(self) -> bool:
        """Show the project as it is on disk now (this window keeps owning it); asks nothing."""
        try:
            document, loaded = self.window.document.reloaded()
        except ProjectError as exc:
            show_error(self.window, "Could not reload the project", str(exc))
            return False
        self._swap(document)
        self.after_open(loaded)
        return True

    def take_over(self) -> bool:
        """The read-only window's project is free again: open it here for editing."""
        path = self.window.document.path
        return path is not None and self.open_path(path)

    def offer_untitled_work(self) -> None:
        """At start: untitled work a crash left behind is offered back."""
        document = offer_untitled(self.window)
        if document is not None:
            self.replace_document(document)

    def import_storyboarder(self) -> None:
        from storyboard.core.storyboarder import import_storyboarder

        name, _ = QFileDialog.getOpenFileName(
            self.window, "Import Storyboarder project", "", "Storyboarder (*.storyboarder)"
        )
        if not name:
            return
        document = Document(empty_project())
        try:
            project, warnings = import_storyboarder(Path(name), document.assets)
        except ProjectError as exc:
            document.close_session()
            show_error(self.window, "Import failed", str(exc))
            return
        document.project = project
        document.mark_unsaved()
        if self.replace_document(document) and warnings:
            self.window.banner.show_message("Imported with warnings.", "\n".join(warnings))

    # -- writing it -----------------------------------------------------------------------------

    def save(self) -> bool:
        if self.window.document.path is None:
            return self.save_as()
        return self.save_to(None)

    def save_as(self) -> bool:
        name, _ = QFileDialog.getSaveFileName(
            self.window, "Save project as", "", f"Storyboard project (*{BUNDLE_SUFFIX})"
        )
        return bool(name) and self.save_to(Path(name))

    def save_to(self, path: Path | None, overwrite: bool = False) -> bool:
        """Save to the folder ``path`` (None: where the project is); a project changed on disk
        since it was read asks what to do, and any failure is shown: True only once saved."""
        window = self.window
        try:
            saved = window.document.save(path, overwrite=overwrite)
        except ProjectChangedOnDisk as exc:
            choice = ask_save_conflict(window, exc)
            if choice is Conflict.SAVE_AS:
                return self.save_as()
            if choice is Conflict.OVERWRITE:
                return self.save_to(path, overwrite=True)
            if choice is Conflict.RELOAD and window.held.may_drop():
                self.reload()
            return False
        except ProjectError as exc:
            show_error(window, "The project was not saved", str(exc))
            return False
        window.thumbnails.set_bundle(saved)
        window.settings.add_recent(saved)
        window.store_settings()
        window.statusBar().showMessage(f"Saved {saved}", 4000)
        if window.banner.label.text() == self.UNTITLED_NOTICE:  # it is saved now
            window.banner.hide()
        window.held.write()  # a Save as to another drive makes room for them
        return True

    def autosave_now(self) -> None:
        try:
            self.window.document.write_recovery()
        except ProjectError as exc:
            self.window.banner.show_message(f"Autosave failed: {exc}")

    def _tell_where_untitled_work_goes(self, busy: bool) -> None:
        """Once per untitled project, as its first generation starts (not at every one: the
        banner takes room from the canvas on a laptop), the folder in its details; a save
        takes it away (``save_to``)."""
        document = self.window.document
        untitled = document.path is None and document.autosave is not None
        if not busy or not untitled or id(document) in self._told_untitled:
            return
        self._told_untitled.add(id(document))
        self.window.banner.show_message(
            self.UNTITLED_NOTICE,
            f"The untitled project's folder: {document.bundle}",
            action=("Save as…", self.save_as),
        )
