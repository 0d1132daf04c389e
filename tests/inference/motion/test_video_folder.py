"""A video model in one folder: its manifest names the parts, and a damaged or hostile manifest
is a clear ModelUnavailable, never a read outside the folder or a crash."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inference.errors import ModelUnavailable
from inference.motion.engine import MotionSettings, TransitionEngine, TransitionRequest
from inference.motion.transition import TransitionSettings
from inference.motion.video_folder import MANIFEST, read_video_folder
from inference.motion.video_model import folder_sources, load_video_model
from tests.fixtures.tiny_motion import save_sources


def video_folder(root: Path, **changes: object) -> Path:
    folder = root / "video"
    paths = save_sources(folder)
    manifest = {
        "format": 1,
        "base": "base",
        "motion_adapter": paths["adapter"].name,
        "image_encoder": paths["encoder"].name,
        "predictor": paths["predictor"].name,
        "schedule": "base",
        "frames": 5,
        "size": 32,
    } | changes
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_one_folder_is_enough_to_make_a_transition(tmp_path: Path) -> None:
    folder = video_folder(tmp_path)
    engine = TransitionEngine(MotionSettings(backend="smp", predictor=str(folder), device="cpu"))
    start = Image.fromarray(np.random.default_rng(1).integers(0, 255, (32, 32, 3), np.uint8))
    settings = TransitionSettings(frames=5, width=32, height=32, steps=2, guidance=2.0)
    clip = engine.generate(TransitionRequest(start, Image.new("RGB", (32, 32), "red"), settings))
    assert len(clip.frames) == 5
    # the manifest's schedule is the base model's own: nothing of AnimateDiff's is applied
    assert engine.model.schedule == {}
    assert engine.model.scheduler().config.beta_schedule == "scaled_linear"


def test_a_folder_says_what_it_was_trained_for(tmp_path: Path) -> None:
    found = read_video_folder(video_folder(tmp_path, schedule="animatediff"))
    assert (found.frames, found.size, found.base_schedule) == (5, 32, False)
    sources = folder_sources(video_folder(tmp_path / "again"))
    assert sources.base_schedule and Path(sources.base).name == "base"


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"predictor": "../../outside"}, "leads out of the folder"),
        ({"image_encoder": "/etc"}, "leads out of the folder"),
        ({"motion_adapter": "gone"}, "motion adapter folder gone is missing"),
        ({"schedule": "cosine"}, '"schedule"'),
        ({"frames": 10**9}, '"frames"'),
        ({"size": "64"}, '"size"'),
        ({"base": 7}, '"base"'),
    ],
)
def test_a_hostile_manifest_is_refused_with_the_reason(
    tmp_path: Path, changes: dict[str, object], said: str
) -> None:
    folder = video_folder(tmp_path, **changes)
    with pytest.raises(ModelUnavailable) as caught:
        load_video_model(folder_sources(folder), torch.float32)
    assert said in str(caught.value)


def test_a_manifest_that_is_not_json_is_refused(tmp_path: Path) -> None:
    folder = video_folder(tmp_path)
    (folder / MANIFEST).write_bytes(b"\xff{not json")
    with pytest.raises(ModelUnavailable) as caught:
        read_video_folder(folder)
    assert MANIFEST in str(caught.value) and "export it again" in caught.value.fix
