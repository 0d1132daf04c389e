"""The motion reader: it learns to read x, the scene and the look from frames in a few seconds,
saves and loads every head as safetensors, and its command trains, measures and writes the
numbers beside the weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from training.toyworld.motion import render_clips, sample_labelled_frames
from training.toyworld.motion_reader import (
    CLASSES,
    STRIP,
    MotionReader,
    RoundTripBank,
    load_motion_reader,
    main,
    measure,
    save_motion_reader,
    strip,
    train_motion_reader,
)
from training.toyworld.world import APPEARANCE


def test_a_briefly_trained_reader_reads_x_scene_and_size_far_better_than_chance() -> None:
    """80 steps of 8 frames (a few seconds): x within a pixel or so, against about 12 px for
    always answering the mean; the scene always right and the person's size mostly, against
    1 in 6 and 1 in 2 by chance (on 64 clips, two frames each)."""
    reader = train_motion_reader(80, batch=8, seed=0, log_every=0)
    scores = measure(reader, clips=64, frames=2, seed=11)
    assert scores["frames"] == 128
    assert scores["x_mae_px"] < 0.2 * scores["mean_x_mae_px"], scores
    assert scores["x_within_3px"] > 0.9, scores
    assert scores["scene_accuracy"] > 0.9, scores
    assert scores["size_accuracy"] > 0.75, scores
    assert 0 <= scores["look_intact"] <= min(scores[f"{k}_accuracy"] for k in APPEARANCE)


def test_read_all_gives_pixels_and_every_class_and_survives_saving(tmp_path: Path) -> None:
    torch.manual_seed(0)
    reader = MotionReader()
    frames = render_clips(2, 3, seed=1).frames.flatten(0, 1)
    read = reader.read_all(frames)
    assert set(read) == {"x", "pose", "scene", *APPEARANCE}
    assert read["x"].shape == (6,) and read["x"].dtype == torch.float32
    assert bool((read["x"] > 0).all()) and bool((read["x"] < 64).all())  # a mean of column centres
    for name, classes in CLASSES.items():
        assert read[name].dtype == torch.long, name
        assert bool((read[name] >= 0).all()) and bool((read[name] < classes).all()), name
    x, pose = reader.read(frames)  # the first reader's API, unchanged
    assert torch.equal(x, read["x"]) and torch.equal(pose, read["pose"])

    path = tmp_path / "reader.safetensors"
    save_motion_reader(reader, path)
    assert path.stat().st_size < 600_000  # fp16: well under a megabyte
    again = load_motion_reader(path, "cpu")
    reread = again.read_all(frames)
    assert torch.allclose(reread["x"], read["x"], atol=0.05)  # fp16 weights, fp32 reads
    for name in CLASSES:
        assert torch.equal(reread[name], read[name]), name
    save_motion_reader(again, tmp_path / "again.safetensors")  # every head, exactly
    third = load_motion_reader(tmp_path / "again.safetensors", "cpu")
    assert all(
        torch.equal(a, b)
        for a, b in zip(again.state_dict().values(), third.state_dict().values(), strict=True)
    )
    with pytest.raises(FileNotFoundError, match="missing"):
        load_motion_reader(tmp_path / "absent.safetensors", "cpu")


def test_the_strip_is_centred_on_the_person_whole_pixels_as_they_are() -> None:
    sample = sample_labelled_frames(4, seed=3)
    cut = strip(sample.frames, sample.x)
    assert cut.shape == (4, 3, 64, STRIP)
    for i in range(4):
        column = int(sample.x[i])
        middle = STRIP // 2
        assert torch.equal(cut[i, ..., middle], sample.frames[i, ..., column])
        assert torch.equal(cut[i, ..., middle - 10], sample.frames[i, ..., column - 10])
    edge = strip(sample.frames, torch.full((4,), 3.5))  # beyond the frame's edge: zeros
    assert bool((edge[..., : STRIP // 2 - 3] == 0).all())


def test_the_bank_round_trips_a_few_frames_a_step_and_hands_out_each_once() -> None:
    seen: list[int] = []

    def darker(pictures: torch.Tensor) -> torch.Tensor:
        seen.append(pictures.shape[0])
        return pictures * 0.5

    generator = torch.Generator().manual_seed(0)
    bank = RoundTripBank(
        darker, size=6, per_step=2, generator=generator, device=torch.device("cpu")
    )
    assert sum(seen) == 6 and len(bank) == 6
    pictures, labels = bank.step(4)
    assert sum(seen) == 8  # two fresh frames a step, not four
    assert pictures.shape == (4, 3, 64, 64) and float(pictures.max()) <= 0.5
    assert len({tuple(p.flatten().tolist()) for p in pictures}) == 4
    assert set(labels) == {"x", "pose", "scene", *APPEARANCE}
    assert all(v.shape == (4,) for v in labels.values())
    with pytest.raises(ValueError, match="a step"):
        RoundTripBank(darker, size=2, per_step=3, generator=generator, device=torch.device("cpu"))


def test_the_command_writes_weights_and_its_numbers(tmp_path: Path) -> None:
    out = tmp_path / "motion-reader.safetensors"
    scores = main(["--steps", "2", "--batch", "4", "--out", str(out), "--clips", "2"])
    assert out.is_file()
    written = json.loads(out.with_suffix(".json").read_text())
    assert written == scores
    keys = ["x_mae_px", "x_within_3px", "mean_x_mae_px", "look_intact"]
    for key in keys + [f"{k}_accuracy" for k in CLASSES]:
        assert isinstance(written[key], float), key
    assert written["steps"] == 2 and written["frames"] == 32
