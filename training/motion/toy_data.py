"""Training clips rendered on the fly: the toy world in motion, drawn on the training device.

The built-in video model never reads a video file. Each step renders a fresh batch of clips
(a person walking or turning in one of the toy world's scenes, with a caption that says so) in
one vectorised call on the GPU, seeded from the step's generator, so a resumed run draws the same
batches as an uninterrupted one. The same interface as :class:`training.motion.data.ClipDataset`.
"""

from __future__ import annotations

import torch

from training.motion.data import Batch
from training.toyworld.motion import render_clips


class ToyWorldClips:
    """``sample(batch, generator)`` renders ``batch`` clips of ``frames`` frames on ``device``."""

    def __init__(self, frames: int, device: str | torch.device = "cpu") -> None:
        self.frames = frames
        self.device = torch.device(device)

    def __len__(self) -> int:
        return 2**31  # unbounded: every batch is new

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        seed = int(torch.randint(2**62, (1,), generator=generator))
        clips = render_clips(batch_size, self.frames, seed=seed, device=self.device)
        return Batch(clips.frames, list(clips.captions))
