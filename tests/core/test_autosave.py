"""Crash recovery: an unclean session's autosave is offered back; a clean one leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.core.autosave import DAMAGED_RECOVERY_FILE, Autosave
from storyboard.core.errors import ProjectCorrupt
from storyboard.core.model import Project
from storyboard.core.persistence import load_project, save_project


def test_an_autosave_newer_than_the_save_is_offered_back(project: Project, tmp_path: Path) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")
    project.panels["p1"].dialogue = "edited after the last save"
    Autosave(bundle).write(project)

    pending = Autosave(bundle).pending()
    assert pending is not None and pending.newer_than_save
    assert Autosave(bundle).restore().project == project
    assert load_project(bundle).project.panels["p1"].dialogue != "edited after the last save"


def test_save_and_discard_leave_nothing_to_recover(project: Project, tmp_path: Path) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")
    autosave = Autosave(bundle)
    autosave.write(project)
    autosave.saved()
    assert autosave.pending() is None
    autosave.write(project)
    autosave.discard()
    assert autosave.pending() is None
    assert sorted(p.name for p in bundle.iterdir()) == ["assets", "project.json"]


def test_a_damaged_autosave_is_set_aside_not_deleted(project: Project, tmp_path: Path) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")
    (bundle / "recovery.json").write_text('{"format": "storyboard-project", "scenes": ')
    autosave = Autosave(bundle)
    with pytest.raises(ProjectCorrupt, match=r"recovery\.json"):
        autosave.restore()
    aside = autosave.set_aside()
    assert aside == bundle / DAMAGED_RECOVERY_FILE
    assert aside.read_text().startswith('{"format"')
    assert autosave.pending() is None
