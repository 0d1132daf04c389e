"""Write a diffusers SD1.5 pipeline as one original-layout (LDM) ``.safetensors`` checkpoint.

The inverse of what ``from_single_file`` does, written from the key layout of the original
Stable Diffusion code, for any number of UNet levels and ``layers_per_block``: enough to give the
single-file loading path a real civitai-style file built from a tiny random model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

_RESNET = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "time_emb_proj": "emb_layers.1",
    "conv_shortcut": "skip_connection",
}
_VAE_ATTENTION = {
    "group_norm": "norm",
    "to_q": "q",
    "to_k": "k",
    "to_v": "v",
    "to_out.0": "proj_out",
}


def _rename(key: str, prefix: str, target: str, inner: dict[str, str]) -> str | None:
    if not key.startswith(prefix):
        return None
    rest = key[len(prefix) :]
    for old, new in inner.items():
        if rest.startswith(old + "."):
            rest = new + rest[len(old) :]
            break
    return target + rest


def unet_to_ldm(unet: Any) -> dict[str, torch.Tensor]:
    config = unet.config
    per = config.layers_per_block
    levels = len(config.block_out_channels)
    rules: list[tuple[str, str, dict[str, str]]] = [
        ("time_embedding.linear_1.", "time_embed.0.", {}),
        ("time_embedding.linear_2.", "time_embed.2.", {}),
        ("conv_in.", "input_blocks.0.0.", {}),
        ("conv_norm_out.", "out.0.", {}),
        ("conv_out.", "out.2.", {}),
        ("mid_block.attentions.0.", "middle_block.1.", {}),
    ]
    for j in range(2):
        rules.append((f"mid_block.resnets.{j}.", f"middle_block.{2 * j}.", _RESNET))
    for i in range(levels):
        for j in range(per):
            block = (per + 1) * i + j + 1
            rules.append((f"down_blocks.{i}.resnets.{j}.", f"input_blocks.{block}.0.", _RESNET))
            rules.append((f"down_blocks.{i}.attentions.{j}.", f"input_blocks.{block}.1.", {}))
        rules.append(
            (
                f"down_blocks.{i}.downsamplers.0.conv.",
                f"input_blocks.{(per + 1) * (i + 1)}.0.op.",
                {},
            )
        )
        has_attention = config.up_block_types[i].startswith("CrossAttn")
        for j in range(per + 1):
            block = (per + 1) * i + j
            rules.append((f"up_blocks.{i}.resnets.{j}.", f"output_blocks.{block}.0.", _RESNET))
            rules.append((f"up_blocks.{i}.attentions.{j}.", f"output_blocks.{block}.1.", {}))
        slot = 2 if has_attention else 1
        rules.append(
            (f"up_blocks.{i}.upsamplers.0.", f"output_blocks.{(per + 1) * i + per}.{slot}.", {})
        )
    return _apply(unet.state_dict(), rules, "model.diffusion_model.")


def vae_to_ldm(vae: Any) -> dict[str, torch.Tensor]:
    levels = len(vae.config.block_out_channels)
    rules: list[tuple[str, str, dict[str, str]]] = []
    for part in ("encoder", "decoder"):
        rules.append((f"{part}.conv_norm_out.", f"{part}.norm_out.", {}))
        rules.append((f"{part}.mid_block.attentions.0.", f"{part}.mid.attn_1.", _VAE_ATTENTION))
        for j in range(2):
            rules.append(
                (
                    f"{part}.mid_block.resnets.{j}.",
                    f"{part}.mid.block_{j + 1}.",
                    {"conv_shortcut": "nin_shortcut"},
                )
            )
    for i in range(levels):
        rules.append((f"encoder.down_blocks.{i}.resnets.", f"encoder.down.{i}.block.", {}))
        rules.append(
            (f"encoder.down_blocks.{i}.downsamplers.0.", f"encoder.down.{i}.downsample.", {})
        )
        up = levels - 1 - i
        rules.append((f"decoder.up_blocks.{i}.resnets.", f"decoder.up.{up}.block.", {}))
        rules.append((f"decoder.up_blocks.{i}.upsamplers.0.", f"decoder.up.{up}.upsample.", {}))
    out = _apply(vae.state_dict(), rules, "first_stage_model.", keep_rest=True)
    for key, value in list(out.items()):
        if ".mid.attn_1." in key and key.endswith(".weight") and value.ndim == 2:
            out[key] = value[:, :, None, None]  # linear -> 1x1 conv, as in the original VAE
        out[key.replace(".conv_shortcut.", ".nin_shortcut.")] = out.pop(key)
    return out


def _apply(
    state: dict[str, torch.Tensor],
    rules: list[tuple[str, str, dict[str, str]]],
    prefix: str,
    keep_rest: bool = False,
) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        for old, new, inner in rules:
            renamed = _rename(key, old, new, inner)
            if renamed is not None:
                out[prefix + renamed] = value
                break
        else:
            if not keep_rest:
                raise KeyError(f"no LDM name for UNet weight {key}")
            out[prefix + key] = value
    return out


def text_encoder_to_ldm(encoder: Any) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in encoder.state_dict().items():
        name = key if key.startswith("text_model.") else "text_model." + key
        out["cond_stage_model.transformer." + name] = value
    return out


def write_sd15_checkpoint(pipe: Any, path: Path) -> Path:
    """``pipe`` (a diffusers SD1.5 pipeline) as one LDM-layout safetensors file."""
    tensors = {
        **unet_to_ldm(pipe.unet),
        **vae_to_ldm(pipe.vae),
        **text_encoder_to_ldm(pipe.text_encoder),
    }
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path))
    return path
