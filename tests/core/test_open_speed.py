"""Opening a project takes time in proportion to its size: 8 times the scenes or panels cost
about 8 times as long, not 64 times (a set rebuilt per scene once made 20,000 scenes take 32 s).

Compared across sizes (CPU time of the thread per element, best of two), never against a
fixed number of seconds; see tests/linear_time.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.project_io import generated_project
from storyboard.core.persistence import load_project, save_project
from tests.linear_time import GROWTH_LIMIT, growth

SMALL, LARGE = 2500, 20_000


@pytest.mark.slow
def test_open_time_per_scene_does_not_grow(tmp_path: Path) -> None:
    """Scenes of one panel each: the case that was quadratic (bench.project_open measures
    panels too, at 10,000 and 100,000)."""
    bundles = {}
    for count in (SMALL, LARGE):
        project = generated_project(count, per_scene=1)
        bundles[count] = save_project(project, tmp_path / f"p{count}.storyboard")
    load_project(bundles[SMALL])  # pydantic builds its validators on the first load

    def ms_per_scene(count: float) -> float:
        best = float("inf")
        for _ in range(2):
            start = time.thread_time()
            load_project(bundles[int(count)])
            best = min(best, time.thread_time() - start)
        return best * 1000 / count

    ratio = growth(ms_per_scene, SMALL, LARGE)
    assert ratio < GROWTH_LIMIT, f"{ratio:.1f}x the time per scene at 8x the scenes"
