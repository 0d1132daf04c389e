"""The transition benchmark's CPU smoke run (``--tiny``): every row is made in one process, with
the step count and frame count asked for (the benchmark refuses a call that made fewer), and the
JSON holds them. Timings are not checked: the CI machine is too noisy for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.motion.random_models import TINY
from bench.motion.transition import main


@pytest.mark.slow
def test_tiny_run_makes_every_row_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "motion.json"
    assert main(["--tiny", "--json", str(out)]) == 0

    data = json.loads(out.read_text())
    assert data["env"]["device"] == "cpu"
    assert data["errors"] == {}
    modes = [row["mode"] for row in data["rows"]]
    assert modes == [
        "AnimateDiff + motion predictor (SMP)",
        "plain AnimateDiff (no predictor tokens)",
        "AnimateDiff + motion predictor (SMP, again)",
        "LTX-Video first-last-frame (keyframe backend)",
    ]
    plain = modes[1]
    for row in data["rows"]:
        assert row["frames"] == TINY.frames and row["steps"] == TINY.steps
        assert row["seconds"] > 0 and row["s_per_step"] > 0
        if row["mode"] != plain:
            assert row["baseline"] == plain and row["ratio"] > 0


@pytest.mark.slow
def test_no_ltx_records_why(tmp_path: Path) -> None:
    out = tmp_path / "motion.json"
    assert main(["--tiny", "--no-ltx", "--steps", "2", "--json", str(out)]) == 0

    data = json.loads(out.read_text())
    assert len(data["rows"]) == 3 and "ltx" in data["errors"]
