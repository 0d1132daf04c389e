"""Which device and precision generation runs on when the user leaves it to us."""

from __future__ import annotations

import torch


def best_device() -> str:
    """CUDA, else Apple's MPS, else the CPU (slow, but it works)."""
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def default_dtype(device: torch.device) -> torch.dtype:
    """fp16 on GPUs (half the memory, the paper's choice), fp32 on the CPU (fp16 is slow there)."""
    return torch.float16 if device.type in ("cuda", "mps") else torch.float32
