"""The offline CSA benchmark on the toy world (``bench.ml.consistency``), a CPU smoke run."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.toyworld.world import APPEARANCE


@pytest.mark.slow
def test_the_consistency_benchmark_runs_and_reports_every_setting(tmp_path: Path) -> None:
    from bench.ml import consistency as bench_consistency

    args = ["--stories", "1", "--panels", "3", "--identity", "2", "--steps", "2"]
    args += ["--adherence", "2", "--device", "cpu", "--save-images", str(tmp_path)]
    bench_consistency.main(args)
    two = ["--only", "plain", "--two-people", "3"]
    result = bench_consistency.run(bench_consistency.parse_args([*args, *two]))
    assert {"left whole look", "right has the other's hair"} <= set(result["two people"])
    assert set(result["two people, boxed"]) == set(result["two people"])
    assert "each in a box with its own prompt" in bench_consistency.format_table(result)
    row = result["settings"]["plain"]
    assert {"colour", "all", "scene", *APPEARANCE} <= set(row)
    assert 0.0 <= row["scene"] <= 1.0
    assert set(result["prompt adherence"]) >= {"scene", "whole picture"}
    assert len(list(tmp_path.glob("*.png"))) == len(bench_consistency.settings())
