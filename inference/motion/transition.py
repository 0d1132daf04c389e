"""Sampling a transition clip between two panels with the video model.

The predictor's tokens steer the frames in between; the panels themselves are enforced on the
first and last frame: their VAE latents are re-noised to each step's timestep (with the clip's own
starting noise of that frame) and put in place of those frames before the UNet sees them, and the
clean latents replace them after the last step. The middle frames are therefore denoised next to
the true end frames at every noise level (the replacement method of RePaint; SparseCtrl keyframes).
The VAE round trip is lossy, so the delivered first and last frames are the panels' own pixels.

Classifier-free guidance contrasts the conditioned call with one that has the negative prompt and
zero motion tokens (the training script drops tokens the same way), so guidance strengthens the
predicted motion as well as the prompt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from inference.errors import Cancelled
from inference.model_loading import round_size
from inference.motion.video_model import VideoModel
from inference.results import Progress


@dataclass(frozen=True, slots=True)
class TransitionSettings:
    """What a transition is generated with (the paper: 50 DDIM steps, guidance 7.5)."""

    frames: int = 16
    width: int = 512
    height: int = 512
    steps: int = 25
    seed: int = 0
    guidance: float = 7.5
    prompt: str = ""
    negative_prompt: str = ""


def to_pixels(image: Image.Image, width: int, height: int) -> torch.Tensor:
    """A panel scaled and centre-cropped to width x height, as (1, 3, H, W) in [-1, 1]."""
    fitted = fit(image, width, height)
    array = np.asarray(fitted, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1)[None]


def fit(image: Image.Image, width: int, height: int) -> Image.Image:
    """``image`` in RGB covering width x height (scaled to cover, centre-cropped)."""
    rgb = image.convert("RGB")
    scale = max(width / rgb.width, height / rgb.height)
    size = (max(width, round(rgb.width * scale)), max(height, round(rgb.height * scale)))
    scaled = rgb.resize(size, Image.Resampling.LANCZOS)
    left, top = (size[0] - width) // 2, (size[1] - height) // 2
    return scaled.crop((left, top, left + width, top + height))


def to_images(pixels: torch.Tensor) -> list[Image.Image]:
    """(N, 3, H, W) in [-1, 1] to RGB images."""
    array = ((pixels.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return [Image.fromarray(a) for a in array.permute(0, 2, 3, 1).cpu().numpy()]


def denoise_transition(
    model: VideoModel,
    start: Image.Image,
    end: Image.Image,
    settings: TransitionSettings,
    progress: Callable[[Progress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> torch.Tensor:
    """The clip's clean latents (1, C, L, h, w); first and last frame are the panels' latents."""
    s = settings
    if s.frames < 2:
        raise ValueError(f"a transition needs at least 2 frames, got {s.frames}")
    report = progress or (lambda _p: None)
    stop = cancelled or (lambda: False)
    width, height = round_size(s.width, s.height, model.size_multiple)
    device, dtype = model.device, model.dtype
    cfg = s.guidance > 1.0
    with torch.no_grad():
        panels = torch.cat([to_pixels(start, width, height), to_pixels(end, width, height)])
        panels = panels.to(device, dtype)
        keys = model.encode_images(panels).to(dtype)  # (2, C, h, w)
        tokens = model.motion_tokens(panels[:1], panels[1:], s.frames)
        text = model.encode_prompts([s.negative_prompt, s.prompt] if cfg else [s.prompt])
        if cfg:
            tokens = torch.cat([torch.zeros_like(tokens), tokens])
        scheduler = model.scheduler()
        scheduler.set_timesteps(s.steps, device=device)
        generator = torch.Generator("cpu").manual_seed(s.seed)
        shape = (1, keys.shape[1], s.frames, *keys.shape[2:])
        noise = torch.randn(shape, generator=generator, dtype=torch.float32).to(device, dtype)
        latents = noise * scheduler.init_noise_sigma
        ends = (0, s.frames - 1)
        total = len(scheduler.timesteps)
        for i, t in enumerate(scheduler.timesteps):
            if stop():
                raise Cancelled(0)
            for key, frame in zip(keys, ends, strict=True):
                latents[:, :, frame] = scheduler.add_noise(key[None], noise[:, :, frame], t[None])
            batch = torch.cat([latents, latents]) if cfg else latents
            batch = scheduler.scale_model_input(batch, t)
            eps = model.predict_noise(batch, t, text, tokens)
            if cfg:
                uncond, cond = eps.chunk(2)
                eps = uncond + s.guidance * (cond - uncond)
            latents = scheduler.step(eps, t, latents).prev_sample
            report(Progress("transition", step=i + 1, total=total, images_total=1))
        for key, frame in zip(keys, ends, strict=True):
            latents[:, :, frame] = key
    return latents


def generate_transition(
    model: VideoModel,
    start: Image.Image,
    end: Image.Image,
    settings: TransitionSettings,
    progress: Callable[[Progress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[Image.Image]:
    """``settings.frames`` RGB frames from ``start`` to ``end`` (exactly those two at the ends).

    Raises :class:`Cancelled` when ``cancelled()`` turns true between steps.
    """
    latents = denoise_transition(model, start, end, settings, progress, cancelled)
    width, height = round_size(settings.width, settings.height, model.size_multiple)
    frames: list[Image.Image] = []
    with torch.no_grad():
        for frame in range(1, settings.frames - 1):  # one frame at a time: VAE memory stays flat
            if cancelled is not None and cancelled():
                raise Cancelled(0)
            frames += to_images(model.decode_latents(latents[:, :, frame]))
    return [fit(start, width, height), *frames, fit(end, width, height)]
