"""Tiny model folders for the engine, model and CLI tests, and small image helpers."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file
from tiny_pipelines import tiny_sd15, tiny_sdxl


def save_tiny(kind: str, folder: Path) -> Path:
    """A tiny random SDXL or SD1.5 pipeline saved as a diffusers folder (like a download)."""
    pipe = tiny_sdxl() if kind == "sdxl" else tiny_sd15()
    pipe.save_pretrained(folder)
    return folder


def pixels(png: bytes) -> torch.Tensor:
    """A PNG as a float tensor (H, W, 3) in 0..255."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return torch.from_numpy(np.asarray(image).copy()).float()


def differ(a: bytes, b: bytes) -> float:
    """Largest per-pixel difference of two PNGs (0..255)."""
    return float((pixels(a) - pixels(b)).abs().max())


def save_tiny_ip_adapter(unet: Any, folder: Path, sub: str, weight: str) -> Path:
    """A random IP-Adapter (image projection + per cross-attention K/V) and a tiny CLIP image
    encoder, in the ``h94/IP-Adapter`` layout, for ``unet``."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(3)
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=37,
            projection_dim=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=32,
            patch_size=4,
        )
    )
    encoder.save_pretrained(folder / sub / "image_encoder")
    cross = unet.config.cross_attention_dim
    channels = list(unet.config.block_out_channels)
    tensors = {
        "image_proj.proj.weight": torch.randn(cross * 4, 32) * 0.2,
        "image_proj.proj.bias": torch.zeros(cross * 4),
        "image_proj.norm.weight": torch.ones(cross),
        "image_proj.norm.bias": torch.zeros(cross),
    }
    key = 1
    for name in unet.attn_processors:  # the order diffusers numbers the adapter's layers in
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            hidden = channels[-1]
        elif name.startswith("up_blocks"):
            hidden = channels[::-1][int(name[len("up_blocks.")])]
        else:
            hidden = channels[int(name[len("down_blocks.")])]
        for kv in ("to_k_ip", "to_v_ip"):
            tensors[f"ip_adapter.{key}.{kv}.weight"] = torch.randn(hidden, cross) * 0.5
        key += 2
    save_file(tensors, str(folder / sub / weight))
    return folder
