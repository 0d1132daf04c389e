"""The motion reader: it learns to read x from frames in a few seconds, saves and loads as
safetensors, and its command trains, measures and writes the numbers beside the weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from training.toyworld.motion import render_clips
from training.toyworld.motion_reader import (
    MotionReader,
    load_motion_reader,
    main,
    measure,
    save_motion_reader,
    train_motion_reader,
)


def test_a_briefly_trained_reader_reads_x_far_better_than_the_mean() -> None:
    """80 steps of 8 frames (a few seconds): about half a pixel, against about 9 px for always
    answering the mean."""
    reader = train_motion_reader(80, batch=8, seed=0, log_every=0)
    scores = measure(reader, clips=16, frames=8, seed=11)
    assert scores["frames"] == 128
    assert scores["x_mae_px"] < 0.2 * scores["mean_x_mae_px"], scores
    assert scores["x_within_3px"] > 0.9, scores


def test_read_gives_pixels_and_pose_indices(tmp_path: Path) -> None:
    torch.manual_seed(0)
    reader = MotionReader()
    clips = render_clips(2, 3, seed=1)
    x, pose = reader.read(clips.frames.flatten(0, 1))
    assert x.shape == (6,) and x.dtype == torch.float32
    assert pose.shape == (6,) and pose.dtype == torch.long
    assert bool((x > 0).all()) and bool((x < 64).all())  # a mean of column centres
    path = tmp_path / "reader.safetensors"
    save_motion_reader(reader, path)
    again = load_motion_reader(path, "cpu")
    assert all(
        torch.equal(a, b)
        for a, b in zip(reader.read(clips.frames[0]), again.read(clips.frames[0]), strict=True)
    )
    with pytest.raises(FileNotFoundError, match="missing"):
        load_motion_reader(tmp_path / "absent.safetensors", "cpu")


def test_the_command_writes_weights_and_its_numbers(tmp_path: Path) -> None:
    out = tmp_path / "motion-reader.safetensors"
    scores = main(["--steps", "2", "--batch", "4", "--out", str(out), "--clips", "2"])
    assert out.is_file()
    written = json.loads(out.with_suffix(".json").read_text())
    assert written == scores
    for key in ("x_mae_px", "x_within_3px", "pose_accuracy", "mean_x_mae_px"):
        assert isinstance(written[key], float), key
    assert written["steps"] == 2 and written["frames"] == 32
