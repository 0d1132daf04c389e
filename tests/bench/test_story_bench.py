"""The story benchmark's CPU smoke run (``bench.ml.story --tiny --device cpu``): every row is
made in one process, the second process reports its cached compile, the compiled rows' latents
are compared with the eager engine's. Timings are not checked: the CI machine is too noisy. The
compiled rows use dynamo's ``eager`` backend on the transformer blocks only (the inductor's C++
would take minutes here; ``tests/inference/test_engine_fast_path.py`` runs it on one block)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.ml.story import main


@pytest.mark.slow
def test_tiny_story_bench_makes_every_row_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "story.json"
    args = ["--tiny", "--device", "cpu", "--workdir", str(tmp_path), "--json", str(out)]
    args += ["--backend", "eager", "--blocks", "BasicTransformerBlock", "--processors", "eager"]
    assert main(args) == 0

    data = json.loads(out.read_text())
    assert data["env"]["device"] == "cpu" and "4 identity + 8 read" in data["env"]["story"]
    rows = data["rows"]
    assert [row["mode"][:2] for row in rows] == ["A:", "B:", "C:", "D:"]
    assert all(row["panels"] == 12 and row["seconds"] > 0 for row in rows)
    compiled, fp8 = rows[2], rows[3]
    for row in (compiled, fp8):
        assert row["notes"]["cosine_min"] > 0.999  # float32 on the CPU: the same story
        assert row["notes"]["first_call_s"] > 0 and "compile_s" in row["notes"]
    assert compiled["notes"]["second_process_cached_compile_s"] == pytest.approx(
        compiled["notes"]["second_process_first_call_s"]
        - compiled["notes"]["second_process_steady_s"]
    )
    assert rows[1]["ratio"] > 0 and rows[3]["baseline"].startswith("A:")
    fast = data["fast_path"]
    assert all(entry["compiled"] for entry in fast.values())
    assert any("fp8" in note for entry in fast.values() for note in entry["notes"])  # the CPU
