"""Toy-world training data for the position words: caption options, position sets, trainer flags."""

from __future__ import annotations

import torch

from training.toyworld.batches import Batches, batch_kind
from training.toyworld.model import build_tokenizer
from training.toyworld.render import render
from training.toyworld.train import group_noise, parse_args
from training.toyworld.world import (
    APPEARANCE,
    POSITION_PHRASES,
    position_sets,
    random_captions,
    sample_world,
)

PHRASES = list(POSITION_PHRASES.values())


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_caption_options_at_their_defaults_draw_as_before() -> None:
    """The shipped training's captions: the same text and the same random draws."""
    world = sample_world(300, _generator(0), two_people=0.3)
    a, b = _generator(1), _generator(1)
    assert random_captions(world, a) == random_captions(world, b, position=None, swap=0.0)
    assert torch.equal(torch.rand(4, generator=a), torch.rand(4, generator=b))


def test_position_rate_decides_how_often_a_lone_person_is_placed() -> None:
    world = sample_world(200, _generator(2), two_people=0.0)
    always = random_captions(world, _generator(3), empty=0.0, position=1.0)
    never = random_captions(world, _generator(3), empty=0.0, position=0.0)
    for i, (yes, no) in enumerate(zip(always, never, strict=True)):
        assert PHRASES[int(world.people["position"][i, 0])] in yes
        assert not any(p in no for p in PHRASES)
    two = sample_world(50, _generator(4), two_people=1.0)
    for text in random_captions(two, _generator(5), empty=0.0, position=0.0):
        assert sum(text.count(p) for p in PHRASES) == 2  # two people: always who is where


def test_swapped_two_person_captions_describe_the_right_hand_person_first() -> None:
    world = sample_world(60, _generator(6), two_people=1.0)
    swapped = random_captions(world, _generator(7), empty=0.0, swap=1.0)
    kept = random_captions(world, _generator(7), empty=0.0)
    for i, (s, k) in enumerate(zip(swapped, kept, strict=True)):
        first, second = (PHRASES[int(world.people["position"][i, slot])] for slot in (0, 1))
        assert s.index(second) < s.index(first)  # slot 1 stands right of slot 0
        assert k.index(first) < k.index(second)


def test_bare_captions_give_pose_position_and_scene_and_no_look() -> None:
    """The short prompts of stories ("a person waving on the right in the park") are in the
    training data only when asked for; the pose, position and scene are drawn as usual."""
    world = sample_world(300, _generator(10), two_people=0.3)
    bare = random_captions(world, _generator(11), empty=0.0, bare=1.0, position=1.0)
    look = {"hair", "shirt", "wearing", "with", "glasses", "hat", "tall", "small", "skirt"}
    for i, text in enumerate(bare):
        assert not look & set(text.split()), text
        for slot in range(1 + int(world.present[i, 1])):
            assert PHRASES[int(world.people["position"][i, slot])] in text
    poses = sum(any(p in t for p in ("standing", "waving", "walking")) for t in bare)
    assert 0.6 * 300 < poses < 300  # stated as any attribute (drop 0.3), not always
    some = random_captions(world, _generator(11), empty=0.0, bare=0.3)
    share = sum(not look & set(t.split()) for t in some) / len(some)
    assert 0.2 < share < 0.4
    _, sets = position_sets(20, _generator(12), bare=1.0)
    assert all(not look & set(t.split()) for t in sets)
    assert parse_args(["--bare-captions", "0.3"]).bare_captions == 0.3


def test_a_position_set_is_one_picture_at_the_three_places() -> None:
    world, captions = position_sets(8, _generator(8))
    assert len(world) == len(captions) == 24
    assert not bool(world.present[:, 1].any())
    assert world.people["position"][:, 0].tolist() == [0, 1, 2] * 8
    for name in (*APPEARANCE, "pose"):
        per_set = world.people[name][:, 0].view(8, 3)
        assert bool((per_set == per_set[:, :1]).all()), name
    assert bool((world.scene.view(8, 3) == world.scene.view(8, 3)[:, :1]).all())
    for k in range(8):
        texts = captions[3 * k : 3 * k + 3]
        for text, phrase in zip(texts, PHRASES, strict=True):
            assert text.count(phrase) == 1
        assert len({t.replace(p, "#") for t, p in zip(texts, PHRASES, strict=True)}) == 1
    images = render(world).view(8, 3, 3, 64, 64)
    left, middle, right = images[:, 0], images[:, 1], images[:, 2]
    assert not torch.equal(left, middle) and not torch.equal(middle, right)
    # the figure moves, the scene stays: the far-right columns are the same with the figure
    # on the left or in the middle
    assert torch.equal(left[..., 60:], middle[..., 60:])


def test_sets_share_their_noise_and_plain_batches_draw_it_as_before() -> None:
    a, b = _generator(9), _generator(9)
    assert torch.equal(group_noise((6, 4, 2, 2), 1, a), torch.randn((6, 4, 2, 2), generator=b))
    noise = group_noise((6, 4, 2, 2), 3, a).view(2, 3, 4, 2, 2)
    assert bool((noise == noise[:, :1]).all()) and not torch.equal(noise[0], noise[1])


def test_trainer_flags_default_to_the_shipped_training() -> None:
    args = parse_args([])
    assert (args.position_share, args.position_rate, args.swap_people) == (0.0, None, 0.0)
    story = parse_args(["--story-panels", "4", "--story-share", "0.75"])
    kinds = [batch_kind(s, s * 3 // 4, story) for s in range(400)]  # shipped: no sets
    assert set(kinds) == {"story", "plain"}
    asked = parse_args(["--story-panels", "4", "--story-share", "0.5", "--position-share", "0.5"])
    kinds, stories = [], 0
    for step in range(400):
        kinds.append(batch_kind(step, stories, asked))
        stories += kinds[-1] == "story"
    assert (kinds.count("story"), kinds.count("sets"), kinds.count("plain")) == (200, 100, 100)


def test_position_set_batches_come_without_unknown_words() -> None:
    batches = Batches(build_tokenizer(), 12, 0, positions=True)
    try:
        world, ids = batches.next()
    finally:
        batches.stop()
    assert len(world) == 12 and ids.shape == (12, 77)
    for k in range(0, 12, 3):  # token by token alike but for "on"/"in" and the place word
        assert int((ids[k] != ids[k + 1]).sum()) == 2 and int((ids[k] != ids[k + 2]).sum()) == 1
