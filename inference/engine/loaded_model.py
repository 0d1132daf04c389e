"""One loaded model with everything the engine installed on it: what a generate call runs on.

Loading takes seconds to minutes, so :class:`~inference.engine.story_engine.StoryEngine` does it
once per model and keeps the result as one frozen object. The story run and the guided run receive
it and never reach back into the engine; a new model is a new object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from inference.csa.state import StoryAttention
from inference.engine.fast_path import FastPath
from inference.engine.guided_pipelines import GuidedPipelines
from inference.engine.loras import LoraAdapters
from inference.engine.regional_prompt import RegionalPrompting
from inference.model_loading import ResolvedModel, native_size, round_size


@dataclass(frozen=True)
class LoadedModel:
    """A pipeline on its device with Consistent Self-Attention and regional prompts installed."""

    model: ResolvedModel
    pipe: Any
    story: StoryAttention  # the state shared by the decoder's CSA processors
    regional: RegionalPrompting  # boxed characters' own prompts
    guided: GuidedPipelines  # img2img, inpainting, ControlNet, adapter
    scheduler_config: Any  # the model's own: each request's sampler is built from it
    low_vram: bool  # placed with CPU offload and VAE tiling; banks go to pinned memory
    ip_adapter_scale: float | None  # None: no IP-Adapter loaded
    loras: LoraAdapters  # the LoRA files loaded on it and the active set
    fast: FastPath | None = field(default=None)  # faster generation, when it was applied

    @property
    def execution_device(self) -> torch.device:
        return torch.device(self.pipe._execution_device)

    def image_size(self, width: int, height: int, fit: bool) -> tuple[int, int]:
        """The size actually generated for a requested one on this model."""
        if fit:
            edge = int(self.pipe.unet.config.sample_size) * int(self.pipe.vae_scale_factor)
            return native_size(self.model.kind, width, height, edge)
        levels = len(self.pipe.unet.config.block_out_channels) - 1
        return round_size(width, height, self.pipe.vae_scale_factor * 2**levels)
