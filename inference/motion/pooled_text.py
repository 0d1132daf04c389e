"""The base UNet's pooled-text embedding, carried over into the video UNet.

diffusers' ``UNetMotionModel`` knows only SDXL's ``text_time`` addition embedding. A UNet with
``addition_embed_type="text"`` (the built-in toy model: an attention-pooled summary of the text
added to the timestep embedding, so every ResNet block sees the prompt) loses it in
``from_unet2d``, and the video model then predicts noise worse than the image model it came from
(measured on the toy model: 0.040 → 0.043 at t=200, 0.011 → 0.019 at t=500). A video model must
start as its image model, so the embedding module is moved across and added back by two hooks:
one notes each clip's text on the way into the UNet, one adds its embedding to the timestep
embedding, exactly where ``UNet2DConditionModel.get_aug_embed`` adds it.
"""

from __future__ import annotations

from typing import Any

import torch


class _ClipText:
    """The text states (B, tokens, dim) of the UNet call in progress, one row per clip."""

    def __init__(self) -> None:
        self.text: torch.Tensor | None = None


def carry_pooled_text(motion_unet: Any, base_unet: Any) -> bool:
    """Give ``motion_unet`` the pooled-text embedding of ``base_unet``; False when it has none.

    Callers pass the text repeated per frame, batch-major (row ``b * L + f``), as
    ``VideoModel.predict_noise`` does; the embedding is computed once per clip.
    """
    if base_unet.config.get("addition_embed_type") != "text":
        return False
    motion_unet.add_embedding = base_unet.add_embedding  # a submodule: moves and saves with it
    current = _ClipText()

    def note_text(_unet: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        sample = kwargs["sample"] if "sample" in kwargs else args[0]
        states = kwargs.get("encoder_hidden_states")
        if states is None and len(args) > 2:
            states = args[2]
        current.text = None if states is None else states[:: sample.shape[2]]

    def add_text(_embedding: Any, _inputs: Any, emb: torch.Tensor) -> torch.Tensor:
        text, current.text = current.text, None
        if text is None:
            return emb
        pooled: torch.Tensor = motion_unet.add_embedding(text.to(emb.dtype))
        return emb + pooled

    motion_unet.register_forward_pre_hook(note_text, with_kwargs=True)
    motion_unet.time_embedding.register_forward_hook(add_text)
    return True
