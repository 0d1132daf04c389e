"""Tiny model folders for the engine, model and CLI tests, and small image helpers."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image
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
