"""Transition jobs: between a panel and the next, only when both have images."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.core.assets import AssetStore
from storyboard.core.model import Project
from storyboard.core.transition_jobs import build_transition_job
from tests.conftest import png_bytes


def test_the_job_runs_from_a_panel_to_the_next_across_scenes(
    project: Project, tmp_path: Path
) -> None:
    store = AssetStore(tmp_path)
    for pid, color in (("p2", (1, 2, 3)), ("p3", (4, 5, 6))):
        project.panels[pid].image = store.put(png_bytes(color))
    job = build_transition_job(project, "p2", tmp_path, backend="wan", model="/m/wan")
    assert job.label == "1B → 2A"  # the last panel of scene 1 to the first of scene 2
    assert Path(job.start).read_bytes() == png_bytes((1, 2, 3))
    assert Path(job.end).read_bytes() == png_bytes((4, 5, 6))
    assert (job.backend, job.model) == ("wan", "/m/wan")
    assert job.width > job.height  # the project is 2.39:1
    assert job.width % 32 == 0


def test_missing_images_and_the_last_panel_are_refused(project: Project, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="panel 1A-alt has no image"):
        build_transition_job(project, "p1", tmp_path)  # its image file is not in the store
    with pytest.raises(ValueError, match="the last one"):
        build_transition_job(project, "p3", tmp_path)
    with pytest.raises(ValueError, match="unknown transition engine"):
        build_transition_job(project, "p1", tmp_path, backend="magic")
