"""Two-person pictures are read one person at a time; their prompts say who stands where."""

from __future__ import annotations

import torch

from training.toyworld.batches import Batches
from training.toyworld.model import build_tokenizer
from training.toyworld.reader import load_reader
from training.toyworld.render import render
from training.toyworld.two_people import (
    left_and_right,
    person_views,
    two_person_adherence,
    two_person_prompt,
)
from training.toyworld.world import APPEARANCE, SCENE_PHRASES


def test_both_people_of_a_render_are_read_from_their_views() -> None:
    """The measuring tool itself: on fresh renders every look attribute of each person reads
    right at least 95% of the time, and the whole look of each mostly."""
    world = left_and_right(300, torch.Generator().manual_seed(3))
    assert len(world) == 300 and bool(world.present.all())
    assert world.people["position"].tolist() == [[0, 2]] * 300
    result = two_person_adherence(render(world), world, load_reader())
    for side in ("left", "right"):
        for name in APPEARANCE:
            assert result[f"{side} {name}"] >= 0.95, (side, name, result)
        assert result[f"{side} whole look"] >= 0.85
        # drawn as described, nobody wears the other's colours (beyond the reader's errors)
        assert result[f"{side} has the other's hair"] <= 0.05


def test_views_show_each_half_beside_its_mirror() -> None:
    images = torch.rand(2, 3, 8, 8)
    left, right = person_views(images)
    assert torch.equal(left[..., :4], images[..., :4])
    assert torch.equal(left[..., 4:], images[..., :4].flip(-1))
    assert torch.equal(right[..., 4:], images[..., 4:])


def test_the_prompt_describes_the_left_person_first_then_the_scene() -> None:
    world = left_and_right(4, torch.Generator().manual_seed(4))
    text = two_person_prompt(world, 0)
    first, second = text.split(" on the left and ")
    assert second.endswith(f" on the right {SCENE_PHRASES[world.scene_name(0)]}")
    assert world.person(0, 0)["shirt"] in first and world.person(0, 1)["shirt"] in second


def test_training_can_ask_for_more_pairs_and_fewer_look_alikes() -> None:
    """``--two-people`` and ``--look-alike`` set the plain batches' pairs: a run aimed at two
    distinct people in one picture sees more of them."""
    alike = ("hair", "shirt", "bottom_colour", "hat")

    def plain(**share: float) -> tuple[torch.Tensor, torch.Tensor]:
        batches = Batches(build_tokenizer(), 64, 0, **share)
        try:
            world, _ids = batches.next()
        finally:
            batches.stop()
        same = torch.stack([world.people[a][:, 0] == world.people[a][:, 1] for a in alike])
        return world.present[:, 1], same.all(dim=0)

    pairs, same = plain(two_people=1.0, look_alike=0.0)
    assert bool(pairs.all()) and float(same.float().mean()) < 0.1
    pairs, same = plain(two_people=1.0, look_alike=1.0)
    assert bool(pairs.all()) and bool(same.all())
    pairs, _same = plain()  # the defaults: about 0.3 of the pictures
    assert 0.1 < float(pairs.float().mean()) < 0.5
