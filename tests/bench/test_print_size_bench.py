"""The print-size benchmark's CPU smoke run: it enlarges the tiny SDXL panel through its tiles and
writes its JSON (timings are never checked; peak memory is CUDA-only)."""

from __future__ import annotations

import json
from pathlib import Path


def test_the_print_size_bench_times_each_target_size(tmp_path: Path) -> None:
    from bench.ml import print_size as bench_print_size

    out = tmp_path / "print-size.json"
    assert bench_print_size.main(["--tiny", "--res", "64", "--sizes", "96", "--steps", "2",
                                  "--strength", "0.5", "--device", "cpu", "--vae-tiling", "both",
                                  "--json", str(out)]) == 0  # fmt: skip
    result = json.loads(out.read_text())
    assert result["tile"] == 64 and result["goal_gib"] == 12.0 and result["bank_gib"] > 0
    row = result["sizes"]["96"]
    assert row["seconds"] > 0 and row["tiles"] == 4  # 2x2 tiles of 64 px over 96 px
    assert row["peak_allocated_gib"] is None  # no CUDA here
    tiled = result["vae_tiled_sizes"]["96"]  # the same size again, with the VAE in tiles
    assert tiled["seconds"] > 0 and tiled["tiles"] == 4
    assert set(result["resident"]["gib"]) >= {"unet", "vae", "text_encoder", "bank"}
