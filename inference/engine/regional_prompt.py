"""Each character's words only where that character stands: regional prompts.

A panel with two characters is prompted with both descriptions ("a small person with red hair
in a yellow shirt and a tall person with blond hair in a green shirt ..."). The text encoder
binds words to people poorly, and every pixel attends to every word, so the two looks mix: each
wears the other's hair or shirt. When the artist has drawn a box per character, the panel also
gets one prompt per boxed character, which leaves the other characters out
(``storyboard.core.prompt_text``). In the UNet's cross-attention (``attn2``) the pixels inside a box
then attend to that character's prompt instead of the panel's; a pixel inside two boxes attends
to both prompts. The rest of the panel, the negative prompt, and any panel without regional
prompts attend as before (a batch without boxes takes diffusers' own processor, so it is drawn
exactly as it was).

Hiding the other character's words from a box's pixels (one prompt, an attention mask) was tried
first and does not work: CLIP's text encoder is causal, so the second description's tokens
already carry the first one's colours. Measured on the built-in model
(``python -m bench.ml.consistency --two-people 96``), left and right boxes: see
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

from inference.csa.state import Box, region_mask
from inference.engine.prompts import encode_prompts


@dataclass(frozen=True)
class Region:
    """One boxed character of a panel: where it stands, and its prompt's embeddings ``(K, C)``."""

    box: Box
    embeds: torch.Tensor


class RegionPlan:
    """The regions of each panel of a batch; ``panels[i]`` belongs to the batch's panel ``i``.

    Each row of the UNet batch attends, in one call, to its own prompt followed by one slot per
    region (the regions' prompts, padded to the batch's most regions per panel), under a mask: a
    token inside boxes sees only those boxes' prompts, any other token only the row's prompt.
    The mask at each resolution and each layer's keys and values of the regions' prompts are made
    once per plan and reused at every step (the prompts do not change while panels denoise).
    """

    def __init__(
        self, panels: Sequence[Sequence[Region]], latent_size: tuple[int, int], cfg: bool
    ) -> None:
        self.panels, self.latent_size, self.cfg = panels, latent_size, cfg
        self.slots = max((len(boxed) for boxed in panels), default=0)
        regions = [
            (i, s, region) for i, boxed in enumerate(panels) for s, region in enumerate(boxed)
        ]
        self.placed = [(i, s) for i, s, _ in regions]  # (panel, slot) of each region
        self.boxes = [region.box for _, _, region in regions]
        self.embeds = torch.stack([r.embeds for _, _, r in regions]) if regions else None
        self._masks: dict[tuple[int, int, int, torch.device, torch.dtype], torch.Tensor] = {}
        self._keys: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def _row(self, batch: int, panel: int) -> int:
        return batch - len(self.panels) + panel if self.cfg else panel  # CFG: positives second

    def mask(
        self, batch: int, tokens: int, own: int, device: torch.device, dtype: torch.dtype
    ) -> torch.Tensor:
        """Additive ``(batch, 1, tokens, own + slots * K)`` mask for a layer of ``tokens``."""
        key = (batch, tokens, own, device, dtype)
        if key not in self._masks:
            assert self.embeds is not None
            length = self.embeds.shape[1]
            allowed = torch.zeros((batch, tokens, own + self.slots * length), dtype=torch.bool)
            allowed[:, :, :own] = True
            for (panel, slot), box in zip(self.placed, self.boxes, strict=True):
                row, inside = self._row(batch, panel), region_mask(box, tokens, self.latent_size)
                start = own + slot * length
                allowed[row, inside, :own] = False
                allowed[row, inside, start : start + length] = True
            covered = allowed[:, :, own:].any(-1)  # a token inside boxes sees none of its own
            allowed[:, :, :own] &= ~covered[:, :, None]
            bias = torch.zeros(allowed.shape, dtype=dtype)
            bias.masked_fill_(~allowed, torch.finfo(dtype).min)
            self._masks[key] = bias[:, None].to(device)
        return self._masks[key]

    def keys_and_values(self, attn: Any, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``attn``'s keys and values of the regions' prompts in their rows' slots,
        ``(batch, heads, slots * K, width)`` (zeros in empty slots, which the mask hides)."""
        cached = self._keys.get((id(attn), batch))
        if cached is None:
            assert self.embeds is not None
            weight = attn.to_k.weight
            embeds = self.embeds.to(weight.device, weight.dtype)
            made = []
            for project in (attn.to_k, attn.to_v):
                states = _heads(attn, project(embeds))  # (regions, heads, K, width)
                _, heads, length, width = states.shape
                slots = states.new_zeros((batch, self.slots, heads, length, width))
                for index, (panel, slot) in enumerate(self.placed):
                    slots[self._row(batch, panel), slot] = states[index]
                made.append(slots.transpose(1, 2).reshape(batch, heads, -1, width))
            cached = self._keys[(id(attn), batch)] = (made[0], made[1])
        return cached


def plan_regions(
    pipe: Any,
    boxed: Sequence[Sequence[tuple[Box, str]]],
    latent_size: tuple[int, int],
    cfg: bool,
    device: torch.device,
) -> RegionPlan | None:
    """The plan of a batch from each panel's (box, prompt) pairs, every prompt encoded in one
    call with ``pipe``'s text encoders; None when no panel has any."""
    texts = [text for boxes in boxed for _, text in boxes]
    if not texts:
        return None
    embeds = iter(encode_prompts(pipe, texts, [""] * len(texts), device).prompt_embeds)
    panels = [[Region(box, next(embeds)) for box, _ in boxes] for boxes in boxed]
    return RegionPlan(panels, latent_size, cfg)


class RegionalCrossAttention:
    """The ``attn2`` processor: plain attention, and each region's own prompt inside its box."""

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
        plan = self.plan
        usual = attn.spatial_norm is None and attn.group_norm is None and not attn.norm_cross
        usual = usual and attn.norm_q is None and attn.norm_k is None  # SD 1.5 / SDXL attn2
        if (
            plan is None
            or plan.embeds is None
            or encoder_hidden_states is None
            or attention_mask is not None
            or hidden_states.ndim != 3
            or not usual
        ):
            return self.plain(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        batch, tokens, _ = hidden_states.shape
        own = encoder_hidden_states.shape[1]
        query = _heads(attn, attn.to_q(hidden_states))
        region_keys, region_values = plan.keys_and_values(attn, batch)
        key = torch.cat([_heads(attn, attn.to_k(encoder_hidden_states)), region_keys], 2)
        value = torch.cat([_heads(attn, attn.to_v(encoder_hidden_states)), region_values], 2)
        mask = plan.mask(batch, tokens, own, query.device, query.dtype)
        out = F.scaled_dot_product_attention(query, key, value, attn_mask=mask)
        out = out.transpose(1, 2).reshape(batch, tokens, -1)
        out = attn.to_out[1](attn.to_out[0](out))
        if attn.residual_connection:
            out = out + hidden_states
        return out / attn.rescale_output_factor


def _heads(attn: Any, states: torch.Tensor) -> torch.Tensor:
    """``(batch, length, heads * width)`` -> ``(batch, heads, length, width)``."""
    batch = states.shape[0]
    return states.view(batch, -1, attn.heads, states.shape[-1] // attn.heads).transpose(1, 2)


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
