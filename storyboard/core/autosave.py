"""Autosave and crash recovery for an open project.

While a project is open, the editor writes the whole project to ``recovery.json`` in the bundle
on a timer and after each generated image (atomically, like a save), and keeps a
``session.lock`` naming its process. A clean Save removes the recovery file; a clean close removes
both. So on the next open, a recovery file whose owner process is gone means the editor did not
close cleanly, and the newer state is offered back. The real ``project.json`` is never touched by
autosave: declining a recovery loses nothing that was saved.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storyboard.core.atomic import atomic_write
from storyboard.core.model import Project
from storyboard.core.persistence import PROJECT_FILE, LoadedProject, decode, encode, save_error

log = logging.getLogger(__name__)

RECOVERY_FILE = "recovery.json"
LOCK_FILE = "session.lock"


@dataclass(frozen=True, slots=True)
class PendingRecovery:
    path: Path
    saved_at: datetime
    owner_pid: int | None
    owner_alive: bool  # another editor window still has the project open
    newer_than_save: bool


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read_lock(bundle: Path) -> tuple[int | None, str | None]:
    try:
        data = json.loads((bundle / LOCK_FILE).read_text(encoding="utf-8"))
        return int(data["pid"]), str(data["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, None


class Autosave:
    """The recovery side of one open project bundle."""

    def __init__(self, bundle: Path) -> None:
        self.bundle = Path(bundle)
        self.recovery = self.bundle / RECOVERY_FILE
        self.lock = self.bundle / LOCK_FILE

    def start_session(self) -> None:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "opened": _now().isoformat()}
        self.bundle.mkdir(parents=True, exist_ok=True)
        atomic_write(self.lock, json.dumps(info).encode())

    def write(self, project: Project) -> None:
        """Write the current state; failures are reported but never lose the open project."""
        try:
            atomic_write(self.recovery, encode(project))
        except OSError as exc:
            raise save_error(self.recovery, exc) from exc

    def saved(self) -> None:
        """The project was just saved: the recovery copy is obsolete."""
        self.recovery.unlink(missing_ok=True)

    def end_session(self) -> None:
        """Clean close: nothing to recover next time."""
        self.recovery.unlink(missing_ok=True)
        self.lock.unlink(missing_ok=True)

    def open_elsewhere(self) -> bool:
        """Another live process (an editor window) has this project open right now."""
        pid, host = _read_lock(self.bundle)
        return (
            pid is not None
            and host == socket.gethostname()
            and pid != os.getpid()
            and _pid_alive(pid)
        )

    def pending(self) -> PendingRecovery | None:
        """An autosave left behind by a session that did not close cleanly, if any."""
        try:
            stamp = self.recovery.stat().st_mtime
        except OSError:
            return None
        pid, _ = _read_lock(self.bundle)
        alive = self.open_elsewhere()
        try:
            newer = stamp >= (self.bundle / PROJECT_FILE).stat().st_mtime
        except OSError:
            newer = True
        saved_at = datetime.fromtimestamp(stamp, UTC)
        return PendingRecovery(self.recovery, saved_at, pid, alive, newer)

    def restore(self) -> LoadedProject:
        """The recovered project (not yet saved: the artist decides)."""
        project, warnings = decode(self.recovery.read_bytes(), self.recovery)
        return LoadedProject(project, self.bundle, warnings)

    def discard(self) -> None:
        """The artist declined the recovery."""
        self.recovery.unlink(missing_ok=True)


def _now() -> datetime:
    return datetime.now(UTC)
