"""Crash recovery: an unclean session's autosave is offered back; a clean one leaves nothing."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from storyboard.core.autosave import LOCK_FILE, Autosave
from storyboard.core.model import Project
from storyboard.core.persistence import load_project, save_project


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_unclean_session_is_offered_back(project: Project, tmp_path: Path) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")
    autosave = Autosave(bundle)
    autosave.start_session()
    project.panels["p1"].dialogue = "edited after the last save"
    autosave.write(project)
    # the editor is killed: its lock names a process that no longer exists
    info = {"pid": _dead_pid(), "host": socket.gethostname()}
    (bundle / LOCK_FILE).write_text(json.dumps(info))

    pending = Autosave(bundle).pending()
    assert pending is not None
    assert pending.newer_than_save and not pending.owner_alive
    recovered = Autosave(bundle).restore().project
    assert recovered == project
    assert load_project(bundle).project.panels["p1"].dialogue != "edited after the last save"


def test_project_open_in_another_live_editor_is_flagged(project: Project, tmp_path: Path) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")
    Autosave(bundle).write(project)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (bundle / LOCK_FILE).write_text(
            json.dumps({"pid": other.pid, "host": socket.gethostname()})
        )
        pending = Autosave(bundle).pending()
        assert pending is not None and pending.owner_alive
    finally:
        other.kill()
        other.wait()


def test_save_and_clean_close_leave_nothing_to_recover(project: Project, tmp_path: Path) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")
    autosave = Autosave(bundle)
    autosave.start_session()
    autosave.write(project)
    autosave.saved()
    assert autosave.pending() is None
    autosave.write(project)
    autosave.end_session()
    assert autosave.pending() is None
    assert sorted(p.name for p in bundle.iterdir()) == ["assets", "project.json"]


def test_declined_recovery_is_discarded(project: Project, tmp_path: Path) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")
    Autosave(bundle).write(project)
    Autosave(bundle).discard()
    assert Autosave(bundle).pending() is None
