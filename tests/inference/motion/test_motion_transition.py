"""A whole tiny transition clip: frames, enforced end panels, cancel, progress."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from inference.errors import Cancelled
from inference.motion.transition import (
    TransitionSettings,
    denoise_transition,
    fit,
    generate_transition,
    to_pixels,
)
from tests.fixtures.tiny_motion import tiny_video_model

SETTINGS = TransitionSettings(frames=6, width=32, height=32, steps=3, seed=7, guidance=3.0)


@pytest.fixture(scope="module")
def model():
    return tiny_video_model()


def _panels() -> tuple[Image.Image, Image.Image]:
    rng = np.random.default_rng(0)
    start = Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8))
    end = Image.new("RGB", (32, 32), (20, 200, 90))
    return start, end


def test_clip_starts_and_ends_on_the_panels(model) -> None:
    start, end = _panels()
    seen = []
    frames = generate_transition(model, start, end, SETTINGS, progress=seen.append)
    assert len(frames) == 6 and all(f.size == (32, 32) and f.mode == "RGB" for f in frames)
    assert np.array_equal(np.asarray(frames[0]), np.asarray(fit(start, 32, 32)))
    assert np.array_equal(np.asarray(frames[-1]), np.asarray(fit(end, 32, 32)))
    assert [(p.step, p.total) for p in seen] == [(1, 3), (2, 3), (3, 3)]
    assert all(p.phase == "transition" for p in seen)


def test_latent_ends_are_the_panels_encodings_and_seeds_reproduce(model) -> None:
    start, end = _panels()
    latents = denoise_transition(model, start, end, SETTINGS)
    with torch.no_grad():
        keys = model.encode_images(torch.cat([to_pixels(start, 32, 32), to_pixels(end, 32, 32)]))
    assert latents.shape == (1, 4, 6, 16, 16)
    assert torch.equal(latents[0, :, 0], keys[0]) and torch.equal(latents[0, :, -1], keys[1])
    assert torch.equal(latents, denoise_transition(model, start, end, SETTINGS))
    other = denoise_transition(model, start, end, TransitionSettings(**{**_asdict(), "seed": 8}))
    assert not torch.allclose(other[:, :, 1:-1], latents[:, :, 1:-1])


def _asdict() -> dict:
    from dataclasses import asdict

    return asdict(SETTINGS)


def test_motion_tokens_reach_the_unet(model) -> None:
    start, end = _panels()
    plain = denoise_transition(model, start, end, SETTINGS)
    with torch.no_grad():
        model.predictor.out_norm.bias.add_(1.0)
    try:
        moved = denoise_transition(model, start, end, SETTINGS)
    finally:
        with torch.no_grad():
            model.predictor.out_norm.bias.sub_(1.0)
    assert not torch.allclose(plain[:, :, 1:-1], moved[:, :, 1:-1])


def test_cancel_between_steps_raises_cancelled(model) -> None:
    start, end = _panels()
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(Cancelled):
        generate_transition(model, start, end, SETTINGS, cancelled=cancelled)
    assert model.tokens.tokens is None  # no tokens left behind for the next call
