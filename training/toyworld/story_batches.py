"""Training the toy model's self-attention to keep a character across panels.

Consistent Self-Attention is training-free on SDXL because SDXL's self-attention already copies
appearance between parts of an image: CSA only widens what it can see to the other panels. A small
model trained on single pictures does not rely on self-attention for that (its convolutions see
the whole 64 px picture), so sharing tokens changes little (measured in ``docs/benchmarks.md``).

This module teaches it. A *story batch* holds stories of ``panels`` pictures of the same person
(every appearance attribute equal) in different scenes, positions and poses, captioned with many
attributes left out, the panels of a story at one noise level or, in some stories, at mixed levels
(:func:`story_timesteps`). During the forward pass the UNet's decoder self-attention layers run the
product's own CSA processor in write mode, each story being one group: every panel attends to its
own tokens and a sampled share of the other panels' tokens, exactly as at generation time. An
unstated attribute can then only be predicted well by reading it from the other panels, so the
model learns to use the shared tokens. Plain batches in between keep single-picture generation as
it was.
"""

from __future__ import annotations

from typing import Any

import torch

from inference.csa.config import CSAConfig
from inference.csa.processor import decoder_layers, put_consistent_processors
from inference.csa.state import Mode, StoryAttention
from training.toyworld.world import APPEARANCE, WorldBatch, sample_world


def story_world(stories: int, panels: int, generator: torch.Generator) -> WorldBatch:
    """``stories * panels`` single-person pictures; the panels of a story show the same person."""
    world = sample_world(stories * panels, generator, two_people=0.0)
    for name in APPEARANCE:
        column = world.people[name][:, 0]
        column.copy_(column[::panels].repeat_interleave(panels))
    return world


def story_timesteps(
    count: int,
    panels: int,
    spread: float,
    steps: int,
    generator: torch.Generator,
    low: int = 0,
) -> torch.Tensor:
    """Training noise levels for ``count`` pictures in stories of ``panels`` (story-major).

    The panels of a story share one level, as in a CSA batch at generation time, except in a
    ``spread`` share of the stories, whose panels each get their own: there a noisy panel gains
    most by copying the look of a clearer one through the shared tokens. That is the habit CSA
    needs: at generation time the panel whose colours settle first leads the others.
    Levels are drawn from ``low`` up (0: all of them).
    """
    device = generator.device
    t = torch.randint(low, steps, (count,), generator=generator, device=device)
    if panels <= 1:
        return t
    spread_story = torch.rand(count // panels, generator=generator, device=device) < spread
    shared = t[::panels].repeat_interleave(panels)
    return torch.where(spread_story.repeat_interleave(panels), t, shared)


class _NoBank:
    """Stands in for the identity bank: training keeps no tokens."""

    def __init__(self, num_images: int) -> None:
        self.num_images = num_images

    def put(self, *_args: Any) -> None:
        pass


class TrainingStory(StoryAttention):
    """CSA state for training: every call consistent, one group per story, fresh samples per
    training step (``step`` is the training step; the denoising step does not apply)."""

    def __init__(self, layer_names: list[str], rate: float, latent: tuple[int, int]) -> None:
        config = CSAConfig(rate_low=rate, rate_high=rate, start_step=0, p_early=1.0, p_late=1.0)
        super().__init__(config, layer_names)
        self.latent_size = latent
        self.stories = 1

    @property
    def groups(self) -> int:
        return self.stories

    def gate(self, layer_index: int) -> bool:
        return True

    def keeps(self, layer_index: int) -> bool:
        return False

    def on(self, stories: int, panels: int, step: int) -> None:
        """The next forward holds ``stories`` stories of ``panels`` panels (story-major)."""
        self.mode = Mode.WRITE
        self.stories = stories
        self.write_bank = _NoBank(panels)  # type: ignore[assignment]
        self.step = step
        self._seed = step

    def off(self) -> None:
        self.mode = Mode.OFF
        self.write_bank = None


def install_training_csa(unet: Any, rate: float, latent: tuple[int, int]) -> TrainingStory:
    """CSA processors on the decoder self-attention layers, driven by a :class:`TrainingStory`."""
    story = TrainingStory(decoder_layers(unet), rate, latent)
    put_consistent_processors(unet, story)
    return story
