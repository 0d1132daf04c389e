"""One owner per project: the lock in the bundle that says who may write it.

Two writers of one project overwrite each other's work: two editor windows each saving, or the
editor saving over images ``main.py generate`` just added. So exactly one program owns a project
at a time. The owner keeps ``session.lock`` in the bundle naming itself: which program, its
process id, host and the process's start time, when it took the lock, and a random token.

- Only the holder releases the lock (its token must still be in the file).
- A lock is stale when its holder is gone: on this host, its process no longer exists, is a
  zombie, or is another process that reuses the pid (its start time differs, or it started after
  the lock was taken). A stale lock is taken over; a crash never locks a project for good.
- A lock held by another host cannot be checked from here and counts as live.

Everyone else opens the project read-only (the editor) or refuses (``generate``). Whoever writes
checks :meth:`ProjectLock.holds` first, so even a lost race to take over a stale lock cannot make
two writers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import stat
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import psutil

from storyboard.core.atomic import atomic_write
from storyboard.core.errors import ProjectError, ProjectSaveError
from storyboard.core.temp_files import temp_path

log = logging.getLogger(__name__)

LOCK_FILE = "session.lock"
_MAX_LOCK_BYTES = 4096  # a lock is ~200 bytes; a huge one is not read (a project may be hostile)
# Start times are read back through the wall clock (boot time + ticks), which a clock step can
# shift a little; a pid is not reused within this many seconds.
START_SLACK = 2.0


class Program(StrEnum):
    EDITOR = "editor"
    GENERATE = "generate"
    TRANSITIONS = "transitions"
    CLEAN_UP = "clean-up"
    IMPORT_ORA = "import-ora"  # an OpenRaster file imported into a panel
    CONFORM = "conform"
    PRINT_SIZE = "print-size"


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a project's lock, as written in ``session.lock``."""

    program: str
    pid: int
    host: str
    started: float | None  # the process's start time (a reused pid has another)
    since: float | None  # when the lock was taken (seconds since the epoch)
    token: str  # this lock's own id: only its holder releases it

    def describe(self) -> str:
        """``the editor (process 4242 on studio-pc, since 2026-11-26 10:42)``."""
        what = "the editor" if self.program == Program.EDITOR else f"storyboard {self.program}"
        when = ""
        if self.since is not None:
            local = datetime.fromtimestamp(self.since, UTC).astimezone()
            when = f", since {local:%Y-%m-%d %H:%M}"
        return f"{what} (process {self.pid} on {self.host}{when})"

    def stale(self) -> bool:
        """The holder is gone (checked on this host only: another host's lock counts as live)."""
        if self.host != socket.gethostname():
            return False
        try:
            process = psutil.Process(self.pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
            started = process.create_time()
        except (psutil.NoSuchProcess, ValueError, OverflowError):  # gone, or no pid at all
            return True
        except psutil.Error:  # exists, but we may not look at it: assume it is the holder
            return False
        if self.started is not None:
            return abs(started - self.started) > START_SLACK
        if self.since is not None:  # an old lock without a start time
            return started > self.since + START_SLACK
        return False


def _me(program: str) -> Holder:
    return Holder(
        program=str(program),
        pid=os.getpid(),
        host=socket.gethostname(),
        started=psutil.Process().create_time(),
        since=datetime.now(UTC).timestamp(),
        token=secrets.token_hex(8),
    )


def read_holder(bundle: Path) -> Holder | None:
    """Who the lock names; None when there is no lock or it cannot be read (nobody holds it)."""
    path = Path(bundle) / LOCK_FILE
    try:
        if not stat.S_ISREG(path.lstat().st_mode):  # a link, a pipe, a folder: not a lock
            return None
        with path.open("rb") as handle:
            data = json.loads(handle.read(_MAX_LOCK_BYTES).decode("utf-8"))
        since = data.get("since")
        if since is None and "opened" in data:  # the lock before it recorded start times
            since = datetime.fromisoformat(str(data["opened"])).timestamp()
        started = data.get("started")
        return Holder(
            program=str(data.get("program", Program.EDITOR)),
            pid=int(data["pid"]),
            host=str(data["host"]),
            started=None if started is None else float(started),
            since=None if since is None else float(since),
            token=str(data.get("token", "")),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def live_holder(bundle: Path) -> Holder | None:
    """The holder of the bundle's lock if it is still there, else None."""
    holder = read_holder(bundle)
    return None if holder is None or holder.stale() else holder


class ProjectLocked(ProjectError):
    """Another live program owns the project: it may not be written from here."""

    def __init__(self, bundle: Path, holder: Holder, advice: str = "") -> None:
        self.holder = holder
        lock = Path(bundle) / LOCK_FILE
        if not advice and holder.program == Program.EDITOR:
            advice = "Close it in that window first, or use Save As to keep a copy"
        elif not advice:
            advice = "Wait until it finishes, or use Save As to keep a copy"
        super().__init__(
            bundle, f"the project is open in {holder.describe()}", f"{advice} (lock: {lock})"
        )


def _create_new(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data``, or FileExistsError; never a half-written lock on disk."""
    tmp = temp_path(path)  # names this process: swept on the next open if it is killed here
    tmp.write_bytes(data)
    try:
        os.link(tmp, path)  # atomic: fails if the lock exists, and the file is already complete
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    finally:
        tmp.unlink(missing_ok=True)


class ProjectLock:
    """The lock this process holds on one bundle."""

    def __init__(self, bundle: Path, holder: Holder) -> None:
        self.bundle = Path(bundle)
        self.path = self.bundle / LOCK_FILE
        self.holder = holder

    @classmethod
    def acquire(cls, bundle: Path, program: str) -> ProjectLock:
        """Take the lock (a stale one is taken over). Raises :class:`ProjectLocked` naming a live
        holder, or OSError when the folder does not take the file (then nobody can write it)."""
        bundle = Path(bundle)
        me = _me(program)
        data = json.dumps(asdict(me)).encode()
        path = bundle / LOCK_FILE
        try:
            _create_new(path, data)
        except FileExistsError:
            current = read_holder(bundle)
            if current is not None and not current.stale():
                raise ProjectLocked(bundle, current) from None
            gone = current.describe() if current else "an unreadable lock"
            log.info("%s: taking over the stale lock of %s", path, gone)
            atomic_write(path, data)
            now = read_holder(bundle)  # two takers at once: the last write won
            if now is None or now.token != me.token:
                raise ProjectLocked(bundle, now or current or me) from None
        return cls(bundle, me)

    @classmethod
    def for_command(cls, bundle: Path, program: Program, advice: str) -> ProjectLock:
        """The lock for a command that writes the project (``generate``, ``transitions``,
        ``clean-up``): a live holder is :class:`ProjectLocked` with ``advice``, a folder that does
        not take the lock file a :class:`ProjectSaveError`, both naming the lock."""
        try:
            return cls.acquire(bundle, program)
        except ProjectLocked as exc:
            raise ProjectLocked(bundle, exc.holder, advice) from None
        except OSError as exc:
            problem = f"its lock file cannot be written ({exc.strerror or exc})"
            raise ProjectSaveError(
                bundle, problem, f"{program} needs a folder it can write"
            ) from exc

    def holds(self) -> bool:
        """The lock still names us (nobody took it over or deleted it)."""
        current = read_holder(self.bundle)
        return current is not None and current.token == self.holder.token

    def check(self) -> None:
        """Raise :class:`ProjectLocked` unless we still hold the lock: call before every write."""
        if self.holds():
            return
        current = read_holder(self.bundle)
        if current is None:  # deleted by hand: take it back rather than write unowned
            with contextlib.suppress(ProjectLocked, OSError):
                self.holder = ProjectLock.acquire(self.bundle, self.holder.program).holder
            if self.holds():
                return
            current = read_holder(self.bundle)
        raise ProjectLocked(self.bundle, current or self.holder)

    def release(self) -> None:
        """Give the project up (only while the lock still names us)."""
        if self.holds():
            self.path.unlink(missing_ok=True)
