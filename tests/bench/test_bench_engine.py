"""The engine benchmark's CPU smoke run (``--tiny``): every row is made, in one process, and the
regenerate rows really read the saved bank (the benchmark refuses a run that redid the identity
phase). Timings are not checked: the CI machine is too noisy for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.ml.engine import main


@pytest.mark.slow
def test_tiny_run_makes_every_row_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "engine.json"
    args = ["--tiny", "--workdir", str(tmp_path), "--json", str(out), "--compare-fp16-bank"]
    assert main(args) == 0

    data = json.loads(out.read_text())
    assert data["env"]["device"] == "cpu" and float(data["env"]["model_folder_gib"]) > 0
    rows = {row["mode"]: row for row in data["rows"]}
    modes = list(rows)
    assert [m.split(",")[0] for m in modes] == [
        "model load from local folder",
        "model load from local folder",
        "plain single panel (no characters)",
        "identity phase",
        "story: identity phase (4) + 1 panel",
        "story: identity phase (4) + 1 panel",
        "story: identity phase (4) + 1 panel",
        "regenerate 1 panel",
        "regenerate 1 panel",
        "regenerate 1 panel",
        "regenerate 1 panel",
        "official approach",
        "identity phase",
        "regenerate 1 panel",
        "regenerate 1 panel",
        "regenerate 1 panel",
        "regenerate 1 panel",
        "plain single panel while another process reads the evicted bank file",
        "first run of a new engine",
        "first run of a new engine",
        "plain single panel (again)",
    ]
    assert all(row["seconds"] > 0 for row in data["rows"])
    plain = modes[2]
    # evicted, warm, evicted and read ahead, in memory; the encoded bank, then fp16
    regenerates = modes[7:11] + modes[13:17]
    paired_rows = [*regenerates, modes[17]]  # and the plain panel beside a disk read
    first_runs = modes[18:20]  # model load and a plain panel, then the regenerate
    for mode in modes[3:]:
        paired = "plain single panel run before each" if mode in paired_rows else plain
        if mode in first_runs:
            paired = "the same with a plain panel"
        assert rows[mode]["baseline"] == paired and rows[mode]["ratio"] > 0
    assert rows[first_runs[0]]["ratio"] == 1.0 and "regenerate" in first_runs[1]
    for mode in modes[5:7]:  # the bank saved beside the panel, then after it
        assert rows[mode]["panels"] == 5 and rows[mode]["notes"]["x_no_bank_file"] > 0
    for mode in regenerates:
        notes = rows[mode]["notes"]
        assert rows[mode]["panels"] == 1 and notes["to_first_step_s"] > 0 and notes["plain_s"] > 0
    for mode in (modes[9], modes[15]):  # read ahead as the project opened: the whole file
        assert "read ahead" in mode and rows[mode]["notes"]["read_ahead_s"] > 0
    identity, fp16 = rows[modes[3]], rows[modes[12]]
    assert identity["panels"] == 4 and identity["notes"]["bank_file_gib"] > 0
    # the fp16 bank's file is twice the encoded one (the tiny model's tokens have 32 channels)
    assert fp16["notes"]["bank_file_gib"] / identity["notes"]["bank_file_gib"] > 1.7
    official = rows[modes[11]]
    assert official["seconds"] > identity["seconds"] - identity["notes"]["bank_save_s"]
    assert list(tmp_path.iterdir()) == [out]  # the model and the banks were cleaned up


def test_the_regional_prompt_bench_times_both_ways(tmp_path: Path) -> None:
    from bench.ml import regional as bench_regional

    out = tmp_path / "regional.json"
    assert bench_regional.main(["--tiny", "--res", "64", "--steps", "2", "--repeat", "1",
                                "--device", "cpu", "--json", str(out)]) == 0  # fmt: skip
    result = json.loads(out.read_text())
    assert result["one prompt"] > 0 and result["each box its own prompt"] > 0
    assert result["ratio"] == result["each box its own prompt"] / result["one prompt"]
