"""Autosave and crash recovery for an open project.

While a project is open, its owner (the editor window that holds the project's lock, see
:mod:`storyboard.core.ownership`) writes the whole project to ``recovery.json`` in the bundle on a
timer and after each generated image (atomically, like a save). A clean Save removes the recovery
file; a clean close removes it and the lock. So a recovery file found by the next owner means the
last one did not close cleanly, and the newer state is offered back. The real ``project.json`` is
never touched by autosave: declining a recovery loses nothing that was saved. Untitled projects
autosave the same way into their folder in the user data folder (:mod:`storyboard.core.untitled`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storyboard.core.atomic import atomic_write
from storyboard.core.bundle_paths import inside
from storyboard.core.model import Project
from storyboard.core.persistence import (
    PROJECT_FILE,
    LoadedProject,
    decode,
    encode,
    encode_error,
    save_error,
)

log = logging.getLogger(__name__)

RECOVERY_FILE = "recovery.json"
DAMAGED_RECOVERY_FILE = "recovery.damaged.json"


@dataclass(frozen=True, slots=True)
class PendingRecovery:
    path: Path
    saved_at: datetime
    newer_than_save: bool

    def when(self) -> str:
        return self.saved_at.astimezone().strftime("%Y-%m-%d %H:%M")


class Autosave:
    """The recovery side of one open project bundle (only its lock holder writes it)."""

    def __init__(self, bundle: Path) -> None:
        self.bundle = Path(bundle)
        self.recovery = self.bundle / RECOVERY_FILE

    def write(self, project: Project) -> None:
        """Write the current state; failures are reported but never lose the open project."""
        try:
            atomic_write(self.recovery, encode(project))
        except OSError as exc:
            raise save_error(self.recovery, exc) from exc
        except (ValueError, TypeError, RecursionError) as exc:
            raise encode_error(self.recovery, exc) from exc

    def saved(self) -> None:
        """The project was just saved: the recovery copy is obsolete."""
        self.recovery.unlink(missing_ok=True)

    def pending(self) -> PendingRecovery | None:
        """An autosave left behind by a session that did not close cleanly, if any (never one
        that a link puts outside the bundle: that is not this project's)."""
        if not inside(self.bundle, self.recovery):
            return None
        try:
            stamp = self.recovery.stat().st_mtime
        except OSError:
            return None
        try:
            newer = stamp >= (self.bundle / PROJECT_FILE).stat().st_mtime
        except OSError:
            newer = True
        return PendingRecovery(self.recovery, datetime.fromtimestamp(stamp, UTC), newer)

    def restore(self) -> LoadedProject:
        """The recovered project (not yet saved: the artist decides). ProjectError if damaged."""
        project, warnings = decode(self.recovery.read_bytes(), self.recovery)
        return LoadedProject(project, self.bundle, warnings)

    def discard(self) -> None:
        """The artist declined the recovery, or closed the project cleanly."""
        self.recovery.unlink(missing_ok=True)

    def set_aside(self) -> Path:
        """A damaged recovery file: keep it out of the way (never delete what may be work)."""
        aside = self.bundle / DAMAGED_RECOVERY_FILE
        self.recovery.replace(aside)
        log.warning("damaged autosave kept as %s", aside)
        return aside
