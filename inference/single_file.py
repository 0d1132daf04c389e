"""A single checkpoint file as a diffusers pipeline, offline, with configs shipped with the editor.

diffusers' single-file loader needs, beside the weights, the base model's configs and tokenizers;
by default it fetches them from the hub. The editor ships them instead (``resources/single_file``:
the SD 1.5 and SDXL base configs, a few KB each, and CLIP's BPE merges, about 200 KB), so a
civitai checkpoint loads on a machine that has never been online:

* original (A1111/ComfyUI) names: ``from_single_file(path, config=<shipped folder>,
  local_files_only=True)`` with the tokenizers built from the shipped merges
  (:mod:`inference.clip_tokenizer`);
* diffusers' names in one file (``unet.``, ``vae.``, ``text_encoder.``...): each part built from
  the shipped config and filled from the file.

A ``.ckpt`` is only read through ``torch.load(weights_only=True)`` (diffusers' loader does so
too): nothing in it is ever run. ``storyboard.core.checkpoint_files`` has refused one that names
code before this is reached.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from inference.clip_tokenizer import clip_tokenizer
from storyboard.core.model_family import Layout
from storyboard.core.resources import SINGLE_FILE

logger = logging.getLogger(__name__)

TEXT_PARTS = ("text_encoder", "text_encoder_2")
TOKENIZERS = {"tokenizer": "<|endoftext|>", "tokenizer_2": "!"}  # part: its pad token


def shipped_config(kind: str) -> Path:
    """The shipped diffusers config folder of a family (``sd15`` or ``sdxl``)."""
    return SINGLE_FILE / kind


def load_single_file(
    cls: Any, path: Path, layout: Layout, config: Path, dtype: torch.dtype, extra: dict[str, Any]
) -> Any:
    """The pipeline of class ``cls`` from the checkpoint at ``path``, configured by ``config``."""
    tokenizers = _tokenizers(cls, config)
    if layout is Layout.DIFFUSERS:
        return _from_diffusers_names(cls, path, config, dtype, {**extra, **tokenizers})
    return cls.from_single_file(
        str(path),
        config=str(config),
        torch_dtype=dtype,
        local_files_only=True,
        **tokenizers,
        **extra,
    )


def _tokenizers(cls: Any, config: Path) -> dict[str, Any]:
    """CLIP tokenizers from the shipped merges for the parts ``config`` has no folder for."""
    wanted = [name for name in TOKENIZERS if name in cls._get_signature_keys(cls)[0]]
    missing = [name for name in wanted if not (config / name).is_dir()]
    return {name: clip_tokenizer(TOKENIZERS[name]) for name in missing}


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """All tensors of a checkpoint file; a ``.ckpt`` only through the weights-only unpickler."""
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    while isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    return dict(state)


def _from_diffusers_names(
    cls: Any, path: Path, config: Path, dtype: torch.dtype, extra: dict[str, Any]
) -> Any:
    from diffusers import AutoencoderKL, UNet2DConditionModel

    state = read_state_dict(path)
    parts: dict[str, Any] = {}
    for name, model_cls in (("unet", UNet2DConditionModel), ("vae", AutoencoderKL)):
        model = model_cls.from_config(model_cls.load_config(str(config / name)))
        parts[name] = _fill(model, _part(state, name), path, name)
    for name in TEXT_PARTS:
        if name in cls._get_signature_keys(cls)[0]:
            parts[name] = _fill(_text_model(config, name), _part(state, name), path, name)
    for model in parts.values():
        model.to(dtype=dtype)
    return cls(**parts, scheduler=_scheduler(config), **extra)


def _part(state: dict[str, torch.Tensor], name: str) -> dict[str, torch.Tensor]:
    prefix = name + "."
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def _text_model(config: Path, name: str) -> Any:
    import transformers

    settings = transformers.CLIPTextConfig.from_pretrained(str(config / name))
    architecture = (settings.architectures or ["CLIPTextModel"])[0]
    return getattr(transformers, architecture)(settings)


def _fill(model: Any, weights: dict[str, torch.Tensor], path: Path, name: str) -> Any:
    """``model`` with ``weights`` (names with or without transformers' ``text_model.``)."""
    own = model.state_dict()
    if weights and not set(weights) & set(own):
        weights = {_flat(k, own): v for k, v in weights.items()}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or not weights:
        raise ValueError(f"{path.name} lacks the {name} weights ({len(missing)} missing)")
    if unexpected:
        logger.debug("%s: %d unexpected %s weights ignored", path.name, len(unexpected), name)
    return model.eval()


def _flat(key: str, own: dict[str, Any]) -> str:
    """A text encoder name as this transformers version spells it (5.6+ dropped ``text_model.``)."""
    if key.startswith("text_model.") and key not in own:
        return key[len("text_model.") :]
    return key if key in own else "text_model." + key


def _scheduler(config: Path) -> Any:
    import diffusers

    settings = diffusers.DDIMScheduler.load_config(str(config / "scheduler"))
    return getattr(diffusers, settings["_class_name"]).from_config(settings)
