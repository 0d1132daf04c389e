"""CLIP image embeddings of panels, without torchvision or a transformers image processor.

transformers' ``CLIPImageProcessor`` wants torchvision (which would replace the CPU torch build,
see research/stack-ml.md), and the work is three lines: resize the short side with bicubic
filtering, centre-crop to the encoder's square, normalise with CLIP's mean and std.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch.nn import functional

from inference.errors import ModelUnavailable
from inference.motion.sources import resolve_folder

logger = logging.getLogger(__name__)

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def clip_pixels(images: torch.Tensor, size: int) -> torch.Tensor:
    """Images (B, 3, H, W) in [-1, 1] to the encoder's normalised (B, 3, size, size) input."""
    x = (images.float() + 1.0) / 2.0
    h, w = x.shape[-2:]
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    x = functional.interpolate(x, size=(nh, nw), mode="bicubic", antialias=True)
    top, left = (nh - size) // 2, (nw - size) // 2
    x = x[..., top : top + size, left : left + size].clamp(0.0, 1.0)
    mean = torch.tensor(CLIP_MEAN, device=x.device)[:, None, None]
    std = torch.tensor(CLIP_STD, device=x.device)[:, None, None]
    return (x - mean) / std


def image_embeds(encoder: Any, images: torch.Tensor) -> torch.Tensor:
    """Projected CLIP embeddings (B, projection_dim) of images (B, 3, H, W) in [-1, 1]."""
    size = int(encoder.config.image_size)
    pixels = clip_pixels(images, size).to(encoder.device, encoder.dtype)
    return encoder(pixel_values=pixels).image_embeds


def hidden_states(encoder: Any, images: torch.Tensor, layers: Sequence[int]) -> list[torch.Tensor]:
    """Token maps (B, C, g, g) of the given transformer layers, class token dropped."""
    size = int(encoder.config.image_size)
    pixels = clip_pixels(images, size).to(encoder.device, encoder.dtype)
    states = encoder(pixel_values=pixels, output_hidden_states=True).hidden_states
    grid = size // int(encoder.config.patch_size)
    return [states[i][:, 1:].transpose(1, 2).unflatten(-1, (grid, grid)) for i in layers]


def load_image_encoder(source: str, dtype: torch.dtype) -> Any:
    """``CLIPVisionModelWithProjection`` from a hub id (cache only) or folder, on the CPU."""
    from transformers import CLIPVisionModelWithProjection

    folder = resolve_folder(source, marker="config.json", what="CLIP image encoder")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            encoder = CLIPVisionModelWithProjection.from_pretrained(
                str(folder), dtype=dtype, local_files_only=True
            )
    except Exception as exc:
        logger.debug("loading the image encoder %s failed", folder, exc_info=True)
        raise ModelUnavailable(
            source,
            [f"{folder} could not be loaded as a CLIP image encoder: {type(exc).__name__}"],
            "Pick the image_encoder folder of an IP-Adapter download (CLIP ViT-H/14)",
        ) from exc
    return encoder.eval().requires_grad_(False)
