"""The cluster benchmark's CPU smoke run (``gpus --tiny``): a story on one and on two actors of a
local Ray cluster, its rows and the bank's object-store cost. Timings are not checked: the CI
machine is too noisy for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("ray")

from bench.ml.cluster import main


@pytest.mark.slow
def test_tiny_run_scales_a_story_over_actors_and_moves_a_bank(tmp_path: Path) -> None:
    out = tmp_path / "cluster.json"
    args = ["gpus", "--tiny", "--gpus", "1", "2", "--identity", "2", "--reads", "4"]
    assert main([*args, "--batch", "1", "--workdir", str(tmp_path), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert [row["gpus"] for row in data["rows"]] == [1, 2]
    assert data["rows"][0]["read_scaling_efficiency"] == 1.0
    assert all(row["read_panels_per_min"] > 0 for row in data["rows"])
    assert data["bank_transport"]["bank_mib"] > 0 and data["bank_transport"]["put_s"] > 0
