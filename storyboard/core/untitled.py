"""Untitled projects live in the user data folder, so they autosave and survive a crash.

A project that was never saved (File > New, New from story script, a Storyboarder import) has no
folder of its own, yet its generated images and its autosave need one from the first minute. Each
gets ``<user data>/untitled/Untitled-<time>-<random>.storyboard``, locked by its window like any
project. Save As moves the work into the folder the artist picks and deletes this one; so does a
clean close (the artist saved or discarded it). One left behind by a crash has a stale lock and a
``recovery.json``: the next start offers it back.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from datetime import datetime
from pathlib import Path

from storyboard.core.autosave import Autosave, PendingRecovery
from storyboard.core.model import Project, ProjectSettings
from storyboard.core.ownership import Program, ProjectLock, live_holder
from storyboard.core.persistence import BUNDLE_SUFFIX
from storyboard.core.settings import data_dir

log = logging.getLogger(__name__)


def untitled_root() -> Path:
    return data_dir() / "untitled"


def new_untitled() -> ProjectLock:
    """A fresh folder for an untitled project, locked by this process. OSError if there is no
    writable user data folder."""
    root = untitled_root()
    root.mkdir(parents=True, exist_ok=True)
    name = f"Untitled-{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}{BUNDLE_SUFFIX}"
    # made under a hidden name, so another editor's start never sees it before it is locked
    hidden = root / f".{name}"
    hidden.mkdir()
    try:
        lock = ProjectLock.acquire(hidden, Program.EDITOR)
        bundle = hidden.rename(root / name)
    except BaseException:
        shutil.rmtree(hidden, ignore_errors=True)
        raise
    return ProjectLock(bundle, lock.holder)


def is_untitled(bundle: Path) -> bool:
    try:
        return Path(bundle).resolve().parent == untitled_root().resolve()
    except OSError:
        return False


UNTITLED = ProjectSettings().title  # the title of a project nobody named yet


def has_own_title(project: Project) -> bool:
    """Whether the artist (or the script it came from) gave the project a title."""
    return project.settings.title.strip() not in ("", UNTITLED)


def project_title(project: Project, bundle: Path | None) -> str:
    """The title a PDF and its cover carry: the project's own, else the name of the folder it
    was saved as (a project saved before Save As named it), else "Untitled"."""
    if has_own_title(project):
        return project.settings.title.strip()
    if bundle is not None and not is_untitled(bundle):
        name = Path(bundle).name
        return name.removesuffix(BUNDLE_SUFFIX) or UNTITLED
    return UNTITLED


def remove_untitled(bundle: Path) -> None:
    """Delete an untitled project's folder (its work was saved elsewhere or discarded)."""
    if is_untitled(bundle) and not Path(bundle).is_symlink():
        shutil.rmtree(bundle, ignore_errors=True)


def left_behind() -> list[PendingRecovery]:
    """Untitled work a crashed editor left, newest first; leftovers without work are removed."""
    try:
        entries = list(untitled_root().iterdir())
    except OSError:
        return []
    found = []
    for bundle in entries:
        if bundle.name.startswith(".") or bundle.suffix != BUNDLE_SUFFIX:
            continue
        if bundle.is_symlink() or not bundle.is_dir() or live_holder(bundle) is not None:
            continue  # not ours, or another editor window's open untitled project
        pending = Autosave(bundle).pending()
        if pending is not None:
            found.append(pending)
        elif not any((bundle / "assets").glob("*")):
            log.info("removing %s: an untitled project closed by a crash before any work", bundle)
            remove_untitled(bundle)
    return sorted(found, key=lambda pending: pending.saved_at, reverse=True)
