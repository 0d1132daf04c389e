"""Long-prompt embeddings and latent previews, on the tiny pipelines."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.testing import assert_close

from inference.engine.previews import latents_to_rgb
from inference.engine.prompts import encode_prompts, token_chunks
from inference.model_loading import ModelKind, native_size
from tests.fixtures.tiny_pipelines import tiny_sd15, tiny_sdxl

CPU = torch.device("cpu")
LONG = "hero " * 20  # 80 byte tokens with the tiny tokenizer: two chunks of 75


@pytest.fixture(scope="module")
def sdxl() -> Any:
    return tiny_sdxl()


@pytest.fixture(scope="module")
def sd15() -> Any:
    return tiny_sd15()


def test_short_prompts_match_diffusers_exactly(sdxl: Any, sd15: Any) -> None:
    mine = encode_prompts(sdxl, ["a cat", "a dog"], ["blurry", ""], CPU)
    ref = sdxl.encode_prompt(["a cat", "a dog"], device=CPU, negative_prompt=["blurry", "blurry"])
    assert_close(mine.prompt_embeds, ref[0])
    assert_close(mine.negative_prompt_embeds[0], ref[1][0])
    assert_close(mine.pooled, ref[2])
    assert_close(mine.negative_pooled[0], ref[3][0])  # type: ignore[index]
    # SDXL: an empty negative prompt is zeros, as diffusers does when none is given
    assert torch.count_nonzero(mine.negative_prompt_embeds[1]) == 0

    mine15 = encode_prompts(sd15, ["a cat"], ["blurry"], CPU)
    ref15 = sd15.encode_prompt("a cat", CPU, 1, True, negative_prompt="blurry")
    assert_close(mine15.prompt_embeds, ref15[0])
    assert_close(mine15.negative_prompt_embeds, ref15[1])
    assert mine15.pooled is None


def test_words_past_77_tokens_still_change_the_conditioning(sdxl: Any) -> None:
    assert len(token_chunks(sdxl.tokenizer, LONG)) == 2
    a = encode_prompts(sdxl, [LONG + "in red"], ["x"], CPU)
    b = encode_prompts(sdxl, [LONG + "in blue"], ["x"], CPU)
    assert a.prompt_embeds.shape[1] == 2 * 77 == a.negative_prompt_embeds.shape[1]
    assert (a.prompt_embeds[:, 77:] - b.prompt_embeds[:, 77:]).abs().max() > 1e-4
    # diffusers alone truncates: the two prompts would be the same conditioning
    ra = sdxl.encode_prompt(LONG + "in red", device=CPU, negative_prompt="x")[0]
    rb = sdxl.encode_prompt(LONG + "in blue", device=CPU, negative_prompt="x")[0]
    assert torch.equal(ra, rb)
    image = sdxl(
        **a.pipeline_kwargs(), num_inference_steps=2, height=64, width=64, output_type="pt"
    ).images
    assert image.shape == (1, 3, 64, 64) and torch.isfinite(image).all()


def test_previews_show_the_latent_at_latent_resolution() -> None:
    latents = torch.zeros((2, 4, 8, 12))
    latents[1, 0] = 3.0  # a strong first channel reads as a light image
    grey, light = latents_to_rgb(latents, sdxl=False)
    assert grey.size == (12, 8) and grey.getpixel((0, 0)) == (128, 128, 128)
    assert all(c > 200 for c in light.getpixel((3, 3)))  # type: ignore[union-attr]
    sdxl_grey = latents_to_rgb(latents[:1], sdxl=True)[0].getpixel((0, 0))
    assert sdxl_grey == (141, 125, 127)  # SDXL's bias tints the zero latent
    with pytest.raises(ValueError, match="shape"):
        latents_to_rgb(torch.zeros((1, 16, 8, 8)), sdxl=True)


@pytest.mark.parametrize(
    ("kind", "asked", "native"),
    [
        (ModelKind.SDXL, (1024, 576), (1344, 768)),
        (ModelKind.SDXL, (1000, 1000), (1024, 1024)),
        (ModelKind.SDXL, (600, 900), (832, 1216)),
        (ModelKind.SDXL, (2390, 1000), (1536, 640)),
        (ModelKind.SD15, (1024, 576), (704, 384)),
        (ModelKind.SD15, (300, 300), (512, 512)),
    ],
)
def test_aspect_ratios_map_to_native_sizes(
    kind: ModelKind, asked: tuple[int, int], native: tuple[int, int]
) -> None:
    assert native_size(kind, *asked) == native
