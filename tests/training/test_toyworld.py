"""The toy world: renderer, captions, tokenizer, the shipped reader, story batches for training."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from training.toyworld.junk import add_junk, junk_words
from training.toyworld.model import build_tokenizer
from training.toyworld.reader import READER_FILE, accuracy, load_reader
from training.toyworld.render import PALETTE, render
from training.toyworld.world import (
    APPEARANCE,
    PERSON_ATTRIBUTES,
    SCENES,
    describe_person,
    random_captions,
    sample_world,
    vocabulary,
)


def world(seed: int, n: int = 16, **kw: object) -> object:
    return sample_world(n, torch.Generator().manual_seed(seed), **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ world
def test_the_same_seed_draws_the_same_pictures() -> None:
    a, b, c = render(world(3)), render(world(3)), render(world(4))  # type: ignore[arg-type]
    assert a.shape == (16, 3, 64, 64)
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_an_attribute_changes_the_pixels_of_its_part_only() -> None:
    """Hair colour: the picture differs only where hair is, and shows the palette colour there."""
    gen = torch.Generator().manual_seed(5)
    base = sample_world(1, gen, two_people=0.0, fixed={"hair": 0, "hat": 0, "hairstyle": 1})
    other = dataclasses.replace(base, people={k: v.clone() for k, v in base.people.items()})
    other.people["hair"][0, 0] = PERSON_ATTRIBUTES["hair"].index("blue")
    a, b = render(base)[0], render(other)[0]
    changed = (a != b).any(0)
    assert 10 < int(changed.sum()) < 200  # the hair, not the whole picture
    blue = torch.tensor(PALETTE["hair"]["blue"]) / 255
    assert torch.allclose(b[:, changed].mean(1), blue, atol=1e-6)


def test_look_alike_pictures_show_two_people_dressed_the_same() -> None:
    batch = world(7, 64, two_people=1.0, look_alike=1.0)
    for name in APPEARANCE:
        assert torch.equal(batch.people[name][:, 0], batch.people[name][:, 1])  # type: ignore[attr-defined]
    assert bool((batch.people["position"][:, 0] < batch.people["position"][:, 1]).all())  # type: ignore[attr-defined]


def test_captions_state_what_is_drawn_and_only_known_words() -> None:
    batch = world(1, 200, two_people=0.3)
    captions = random_captions(batch, torch.Generator().manual_seed(2))  # type: ignore[arg-type]
    known = set(vocabulary())
    assert sum(not c for c in captions) > 5  # the unconditional share
    for i, text in enumerate(captions):
        assert set(text.split()) <= known, text
        if text and "hair" in text and " and a " not in text and "person with" in text:
            person = batch.person(i)  # type: ignore[attr-defined]
            assert person["hair"] in text or person["hairstyle"] in text
    full = describe_person(batch.person(0), set(PERSON_ATTRIBUTES))  # type: ignore[attr-defined]
    assert batch.person(0)["shirt"] in full  # type: ignore[attr-defined]


def test_every_world_word_is_one_token_and_other_words_still_tokenize() -> None:
    tok = build_tokenizer()
    for word in vocabulary():
        assert len(tok(word, add_special_tokens=False).input_ids) == 1, word
    ids = tok("Mia waves: a comic book panel").input_ids
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id and len(ids) > 6


def test_training_captions_mix_in_unknown_words() -> None:
    captions = ["a person in the park"] * 400 + [""] * 100
    mixed = add_junk(captions, torch.Generator().manual_seed(0))
    junk = set(junk_words())
    assert "comic" in junk and "park" not in junk
    assert 40 < sum(m != c for m, c in zip(mixed[:400], captions[:400], strict=True)) < 140
    assert all(set(m.split()) <= junk for m in mixed[400:] if m)


# ------------------------------------------------------------------------------ shipped files
def test_the_shipped_reader_reads_fresh_pictures() -> None:
    reader = load_reader(READER_FILE)
    scores = accuracy(reader, count=300, seed=99)
    assert set(scores) == {"scene", *APPEARANCE, "position", "pose"}
    assert min(scores.values()) > 0.9, scores


def test_a_missing_reader_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing"):
        load_reader(tmp_path / "reader.safetensors")


def test_scene_names_are_what_the_reader_reports() -> None:
    assert len(SCENES) == 6 and "park" in SCENES


# ------------------------------------------------------------------------------ story training
def test_story_batches_show_one_person_per_story_in_varied_scenes() -> None:
    from training.toyworld.story_batches import story_world

    batch = story_world(16, 4, torch.Generator().manual_seed(0))
    for name in APPEARANCE:
        per_story = batch.people[name][:, 0].view(16, 4)
        assert bool((per_story == per_story[:, :1]).all()), name
    assert len(set(batch.scene.view(16, 4)[:, 0].tolist())) > 1
    assert bool((batch.scene.view(16, 4) != batch.scene.view(16, 4)[:, :1]).any())


def test_training_csa_lets_each_panel_see_its_story_and_learns_through_it() -> None:
    """In a story batch a panel's output depends on the other panels of its story only."""
    from tests.fixtures.tiny_pipelines import tiny_sd15_unet
    from training.toyworld.story_batches import install_training_csa

    torch.manual_seed(0)
    unet = tiny_sd15_unet()
    story = install_training_csa(unet, rate=0.5, latent=(32, 32))
    x = torch.randn(4, 4, 32, 32)
    t = torch.tensor([500] * 4)
    text = torch.randn(4, 77, unet.config.cross_attention_dim)
    with torch.no_grad():
        plain = unet(x, t, text).sample
    story.on(stories=2, panels=2, step=1)
    out = unet(x, t, text).sample
    changed = x.clone()
    changed[1] += 1.0  # panel 2 of story 1
    with torch.no_grad():
        again = unet(changed, t, text).sample
    story.off()
    assert not torch.allclose(out[0], plain[0])  # panel 1 sees panel 2
    assert torch.allclose(again[2:], out[2:].detach())  # story 2 does not see story 1
    assert not torch.allclose(again[0], out[0].detach())
    out.sum().backward()
    assert unet.up_blocks[1].attentions[0].transformer_blocks[0].attn1.to_k.weight.grad is not None


def test_story_noise_levels_are_shared_or_spread_per_story() -> None:
    from training.toyworld.story_batches import story_timesteps

    generator = torch.Generator().manual_seed(0)
    shared = story_timesteps(64, 4, 0.0, 1000, generator).view(16, 4)
    assert bool((shared == shared[:, :1]).all())
    spread = story_timesteps(64, 4, 1.0, 1000, generator).view(16, 4)
    assert int((spread != spread[:, :1]).any(dim=1).sum()) >= 15
    single = story_timesteps(64, 1, 1.0, 1000, generator)
    assert len(set(single.tolist())) > 32
