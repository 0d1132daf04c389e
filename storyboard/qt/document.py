"""The open project in the editor: the Project, its bundle, its undo stack and its autosave.

Every edit reaches the project through :meth:`Document.push`, which wraps the core command in one
generic QUndoCommand, so the Edit menu, the history view and the "modified" flag all come from
the QUndoStack. Views never mutate the project themselves; they listen to :attr:`Document.changed`,
which carries the core :class:`Change` saying what was touched.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from storyboard.core.assets import AssetStore
from storyboard.core.autosave import Autosave
from storyboard.core.commands import Change, Command, EditFields
from storyboard.core.model import Project
from storyboard.core.persistence import BUNDLE_SUFFIX, LoadedProject, load_project, save_project

log = logging.getLogger(__name__)

_MERGE_ID = 0x5B0A  # QUndoCommand.id() for mergeable field edits


class ProjectCommand(QUndoCommand):
    """The one adapter between core commands and Qt's undo stack."""

    def __init__(self, document: Document, command: Command) -> None:
        super().__init__(command.label)
        self.document = document
        self.command = command

    def redo(self) -> None:
        self.document.changed.emit(self.command.apply(self.document.project))

    def undo(self) -> None:
        self.document.changed.emit(self.command.revert(self.document.project))

    def id(self) -> int:
        return _MERGE_ID if isinstance(self.command, EditFields) else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt API)
        """Typing into a field: consecutive edits of the same fields become one undo step."""
        if not isinstance(other, ProjectCommand):
            return False
        mine, theirs = self.command, other.command
        if isinstance(mine, EditFields) and isinstance(theirs, EditFields):
            return mine.merge(theirs)
        return False


class Document(QObject):
    changed = Signal(object)  # Change
    modified_changed = Signal(bool)
    path_changed = Signal(object)  # Path | None

    def __init__(self, project: Project, path: Path | None = None) -> None:
        super().__init__()
        self.project = project
        self.path = path
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self._unsaved_results = False  # generated images are not undoable edits, but need saving
        # An untitled project still needs a place for generated images from the first minute.
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self.autosave: Autosave | None = None
        if path is not None:
            self._begin_session(path)

    # -- opening and saving -------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> tuple[Document, LoadedProject]:
        loaded = load_project(path)
        return cls(loaded.project, loaded.path), loaded

    @property
    def bundle(self) -> Path:
        """Where images go: the project folder, or a scratch folder until the first save."""
        if self.path is not None:
            return self.path
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="untitled-", suffix=BUNDLE_SUFFIX)
        return Path(self._scratch.name)

    @property
    def assets(self) -> AssetStore:
        return AssetStore(self.bundle)

    def is_modified(self) -> bool:
        return not self.undo_stack.isClean() or self._unsaved_results

    def save(self, path: Path | None = None) -> Path:
        """Save (to ``path`` for Save As); raises ProjectSaveError with advice on failure."""
        target = path or self.path
        if target is None:
            raise ValueError("an untitled project needs a path")
        if target.suffix != BUNDLE_SUFFIX:
            target = target.with_name(target.name + BUNDLE_SUFFIX)
        saved = save_project(self.project, target, assets_from=self.bundle)
        if saved != self.path:
            self.close_session()
            self.path = saved
            self._begin_session(saved)
            self.path_changed.emit(saved)
        if self.autosave is not None:
            self.autosave.saved()
        self._unsaved_results = False
        self.undo_stack.setClean()
        self.modified_changed.emit(False)
        return saved

    def _begin_session(self, path: Path) -> None:
        self.autosave = Autosave(path)
        try:
            self.autosave.start_session()
        except OSError as exc:  # a read-only project can still be viewed
            log.warning("no autosave for %s: %s", path, exc)
            self.autosave = None

    def write_recovery(self) -> None:
        """Autosave now (on the timer and after each generated image)."""
        if self.autosave is not None and self.is_modified():
            self.autosave.write(self.project)

    def close_session(self) -> None:
        if self.autosave is not None:
            self.autosave.end_session()
            self.autosave = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    # -- editing ----------------------------------------------------------------------------------

    def push(self, command: Command) -> None:
        """Apply an edit as one undo step (merged with the previous one when it's typing)."""
        self.undo_stack.push(ProjectCommand(self, command))

    def record_result(self, command: Command) -> Change:
        """Apply a generation result (a new candidate): kept, saved, but not undoable."""
        change = command.apply(self.project)
        self.mark_unsaved()
        self.changed.emit(change)
        return change

    def mark_unsaved(self) -> None:
        """The project differs from its file without an undo step (imported, recovered, results)."""
        if not self._unsaved_results:
            self._unsaved_results = True
            self.modified_changed.emit(True)

    def _clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean or self._unsaved_results)
