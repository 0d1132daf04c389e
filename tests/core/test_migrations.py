"""Old project files open in the current editor, through the migration chain."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from storyboard.core.errors import ProjectCorrupt
from storyboard.core.migrations import CURRENT_VERSION, MIGRATIONS, migrate
from storyboard.core.persistence import PROJECT_FILE, load_project, save_project

DATA = Path(__file__).parent.parent / "data"


def test_every_old_version_has_a_step() -> None:
    assert sorted(MIGRATIONS) == list(range(1, CURRENT_VERSION))


def test_version_1_project_opens_with_everything_in_place(tmp_path: Path) -> None:
    bundle = shutil.copytree(DATA / "format-v1" / "Heist.storyboard", tmp_path / "Heist.storyboard")
    loaded = load_project(bundle)
    project = loaded.project
    assert loaded.warnings == []
    assert project.settings.title == "The Heist"
    assert project.settings.aspect_ratio == 1.85
    assert [c.name for c in project.ordered_characters()] == ["Vera", "Jules"]
    assert [s.title for s in project.ordered_scenes()] == ["The vault", "Getaway"]
    assert [p.id for p in project.ordered_panels()] == ["p-1", "p-2", "p-3"]
    first = project.panels["p-1"]
    assert first.dialogue == "VERA: Three minutes."
    assert first.notes == "close-up"
    assert first.character_ids == ["c-vera"]
    assert first.duration == 60  # 2.5 s at 24 fps
    assert project.panels["p-2"].duration == 24
    # and it saves in the current format, which loads to the same project
    save_project(project, bundle)
    assert json.loads((bundle / PROJECT_FILE).read_text())["format_version"] == CURRENT_VERSION
    assert load_project(bundle).project == project


def test_a_broken_old_file_is_a_typed_error() -> None:
    data = {"format": "storyboard-project", "format_version": 1, "scenes": [{"panels": [{}]}]}
    with pytest.raises(ProjectCorrupt, match="could not upgrade it from format 1"):
        migrate(data, Path("old.json"))
