"""The fast CSA processor against plain SDPA and the loop reference, on one attention layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import torch
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from torch.testing import assert_close

from inference.bank.identity_bank import IdentityBank
from inference.csa.config import CSAConfig, sample_count, sample_token_indices, stable_seed
from inference.csa.processor import ConsistentAttnProcessor
from inference.csa.split_read import lse_attention
from inference.csa.state import PanelSpec, StoryAttention, token_grid
from tests.fixtures.csa_reference import reference_read, reference_write

CHANNELS = 32
LAYER = "up_blocks.0.attentions.0.transformer_blocks.0.attn1"
ALWAYS = CSAConfig(start_step=0, p_early=1.0, p_late=1.0, rate_low=0.5, rate_high=0.5)


def make_layer(seed: int = 0) -> Any:
    torch.manual_seed(seed)
    return Attention(query_dim=CHANNELS, heads=4, dim_head=8).eval()


def make_story(config: CSAConfig = ALWAYS) -> tuple[StoryAttention, ConsistentAttnProcessor]:
    story = StoryAttention(config, [LAYER])
    return story, ConsistentAttnProcessor(story, LAYER, 0)


def write_bank(story: StoryAttention, n: int, latent: tuple[int, int], cfg: bool) -> IdentityBank:
    return story.new_bank("hero", num_images=n, num_steps=4, latent_size=latent, cfg=cfg)


def random_bank(
    story: StoryAttention,
    name: str,
    n: int,
    tokens: int,
    latent: tuple[int, int],
    cfg: bool,
    steps: Sequence[int] = range(4),
) -> IdentityBank:
    """A bank filled with random tokens at ``steps`` (as if written with these settings)."""
    bank = story.new_bank(name, num_images=n, num_steps=4, latent_size=latent, cfg=cfg)
    count = sample_count(story.config.rate_for(tokens, latent), tokens)
    for step in steps:
        bank.put(LAYER, step, torch.randn(2 if cfg else 1, n * count, CHANNELS))
    return bank


def plain(attn: Any, x: torch.Tensor) -> torch.Tensor:
    return AttnProcessor2_0()(attn, x)


# ---------------------------------------------------------------------- equals plain SDPA
@pytest.mark.parametrize("cfg", [True, False])
def test_rate_zero_write_and_read_equal_plain(cfg: bool) -> None:
    attn = make_layer()
    story, proc = make_story(CSAConfig(rate_low=0.0, rate_high=0.0, start_step=0, p_early=1.0))
    groups = 2 if cfg else 1
    x = torch.randn(groups * 3, 16, CHANNELS)
    with torch.no_grad():
        story.begin_write(write_bank(story, 3, (4, 4), cfg), seed=1)
        story.step = 2
        assert_close(proc(attn, x), plain(attn, x))
        bank = story.end()
        assert bank is not None
        assert bank.nbytes == 0 and len(bank) == 1

        boxed = PanelSpec(("hero",), {"hero": (0, 0, 0.5, 1)})
        panels = [PanelSpec(("hero",)), PanelSpec(()), boxed]
        story.begin_read(panels, {"hero": bank}, num_steps=4, latent_size=(4, 4), cfg=cfg)
        story.step = 2
        assert_close(proc(attn, x), plain(attn, x))


def test_disabled_or_gated_off_is_plain() -> None:
    attn = make_layer()
    x = torch.randn(4, 16, CHANNELS)
    story, proc = make_story()
    with torch.no_grad():
        assert torch.equal(proc(attn, x), plain(attn, x))  # mode off
        story, proc = make_story(CSAConfig(p_early=0.0, p_late=0.0))
        story.begin_write(write_bank(story, 2, (4, 4), True), seed=0)
        story.step = 3
        assert torch.equal(proc(attn, x), plain(attn, x))
        bank = story.end()
        assert bank is not None and len(bank) == 0  # nothing stored where it can't be read


def test_step_zero_is_plain_by_default() -> None:
    attn = make_layer()
    x = torch.randn(4, 16, CHANNELS)
    story, proc = make_story(CSAConfig(p_early=1.0))
    story.begin_write(write_bank(story, 2, (4, 4), True), seed=0)
    with torch.no_grad():
        story.step = 0
        assert torch.equal(proc(attn, x), plain(attn, x))
        story.step = 1
        assert not torch.allclose(proc(attn, x), plain(attn, x))


# ---------------------------------------------------------------------- write == reference
@pytest.mark.parametrize("cfg", [True, False])
@pytest.mark.parametrize("n", [1, 2, 4])
def test_write_matches_reference(cfg: bool, n: int) -> None:
    attn = make_layer()
    story, proc = make_story()
    groups = 2 if cfg else 1
    x = torch.randn(groups * n, 16, CHANNELS)
    story.begin_write(write_bank(story, n, (4, 4), cfg), seed=7)
    story.step = 1
    with torch.no_grad():
        fast = proc(attn, x)
        idx = story.sampled_indices(n, 16, 8, x.device)
        slow, slow_bank = reference_write(attn, x, idx, groups)
    bank = story.end()
    assert bank is not None
    assert idx.shape == (n, 8)
    assert_close(fast, slow, rtol=1e-5, atol=1e-5)
    assert torch.equal(bank.get(LAYER, 1, x.device, x.dtype), slow_bank)


def test_write_sampling_is_seeded_and_per_step() -> None:
    story, _ = make_story()
    story.begin_write(write_bank(story, 3, (4, 4), True), seed=5)
    story.step = 1
    a = story.sampled_indices(3, 16, 8, torch.device("cpu")).clone()
    story.begin_write(write_bank(story, 3, (4, 4), True), seed=5)
    story.step = 1
    assert torch.equal(a, story.sampled_indices(3, 16, 8, torch.device("cpu")))
    story.step = 2
    assert not torch.equal(a, story.sampled_indices(3, 16, 8, torch.device("cpu")))
    story.begin_write(write_bank(story, 3, (4, 4), True), seed=6)
    story.step = 1
    assert not torch.equal(a, story.sampled_indices(3, 16, 8, torch.device("cpu")))


@pytest.mark.parametrize("cfg", [True, False])
def test_write_regions_share_only_tokens_inside_each_box(cfg: bool) -> None:
    """A character's box in its identity panels: only tokens where it stands are shared (the
    background stays out of the bank and of the other panels), and the result still equals the
    loop reference given those tokens."""
    attn = make_layer()
    story, proc = make_story()
    groups = 2 if cfg else 1
    boxes = [(0.0, 0.0, 0.5, 1.0), (0.5, 0.25, 1.0, 1.0), None]  # 8, 6 and 16 of 16 tokens
    x = torch.randn(groups * 3, 16, CHANNELS)
    story.begin_write(write_bank(story, 3, (4, 4), cfg), seed=7, regions=boxes)
    story.step = 1
    count = story.write_count(16)
    assert count == 3  # rate 0.5 of the smallest box (6 tokens)
    with torch.no_grad():
        fast = proc(attn, x)
        idx = story.sampled_indices(3, 16, count, x.device)
        slow, slow_bank = reference_write(attn, x, idx, groups)
    bank = story.end()
    assert bank is not None
    for image, box in enumerate(boxes):
        inside = story.region_mask(box, 16) if box else torch.ones(16, dtype=torch.bool)
        assert bool(inside[idx[image]].all()), f"panel {image} shared a token outside its box"
    assert_close(fast, slow, rtol=1e-5, atol=1e-5)
    assert torch.equal(bank.get(LAYER, 1, x.device, x.dtype), slow_bank)


def test_write_regions_must_match_the_identity_panels() -> None:
    story, _ = make_story()
    with pytest.raises(ValueError, match="2 regions for 3"):
        story.begin_write(write_bank(story, 3, (4, 4), True), seed=1, regions=[None, None])


# ---------------------------------------------------------------------- read == reference
READ_CASES = {
    "one-character": [PanelSpec(("a",)), PanelSpec(("a",)), PanelSpec(("a",))],
    "one-panel": [PanelSpec(("a", "b"))],
    "mixed-and-empty": [PanelSpec(("a", "b")), PanelSpec(("b",)), PanelSpec(())],
    "three-with-boxes": [
        PanelSpec(("a", "b", "c"), {"a": (0.0, 0.0, 0.5, 1.0), "b": (0.5, 0.0, 1.0, 0.75)}),
        PanelSpec(("c",), {"c": (0.25, 0.25, 0.75, 0.75)}),
    ],
    "same-set-with-box": [
        PanelSpec(("a", "b"), {"a": (0.0, 0.0, 0.5, 0.5)}),
        PanelSpec(("a", "b")),
    ],
}


@pytest.mark.parametrize("split", [True, False])
@pytest.mark.parametrize("cfg", [True, False])
@pytest.mark.parametrize("case", sorted(READ_CASES))
def test_read_matches_reference(case: str, cfg: bool, split: bool) -> None:
    """Both read paths: shared bank tokens merged by log-sum-exp (split), and copied per panel."""
    panels = READ_CASES[case]
    attn = make_layer()
    story, proc = make_story(CSAConfig(start_step=0, p_early=1.0, rate_low=0.5, rate_high=0.25))
    story.split_read = split
    latent = (8, 8)
    tokens = 64
    groups = 2 if cfg else 1
    sizes = {"a": 2, "b": 3, "c": 1}  # identity images per character: different bank lengths
    banks = {c: random_bank(story, c, n, tokens, latent, cfg) for c, n in sizes.items()}
    x = torch.randn(groups * len(panels), tokens, CHANNELS)
    story.begin_read(panels, banks, num_steps=4, latent_size=latent, cfg=cfg)
    story.step = 2
    with torch.no_grad():
        fast = proc(attn, x)
        refs = {c: b.get(LAYER, 2, x.device, x.dtype) for c, b in banks.items()}
        slow = reference_read(attn, x, panels, refs, groups, token_grid(tokens, latent))
    assert_close(fast, slow, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------- reading ahead
AHEAD = CSAConfig(start_step=0, p_early=1.0, p_late=1.0, read_ahead=0.5)  # 2 of 4 steps


@pytest.mark.parametrize("case", sorted(READ_CASES))
def test_a_read_ahead_takes_the_identity_tokens_of_a_later_step(case: str) -> None:
    """A panel early in its denoising looks at the identity panels as they were two steps on."""
    panels = READ_CASES[case]
    attn = make_layer()
    story, proc = make_story(AHEAD)
    latent, tokens = (8, 8), 64
    sizes = {"a": 2, "b": 3, "c": 1}
    # as written for reading ahead: steps 2 and 3 only
    banks = {c: random_bank(story, c, n, tokens, latent, True, (2, 3)) for c, n in sizes.items()}
    x = torch.randn(2 * len(panels), tokens, CHANNELS)
    story.begin_read(panels, banks, num_steps=4, latent_size=latent, cfg=True)
    for step, source in [(0, 2), (1, 3), (2, 3), (3, 3)]:
        story.step = step
        with torch.no_grad():
            fast = proc(attn, x)
            refs = {c: b.get(LAYER, source, x.device, x.dtype) for c, b in banks.items()}
            slow = reference_read(attn, x, panels, refs, 2, token_grid(tokens, latent))
        assert_close(fast, slow, rtol=1e-5, atol=1e-5)


def test_a_bank_written_to_be_read_ahead_keeps_only_the_steps_reads_take() -> None:
    attn = make_layer()
    story, proc = make_story(AHEAD)
    bank = write_bank(story, 2, (4, 4), cfg=True)
    story.begin_write(bank, seed=7)
    for step in range(4):
        story.step = step
        with torch.no_grad():
            proc(attn, torch.randn(4, 16, CHANNELS))
    story.end()
    assert sorted(bank.entries()) == [(LAYER, 2), (LAYER, 3)]


def test_the_bank_step_of_each_read() -> None:
    paper = CSAConfig()
    gate = paper.gate_table(30, 6)
    same = paper.bank_steps(30, 6)
    assert torch.equal(same >= 0, gate) and torch.equal(same[gate], gate.nonzero()[:, 0])
    ahead = CSAConfig(read_ahead=0.3).bank_steps(30, 6)  # 9 steps ahead
    for step, layer in gate.nonzero().tolist():
        source = int(ahead[step, layer])
        later = [s for s in range(step + 9, 30) if gate[s, layer]]
        assert source == (later[0] if later else int(gate[:, layer].nonzero().max()))
    assert not (ahead[~gate] >= 0).any()


def test_banks_saved_before_read_ahead_existed_still_match() -> None:
    """The bank key's CSA fingerprint leaves a zero ``read_ahead`` out."""
    assert "read_ahead" not in CSAConfig().fingerprint()
    assert CSAConfig().fingerprint() != CSAConfig(read_ahead=0.3).fingerprint()


def test_the_split_read_has_a_kernel_on_the_cpu() -> None:
    """Otherwise the split cases above would silently test the copying path twice."""
    assert lse_attention(torch.device("cpu"), torch.float32) is not None


def test_box_outside_every_token_equals_plain_for_that_panel() -> None:
    """A query outside its character's box sees only its own tokens (exact exclusion)."""
    attn = make_layer()
    story, proc = make_story()
    bank = random_bank(story, "a", 2, 16, (4, 4), True)
    panels = [PanelSpec(("a",), {"a": (0.0, 0.0, 0.1, 0.1)})]  # contains no token centre
    x = torch.randn(2, 16, CHANNELS)
    story.begin_read(panels, {"a": bank}, num_steps=4, latent_size=(4, 4), cfg=True)
    story.step = 1
    with torch.no_grad():
        assert_close(proc(attn, x), plain(attn, x), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------- CFG halves stay apart
def test_uncond_never_sees_cond_in_write() -> None:
    attn = make_layer()
    story, proc = make_story()
    x = torch.randn(2 * 3, 16, CHANNELS)
    y = x.clone()
    y[3:] += torch.randn_like(y[3:])  # perturb the cond half only
    outs = []
    for inp in (x, y):
        story.begin_write(write_bank(story, 3, (4, 4), True), seed=3)
        story.step = 1
        with torch.no_grad():
            outs.append(proc(attn, inp))
    assert torch.equal(outs[0][:3], outs[1][:3])
    assert not torch.allclose(outs[0][3:], outs[1][3:])


def test_uncond_never_sees_cond_in_read() -> None:
    attn = make_layer()
    story, proc = make_story()
    panels = [PanelSpec(("a",)), PanelSpec(("a", "b"), {"b": (0.0, 0.0, 0.5, 1.0)})]
    banks = {c: random_bank(story, c, 2, 16, (4, 4), True) for c in "ab"}
    x = torch.randn(4, 16, CHANNELS)
    outs = []
    for perturb in (False, True):
        if perturb:
            for b in banks.values():
                b.get(LAYER, 1, x.device, x.dtype)[1] += 1.0  # cond half of every bank entry
            x = x.clone()
            x[2:] += 1.0
        story.begin_read(panels, banks, num_steps=4, latent_size=(4, 4), cfg=True)
        story.step = 1
        with torch.no_grad():
            outs.append(proc(attn, x))
    assert torch.equal(outs[0][:2], outs[1][:2])
    assert not torch.allclose(outs[0][2:], outs[1][2:])


# ---------------------------------------------------------------------- schedule
def test_gate_table_schedule() -> None:
    cfg = CSAConfig()
    table = cfg.gate_table(200, 50)
    assert not table[0].any()
    assert torch.equal(table, CSAConfig().gate_table(200, 50))
    assert not torch.equal(table, CSAConfig(gate_seed=1).gate_table(200, 50))
    early, late = table[1:20].float().mean().item(), table[20:].float().mean().item()
    assert abs(early - 0.7) < 0.05 and abs(late - 0.9) < 0.03


def official_chance(num_steps: int) -> torch.Tensor:
    """The official StoryDiffusion gate (research/storydiffusion.md section 2), per step: plain
    attention at step 0; from step 1 each layer call is consistent with probability 0.7 while the
    step is below 20 and 0.9 from step 20 on."""
    step = torch.arange(num_steps)
    return torch.where(step < 20, 0.7, 0.9) * (step >= 1)


def test_a_write_with_the_default_settings_follows_the_official_schedule() -> None:
    """Which layer calls of a default write share the identity panels' tokens (and so shape the
    character, and fill the bank that later panels read) is the official schedule's choice, with
    one departure: the draws are one table from the gate seed (0)."""
    names = [f"{LAYER}.{n}" for n in range(12)]
    attn = make_layer()
    story = StoryAttention(CSAConfig(), names)
    procs = [ConsistentAttnProcessor(story, name, i) for i, name in enumerate(names)]
    draws = torch.rand((30, len(names)), generator=torch.Generator().manual_seed(0))
    expected = draws < official_chance(30)[:, None]
    for step in (19, 20):  # this seed's draws tell 0.7 from 0.9 on both sides of the switch
        assert bool(((draws[step] >= 0.7) & (draws[step] < 0.9)).any())
    x = torch.randn(2 * 2, 16, CHANNELS)
    bank = story.new_bank("hero", num_images=2, num_steps=30, latent_size=(4, 4))
    story.begin_write(bank, seed=3)
    consistent = torch.zeros_like(expected)
    with torch.no_grad():
        alone = plain(attn, x)
        for step in range(30):
            story.step = step
            for i, proc in enumerate(procs):
                consistent[step, i] = not torch.equal(proc(attn, x), alone)
    assert story.end() is bank
    assert torch.equal(consistent, expected)
    assert set(bank.entries()) == {(names[i], s) for s, i in expected.nonzero().tolist()}


def test_rate_by_token_count() -> None:
    cfg = CSAConfig(rate_low=0.3, rate_high=0.6)
    assert cfg.rate_for(32 * 32, (128, 128)) == 0.3  # SDXL up_blocks.0 at 1024 px
    assert cfg.rate_for(64 * 64, (128, 128)) == 0.6  # SDXL up_blocks.1
    assert cfg.rate_for(24 * 24, (96, 96)) == 0.3  # 768 px
    assert cfg.rate_for(42 * 24, (168, 96)) == 0.3  # a portrait panel, 768 x 1344 px
    assert cfg.rate_for(84 * 48, (168, 96)) == 0.6
    assert token_grid(24 * 32, (96, 128)) == (24, 32)


def test_settings_out_of_range_are_refused_with_their_name() -> None:
    for bad in ({"rate_low": 1.5}, {"p_late": -0.1}, {"read_ahead": 1.01}):
        with pytest.raises(ValueError, match=f"{next(iter(bad))} must be within"):
            CSAConfig(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="low_res_factor"):
        CSAConfig(low_res_factor=0)
    CSAConfig(rate_low=1.0, rate_high=0.0, p_early=1.0, read_ahead=1.0, low_res_factor=1)


def test_saved_banks_and_seeds_mean_the_same_in_every_version() -> None:
    """A saved identity bank is found by the text of its CSA settings, and a panel's token
    samples come from a seed derived from its own: if either changed, every saved bank (minutes
    each on SDXL) would be made again and every panel would come out differently."""
    assert CSAConfig().fingerprint() == (
        '{"gate_seed": 0, "low_res_factor": 4, "p_early": 0.7, "p_late": 0.9, "rate_high": 0.5, '
        '"rate_low": 0.5, "start_step": 1, "switch_step": 20}'
    )
    assert stable_seed("csa-token-sample", 5) == 5588985867318570172


def test_each_images_token_sample_is_uniform_over_its_picture() -> None:
    """No identity panel shares mostly the top of its picture: over many draws, each image's
    sampled positions average the middle of its 64 tokens, each draw 16 distinct ones."""
    generator = torch.Generator().manual_seed(0)
    draws = torch.stack(
        [sample_token_indices(4, 64, 16, generator, torch.device("cpu")) for _ in range(50)]
    )
    assert all(len(set(row.tolist())) == 16 for row in draws.flatten(0, 1))
    assert torch.equal(draws, draws.sort(dim=-1).values)
    means = draws.float().mean(dim=(0, 2))
    assert bool(((means - 31.5).abs() < 2.5).all()), means
