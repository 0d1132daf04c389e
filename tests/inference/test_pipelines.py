"""Whole tiny SDXL / SD1.5 pipelines with CSA installed: layer choice, write then read, banks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from diffusers.models.attention_processor import AttnProcessor2_0
from torch.testing import assert_close

from inference.bank.identity_bank import IdentityBank
from inference.bank.key import BankKey, BankMismatchError
from inference.csa.config import CSAConfig
from inference.csa.processor import (
    ConsistentAttnProcessor,
    install_consistent_attention,
    uninstall_consistent_attention,
)
from inference.csa.state import PanelSpec, StoryAttention
from tests.fixtures.tiny_pipelines import tiny_sd15, tiny_sdxl

STEPS = 4
SIZE = 64
LATENT = (32, 32)  # tiny VAE: scale factor 2
CONFIG = CSAConfig(p_early=1.0, p_late=1.0, rate_low=0.5, rate_high=0.25)
ID_PROMPTS = ["hero standing", "hero running", "hero sitting"]

SDXL_LAYERS = [
    "up_blocks.0.attentions.0.transformer_blocks.0.attn1",
    "up_blocks.0.attentions.0.transformer_blocks.1.attn1",
    "up_blocks.0.attentions.1.transformer_blocks.0.attn1",
    "up_blocks.0.attentions.1.transformer_blocks.1.attn1",
    "up_blocks.1.attentions.0.transformer_blocks.0.attn1",
    "up_blocks.1.attentions.1.transformer_blocks.0.attn1",
]
SD15_LAYERS = [
    "up_blocks.1.attentions.0.transformer_blocks.0.attn1",
    "up_blocks.1.attentions.1.transformer_blocks.0.attn1",
    "up_blocks.2.attentions.0.transformer_blocks.0.attn1",
    "up_blocks.2.attentions.1.transformer_blocks.0.attn1",
]


@pytest.fixture(scope="module")
def sdxl() -> Any:
    return tiny_sdxl()


@pytest.fixture(scope="module")
def sdxl_story(sdxl: Any) -> Any:
    story = install_consistent_attention(sdxl.unet, CONFIG)
    yield story
    uninstall_consistent_attention(sdxl.unet, story)


def generate(
    pipe: Any, prompts: list[str], seed: int, latents: torch.Tensor | None = None, cfg: bool = True
) -> torch.Tensor:
    with torch.no_grad():
        return pipe(
            prompt=prompts,
            num_inference_steps=STEPS,
            height=SIZE,
            width=SIZE,
            guidance_scale=5.0 if cfg else 1.0,
            generator=torch.Generator().manual_seed(seed),
            latents=latents,
            output_type="pt",
        ).images


def write(
    pipe: Any, story: StoryAttention, seed: int = 1, cfg: bool = True, **bank_kw: Any
) -> tuple[torch.Tensor, IdentityBank]:
    bank = story.new_bank(
        "hero", num_images=len(ID_PROMPTS), num_steps=STEPS, latent_size=LATENT, cfg=cfg, **bank_kw
    )
    story.begin_write(bank, seed=seed)
    try:
        images = generate(pipe, ID_PROMPTS, seed, cfg=cfg)
    finally:
        story.end()
    return images, bank


def read(
    pipe: Any,
    story: StoryAttention,
    panels: list[PanelSpec],
    banks: dict[str, IdentityBank],
    latents: torch.Tensor,
    cfg: bool = True,
) -> torch.Tensor:
    story.begin_read(panels, banks, num_steps=STEPS, latent_size=LATENT, cfg=cfg)
    try:
        return generate(pipe, [f"panel {i}" for i in range(len(panels))], 0, latents, cfg=cfg)
    finally:
        story.end()


def read_latents(n: int, seed: int = 9) -> torch.Tensor:
    return torch.randn((n, 4, *LATENT), generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------------- installation
@pytest.mark.parametrize(
    ("build", "expected"), [(tiny_sdxl, SDXL_LAYERS), (tiny_sd15, SD15_LAYERS)]
)
def test_installed_on_exactly_the_decoder_self_attention(build: Any, expected: list[str]) -> None:
    unet = build().unet
    story = install_consistent_attention(unet, CONFIG)
    procs = unet.attn_processors
    csa = sorted(
        n.removesuffix(".processor")
        for n, p in procs.items()
        if isinstance(p, ConsistentAttnProcessor)
    )
    assert csa == sorted(expected)
    assert list(story.layer_names) == expected  # call order
    assert all(
        type(p) is AttnProcessor2_0
        for n, p in procs.items()
        if n.removesuffix(".processor") not in expected
    )
    uninstall_consistent_attention(unet, story)
    assert all(type(p) is AttnProcessor2_0 for p in unet.attn_processors.values())


# ---------------------------------------------------------------------- SDXL end to end
def test_sdxl_write_is_consistent_seeded_and_fills_the_bank(sdxl: Any, sdxl_story: Any) -> None:
    images, bank = write(sdxl, sdxl_story, seed=1)
    assert images.shape == (3, 3, SIZE, SIZE)
    # steps 1..3 gated on (p=1), step 0 plain: 3 steps x 6 layers, nothing else kept
    assert len(bank) == (STEPS - 1) * len(SDXL_LAYERS)
    assert {s for _, s in bank.entries()} == {1, 2, 3}
    sample = bank.get(SDXL_LAYERS[0], 1, torch.device("cpu"), torch.float32)
    assert sample.shape == (2, 3 * 32, 64)  # (CFG, 3 images x 0.5 * 8x8 tokens, channels)
    assert bank.get(SDXL_LAYERS[-1], 1, torch.device("cpu"), torch.float32).shape == (2, 3 * 64, 32)

    again, bank2 = write(sdxl, sdxl_story, seed=1)
    assert torch.equal(images, again)
    assert all(
        torch.equal(bank.stored(*e, torch.device("cpu")), bank2.stored(*e, torch.device("cpu")))
        for e in bank.entries()
    )

    sdxl_story.end()
    plain = generate(sdxl, ID_PROMPTS, 1)
    assert (images - plain).abs().max() > 1e-3  # CSA changes the identity panels


def test_sdxl_read_batched_with_and_without_characters(sdxl: Any, sdxl_story: Any) -> None:
    _, bank = write(sdxl, sdxl_story, seed=1)
    latents = read_latents(3)
    panels = [
        PanelSpec(("hero",)),
        PanelSpec(()),
        PanelSpec(("hero",), {"hero": (0.0, 0.0, 0.5, 1.0)}),
    ]
    images = read(sdxl, sdxl_story, panels, {"hero": bank}, latents)
    assert images.shape == (3, 3, SIZE, SIZE)
    plain = generate(sdxl, ["panel 0", "panel 1", "panel 2"], 0, latents)
    assert_close(images[1], plain[1], atol=1e-4, rtol=1e-4)  # no character: plain attention
    assert (images[0] - plain[0]).abs().max() > 1e-3
    assert (images[2] - plain[2]).abs().max() > 1e-3
    assert (images[0] - images[2]).abs().max() > 1e-4  # the box matters

    # a panel's result does not depend on its batch mates
    alone = read(sdxl, sdxl_story, [PanelSpec(("hero",))], {"hero": bank}, latents[:1])
    assert_close(alone[0], images[0], atol=1e-4, rtol=1e-4)


def test_sdxl_without_cfg(sdxl: Any, sdxl_story: Any) -> None:
    images, bank = write(sdxl, sdxl_story, seed=2, cfg=False)
    assert bank.groups == 1 and len(bank) == (STEPS - 1) * len(SDXL_LAYERS)
    out = read(
        sdxl,
        sdxl_story,
        [PanelSpec(("hero",)), PanelSpec(())],
        {"hero": bank},
        read_latents(2),
        cfg=False,
    )
    assert torch.isfinite(out).all() and images.shape[0] == 3
    with pytest.raises(BankMismatchError, match="CFG"):
        sdxl_story.begin_read(
            [PanelSpec(("hero",))], {"hero": bank}, num_steps=STEPS, latent_size=LATENT, cfg=True
        )


# ---------------------------------------------------------------------- bank persistence
def key(seed: int = 1) -> BankKey:
    return BankKey(
        model="tiny-sdxl-random",
        identity_prompts=tuple(ID_PROMPTS),
        seed=seed,
        height=SIZE,
        width=SIZE,
        steps=STEPS,
        scheduler="DDIMScheduler",
        csa=CONFIG.fingerprint(),
    )


def test_bank_save_load_read_identical(sdxl: Any, sdxl_story: Any, tmp_path: Path) -> None:
    _, bank = write(sdxl, sdxl_story, seed=1, key=key())
    path = tmp_path / f"hero-{key().digest()}.safetensors"
    bank.save(path)
    loaded = IdentityBank.load(path, expect=key())
    assert loaded.nbytes == bank.nbytes and loaded.key == key()

    latents = read_latents(2)
    panels = [PanelSpec(("hero",)), PanelSpec(("hero",), {"hero": (0.25, 0.0, 1.0, 1.0)})]
    a = read(sdxl, sdxl_story, panels, {"hero": bank}, latents)
    b = read(sdxl, sdxl_story, panels, {"hero": loaded}, latents)
    assert torch.equal(a, b)

    offloaded = IdentityBank.load(path, expect=key(), offload=True)
    assert torch.equal(a, read(sdxl, sdxl_story, panels, {"hero": offloaded}, latents))

    with pytest.raises(BankMismatchError, match=r"seed: 1 != 2"):
        IdentityBank.load(path, expect=key(seed=2))


def test_bank_refused_for_other_steps_or_settings(sdxl: Any, sdxl_story: Any) -> None:
    _, bank = write(sdxl, sdxl_story, seed=1)
    with pytest.raises(BankMismatchError, match="steps"):
        sdxl_story.begin_read(
            [PanelSpec(("hero",))], {"hero": bank}, num_steps=STEPS + 1, latent_size=LATENT
        )
    other = StoryAttention(CSAConfig(rate_low=0.1), sdxl_story.layer_names)
    with pytest.raises(BankMismatchError, match="CSA settings"):
        other.begin_read(
            [PanelSpec(("hero",))], {"hero": bank}, num_steps=STEPS, latent_size=LATENT
        )
    with pytest.raises(BankMismatchError, match="no identity bank"):
        sdxl_story.begin_read(
            [PanelSpec(("villain",))], {"hero": bank}, num_steps=STEPS, latent_size=LATENT
        )


# ---------------------------------------------------------------------- SD1.5 end to end
def test_sd15_write_then_read() -> None:
    pipe = tiny_sd15()
    story = install_consistent_attention(pipe.unet, CONFIG)
    images, bank = write(pipe, story, seed=3)
    assert images.shape == (3, 3, SIZE, SIZE)
    assert len(bank) == (STEPS - 1) * len(SD15_LAYERS)
    # rate by token count: 16x16 map (1/2 latent) -> rate_high 0.25; 32x32 (full) -> rate_high too
    assert bank.stored(SD15_LAYERS[0], 1, torch.device("cpu")).shape[1] == 3 * 64
    out = read(pipe, story, [PanelSpec(("hero",)), PanelSpec(())], {"hero": bank}, read_latents(2))
    story.end()
    plain = generate(pipe, ["panel 0", "panel 1"], 0, read_latents(2))
    assert_close(out[1], plain[1], atol=1e-4, rtol=1e-4)
    assert (out[0] - plain[0]).abs().max() > 1e-3


def test_cancelled_write_gives_an_unusable_bank(sdxl: Any, sdxl_story: Any) -> None:
    def stop_after_two(pipe: Any, i: int, t: Any, kw: dict[str, Any]) -> dict[str, Any]:
        if i == 1:
            pipe._interrupt = True
        return kw

    bank = sdxl_story.new_bank("hero", num_images=3, num_steps=STEPS, latent_size=LATENT)
    sdxl_story.begin_write(bank, seed=1)
    with torch.no_grad():
        sdxl(
            prompt=ID_PROMPTS,
            num_inference_steps=STEPS,
            height=SIZE,
            width=SIZE,
            callback_on_step_end=stop_after_two,
            output_type="pt",
        )
    sdxl_story.end()
    assert not bank.complete
    with pytest.raises(BankMismatchError, match="not generated to the end"):
        sdxl_story.begin_read(
            [PanelSpec(("hero",))], {"hero": bank}, num_steps=STEPS, latent_size=LATENT
        )


def test_a_damaged_bank_file_is_refused_when_loaded(
    sdxl: Any, sdxl_story: Any, tmp_path: Path
) -> None:
    """A cut-short file (a full disk, a copy stopped midway) is refused like a stale one, so the
    engine makes the bank again instead of failing the job."""
    _, bank = write(sdxl, sdxl_story, seed=1, key=key())
    path = tmp_path / "hero.safetensors"
    bank.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    with pytest.raises(BankMismatchError, match="damaged"):
        IdentityBank.load(path, expect=key())


def test_a_loaded_bank_is_read_in_denoising_order(
    sdxl: Any, sdxl_story: Any, tmp_path: Path
) -> None:
    from inference.bank.stream import BankStream, stored_entries

    _, bank = write(sdxl, sdxl_story, seed=1, key=key())
    path = tmp_path / "hero.safetensors"
    bank.save(path)
    stream = BankStream(path, stored_entries(path), torch.device("cpu"))
    assert [s.step for s in stream.steps] == sorted(s.step for s in stream.steps)
    assert sum(len(s.entries) for s in stream.steps) == len(bank)
    read = stream.join()
    assert all(torch.equal(read[k], bank.stored(*k, torch.device("cpu"))) for k in bank.entries())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_a_saved_bank_is_a_plain_safetensors_file(tmp_path: Path, dtype: torch.dtype) -> None:
    """Banks are written by our own streaming writer; the safetensors library reads them
    (in every dtype a bank can keep; encoded banks are uint8, see test_bank_codec.py)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    bank = IdentityBank("hero", num_images=2, num_steps=3, latent_size=(4, 4), cfg=True, csa="c")
    for step in (2, 1):
        for layer in ("up.b", "up.a"):
            bank.put(layer, step, torch.randn(2, 3 * step, 8).to(dtype))
    path = tmp_path / "hero.safetensors"
    bank.save(path)
    tensors = load_file(path)
    assert sorted(tensors) == ["0001@up.a", "0001@up.b", "0002@up.a", "0002@up.b"]
    for (layer, step), tensor in bank._entries.items():
        assert torch.equal(tensors[f"{step:04d}@{layer}"], tensor)
    with safe_open(str(path), framework="pt") as handle:
        assert (handle.metadata() or {})["character"] == "hero"
