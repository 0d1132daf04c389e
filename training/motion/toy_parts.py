"""New parts of the built-in toy world's video model, before training.

- A motion adapter shaped for the toy UNet (its channels, layers and norm groups) whose output
  projections are zero: each motion module then adds nothing, and the video model starts as the
  image model it is built on (AnimateDiff initialises its temporal layers the same way).
- A small CLIP-style image encoder for 64 px toy-world pictures (``CLIPVisionModelWithProjection``,
  so the shipped code loads it like OpenCLIP's); :mod:`training.motion.image_encoder` trains it.
- The predictor at a small width, for the toy UNet's cross-attention.
"""

from __future__ import annotations

from typing import Any

import torch

from inference.motion.predictor import PredictorConfig, SemanticMotionPredictor

ENCODER_PROJECTION = 128


def new_motion_adapter(unet_config: Any, *, heads: int = 8, max_frames: int = 32) -> Any:
    """A zero-output ``MotionAdapter`` matching a ``UNet2DConditionModel`` config."""
    from diffusers import MotionAdapter

    layers = unet_config["layers_per_block"]
    adapter: Any = MotionAdapter(
        block_out_channels=tuple(unet_config["block_out_channels"]),
        motion_layers_per_block=layers,
        motion_num_attention_heads=heads,
        motion_norm_num_groups=unet_config["norm_num_groups"],
        motion_max_seq_length=max_frames,
        use_motion_mid_block=True,
    )
    zero_motion_outputs(adapter)
    return adapter


def zero_motion_outputs(module: torch.nn.Module) -> int:
    """Zero every motion module's output projection; returns how many were zeroed."""
    count = 0
    with torch.no_grad():
        for name, layer in module.named_modules():
            if "motion_modules." in f"{name}." and name.endswith("proj_out"):
                assert isinstance(layer, torch.nn.Linear)
                layer.weight.zero_()
                if layer.bias is not None:
                    layer.bias.zero_()
                count += 1
    return count


def new_image_encoder(image_size: int = 64, seed: int = 0) -> Any:
    """A 4-layer ViT on 8 px patches with a 128-d projection (about 0.8M parameters)."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    config = CLIPVisionConfig(
        image_size=image_size,
        patch_size=8,
        hidden_size=128,
        intermediate_size=512,
        num_attention_heads=4,
        num_hidden_layers=4,
        projection_dim=ENCODER_PROJECTION,
    )
    return CLIPVisionModelWithProjection(config)


def new_predictor(
    cross_attention_dim: int,
    *,
    frames: int = 32,
    image_encoder: str = "image_encoder",
    seed: int = 0,
) -> SemanticMotionPredictor:
    """The predictor at the toy model's scale: 192 wide, 3 layers, 4 tokens per frame."""
    torch.manual_seed(seed)
    return SemanticMotionPredictor(
        PredictorConfig(
            clip_dim=ENCODER_PROJECTION,
            width=192,
            layers=3,
            heads=8,
            max_frames=frames,
            tokens_per_frame=4,
            cross_attention_dim=cross_attention_dim,
            image_encoder=image_encoder,
        )
    )
