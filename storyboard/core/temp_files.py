"""Temporary files of our own saves, and the sweep that removes the ones a killed save left.

Every crash-safe write (project, recovery file, session lock, assets, identity banks) first writes
a hidden temporary file beside its target and renames it over the target at the end. A process
killed in between leaves that file behind: before this module, 100 targeted kills left 54
``.project.json.*.tmp`` files (478 MB) in a bundle, for ever.

So a temporary name says who writes it: ``.<target>.<random>.<pid>-<machine>.tmp``, where
``<machine>`` is a hash of the host name and (on Linux) the process-id namespace, the scope in
which the pid means something. Opening a project removes the temporary files whose writer is
gone: same machine and the pid no longer runs, or (for a file written on another machine of a
shared folder, or by an older version that put no pid in the name) untouched for an hour, which
no live save ever is. A save in progress in another process is never touched.

Only regular files inside the bundle's own folders are looked at and removed; symbolic links are
neither followed nor deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import socket
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.core.bundle_paths import inside
from storyboard.core.sizes import human_size

log = logging.getLogger(__name__)

STALE_AFTER_SECONDS = 3600.0
"""A temporary file untouched this long has no live writer (a save writes without pause)."""

# The folders of a bundle where our writes put temporary files: the bundle itself (project.json,
# recovery.json, session.lock), the asset store, and the identity-bank cache.
_FOLDERS = (".", "assets", "cache/identity")

# ".<target>.<12 hex>.<pid>-<8 hex>.tmp"; before owners were named: ".<target>.<12 hex>.tmp"
_OWNED = re.compile(r"^\..+\.[0-9a-f]{12}\.(?P<pid>[0-9]{1,10})-(?P<machine>[0-9a-f]{8})\.tmp$")
_LEGACY_ATOMIC = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")
_LEGACY_BANK = re.compile(r"^.+-[0-9a-f]{32}\.tmp$")  # cache/identity/<character>-<digest>.tmp


def _machine() -> str:
    """Where a pid is meaningful: this host and, on Linux, this pid namespace."""
    namespace = ""
    with contextlib.suppress(OSError):
        namespace = str(Path("/proc/self/ns/pid").stat().st_ino)
    return hashlib.sha256(f"{socket.gethostname()}\0{namespace}".encode()).hexdigest()[:8]


MACHINE = _machine()


def temp_path(target: Path) -> Path:
    """A fresh hidden temporary name beside ``target`` that names its writer."""
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.{os.getpid()}-{MACHINE}.tmp")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or not a pid at all
        return False
    except PermissionError:  # runs under another user
        return True
    return True


@dataclass(frozen=True, slots=True)
class TempSweep:
    """What a sweep found (or removed): the files and their total size."""

    files: tuple[Path, ...] = ()
    bytes: int = 0
    failed: tuple[Path, ...] = field(default=())

    @property
    def count(self) -> int:
        return len(self.files)

    def describe(self) -> str:
        """'3 temporary file(s) (4.5 MiB)': for messages."""
        return f"{self.count} temporary file(s) ({human_size(self.bytes)})"


def _ours(name: str, folder: str) -> re.Match[str] | bool:
    owned = _OWNED.match(name)
    if owned:
        return owned
    if _LEGACY_ATOMIC.match(name):
        return True
    return folder == "cache/identity" and bool(_LEGACY_BANK.match(name))


def _candidates(bundle: Path) -> Iterator[tuple[Path, os.stat_result, re.Match[str] | bool]]:
    """Our temporary files in the bundle's folders: regular files, no link followed."""
    root = Path(bundle)
    for relative in _FOLDERS:
        folder = root / relative
        try:
            if relative != "." and not stat.S_ISDIR(folder.lstat().st_mode):
                continue  # absent, or a symbolic link that may lead out of the bundle
            if not inside(root, folder):  # cache/ itself a link: identity/ is someone else's
                continue
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            match = _ours(entry.name, relative)
            if not match:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                yield Path(entry.path), info, match


def _is_stale(info: os.stat_result, match: re.Match[str] | bool, now: float) -> bool:
    if now - info.st_mtime > STALE_AFTER_SECONDS:
        return True
    if isinstance(match, re.Match) and match["machine"] == MACHINE:
        return not _pid_alive(int(match["pid"]))
    return False


def leftover_temps(bundle: Path) -> list[Path]:
    """Every temporary file of our saves in ``bundle``, live or not (the reliability benchmark
    counts these after its kills: after a reopen, none should be left)."""
    return sorted(path for path, _, _ in _candidates(bundle))


def stale_temps(bundle: Path) -> TempSweep:
    """The temporary files in ``bundle`` whose save is over (killed or crashed)."""
    now = time.time()
    found = [(p, info) for p, info, match in _candidates(bundle) if _is_stale(info, match, now)]
    return TempSweep(tuple(p for p, _ in found), sum(info.st_size for _, info in found))


def remove_stale_temps(bundle: Path) -> TempSweep:
    """Delete the temporary files of dead saves in ``bundle``; returns what went.

    Best effort: a file that cannot be removed (read-only folder) is reported in ``failed`` and
    logged, never raised, so opening a project on read-only media still works.
    """
    now = time.time()
    removed: list[Path] = []
    size = 0
    failed: list[Path] = []
    for path, info, match in list(_candidates(bundle)):
        if not _is_stale(info, match, now):
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # another process swept it first
        except OSError as exc:
            log.info("could not remove the leftover temporary file %s: %s", path, exc)
            failed.append(path)
        else:
            removed.append(path)
            size += info.st_size
    sweep = TempSweep(tuple(removed), size, tuple(failed))
    if removed:
        log.info("removed %s left by interrupted saves in %s", sweep.describe(), bundle)
    return sweep
