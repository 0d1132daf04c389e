"""The built-in video model's whole path at a tiny size: train on rendered toy-world clips, export
the checkpoint as a video model folder, and make a transition with it through the real engine."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from PIL import Image

from inference.motion.engine import MotionSettings, TransitionEngine, TransitionRequest
from inference.motion.predictor import SemanticMotionPredictor, load_predictor
from inference.motion.transition import TransitionSettings
from inference.motion.video_folder import read_video_folder
from training.motion import train
from training.motion.export import export
from training.motion.toy_data import ToyWorldClips
from training.motion.toy_parts import new_image_encoder

TINY = ["--layers", "1", "--width", "32", "--heads", "4", "--tokens-per-frame", "2"]


def args_for(out: Path, encoder: Path, *extra: str) -> list[str]:
    return [
        "--toyworld",
        "--base",
        "toyworld",
        "--adapter",
        "new",
        "--base-schedule",
        "--train-motion-module",
        "--image-encoder",
        str(encoder),
        "--frames",
        "3",
        "--batch-size",
        "1",
        "--device",
        "cpu",
        "--out",
        str(out),
        *TINY,
        *extra,
    ]


def test_toy_clips_are_drawn_again_exactly_for_the_same_step() -> None:
    clips = ToyWorldClips(frames=4)
    first = clips.sample(2, train.step_generator(0, 7))
    again = clips.sample(2, train.step_generator(0, 7))
    other = clips.sample(2, train.step_generator(0, 8))
    assert first.pixels.shape == (2, 4, 3, 64, 64)
    assert torch.equal(first.pixels, again.pixels) and first.prompts == again.prompts
    assert not torch.equal(first.pixels, other.pixels)


@pytest.mark.slow
def test_a_trained_toy_checkpoint_exports_to_a_folder_the_editor_generates_with(
    tmp_path: Path,
) -> None:
    encoder = tmp_path / "encoder"
    new_image_encoder().save_pretrained(encoder)
    last = train.run(train.parse_args(args_for(tmp_path / "smp", encoder, "--steps", "2")))
    state = json.loads((last / "state.json").read_text())
    assert state["step"] == 2 and state["args"]["toyworld"] is True
    trained = (last / "unet_trained.safetensors").stat().st_size
    assert trained > 1_000_000  # the motion modules, not only the predictor

    folder = export(
        last, tmp_path / "video", base="toyworld", image_encoder=encoder, frames=3, size=64
    )
    found = read_video_folder(folder)
    assert found.base == "toyworld" and found.base_schedule and found.size == 64
    engine = TransitionEngine(MotionSettings(backend="smp", predictor=str(folder), device="cpu"))
    settings = TransitionSettings(frames=3, width=64, height=64, steps=2, guidance=2.0)
    start, end = Image.new("RGB", (64, 64), "white"), Image.new("RGB", (64, 64), "black")
    clip = engine.generate(TransitionRequest(start, end, settings))
    assert [f.size for f in clip.frames] == [(64, 64)] * 3
    # the exported motion modules are the trained ones (not the zero-output start)
    moved = [
        p.abs().sum()
        for n, p in engine.model.unet.named_parameters()
        if "motion_modules" in n and n.endswith("proj_out.weight")
    ]
    assert moved and all(float(m) > 0 for m in moved)


@pytest.mark.slow
def test_the_temporal_only_baseline_trains_no_predictor_and_stops_on_time(tmp_path: Path) -> None:
    encoder = tmp_path / "encoder"
    new_image_encoder().save_pretrained(encoder)
    args = train.parse_args(
        args_for(tmp_path / "temporal", encoder, "--no-tokens", "--seconds", "0.01")
    )
    assert args.drop_tokens == 1.0
    last = train.run(args)
    state = json.loads((last / "state.json").read_text())
    assert 1 <= state["step"] < 100_000  # stopped by the clock, saved where it stopped
    saved = load_predictor(last / "predictor")
    torch.manual_seed(0)  # the run's seed: the predictor as it was built, never trained
    untouched = SemanticMotionPredictor(saved.config)
    for name, value in untouched.state_dict().items():
        assert torch.equal(value, saved.state_dict()[name]), name


def test_the_image_encoder_is_checked_before_it_is_used(tmp_path: Path) -> None:
    from training.motion import image_encoder

    out = tmp_path / "encoder"
    code = image_encoder.main(
        [
            "--out",
            str(out),
            "--steps",
            "3",
            "--batch",
            "8",
            "--device",
            "cpu",
            "--probe-frames",
            "96",
        ]
    )
    report = json.loads((out / "probe.json").read_text())
    assert report["steps"] == 3 and len(report["losses"]) >= 2
    assert math.isfinite(report["x_error_px"]) and 0 <= report["pose_accuracy"] <= 1
    # three steps cannot teach x to 2 px: the check fails, and says so with the exit code
    assert report["passed"] is False and code == 1
    assert (out / "config.json").is_file()  # kept, with the probe that says it failed
