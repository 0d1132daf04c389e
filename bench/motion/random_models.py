"""The transition benchmarks' models, built from published configs with random weights.

:mod:`bench.motion.transition` times them and :mod:`bench.motion.training` trains them; this
module holds what both build: every part's config at full size (:data:`FULL`) and tiny for the CPU
smoke run (:data:`TINY`), and the builders. No predictor was ever published, and speed and memory
do not depend on the weight values. The video model is the one
:func:`inference.motion.video_model.assemble` makes for the editor: an SD 1.5 UNet turned into a
``UNetMotionModel`` with the default AnimateDiff ``MotionAdapter`` (v1-5-2's layout), the SD VAE,
SD 1.5's CLIP ViT-L/14 text encoder, a ViT-H/14-sized CLIP image encoder (IP-Adapter's) and the
default Semantic Motion Predictor (8 layers, width 1024). The baseline, plain AnimateDiff, shares
its weights: no CLIP image encoding, no predictor and the stock cross-attention processors (text
tokens only). The LTX-Video first-and-last-frame backend is its 2B transformer and T5-XXL text
encoder built from configs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import torch

from bench.ml.random_sdxl import CLIP_L, SD_VAE
from inference.motion.attention import is_spatial_cross_attention
from inference.motion.predictor import PredictorConfig, SemanticMotionPredictor
from inference.motion.video_model import VideoModel, assemble

# ---------------------------------------------------------------------------------- configs
SD15_UNET: dict[str, Any] = {  # runwayml/stable-diffusion-v1-5 unet/config.json
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "block_out_channels": [320, 640, 1280, 1280],
    "layers_per_block": 2,
    "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    "attention_head_dim": 8,
    "cross_attention_dim": 768,
    "norm_num_groups": 32,
}
ADAPTER: dict[str, Any] = {  # diffusers' defaults: the layout of animatediff-motion-adapter-v1-5-2
    "block_out_channels": [320, 640, 1280, 1280],
    "motion_layers_per_block": 2,
    "motion_num_attention_heads": 8,
    "motion_max_seq_length": 32,
    "use_motion_mid_block": True,
}
CLIP_H_VISION: dict[str, Any] = {  # OpenCLIP ViT-H/14 as IP-Adapter's image_encoder
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 16,
    "patch_size": 14,
    "image_size": 224,
    "projection_dim": 1024,
    "hidden_act": "gelu",
}
SD15_SCHEDULER: dict[str, Any] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 1,
}
LTX_TRANSFORMER: dict[str, Any] = {  # diffusers' defaults: LTX-Video's 2B transformer
    "in_channels": 128,
    "out_channels": 128,
    "num_attention_heads": 32,
    "attention_head_dim": 64,
    "cross_attention_dim": 2048,
    "num_layers": 28,
    "caption_channels": 4096,
}
LTX_VAE: dict[str, Any] = {}  # diffusers' default LTX VAE (0.9.0/0.9.1 layout, 32x8 compression)
T5_XXL: dict[str, Any] = {  # google/t5-v1_1-xxl, the encoder LTX-Video uses
    "vocab_size": 32128,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "feed_forward_proj": "gated-gelu",
}


@dataclass(frozen=True)
class Sizes:
    """Every part's config, and the clip asked for: full size, or tiny for the CPU smoke run."""

    unet: dict[str, Any]
    adapter: dict[str, Any]
    vae: dict[str, Any]
    text: dict[str, Any]
    vision: dict[str, Any]
    predictor: PredictorConfig
    ltx_transformer: dict[str, Any]
    ltx_vae: dict[str, Any]
    t5: dict[str, Any]
    frames: int
    size: int
    steps: int
    warm_up_steps: int


FULL = Sizes(
    SD15_UNET,
    ADAPTER,
    SD_VAE,
    CLIP_L,
    CLIP_H_VISION,
    PredictorConfig(),
    LTX_TRANSFORMER,
    LTX_VAE,
    T5_XXL,
    frames=16,
    size=512,
    steps=25,
    warm_up_steps=2,
)
TINY = Sizes(  # the sizes of tests/fixtures/tiny_motion.py
    {
        "sample_size": 32,
        "block_out_channels": [16, 32, 64],
        "layers_per_block": 1,
        "norm_num_groups": 8,
        "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
        "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
        "attention_head_dim": 8,
        "cross_attention_dim": 32,
    },
    {
        "block_out_channels": [16, 32, 64],
        "motion_layers_per_block": 1,
        "motion_num_attention_heads": 2,
        "motion_norm_num_groups": 8,
        "motion_max_seq_length": 16,
    },
    {
        "block_out_channels": [8, 16],
        "latent_channels": 4,
        "sample_size": 64,
        "norm_num_groups": 4,
        "down_block_types": ["DownEncoderBlock2D"] * 2,
        "up_block_types": ["UpDecoderBlock2D"] * 2,
    },
    {
        "vocab_size": 1000,
        "hidden_size": 32,
        "intermediate_size": 37,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "projection_dim": 32,
        "max_position_embeddings": 77,
    },
    {
        "image_size": 32,
        "patch_size": 8,
        "hidden_size": 32,
        "intermediate_size": 37,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "projection_dim": 16,
    },
    PredictorConfig(
        clip_dim=16,
        width=32,
        layers=2,
        heads=4,
        max_frames=8,
        tokens_per_frame=2,
        cross_attention_dim=32,
        ff_mult=2,
    ),
    {
        "in_channels": 8,
        "out_channels": 8,
        "num_attention_heads": 4,
        "attention_head_dim": 8,
        "cross_attention_dim": 32,
        "num_layers": 1,
        "caption_channels": 32,
    },
    {
        "latent_channels": 8,
        "block_out_channels": (8, 8, 8, 8),
        "decoder_block_out_channels": (8, 8, 8, 8),
        "layers_per_block": (1, 1, 1, 1, 1),
        "decoder_layers_per_block": (1, 1, 1, 1, 1),
        "spatio_temporal_scaling": (True, True, False, False),
        "decoder_spatio_temporal_scaling": (True, True, False, False),
        "decoder_inject_noise": (False,) * 5,
        "upsample_residual": (False,) * 4,
        "upsample_factor": (1,) * 4,
        "patch_size": 1,
        "patch_size_t": 1,
    },
    {"vocab_size": 64, "d_model": 32, "d_kv": 8, "d_ff": 37, "num_layers": 1, "num_heads": 4},
    frames=4,
    size=64,
    steps=2,
    warm_up_steps=1,
)


# ---------------------------------------------------------------------------------- models
def build_video_model(sizes: Sizes, device: torch.device, dtype: torch.dtype) -> VideoModel:
    """The editor's video model at ``sizes``, random weights, built directly on ``device``.

    Speed does not depend on the vocabulary, so the byte-level tokenizer of the tests stands in
    for CLIP's (the embedding table keeps its real 49408 rows at full size).
    """
    from diffusers import AutoencoderKL, DDIMScheduler, MotionAdapter, UNet2DConditionModel
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    from tests.fixtures.tiny_pipelines import tokenizer_with_ids

    tok, ids = tokenizer_with_ids()
    torch.manual_seed(0)
    with torch.device(device):  # random init on the GPU: seconds instead of minutes on the CPU
        parts = SimpleNamespace(
            unet=UNet2DConditionModel(**sizes.unet),
            vae=AutoencoderKL(**sizes.vae),
            text_encoder=CLIPTextModel(CLIPTextConfig(**sizes.text, **ids)),
            tokenizer=tok,
            scheduler=DDIMScheduler(**SD15_SCHEDULER),
        )
        adapter = MotionAdapter(**sizes.adapter)
        encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(**sizes.vision))
        predictor = SemanticMotionPredictor(sizes.predictor)
        model = assemble(parts, adapter, encoder, predictor)
    del parts, adapter  # the 2D UNet and the adapter were copied into the motion UNet
    model.predictor.eval().requires_grad_(False)
    for part in (model.vae, model.unet, model.text_encoder, model.image_encoder, model.predictor):
        part.to(device=device, dtype=dtype)
    return model


class PlainAnimateDiff(VideoModel):
    """The same video model without the paper's addition: no CLIP image encoding, no predictor.

    Its tokens are zero per frame, and :func:`stock_cross_attention` puts diffusers' processor
    back, so the UNet attends to the text tokens only, as published AnimateDiff does.
    """

    def motion_tokens(self, start: torch.Tensor, end: torch.Tensor, frames: int) -> torch.Tensor:
        width = int(self.unet.config.cross_attention_dim)
        return start.new_zeros((start.shape[0], frames, 0, width), dtype=self.dtype)


def plain_of(model: VideoModel) -> PlainAnimateDiff:
    """``model``'s parts (shared, not copied) as a :class:`PlainAnimateDiff`."""
    return PlainAnimateDiff(**{f.name: getattr(model, f.name) for f in dataclasses.fields(model)})


@contextmanager
def stock_cross_attention(unet: Any) -> Iterator[None]:
    """diffusers' own SDPA processor on the spatial cross-attention layers while inside."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    installed = dict(unet.attn_processors)
    plain = AttnProcessor2_0()
    unet.set_attn_processor(
        {n: plain if is_spatial_cross_attention(n) else p for n, p in installed.items()}
    )
    try:
        yield
    finally:
        unet.set_attn_processor(installed)


def build_ltx(sizes: Sizes, device: torch.device, dtype: torch.dtype) -> Any:
    """An LTX-Video condition pipeline at ``sizes``, random weights, built on ``device``.

    A 30-piece unigram tokenizer stands in for T5's (the embedding table keeps 32128 rows).
    """
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import (
        T5Config,
        T5EncoderModel,
        T5Tokenizer,  # transformers 5: the fast (tokenizers) one
    )

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -1.0)]
    pieces += [(chr(c), -1.0) for c in range(97, 123)]
    tokenizer = T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=128)
    torch.manual_seed(0)
    with torch.device(device):
        pipe: Any = LTXConditionPipeline(
            scheduler=FlowMatchEulerDiscreteScheduler(),
            vae=AutoencoderKLLTXVideo(**sizes.ltx_vae),
            text_encoder=T5EncoderModel(T5Config(**sizes.t5)),
            tokenizer=tokenizer,
            transformer=LTXVideoTransformer3DModel(**sizes.ltx_transformer),
        )
    pipe.set_progress_bar_config(disable=True)
    for part in (pipe.vae, pipe.text_encoder, pipe.transformer):
        part.eval().requires_grad_(False).to(device=device, dtype=dtype)
    return pipe
