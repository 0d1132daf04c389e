"""The motion-token processor appends each frame's own tokens to the text tokens."""

from __future__ import annotations

import pytest
import torch
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from inference.motion.attention import (
    MotionTokenProcessor,
    MotionTokens,
    install_motion_tokens,
    is_spatial_cross_attention,
)
from tests.fixtures.tiny_motion import tiny_adapter


def _reference(attn, hidden, text, tokens):
    """One row at a time: row b*L+f attends to concat(text[row], tokens[b, f])."""
    plain = AttnProcessor2_0()
    batch, frames = tokens.shape[:2]
    rows = []
    for b in range(batch):
        for f in range(frames):
            r = b * frames + f
            context = torch.cat([text[r : r + 1], tokens[b, f][None]], dim=1)
            rows.append(plain(attn, hidden[r : r + 1], context))
    return torch.cat(rows)


def test_processor_agrees_with_a_per_frame_loop() -> None:
    torch.manual_seed(0)
    attn = Attention(query_dim=16, cross_attention_dim=12, heads=2, dim_head=8)
    batch, frames = 2, 3
    hidden = torch.randn(batch * frames, 10, 16)
    text = torch.randn(batch * frames, 5, 12)
    tokens = torch.randn(batch, frames, 4, 12)
    state = MotionTokens()
    processor = MotionTokenProcessor(state)
    state.tokens = tokens
    got = processor(attn, hidden, text)
    assert torch.allclose(got, _reference(attn, hidden, text, tokens), atol=1e-5)
    # the frame matters: giving every row frame 0's tokens changes the result
    state.tokens = tokens[:, :1].expand_as(tokens)
    assert not torch.allclose(processor(attn, hidden, text), got, atol=1e-4)
    # without tokens it is plain cross-attention
    state.tokens = None
    assert torch.allclose(processor(attn, hidden, text), AttnProcessor2_0()(attn, hidden, text))


def test_token_rows_must_match_the_batch() -> None:
    state = MotionTokens()
    state.tokens = torch.zeros(1, 4, 2, 8)
    with pytest.raises(ValueError, match="do not fit 6 rows"):
        state.rows(6)


def test_installed_on_spatial_cross_attention_only() -> None:
    from diffusers import UNetMotionModel

    from tests.fixtures.tiny_pipelines import tiny_sd15_unet

    unet = UNetMotionModel.from_unet2d(tiny_sd15_unet(), tiny_adapter())
    state = install_motion_tokens(unet)
    procs = unet.attn_processors
    ours = {n for n, p in procs.items() if isinstance(p, MotionTokenProcessor)}
    assert ours == {n for n in procs if is_spatial_cross_attention(n)}
    assert all("motion_modules" not in n and n.endswith("attn2.processor") for n in ours)
    assert len(ours) == 7 and all(procs[n].state is state for n in ours)
