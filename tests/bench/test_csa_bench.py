"""The CSA benchmark (``bench.ml.csa``), a CPU smoke run."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_bench_script_runs_tiny() -> None:
    """The GPU benchmark's code paths, on a tiny UNet on the CPU (keeps the script from rotting)."""
    from bench.ml import csa as bench

    assert bench.main(["--tiny", "--steps", "2", "--write-panels", "2", "--read-panels", "3"]) == 0
