"""Each character's words only where that character stands: regional prompts.

A panel with two characters is prompted with both descriptions ("a small person with red hair
in a yellow shirt and a tall person with blond hair in a green shirt ..."). The text encoder
binds words to people poorly, and every pixel attends to every word, so the two looks mix: each
wears the other's hair or shirt. When the artist has drawn a box per character, the panel also
gets one prompt per boxed character, in which the other characters are only "a person"
(``storyboard.core.jobs``). In the UNet's cross-attention (``attn2``) the pixels inside a box
then attend to that character's prompt instead of the panel's; a pixel inside two boxes takes the
mean of both. The rest of the panel, the negative prompt, and any panel without regional prompts
attend as before, so a panel without boxes is drawn exactly as it was.

Hiding the other character's words from a box's pixels (one prompt, an attention mask) was tried
first and does not work: CLIP's text encoder is causal, so the second description's tokens
already carry the first one's colours. Measured on the built-in model
(``python -m inference.bench_consistency --two-people 96``), left and right boxes: see
``docs/benchmarks.md``.

The processor is installed on every plain ``attn2`` layer once; with no :class:`RegionPlan`
set it hands each call to diffusers' own ``AttnProcessor2_0``. IP-Adapter's processors are
left alone (a panel with a reference image keeps the panel's prompt everywhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 (the usual name)

from inference.story_attention import Box, region_mask


@dataclass(frozen=True)
class Region:
    """One boxed character of a panel: where it stands, and its prompt's embeddings ``(K, C)``."""

    box: Box
    embeds: torch.Tensor


@dataclass(frozen=True)
class RegionPlan:
    """The regions of each panel of a batch; ``panels[i]`` belongs to the batch's panel ``i``."""

    panels: Sequence[Sequence[Region]]
    latent_size: tuple[int, int]
    cfg: bool  # the batch runs negative rows first, then positive ones (diffusers' order)

    def rows(self, batch: int) -> list[tuple[int, Sequence[Region]]]:
        """(row of the UNet batch, regions) for each panel that has regions."""
        offset = batch - len(self.panels) if self.cfg else 0
        return [(offset + i, regions) for i, regions in enumerate(self.panels) if regions]


class RegionalCrossAttention:
    """The ``attn2`` processor: plain attention, then each region's own inside its box."""

    def __init__(self) -> None:
        from diffusers.models.attention_processor import AttnProcessor2_0

        self.plain = AttnProcessor2_0()
        self.plan: RegionPlan | None = None  # one object serves every layer (RegionalPrompting)

    def __call__(
        self,
        attn: Any,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        out = self.plain(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        plan = self.plan
        if plan is None or encoder_hidden_states is None or hidden_states.ndim != 3:
            return out
        if attn.norm_cross or attn.group_norm is not None or attn.spatial_norm is not None:
            return out  # not the cross-attention of an SD 1.5 / SDXL UNet: left as it is
        tokens = hidden_states.shape[1]
        for row, regions in plan.rows(hidden_states.shape[0]):
            query = attn.to_q(hidden_states[row : row + 1])
            total = torch.zeros_like(out[row])
            hits = torch.zeros((tokens, 1), dtype=out.dtype, device=out.device)
            for region in regions:
                inside = region_mask(region.box, tokens, plan.latent_size)
                inside = inside.to(out.device, out.dtype)[:, None]
                total += _attend(attn, query, region.embeds.to(query.dtype)) * inside
                hits += inside
            out[row] = torch.where(hits > 0, total / hits.clamp(min=1), out[row])
        return out


def _attend(attn: Any, query: torch.Tensor, embeds: torch.Tensor) -> torch.Tensor:
    """``attn``'s output for one row's ``query`` ``(1, N, C)`` over ``embeds`` ``(K, C')``."""
    heads = attn.heads
    key, value = attn.to_k(embeds[None]), attn.to_v(embeds[None])
    width = key.shape[-1] // heads
    q, k, v = (t.view(1, -1, heads, width).transpose(1, 2) for t in (query, key, value))
    if attn.norm_q is not None:
        q = attn.norm_q(q)
    if attn.norm_k is not None:
        k = attn.norm_k(k)
    out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(1, -1, heads * width)
    out = attn.to_out[1](attn.to_out[0](out))
    return (out[0] / attn.rescale_output_factor).to(query.dtype)


class RegionalPrompting:
    """The regional processor on one UNet's plain ``attn2`` layers, and the plan they share."""

    def __init__(self, unet: Any) -> None:
        processors = dict(unet.attn_processors)
        self.processor = RegionalCrossAttention()
        plain = ("AttnProcessor2_0", "AttnProcessor")
        self.layers = [
            name
            for name, processor in processors.items()
            if name.endswith(".attn2.processor") and type(processor).__name__ in plain
        ]
        for name in self.layers:
            processors[name] = self.processor
        unet.set_attn_processor(processors)

    def begin(self, plan: RegionPlan | None) -> None:
        self.processor.plan = plan

    def end(self) -> None:
        self.processor.plan = None
