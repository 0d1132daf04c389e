"""Training: a step lowers the loss; the CLI reads clips, checkpoints as safetensors, resumes."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file

from inference.motion.clip_io import write_mp4
from inference.motion.predictor import load_predictor
from tests.fixtures.tiny_motion import save_sources, tiny_video_model
from training.motion import train
from training.motion.data import Batch, ClipDataset, find_clips


def _frames(n: int, seed: int) -> list[Image.Image]:
    """A square moving across a noisy background: a clip with real motion."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    out = []
    for i in range(n):
        a = base.copy()
        a[8:16, 2 + 2 * i : 10 + 2 * i] = 255
        out.append(Image.fromarray(a))
    return out


def test_one_step_lowers_the_loss_on_a_fixed_batch() -> None:
    model = tiny_video_model()
    trainer = train.Trainer(
        model, lr=1e-3, drop_tokens=0.0, drop_text=0.0, train_cross_attention=True
    )
    pixels = torch.stack(
        [
            torch.cat(
                [
                    torch.from_numpy(np.asarray(f, np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
                    for f in _frames(4, s)
                ]
            )
            for s in (0, 1)
        ]
    )
    batch = Batch(pixels, ["a", ""])
    before = trainer.loss(batch, torch.Generator().manual_seed(5)).item()
    frozen = model.unet.conv_in.weight.clone()
    trainer.train_step(batch, torch.Generator().manual_seed(5))
    after = trainer.loss(batch, torch.Generator().manual_seed(5)).item()
    assert after < before
    assert torch.equal(model.unet.conv_in.weight, frozen)  # only the flagged parts train
    assert trainer.unet_names and all(".attn2.to_" in n for n in trainer.unet_names)


def test_clips_are_found_in_folders_videos_and_lists(tmp_path) -> None:
    folder = tmp_path / "clips" / "a"
    folder.mkdir(parents=True)
    for i, frame in enumerate(_frames(5, 0)):
        frame.save(folder / f"f{i}.png")
    (folder / "caption.txt").write_text("a square moves\n")
    write_mp4(_frames(6, 1), tmp_path / "clips" / "b.mp4", Fraction(8))
    (tmp_path / "list.txt").write_text("clips/b.mp4\n\nclips/a\n")
    assert find_clips([tmp_path / "clips"]) == [folder, tmp_path / "clips" / "b.mp4"]
    assert find_clips([tmp_path / "list.txt"]) == [tmp_path / "clips" / "b.mp4", folder]
    data = ClipDataset(find_clips([tmp_path / "clips"]), 3, 16, 16, max_stride=2)
    batch = data.sample(3, torch.Generator().manual_seed(0))
    assert batch.pixels.shape == (3, 3, 3, 16, 16)
    assert set(batch.prompts) <= {"a square moves", ""}
    short = ClipDataset(find_clips([tmp_path / "clips"]), 6, 16, 16, max_stride=1)
    assert len(short) == 1  # the 5-frame folder is skipped


def test_cli_trains_checkpoints_and_resumes(tmp_path) -> None:
    sources = save_sources(tmp_path / "models")
    write_mp4(_frames(8, 2), tmp_path / "clip.mp4", Fraction(8))
    out = tmp_path / "run"
    common = [
        "--data", str(tmp_path / "clip.mp4"), "--out", str(out),
        "--base", str(sources["base"]), "--adapter", str(sources["adapter"]),
        "--image-encoder", str(sources["encoder"]),
        "--layers", "1", "--width", "32", "--heads", "4", "--tokens-per-frame", "2",
        "--frames", "4", "--size", "32", "32", "--save-every", "1", "--log-every", "1",
        "--device", "cpu", "--train-motion-module",
    ]  # fmt: skip
    assert train.main([*common, "--steps", "2"]) == 0
    first = out / "checkpoint-000002"
    state = json.loads((first / "state.json").read_text())
    assert state["step"] == 2 and state["predictor"]["width"] == 32
    assert any("motion_modules" in k for k in load_file(first / "unet_trained.safetensors"))
    assert load_file(first / "optimizer.safetensors")
    assert load_predictor(first / "predictor").config.max_frames == 4

    assert train.main([*common, "--steps", "3", "--resume", "auto"]) == 0
    assert json.loads((out / "checkpoint-000003" / "state.json").read_text())["step"] == 3
    # resuming gives the same weights as an uninterrupted run of 3 steps
    straight = tmp_path / "straight"
    straight_args = [*common, "--steps", "3"]
    straight_args[straight_args.index(str(out))] = str(straight)
    assert train.main(straight_args) == 0
    resumed = load_file(out / "checkpoint-000003" / "predictor" / "model.safetensors")
    direct = load_file(straight / "checkpoint-000003" / "predictor" / "model.safetensors")
    assert all(torch.allclose(resumed[k], direct[k], atol=1e-6) for k in direct)


def test_cli_reports_missing_weights(tmp_path, caplog) -> None:
    write_mp4(_frames(4, 0), tmp_path / "clip.mp4", Fraction(8))
    code = train.main(
        ["--data", str(tmp_path / "clip.mp4"), "--out", str(tmp_path / "o"),
         "--base", str(tmp_path / "no-model"), "--steps", "1"]
    )  # fmt: skip
    assert code == 1
    assert "is not available" in caplog.text
