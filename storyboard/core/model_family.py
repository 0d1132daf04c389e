"""Which model family a checkpoint file holds, told from its tensor names and shapes alone.

The editor runs SD 1.5 and SDXL family checkpoints (Pony, Illustrious and other SDXL fine-tunes
are SDXL); everything else a model folder holds is named and refused in words the artist can act
on (SD 2, SD 3, Flux, an inpainting model, a LoRA, a VAE, a UNet without its text encoders).
Two layouts load: the original one every A1111/ComfyUI/civitai checkpoint uses
(``model.diffusion_model.``, ``first_stage_model.``, ``cond_stage_model.`` or
``conditioner.embedders.``) and diffusers' names in one file (``unet.``, ``vae.``,
``text_encoder.``, ``text_encoder_2.``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storyboard.core.checkpoint_files import TensorIndex


class Layout(StrEnum):
    ORIGINAL = "original"  # LDM names, as A1111, ComfyUI and civitai files have them
    DIFFUSERS = "diffusers"  # diffusers' component names in one file


@dataclass(frozen=True, slots=True)
class Detection:
    """What a checkpoint is: ``kind`` is ``"sd15"`` or ``"sdxl"`` when the editor runs it."""

    label: str  # the family as the artist knows it: "SD1.5", "SDXL", "SDXL (Pony)", "Flux", ...
    kind: str | None = None  # sd15 / sdxl (inference.model_loading.ModelKind values)
    layout: Layout | None = None
    reason: str = ""  # why it is refused, and what to pick instead

    @property
    def supported(self) -> bool:
        return self.kind is not None


_PICK = "pick an SD 1.5 or SDXL checkpoint"
_LORA_MARKS = ("lora_down", "lora_up", "lora_A.", "lora_B.", ".alpha", "lokr_", "hada_")


def detect(index: TensorIndex) -> Detection:
    """The family of the checkpoint whose tensor index is ``index``."""
    names = index.shapes
    if index.unsafe_globals:
        code = ", ".join(index.unsafe_globals[:3])
        return Detection(
            "unsafe pickle",
            reason=f"the file would run code when loaded ({code}); use a .safetensors version",
        )
    if any(n.startswith(("lora_unet_", "lora_te")) or _lora_name(n) for n in _some(names)):
        return Detection("LoRA", reason="a LoRA, not a checkpoint: put it in a LoRA folder")
    if _has(names, "unet.") and not _has(names, "model.diffusion_model."):
        return _diffusers_layout(index)
    return _original_layout(index)


def _some(names: dict[str, tuple[int, ...]]) -> list[str]:
    return list(names)[:64]  # a LoRA says so in its first names; a checkpoint has thousands


def _lora_name(name: str) -> bool:
    return any(mark in name for mark in _LORA_MARKS)


def _has(names: dict[str, tuple[int, ...]], prefix: str) -> bool:
    return any(n.startswith(prefix) for n in names)


def _original_layout(index: TensorIndex) -> Detection:
    names = index.shapes
    unet = "model.diffusion_model."
    if _has(names, unet + "joint_blocks.") or _has(names, "joint_blocks."):
        return Detection("SD3", reason=f"SD 3 models are not supported yet; {_PICK}")
    if _has(names, unet + "double_blocks.") or _has(names, "double_blocks."):
        return Detection("Flux", reason=f"Flux models are not supported; {_PICK}")
    if not _has(names, unet):
        if _has(names, "encoder.down.") or _has(names, "decoder.up."):
            return Detection("VAE", reason="a VAE on its own, not a whole checkpoint")
        return Detection(
            "unknown", reason=f"not a Stable Diffusion checkpoint this editor knows; {_PICK}"
        )
    sdxl = _has(names, "conditioner.embedders.1.model.")
    if _has(names, "conditioner.embedders.0.model.") and not sdxl:
        return Detection("SDXL refiner", reason="an SDXL refiner; pick an SDXL base model")
    if _has(names, "cond_stage_model.model."):
        return Detection("SD2", reason=f"SD 2.x models are not supported; {_PICK}")
    if sdxl:
        family = Detection(_sdxl_label(index), "sdxl", Layout.ORIGINAL)
    elif _has(names, "cond_stage_model.transformer."):
        family = Detection("SD1.5", "sd15", Layout.ORIGINAL)
    else:
        label = "SDXL" if _has(names, unet + "label_emb.") else "SD1.5"
        return Detection(
            f"{label} UNet only",
            reason="the file has no text encoder: only whole checkpoints load (UNet + VAE + "
            "text encoders)",
        )
    if not _has(names, "first_stage_model."):
        return Detection(family.label, reason="the file has no VAE; pick a whole checkpoint")
    return _refuse_other_inputs(family, names.get(unet + "input_blocks.0.0.weight"))


def _diffusers_layout(index: TensorIndex) -> Detection:
    names = index.shapes
    if _has(names, "text_encoder_2.") or "unet.add_embedding.linear_1.weight" in names:
        family = Detection(_sdxl_label(index), "sdxl", Layout.DIFFUSERS)
    elif _has(names, "text_encoder."):
        embedding = _first(names, "text_encoder.", "token_embedding.weight")
        if embedding is not None and len(embedding) == 2 and embedding[1] == 1024:
            return Detection("SD2", reason=f"SD 2.x models are not supported; {_PICK}")
        family = Detection("SD1.5", "sd15", Layout.DIFFUSERS)
    else:
        return Detection("UNet only", reason="the file has no text encoder: pick a whole model")
    if not _has(names, "vae."):
        return Detection(family.label, reason="the file has no VAE; pick a whole checkpoint")
    return _refuse_other_inputs(family, names.get("unet.conv_in.weight"))


def _first(names: dict[str, tuple[int, ...]], prefix: str, suffix: str) -> tuple[int, ...] | None:
    return next((s for n, s in names.items() if n.startswith(prefix) and n.endswith(suffix)), None)


def _refuse_other_inputs(family: Detection, first_conv: tuple[int, ...] | None) -> Detection:
    channels = first_conv[1] if first_conv is not None and len(first_conv) == 4 else 4
    if channels == 9:
        return Detection(
            f"{family.label} inpainting",
            reason="an inpainting checkpoint (9 input channels); pick the regular version",
        )
    if channels != 4:
        return Detection(
            f"{family.label} ({channels} input channels)",
            reason="not a text-to-image checkpoint (instruct or depth model); pick a regular one",
        )
    return family


def _sdxl_label(index: TensorIndex) -> str:
    """SDXL, or "SDXL (Pony)" where the file's metadata names Pony (an SDXL fine-tune: it runs as
    SDXL, with its own prompt style)."""
    text = " ".join(index.metadata.get(k, "") for k in ("modelspec.title", "ss_sd_model_name"))
    return "SDXL (Pony)" if "pony" in text.lower() else "SDXL"
