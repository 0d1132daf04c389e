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


def tiny_ltx() -> Any:
    """A tiny random LTX-Video condition pipeline (T5 with a 30-piece unigram vocab)."""
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel, T5TokenizerFast

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    vae = AutoencoderKLLTXVideo(
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4,
        upsample_factor=(1,) * 4,
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    encoder = T5EncoderModel(
        T5Config(vocab_size=64, d_model=32, d_kv=8, d_ff=37, num_layers=1, num_heads=4)
    )
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -1.0)]
    pieces += [(chr(c), -1.0) for c in range(97, 123)]
    tokenizer = T5TokenizerFast(vocab=pieces, extra_ids=0, model_max_length=16)
    return LTXConditionPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )
