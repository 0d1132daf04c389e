"""A save never silently overwrites a project.json someone else wrote since it was loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.core.model import Project
from storyboard.core.persistence import load_project, save_project
from storyboard.core.save_guard import ProjectChangedOnDisk, check_unchanged, file_digest


def test_a_newer_project_json_is_refused(project: Project, tmp_path: Path) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")
    file = bundle / "project.json"
    loaded = load_project(bundle)
    assert loaded.digest == file_digest(file)
    check_unchanged(file, loaded.digest)  # nobody wrote since: fine

    project.settings.title = "saved by another window"
    save_project(project, bundle)
    with pytest.raises(ProjectChangedOnDisk, match="changed on disk") as refused:
        check_unchanged(file, loaded.digest)
    assert refused.value.path == file
    assert "Save As" in str(refused.value)


def test_a_missing_file_is_no_newer_version(tmp_path: Path) -> None:
    check_unchanged(tmp_path / "project.json", None)
    check_unchanged(tmp_path / "project.json", "an old digest")
