"""The training benchmark's CPU smoke run (``--tiny``): the real ``train.run`` reads synthetic
frame folders, trains, writes a checkpoint and resumes from it one step further; and gradient
checkpointing (on in the benchmark) gives the gradients of a plain backward. Timings are not
checked: the CI machine is too noisy for them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from bench.motion.training import main, write_clips
from tests.fixtures.tiny_motion import tiny_video_model
from training.motion import train
from training.motion.data import ClipDataset, find_clips


@pytest.mark.slow
def test_tiny_run_trains_checkpoints_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "train.json"
    assert main(["--tiny", "--steps", "2", "--json", str(out), "--keep", str(tmp_path / "k")]) == 0

    data = json.loads(out.read_text())
    assert data["env"]["device"] == "cpu" and data["errors"] == {}
    assert data["checks"] == {
        "losses_finite": True,
        "checkpoint_written": True,
        "resumed_from_checkpoint": True,
    }
    first, resumed = data["phases"]
    assert (first["first_step"], first["last_step"]) == (1, 2)
    assert (resumed["first_step"], resumed["last_step"]) == (3, 3)
    assert all(math.isfinite(x) for p in data["phases"] for x in p["losses"])
    assert len(first["step_s"]) == 1 and first["s_per_step"] > 0
    assert "--gradient-checkpointing" in data["config"]["train_argv"]
    run = tmp_path / "k" / "run"
    assert json.loads((run / "checkpoint-000003" / "state.json").read_text())["step"] == 3


def test_synthetic_clips_go_through_the_real_data_path(tmp_path: Path) -> None:
    write_clips(tmp_path, clips=2, frames=8, size=32)
    clips = find_clips([tmp_path])
    assert [c.name for c in clips] == ["clip00", "clip01"]
    batch = ClipDataset(clips, 4, 32, 32, max_stride=2).sample(2, torch.Generator().manual_seed(0))
    assert batch.pixels.shape == (2, 4, 3, 32, 32)
    assert all(batch.prompts)
    assert not torch.equal(batch.pixels[0, 0], batch.pixels[0, -1])  # the shapes move


def _grads(checkpointing: bool) -> dict[str, torch.Tensor]:
    model = tiny_video_model()
    if checkpointing:
        model.unet.enable_gradient_checkpointing()
    trainer = train.Trainer(model, drop_tokens=0.0, drop_text=0.0)
    pixels = torch.rand((1, 4, 3, 32, 32), generator=torch.Generator().manual_seed(1)) * 2 - 1
    batch = train.Batch(pixels, ["a"])
    trainer.train_step(batch, torch.Generator().manual_seed(3))
    assert model.tokens.tokens is None
    return {n: p.grad.clone() for n, p in model.predictor.named_parameters() if p.grad is not None}


def test_gradient_checkpointing_sees_the_motion_tokens_again() -> None:
    plain, checkpointed = _grads(False), _grads(True)
    assert plain and plain.keys() == checkpointed.keys()
    assert all(torch.allclose(plain[n], checkpointed[n], atol=1e-6) for n in plain)
