"""Tiny random-weight parts of the video model (built from configs, nothing downloaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from tiny_pipelines import tiny_sd15

from inference.motion.predictor import PredictorConfig, SemanticMotionPredictor
from inference.motion.video_model import VideoModel, assemble

PREDICTOR = PredictorConfig(
    clip_dim=16,
    width=32,
    layers=2,
    heads=4,
    max_frames=8,
    tokens_per_frame=2,
    cross_attention_dim=32,
    ff_mult=2,
    image_encoder="unused",
)


def tiny_adapter() -> Any:
    """A motion adapter matching the tiny SD1.5 UNet (3 levels, 1 layer per block)."""
    from diffusers import MotionAdapter

    return MotionAdapter(
        block_out_channels=(16, 32, 64),
        motion_layers_per_block=1,
        motion_num_attention_heads=2,
        motion_norm_num_groups=8,
        motion_max_seq_length=16,
    )


def tiny_image_encoder() -> Any:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    config = CLIPVisionConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        projection_dim=16,
    )
    return CLIPVisionModelWithProjection(config).eval()


def tiny_predictor(seed: int = 0) -> SemanticMotionPredictor:
    torch.manual_seed(seed)
    return SemanticMotionPredictor(PREDICTOR)


def tiny_video_model() -> VideoModel:
    pipe = tiny_sd15()
    torch.manual_seed(1)
    return assemble(pipe, tiny_adapter(), tiny_image_encoder(), tiny_predictor())


def save_sources(folder: Path) -> dict[str, Path]:
    """The tiny parts saved as the real loaders expect them: base, adapter, encoder, predictor."""
    from inference.motion.predictor import save_predictor

    paths = {name: folder / name for name in ("base", "adapter", "encoder", "predictor")}
    tiny_sd15().save_pretrained(paths["base"])
    torch.manual_seed(1)
    tiny_adapter().save_pretrained(paths["adapter"])
    tiny_image_encoder().save_pretrained(paths["encoder"])
    save_predictor(tiny_predictor(), paths["predictor"])
    return paths
