"""Untitled projects get a locked folder in the user data folder; what a crash left there is
found again, and leftovers without work are cleared."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from storyboard.core.autosave import Autosave
from storyboard.core.model import Project
from storyboard.core.ownership import LOCK_FILE
from storyboard.core.untitled import (
    left_behind,
    new_untitled,
    project_title,
    remove_untitled,
    untitled_root,
)


@pytest.fixture(autouse=True)
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_CONFIG_DIR", str(tmp_path / "config"))


def crash(bundle: Path) -> None:
    """The editor that held ``bundle`` is killed: its lock names a process that is gone."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = {"program": "editor", "pid": dead.pid, "host": socket.gethostname(), "token": "t"}
    (bundle / LOCK_FILE).write_text(json.dumps(lock))


def test_untitled_work_left_by_a_crash_is_found(project: Project, tmp_path: Path) -> None:
    open_here = new_untitled()
    assert open_here.bundle.parent == tmp_path / "config" / "data" / "untitled"
    assert open_here.holds() and open_here.bundle.name.endswith(".storyboard")
    Autosave(open_here.bundle).write(project)  # a live window's autosave: not offered

    crashed = new_untitled().bundle
    Autosave(crashed).write(project)
    crash(crashed)
    empty = new_untitled().bundle  # crashed before any work: nothing to offer
    crash(empty)
    images_only = new_untitled().bundle  # images but no autosave: kept, not offered
    (images_only / "assets").mkdir()
    (images_only / "assets" / ("a" * 64 + ".png")).write_bytes(b"png")
    crash(images_only)

    found = left_behind()
    assert [pending.path.parent for pending in found] == [crashed]
    assert Autosave(crashed).restore().project == project
    assert not empty.exists() and images_only.exists() and open_here.bundle.exists()


def test_only_untitled_folders_are_ever_removed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "Mine.storyboard"
    elsewhere.mkdir()
    remove_untitled(elsewhere)
    assert elsewhere.exists()
    mine = new_untitled().bundle
    remove_untitled(mine)
    assert not mine.exists() and untitled_root().exists()


def test_the_title_a_pdf_carries(tmp_path: Path) -> None:
    project = Project()
    assert project.settings.title == "Untitled"
    # never titled: the folder it was saved as names it, but not an untitled project's folder
    assert project_title(project, tmp_path / "Lost Hat.storyboard") == "Lost Hat"
    untitled = new_untitled()
    assert project_title(project, untitled.bundle) == "Untitled"
    assert project_title(project, None) == "Untitled"
    untitled.release()
    project.settings.title = "  The Lost Hat "
    assert project_title(project, tmp_path / "x.storyboard") == "The Lost Hat"
