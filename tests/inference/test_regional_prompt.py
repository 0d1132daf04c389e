"""Regional prompts: inside a boxed character's box, the UNet's cross-attention reads that
character's own prompt; everywhere else, and in panels without boxes, nothing changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from inference.csa.state import region_mask
from inference.engine.regional_prompt import Region, RegionalCrossAttention, RegionPlan
from inference.engine.story_engine import StoryEngine
from storyboard.core.jobs import CharacterJob, PanelJob, Sampling, StoryRequest
from tests.fixtures.engine_helpers import differ, save_tiny

LATENT = (8, 12)  # rows x cols of the layer's tokens: 96, a 2:3 panel
LEFT, RIGHT = (0.0, 0.0, 0.5, 1.0), (0.4, 0.0, 1.0, 1.0)  # they overlap in one column


@pytest.fixture
def layer() -> Attention:
    torch.manual_seed(0)
    return Attention(query_dim=32, cross_attention_dim=24, heads=4, dim_head=8).eval()


def test_inside_a_box_the_region_prompt_is_read_and_nothing_else_changes(layer: Attention) -> None:
    pixels = torch.randn(4, 96, 32)  # 2 panels: negative rows first, then positive (CFG)
    prompt = torch.randn(4, 77, 24)
    mine, theirs = torch.randn(77, 24), torch.randn(77, 24)
    plain = AttnProcessor2_0()
    regional = RegionalCrossAttention()
    with torch.no_grad():
        expected = plain(layer, pixels, prompt)
        assert torch.equal(regional(layer, pixels, prompt), expected)  # no plan: plain attention
        regional.plan = RegionPlan([[Region(LEFT, mine), Region(RIGHT, theirs)], []], LATENT, True)
        out = regional(layer, pixels, prompt)
        alone = [plain(layer, pixels[2:3], e[None])[0] for e in (mine, theirs)]
        together = plain(layer, pixels[2:3], torch.cat([mine, theirs])[None])[0]
    left, right = region_mask(LEFT, 96, LATENT), region_mask(RIGHT, 96, LATENT)
    both, neither = left & right, ~(left | right)
    assert both.sum() == 8 and neither.sum() == 0  # one column of 8 rows is in both boxes
    assert torch.allclose(out[[0, 1, 3]], expected[[0, 1, 3]], atol=1e-6)  # negatives, no boxes
    assert torch.allclose(out[2][left & ~right], alone[0][left & ~right], atol=1e-5)
    assert torch.allclose(out[2][right & ~left], alone[1][right & ~left], atol=1e-5)
    assert torch.allclose(out[2][both], together[both], atol=1e-5)  # both prompts, one attention
    regional.plan = RegionPlan([[Region((0.0, 0.0, 0.25, 0.5), mine)], []], LATENT, False)
    with torch.no_grad():
        out = regional(layer, pixels[2:], prompt[2:])
    outside = ~region_mask((0.0, 0.0, 0.25, 0.5), 96, LATENT)
    assert torch.allclose(out[0][outside], expected[2][outside], atol=1e-6)  # no CFG: row 0


MIA = "a girl with long red hair in a yellow dress"
LEO = "a boy with short black hair in a green coat"
SHARED = PanelJob(
    "p2", "1B", f"{MIA} and {LEO} in the park", "", 21, "none", ("mia", "leo"),
    regions=(("mia", (0.0, 0.0, 0.5, 1.0)), ("leo", (0.5, 0.0, 1.0, 1.0))),
    region_prompts=(("mia", f"{MIA} in the park"), ("leo", f"{LEO} in the park")),
)  # fmt: skip


def test_a_shared_panel_with_boxes_is_drawn_from_each_characters_prompt(tmp_path: Path) -> None:
    folder = save_tiny("sd15", tmp_path / "tiny-sd15")
    engine = StoryEngine(str(folder))
    identity = {
        name: CharacterJob(
            name,
            name.title(),
            seed=n,
            identity_panels=(PanelJob(f"{name}0", f"2{n}", look, "", n, "none", (name,)),),
        )
        for n, (name, look) in enumerate((("mia", MIA), ("leo", LEO)))
    }
    unboxed = dataclasses.replace(SHARED, panel_id="p3", regions=(), region_prompts=())
    request = StoryRequest(
        model=str(folder),
        sampling=Sampling(64, 64, 3, 5.0, fit_to_model=False),
        panels=(*(c.identity_panels[0] for c in identity.values()), SHARED, unboxed),
        characters=tuple(identity.values()),
    )
    images = {i.job.panel_id: i.png for i in engine.generate(request)}
    assert engine.regional is not None and engine.regional.layers  # every attn2 layer
    assert all(name.endswith(".attn2.processor") for name in engine.regional.layers)
    plain = {name: AttnProcessor2_0() for name in engine.regional.layers}
    unet = engine.pipe.unet
    unet.set_attn_processor({**unet.attn_processors, **plain})  # what the panel was before
    again = {i.job.panel_id: i.png for i in engine.generate(request)}
    assert again["p3"] == images["p3"]  # no boxes: drawn exactly as without regional prompts
    assert differ(again["p2"], images["p2"]) > 0  # boxes: each side read its own prompt
