"""The open project in the editor: the Project, its bundle, its undo stack and its autosave.

Every edit reaches the project through :meth:`Document.push`, which wraps the core command in one
generic QUndoCommand, so the Edit menu, the history view and the "modified" flag all come from
the QUndoStack. Views never mutate the project themselves; they listen to :attr:`Document.changed`,
which carries the core :class:`Change` saying what was touched.

A document owns its project folder through the folder's lock (:mod:`storyboard.core.ownership`).
When another window or ``generate`` holds it, the document is read-only: edits are refused, and
it never writes ``project.json``, ``recovery.json`` or the lock. An untitled project gets a
locked folder in the user data folder (:mod:`storyboard.core.untitled`), so it autosaves too.
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
from storyboard.core.ownership import Holder, Program, ProjectLock, ProjectLocked
from storyboard.core.persistence import (
    BUNDLE_SUFFIX,
    LoadedProject,
    checked_encode,
    load_project,
    project_file,
    save_error,
    save_project,
)
from storyboard.core.save_guard import check_unchanged, digest_of
from storyboard.core.untitled import has_own_title, new_untitled, remove_untitled

log = logging.getLogger(__name__)

_MERGE_ID = 0x5B0A  # QUndoCommand.id() for mergeable field edits


class ProjectCommand(QUndoCommand):
    """The one adapter between core commands and Qt's undo stack."""

    def __init__(self, document: Document, command: Command) -> None:
        super().__init__(command.label)
        self.document = document
        self.command = command
        self._done_once = False  # QUndoStack.push calls redo: the first one is the edit itself

    def redo(self) -> None:
        change = self.command.apply(self.document.project)
        self.document.changed.emit(change)
        if self._done_once:
            self.document.stepped.emit(change)
        self._done_once = True

    def undo(self) -> None:
        change = self.command.revert(self.document.project)
        self.document.changed.emit(change)
        self.document.stepped.emit(change)

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
    stepped = Signal(object)  # Change of an undo or a redo (after `changed`), for the selection
    modified_changed = Signal(bool)
    path_changed = Signal(object)  # Path | None
    edit_refused = Signal()  # an edit of a read-only document was not made

    def __init__(
        self,
        project: Project,
        path: Path | None = None,
        *,
        digest: str | None = None,
        lock: ProjectLock | None = None,
    ) -> None:
        """``digest``: of the project.json ``project`` came from (a save checks it is still
        there). ``lock``: the folder's lock, already held (a recovered copy of an open project; an
        untitled project's folder when ``path`` is None); otherwise the folder's lock is taken
        here, and the document is read-only when another program holds it."""
        super().__init__()
        self.project = project
        self.path = path
        self.disk_digest = digest
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self._unsaved_results = False  # generated images are not undoable edits, but need saving
        self.lock: ProjectLock | None = None
        self.holder: Holder | None = None  # who owns the folder while this one is read-only
        self.autosave: Autosave | None = None
        self._untitled: Path | None = None  # an untitled project's folder (user data folder)
        self._scratch: tempfile.TemporaryDirectory[str] | None = None  # when that one fails
        if path is not None:
            self._begin_session(path, lock)
        elif lock is not None:
            self._adopt_untitled(lock)

    # -- opening and saving -------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> tuple[Document, LoadedProject]:
        loaded = load_project(path)
        return cls(loaded.project, loaded.path, digest=loaded.digest), loaded

    def reloaded(self) -> tuple[Document, LoadedProject]:
        """The project as it is on disk now, owned as this one was (for Reload)."""
        assert self.path is not None
        loaded = load_project(self.path)
        lock = None if self.read_only else self.hand_over()
        return Document(loaded.project, loaded.path, digest=loaded.digest, lock=lock), loaded

    @property
    def read_only(self) -> bool:
        """Another window or ``generate`` owns the project: this one only shows it."""
        return self.holder is not None

    @property
    def bundle(self) -> Path:
        """Where images go: the project folder, or the untitled project's folder."""
        if self.path is not None:
            return self.path
        if self._untitled is None and self._scratch is None:
            try:
                self._adopt_untitled(new_untitled())
            except (OSError, ProjectLocked) as exc:  # no user data folder: no autosave either
                log.warning("untitled work goes to a temporary folder: %s", exc)
                self._scratch = tempfile.TemporaryDirectory(
                    prefix="untitled-", suffix=BUNDLE_SUFFIX
                )
        if self._untitled is not None:
            return self._untitled
        assert self._scratch is not None
        return Path(self._scratch.name)

    @property
    def assets(self) -> AssetStore:
        return AssetStore(self.bundle)

    def is_modified(self) -> bool:
        return not self.undo_stack.isClean() or self._unsaved_results

    def save(self, path: Path | None = None, *, overwrite: bool = False) -> Path:
        """Save (to ``path`` for Save As); raises ProjectSaveError with advice on failure,
        ProjectLocked when another program owns the folder, ProjectChangedOnDisk when its
        project.json is not the one opened here (``overwrite``: write over it all the same)."""
        target = path or self.path
        if target is None:
            raise ValueError("an untitled project needs a path")
        if target.suffix != BUNDLE_SUFFIX:
            target = target.with_name(target.name + BUNDLE_SUFFIX)
        elsewhere = self.path is None or target.absolute() != self.path.absolute()
        untitled = self.project.settings.title
        if elsewhere and not has_own_title(self.project):
            self._set_title(target.name.removesuffix(BUNDLE_SUFFIX))
        try:
            saved, data = self._write(target, overwrite)
        except BaseException:
            if self.project.settings.title != untitled:  # not saved: not named either
                self._set_title(untitled)
            raise
        self.disk_digest = digest_of(data)
        if self.autosave is not None:
            self.autosave.saved()
        self._unsaved_results = False
        self.undo_stack.setClean()
        self.modified_changed.emit(False)
        return saved

    def _write(self, target: Path, overwrite: bool) -> tuple[Path, bytes]:
        """Write ``project.json`` to ``target``: the saved folder and the bytes written."""
        data = checked_encode(self.project, target)  # a failure is a ProjectSaveError
        if self.path is not None and target.absolute() == self.path.absolute():
            self._check_owner(self.path)
            if not overwrite:
                check_unchanged(project_file(target), self.disk_digest)
            saved = save_project(self.project, target, assets_from=self.bundle, data=data)
        else:
            saved = self._save_elsewhere(target, data)
        return saved, data

    def _set_title(self, title: str) -> None:
        """A project nobody titled takes the name it is saved as (as ``new NAME`` does), so its
        PDFs and cover say "Lost Hat", not "Untitled". Part of the save, not an undo step."""
        self.project.settings.title = title
        self.changed.emit(Change(settings=True))

    def _check_owner(self, path: Path) -> None:
        if self.holder is not None:
            raise ProjectLocked(path, self.holder)
        if self.lock is None:  # the folder took no lock when it was opened (read-only then)
            try:
                self.lock = ProjectLock.acquire(path, Program.EDITOR)
            except OSError:
                return  # the save itself says why the folder cannot be written
            self.autosave = Autosave(path)
        self.lock.check()

    def _save_elsewhere(self, target: Path, data: bytes) -> Path:
        """Save As: own the new folder first, then write; the old folder is let go."""
        try:
            target.mkdir(parents=True, exist_ok=True)
            lock = ProjectLock.acquire(target, Program.EDITOR)
        except OSError as exc:
            raise save_error(target, exc) from exc
        try:
            saved = save_project(self.project, target, assets_from=self.bundle, data=data)
        except BaseException:
            lock.release()
            raise
        self.close_session()  # the old folder's autosave and lock (an untitled one is deleted)
        self.path, self.lock, self.holder, self.autosave = saved, lock, None, Autosave(saved)
        self.path_changed.emit(saved)
        return saved

    def _begin_session(self, path: Path, lock: ProjectLock | None) -> None:
        if lock is None:
            try:
                lock = ProjectLock.acquire(path, Program.EDITOR)
            except ProjectLocked as exc:
                self.holder = exc.holder
                log.info("%s opens read-only: %s", path, exc)
                return
            except OSError as exc:  # a read-only project can still be viewed
                log.warning("no autosave for %s: %s", path, exc)
                return
        self.lock = lock
        self.autosave = Autosave(path)

    def _adopt_untitled(self, lock: ProjectLock) -> None:
        self._untitled, self.lock, self.autosave = lock.bundle, lock, Autosave(lock.bundle)

    def write_recovery(self) -> None:
        """Autosave now (on the timer and after each generated image)."""
        if self.read_only or not self.is_modified():
            return
        _ = self.bundle  # an untitled project gets its folder now if it has none yet
        if self.autosave is None:
            return
        if self.lock is not None:
            self.lock.check()
        self.autosave.write(self.project)

    def hand_over(self) -> ProjectLock | None:
        """Give the folder's lock to the document that replaces this one (a recovered or
        reloaded copy): closing this one then leaves the lock and the autosave alone."""
        lock, self.lock, self.autosave, self._untitled = self.lock, None, None, None
        return lock

    def close_session(self) -> None:
        """Let the folder go: the autosave (the artist saved or discarded the work) and the lock;
        an untitled project's folder goes too. A read-only document touches nothing."""
        if self.lock is not None and self.lock.holds():
            if self.autosave is not None:
                self.autosave.discard()
            self.lock.release()
            if self._untitled is not None:
                remove_untitled(self._untitled)
        self.lock, self.autosave, self._untitled = None, None, None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    # -- editing ----------------------------------------------------------------------------------

    def push(self, command: Command) -> None:
        """Apply an edit as one undo step (merged with the previous one when it's typing)."""
        if self.read_only:
            self.edit_refused.emit()
            self.changed.emit(everything(self.project))  # a view that showed the edit redraws
            return
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


def everything(project: Project) -> Change:
    """A change touching every object: views redraw all of the project."""
    return Change(
        frozenset(project.panels),
        frozenset(project.scenes),
        frozenset(project.characters),
        frozenset(project.pages),
        settings=True,
        structure=True,
    )
