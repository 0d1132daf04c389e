"""What the editor offers back after a crash.

Three cases, each asked of the artist, none losing anything they did not choose to drop:
- a project whose last owner crashed: its ``recovery.json`` is newer than the save;
- a damaged ``project.json`` beside a good ``recovery.json``: the project opens from the autosave;
- untitled work left in the user data folder: offered at the next start.
A damaged autosave is never fatal: it is set aside (``recovery.damaged.json``), said so, and the
project opens as last saved.

Only the project's owner is asked (a window that holds its lock): a live holder in another window
is not a crash, so a read-only window never sees the question.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from storyboard.core.autosave import Autosave
from storyboard.core.errors import ProjectError
from storyboard.core.ownership import Program, ProjectLock, live_holder
from storyboard.core.persistence import LoadedProject, project_file
from storyboard.core.save_guard import file_digest
from storyboard.core.untitled import left_behind, remove_untitled
from storyboard.qt.document import Document
from storyboard.qt.errors import show_error

log = logging.getLogger(__name__)
Button = QMessageBox.StandardButton


def _restore(parent: QWidget, autosave: Autosave) -> LoadedProject | None:
    """The autosaved project, or None (said why) when the file is damaged."""
    try:
        return autosave.restore()
    except (ProjectError, OSError) as exc:
        try:
            kept = f"It was kept as {autosave.set_aside()}"
        except OSError:
            kept = f"It is still at {autosave.recovery}"
        show_error(
            parent,
            "The autosave could not be read",
            f"{exc}\n\n{kept}, and the project opens as it was last saved.",
        )
        return None


def offer_recovery(parent: QWidget, document: Document) -> Document | None:
    """Ask about an autosave the project's last owner left; the recovered document (holding
    ``document``'s lock), or None."""
    autosave = document.autosave
    if document.read_only or document.path is None or autosave is None:
        return None
    if document.is_modified():  # already the recovered state (opened from the autosave)
        return None
    pending = autosave.pending()
    if pending is None or not pending.newer_than_save:
        return None
    answer = QMessageBox.question(
        parent,
        "Recover unsaved work?",
        f"The editor did not close cleanly. Changes autosaved at {pending.when()} were not "
        "saved to the project. Recover them? (No keeps the last save and discards the autosave.)",
    )
    if answer != Button.Yes:
        autosave.discard()
        return None
    recovered = _restore(parent, autosave)
    if recovered is None:
        return None
    fresh = Document(
        recovered.project, document.path, digest=document.disk_digest, lock=document.hand_over()
    )
    fresh.mark_unsaved()
    return fresh


def open_damaged(
    parent: QWidget, path: Path, error: ProjectError
) -> tuple[Document, LoadedProject] | None:
    """``project.json`` cannot be read: open the project from its autosave if there is one and
    the artist wants it (a save then replaces the damaged file). None: nothing to offer."""
    bundle = project_file(Path(path)).parent
    autosave = Autosave(bundle)
    pending = autosave.pending()
    if pending is None or live_holder(bundle) is not None:
        return None
    answer = QMessageBox.question(
        parent,
        "Open the autosave?",
        f"{error}\n\nThis project has an autosave from {pending.when()}. Open the project from "
        "it? (Saving then replaces the damaged project.json.)",
    )
    if answer != Button.Yes:
        return None
    try:
        lock: ProjectLock | None = ProjectLock.acquire(bundle, Program.EDITOR)
    except OSError as exc:  # a read-only folder: shown, not saved
        log.warning("%s: no lock (%s)", bundle, exc)
        lock = None
    except ProjectError as exc:  # someone opened it meanwhile
        show_error(parent, "Could not open the project", str(exc))
        return None
    recovered = _restore(parent, autosave)
    if recovered is None:
        if lock is not None:
            lock.release()
        return None
    digest = file_digest(project_file(bundle))  # the damaged file: a save may replace it
    document = Document(recovered.project, bundle, digest=digest, lock=lock)
    document.mark_unsaved()
    recovered.warnings.insert(0, "project.json is damaged; this is its autosave: save to repair it")
    return document, recovered


def offer_untitled(parent: QWidget) -> Document | None:
    """Untitled work a crashed editor left in the user data folder, newest first: Recover,
    Discard (deleted) or Cancel (asked again next time)."""
    for pending in left_behind():
        bundle = pending.path.parent
        answer = QMessageBox.question(
            parent,
            "Recover untitled work?",
            f"An untitled project was not saved when the editor last closed (autosaved "
            f"{pending.when()}, in {bundle}). Recover it? Discard deletes it; Cancel asks "
            "again next time.",
            Button.Yes | Button.Discard | Button.Cancel,
        )
        if answer == Button.Discard:
            remove_untitled(bundle)
            continue
        if answer != Button.Yes:
            return None
        try:
            lock = ProjectLock.acquire(bundle, Program.EDITOR)
        except (ProjectError, OSError) as exc:
            log.warning("%s: cannot recover (%s)", bundle, exc)
            continue
        recovered = _restore(parent, Autosave(bundle))
        if recovered is None:
            lock.release()
            return None
        document = Document(recovered.project, lock=lock)
        document.mark_unsaved()
        return document
    return None
