"""Reading both people of a two-person picture, and how well the model draws two described people.

The attribute reader (:mod:`training.toyworld.reader`) is trained on one-person pictures. A
picture with a person on the left and one on the right is read one person at a time: the left
half next to its own mirror image shows the left person twice, and the right half next to its
mirror the right one. The reader reads each person's look from these views almost as well as
from a one-person picture: on 650 fresh renders, 96.5-100% per attribute for the left person and
96.0-100% for the right one, the whole look 94.6% and 94.2%
(``tests/training/test_toyworld_two_people.py`` checks at least 95% and 85%). It does not read
the scene from them: a mirrored scene is a different picture.
"""

from __future__ import annotations

import torch

from inference.csa.state import Box
from training.toyworld.reader import AttributeReader
from training.toyworld.world import (
    APPEARANCE,
    SCENE_PHRASES,
    WorldBatch,
    describe_person,
    sample_world,
)

LOOK_AND_PLACE = frozenset({*APPEARANCE, "position"})


def person_views(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(n, 3, H, W)`` pictures -> the left person's view and the right person's (see above)."""
    half = images.shape[-1] // 2
    left, right = images[..., :half], images[..., half:]
    return torch.cat([left, left.flip(-1)], -1), torch.cat([right.flip(-1), right], -1)


def left_and_right(count: int, generator: torch.Generator) -> WorldBatch:
    """``count`` pictures of two people, one on the left and one on the right (no one in the
    middle, whom both views would cut)."""
    return sample_world(count, generator, two_people=1.0, pairs=((0, 2),))


def two_person_prompt(world: WorldBatch, index: int) -> str:
    """Both people's whole look and place, the left one first, then the scene."""
    people = [describe_person(world.person(index, slot), set(LOOK_AND_PLACE)) for slot in (0, 1)]
    return f"{' and '.join(people)} {SCENE_PHRASES[world.scene_name(index)]}"


HALVES: tuple[Box, Box] = ((0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 1.0, 1.0))
"""The two people's boxes, as an artist would draw them on a left/right picture."""


def two_person_regions(world: WorldBatch, index: int) -> list[tuple[Box, str]]:
    """Each person's box and own prompt, as the editor writes it for a boxed character
    (``storyboard.core.prompt_text``: the other person left out, with the "and" that joined
    them)."""
    people = [describe_person(world.person(index, slot), set(LOOK_AND_PLACE)) for slot in (0, 1)]
    scene = SCENE_PHRASES[world.scene_name(index)]
    return [(box, f"{person} {scene}") for box, person in zip(HALVES, people, strict=True)]


def two_person_adherence(
    images: torch.Tensor, world: WorldBatch, reader: AttributeReader
) -> dict[str, float]:
    """How often each person's stated look is read back, per attribute and whole, and how often
    a person shows the *other* person's hair or shirt colour where the two differ (the look
    leaking from one description into the other figure)."""
    out: dict[str, float] = {}
    for slot, view in enumerate(person_views(images)):
        side = ("left", "right")[slot]
        read = reader.read(view)
        right = {k: read[k].cpu() == world.people[k][:, slot] for k in APPEARANCE}
        for name, ok in right.items():
            out[f"{side} {name}"] = float(ok.float().mean())
        out[f"{side} whole look"] = float(torch.stack(list(right.values())).all(0).float().mean())
        for name in ("hair", "shirt"):
            differ = world.people[name][:, 0] != world.people[name][:, 1]
            other = read[name].cpu() == world.people[name][:, 1 - slot]
            out[f"{side} has the other's {name}"] = float(other[differ].float().mean())
    return out
