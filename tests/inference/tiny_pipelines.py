"""Tiny random-weight SDXL and SD1.5 pipelines built from configs (nothing is downloaded).

Both keep the decoder topology that matters for CSA: the SDXL one has decoder self-attention at two
resolutions (1/4 and 1/2 of the latent, like SDXL's 32x32 and 64x64 maps at 1024 px), the SD1.5 one
at 1/2 and full latent resolution. The VAE has two blocks (scale factor 2), so a 64 px image is a
32x32 latent.
"""

from __future__ import annotations

from typing import Any

import torch


def tiny_tokenizer() -> Any:
    """Byte-level CLIP tokenizer: 512 byte tokens + bos/eos, no merges (transformers 5 API)."""
    from transformers import CLIPTokenizer

    from inference.toyworld.model import byte_chars

    chars = byte_chars()
    tokens = [*chars, *(c + "</w>" for c in chars), "<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def tokenizer_with_ids() -> tuple[Any, dict[str, int]]:
    """The byte-level tokenizer and the special token ids a CLIPTextConfig needs with it."""
    tok = tiny_tokenizer()
    ids = {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id}
    ids["pad_token_id"] = tok.pad_token_id
    return tok, ids


def _text_config(tok: Any) -> Any:
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        vocab_size=1000,
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        projection_dim=32,
        max_position_embeddings=77,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )


def _vae() -> Any:
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=[8, 16],
        latent_channels=4,
        sample_size=64,
        norm_num_groups=4,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
    )


def _scheduler() -> Any:
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )


def tiny_sdxl_unet() -> Any:
    """SDXL-shaped UNet: 3 levels, cross-attention in the two lower ones, text_time embedding."""
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=32,
        block_out_channels=(16, 32, 64),
        layers_per_block=1,
        norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4, 8),
        use_linear_projection=True,
        transformer_layers_per_block=(1, 1, 2),
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=6 * 8 + 32,
        cross_attention_dim=64,
    )


def tiny_sd15_unet() -> Any:
    """SD1.5-shaped UNet: cross-attention at the two finer levels (three in the real model)."""
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=32,
        block_out_channels=(16, 32, 64),
        layers_per_block=1,
        norm_num_groups=8,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        attention_head_dim=8,
        cross_attention_dim=32,
    )


def tiny_sdxl() -> Any:
    """A complete tiny SDXL pipeline with DDIM, random weights (seeded)."""
    from diffusers import StableDiffusionXLPipeline
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(0)
    tok = tiny_tokenizer()
    pipe = StableDiffusionXLPipeline(
        vae=_vae(),
        unet=tiny_sdxl_unet(),
        scheduler=_scheduler(),
        tokenizer=tok,
        tokenizer_2=tok,
        text_encoder=CLIPTextModel(_text_config(tok)),
        text_encoder_2=CLIPTextModelWithProjection(_text_config(tok)),
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def tiny_sd15() -> Any:
    """A complete tiny SD1.5 pipeline with DDIM, random weights (seeded)."""
    from diffusers import StableDiffusionPipeline
    from transformers import CLIPTextModel

    torch.manual_seed(0)
    tok = tiny_tokenizer()
    pipe = StableDiffusionPipeline(
        vae=_vae(),
        unet=tiny_sd15_unet(),
        scheduler=_scheduler(),
        tokenizer=tok,
        text_encoder=CLIPTextModel(_text_config(tok)),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe
