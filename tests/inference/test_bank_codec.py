"""Identity banks keep their tokens as 8-bit floats with a scale per token (half an fp16 bank)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from diffusers.models.attention_processor import Attention

from inference.bank import codec as bank_codec
from inference.bank.identity_bank import IdentityBank
from inference.csa.config import CSAConfig
from inference.csa.processor import ConsistentAttnProcessor
from inference.csa.state import PanelSpec, StoryAttention

LAYER = "up_blocks.0.attentions.0.transformer_blocks.0.attn1"


def tokens(*shape: int, dtype: torch.dtype = torch.float16, seed: int = 0) -> torch.Tensor:
    """Random tokens with one channel 30x larger than the rest, as diffusion UNets have."""
    torch.manual_seed(seed)
    x = torch.randn(*shape)
    x[..., 3] *= 30
    return x.to(dtype)


def relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    return float((got.float() - want.float()).norm() / want.float().norm())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_decoded_tokens_are_close_and_keep_each_tokens_largest_value(dtype: torch.dtype) -> None:
    x = tokens(2, 300, 64, dtype=dtype)
    stored = bank_codec.encode(x)
    assert stored.dtype == torch.uint8 and stored.shape == (2, 300, 68)
    back = bank_codec.decode(stored, dtype)
    assert back.dtype == dtype and back.shape == x.shape
    assert relative_error(back, x) < 0.03
    # the channels beside the large one keep their precision too (an int8 scale would not)
    assert relative_error(back[..., :3], x[..., :3]) < 0.04
    peak = x.float().abs().amax(-1)
    assert torch.allclose(back.float().abs().amax(-1), peak, rtol=1e-2)


def test_entries_that_cannot_be_encoded_stay_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(IdentityBank, "encode_on", frozenset({"cpu"}))
    bank = IdentityBank("hero", num_images=1, num_steps=2, latent_size=(4, 4), cfg=False, csa="c")
    odd = torch.randn(1, 8, 6)  # 6 channels: the scale's 4 bytes would be misaligned
    bank.put(LAYER, 1, odd)
    assert bank.stored(LAYER, 1, odd.device).dtype == torch.float32
    assert torch.equal(bank.get(LAYER, 1, odd.device, torch.float32), odd)


def test_a_bank_file_is_half_the_fp16_size_and_reads_back_what_was_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def saved(compact: bool) -> tuple[IdentityBank, Path]:
        monkeypatch.setattr(IdentityBank, "encode_on", frozenset({"cpu"} if compact else ()))
        bank = IdentityBank(
            "hero", num_images=2, num_steps=4, latent_size=(8, 8), cfg=True, csa="c"
        )
        for step in (1, 2, 3):
            bank.put(LAYER, step, tokens(2, 64, 320, seed=step))
        path = tmp_path / f"{compact}.safetensors"
        bank.save(path)
        return bank, path

    raw, raw_path = saved(False)
    compact, compact_path = saved(True)
    assert compact.nbytes / raw.nbytes == pytest.approx(324 / 640)
    assert compact_path.stat().st_size / raw_path.stat().st_size == pytest.approx(324 / 640, 0.01)

    loaded = IdentityBank.load(compact_path)  # (streamed back, as the engine does)
    for entry in compact.entries():
        got = loaded.get(*entry, torch.device("cpu"), torch.float16)
        assert torch.equal(got, compact.get(*entry, torch.device("cpu"), torch.float16))
        assert relative_error(got, raw.get(*entry, torch.device("cpu"), torch.float16)) < 0.03


def test_a_panel_reading_an_encoded_bank_changes_only_slightly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch.manual_seed(1)
    attn = Attention(query_dim=64, heads=4, dim_head=16).eval()
    config = CSAConfig(start_step=0, p_early=1.0, p_late=1.0, rate_low=1.0, rate_high=1.0)
    x = tokens(2, 64, 64, dtype=torch.float32, seed=2)
    refs = tokens(2, 128, 64, dtype=torch.float32, seed=3)
    outputs = {}
    for compact in (False, True):
        monkeypatch.setattr(IdentityBank, "encode_on", frozenset({"cpu"} if compact else ()))
        story = StoryAttention(config, [LAYER])
        processor = ConsistentAttnProcessor(story, LAYER, 0)
        bank = story.new_bank("hero", num_images=2, num_steps=4, latent_size=(8, 8))
        bank.put(LAYER, 1, refs)
        story.begin_read([PanelSpec(("hero",))], {"hero": bank}, num_steps=4, latent_size=(8, 8))
        story.step = 1
        with torch.no_grad():
            outputs[compact] = processor(attn, x)
        story.end()
    error = relative_error(outputs[True], outputs[False])
    assert 0 < error < 0.02
