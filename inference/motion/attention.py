"""Per-frame motion tokens in the video UNet's cross-attention (the paper's Eq.: concat(T, P_i)).

AnimateDiff's UNet runs its spatial layers on every frame as a batch row (batch-major: row
``b * L + f`` is frame ``f`` of clip ``b``) with the text tokens repeated per frame. The processor
appends frame ``f``'s predicted tokens to that row's text tokens, so they pass through the same
``to_k``/``to_v`` as the text, as the paper describes. diffusers' AnimateDiff IP-Adapter path has
one image embedding for the whole clip, which is why this is a processor of its own.

The tokens are an attribute of one shared :class:`MotionTokens`, set before each UNet call, rather
than a ``cross_attention_kwargs`` entry: diffusers hands those to every processor, and the
temporal and self-attention processors would log a warning per layer per step.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers.models.attention_processor import AttnProcessor2_0


class MotionTokens:
    """The tokens of the current UNet call: (batch, frames, tokens, dim), or None for none."""

    def __init__(self) -> None:
        self.tokens: torch.Tensor | None = None

    def rows(self, rows: int) -> torch.Tensor | None:
        """The tokens of each batch row (rows, tokens, dim), checking the row count."""
        if self.tokens is None:
            return None
        batch, frames = self.tokens.shape[:2]
        if batch * frames != rows:
            raise ValueError(
                f"motion tokens for {batch} clip(s) of {frames} frames do not fit {rows} rows"
            )
        return self.tokens.flatten(0, 1)


class MotionTokenProcessor:
    """Scaled-dot-product cross-attention over the text tokens plus the row's motion tokens."""

    def __init__(self, state: MotionTokens) -> None:
        self.state = state
        self.inner = AttnProcessor2_0()

    def __call__(
        self,
        attn: Any,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if encoder_hidden_states is not None:
            extra = self.state.rows(encoder_hidden_states.shape[0])
            if extra is not None:
                if attention_mask is not None:
                    raise ValueError("motion tokens do not support an encoder attention mask")
                extra = extra.to(encoder_hidden_states.dtype)
                encoder_hidden_states = torch.cat([encoder_hidden_states, extra], dim=1)
        out: torch.Tensor = self.inner(
            attn, hidden_states, encoder_hidden_states, attention_mask, temb
        )
        return out


def is_spatial_cross_attention(name: str) -> bool:
    """``…attentions.N.transformer_blocks.M.attn2.processor``: not a motion-module layer."""
    return ".attentions." in f".{name}" and name.endswith("attn2.processor")


def install_motion_tokens(unet: Any) -> MotionTokens:
    """Put a :class:`MotionTokenProcessor` on every spatial cross-attention layer of ``unet``.

    The other layers keep their processors. Returns the state whose ``tokens`` the caller sets.
    """
    state = MotionTokens()
    processor = MotionTokenProcessor(state)
    current = unet.attn_processors
    chosen = {n: processor if is_spatial_cross_attention(n) else p for n, p in current.items()}
    if not any(p is processor for p in chosen.values()):
        raise ValueError("the UNet has no spatial cross-attention layers for motion tokens")
    unet.set_attn_processor(chosen)
    return state
