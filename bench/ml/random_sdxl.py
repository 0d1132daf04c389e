"""A full-size SDXL pipeline with random weights, saved as a diffusers folder, for the engine
benchmark (speed does not depend on the weight values), and a way to push files out of the page
cache so that a load or a read can be timed cold."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from bench.ml.csa import GIB, SDXL_UNET
from inference.engine.schedulers import sdxl_ddim

SD_VAE: dict[str, Any] = {  # the VAE of SD 1.5 (also used by the transition benchmark)
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 512,
    "scaling_factor": 0.18215,
}
SDXL_VAE: dict[str, Any] = {
    **SD_VAE,
    "sample_size": 1024,
    "scaling_factor": 0.13025,
    "force_upcast": True,  # the stock SDXL VAE decodes in fp32, so this one does too
}
CLIP_L: dict[str, Any] = {  # CLIP ViT-L/14: SDXL's text_encoder and SD 1.5's text encoder
    "vocab_size": 49408,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "projection_dim": 768,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
}
CLIP_BIG_G: dict[str, Any] = {  # SDXL's text_encoder_2: OpenCLIP ViT-bigG/14
    "vocab_size": 49408,
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 20,
    "projection_dim": 1280,
    "max_position_embeddings": 77,
    "hidden_act": "gelu",
}


def full_sdxl(device: torch.device, dtype: torch.dtype) -> Any:
    """A full-size SDXL pipeline with random weights, built on ``device`` (fast init on a GPU).

    Speed does not depend on the weights or the vocabulary, so the byte-level tokenizer of the
    tests serves both text encoders; the embedding tables keep CLIP's 49408 rows, so the files are
    as large as the real model's.
    """
    from diffusers import (
        AutoencoderKL,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from tests.fixtures.tiny_pipelines import tokenizer_with_ids

    tok, ids = tokenizer_with_ids()
    torch.manual_seed(0)
    with torch.device(device):
        unet = UNet2DConditionModel(**SDXL_UNET)
        vae = AutoencoderKL(**SDXL_VAE)
        text_encoder = CLIPTextModel(CLIPTextConfig(**CLIP_L, **ids))
        text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIG_G, **ids))
    scheduler = sdxl_ddim()
    pipe: Any = StableDiffusionXLPipeline(
        vae=vae,
        unet=unet,
        scheduler=scheduler,
        tokenizer=tok,
        tokenizer_2=tok,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
    )
    return pipe.to(dtype=dtype)


def save_model(folder: Path, tiny: bool, device: torch.device, dtype: torch.dtype) -> float:
    """Write the benchmark's model to ``folder`` as a diffusers folder; its size in GiB."""
    if tiny:
        from tests.fixtures.tiny_pipelines import tiny_sdxl

        pipe = tiny_sdxl()
    else:
        pipe = full_sdxl(device, dtype)
    pipe.to("cpu").save_pretrained(folder)  # frees the GPU before the timed loads
    del pipe
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / GIB


def evict(path: Path) -> None:
    """Ask the kernel to drop ``path`` (a file, or every file under a folder) from the page cache.

    Dirty pages cannot be dropped, so each file is synced first. Where ``posix_fadvise`` is missing
    (not Linux) the files stay cached and the "cold" rows are warm.
    """
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    for file in files:
        fd = os.open(file, os.O_RDONLY)
        try:
            os.fsync(fd)
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
