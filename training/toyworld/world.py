"""The toy world: what can be in a picture, drawn at random from a seed, and how it is described.

A picture is a scene with one or two people. Every attribute is a small closed set, so a picture's
content is a handful of integers (a :class:`WorldBatch` holds them for many pictures as tensors),
the renderer (:mod:`training.toyworld.render`) draws them exactly, and the attribute reader
(:mod:`training.toyworld.reader`) reads them back. Captions state a random subset of the
attributes: the model must learn what to draw for an unstated one (anything plausible), which is
what makes Consistent Self-Attention measurable: an unstated hair colour is random without it and
should agree across a story's panels with it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import torch

SCENES = ("park", "beach", "city", "night", "room", "snow")
SCENE_PHRASES = {
    "park": "in the park",
    "beach": "on the beach",
    "city": "in the city",
    "night": "at night",
    "room": "in a room",
    "snow": "in the snow",
}

PERSON_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "hair": ("black", "brown", "blond", "red", "white", "blue"),
    "hairstyle": ("short", "long"),
    "shirt": ("red", "blue", "green", "yellow", "purple", "orange", "white", "black"),
    "bottom": ("trousers", "skirt"),
    "bottom_colour": ("blue", "black", "gray", "brown"),
    "hat": ("none", "red", "green", "black"),
    "glasses": ("no", "yes"),
    "size": ("small", "tall"),
    "position": ("left", "middle", "right"),
    "pose": ("standing", "waving", "walking"),
}
"""Attribute name -> its values; a person is one index per attribute."""

APPEARANCE = ("hair", "hairstyle", "shirt", "bottom", "bottom_colour", "hat", "glasses", "size")
"""The attributes that make a character recognisable (position and pose change between panels)."""

POSITION_PHRASES = {"left": "on the left", "middle": "in the middle", "right": "on the right"}
POSE_WORDS = {"standing": "standing", "waving": "waving", "walking": "walking"}
MAX_PEOPLE = 2


@dataclass
class WorldBatch:
    """The content of ``n`` pictures as integer tensors (CPU); ``render`` draws them.

    ``people[name]`` is ``(n, MAX_PEOPLE)``; ``present`` says which person slots are used (slot 0
    always is). ``jitter`` holds per-picture random numbers in [0, 1) for the details that no
    caption mentions (exact placement, trees, stars, building heights).
    """

    scene: torch.Tensor
    people: dict[str, torch.Tensor]
    present: torch.Tensor
    jitter: torch.Tensor = field(repr=False)

    def __len__(self) -> int:
        return int(self.scene.shape[0])

    def person(self, index: int, slot: int = 0) -> dict[str, str]:
        """One person's attribute values as words (for captions and tests)."""
        return {
            name: PERSON_ATTRIBUTES[name][int(self.people[name][index, slot])]
            for name in PERSON_ATTRIBUTES
        }

    def scene_name(self, index: int) -> str:
        return SCENES[int(self.scene[index])]


JITTER_SIZE = 16


def sample_world(
    n: int,
    generator: torch.Generator,
    *,
    two_people: float = 0.25,
    look_alike: float = 0.0,
    fixed: dict[str, int] | None = None,
    pairs: tuple[tuple[int, int], ...] = ((0, 2), (0, 1), (1, 2)),
) -> WorldBatch:
    """``n`` random pictures; ``fixed`` pins attributes (``scene`` or a person attribute).

    Two people stand in different positions, one of ``pairs`` of position indices (left and
    right, or one of them in the middle), the first person left of the second. In
    ``look_alike`` of the pictures with two people, the second has the first one's appearance
    (twins, a team in uniform): the model then learns to match one figure's look to another's
    through self-attention, the very path Consistent Self-Attention extends across panels.
    """
    fixed = fixed or {}
    scene = torch.randint(len(SCENES), (n,), generator=generator)
    people = {
        name: torch.randint(len(values), (n, MAX_PEOPLE), generator=generator)
        for name, values in PERSON_ATTRIBUTES.items()
    }
    present = torch.zeros((n, MAX_PEOPLE), dtype=torch.bool)
    present[:, 0] = True
    present[:, 1] = torch.rand((n,), generator=generator) < two_people
    # two people: slot 0 left of slot 1, in different positions
    places = torch.tensor(pairs)
    pair = places[torch.randint(len(places), (n,), generator=generator)]
    people["position"] = torch.where(present[:, 1:], pair, people["position"])
    alike = present[:, 1] & (torch.rand((n,), generator=generator) < look_alike)
    for name in APPEARANCE:
        people[name][:, 1] = torch.where(alike, people[name][:, 0], people[name][:, 1])
    jitter = torch.rand((n, JITTER_SIZE), generator=generator)
    for name, value in fixed.items():
        if name == "scene":
            scene.fill_(value)
        else:
            people[name][:, 0] = value
    return WorldBatch(scene, people, present, jitter)


# ------------------------------------------------------------------------------- captions
def describe_person(person: dict[str, str], stated: set[str]) -> str:
    """``a tall person with long red hair and glasses wearing a blue shirt ...`` for ``stated``."""
    words = ["a"]
    if "size" in stated:
        words.append(person["size"])
    words.append("person")
    withs: list[str] = []
    hair = [person[a] for a in ("hairstyle", "hair") if a in stated]
    if hair:
        withs.append(" ".join([*hair, "hair"]))
    if "glasses" in stated and person["glasses"] == "yes":
        withs.append("glasses")
    if withs:
        words += ["with", " and ".join(withs)]
    wears: list[str] = []
    if "shirt" in stated:
        article = "an" if person["shirt"] == "orange" else "a"
        wears.append(f"{article} {person['shirt']} shirt")
    bottom = [person[a] for a in ("bottom_colour",) if a in stated]
    if "bottom" in stated or bottom:
        kind = person["bottom"] if "bottom" in stated else "clothes"
        article = "a " if kind == "skirt" else ""
        wears.append(article + " ".join([*bottom, kind]))
    if "hat" in stated and person["hat"] != "none":
        wears.append(f"a {person['hat']} hat")
    if wears:
        words += ["wearing", " and ".join(wears)]
    if "hat" in stated and person["hat"] == "none":
        words.append("without a hat")
    if "glasses" in stated and person["glasses"] == "no":
        words.append("without glasses")
    if "pose" in stated:
        words.append(POSE_WORDS[person["pose"]])
    if "position" in stated:
        words.append(POSITION_PHRASES[person["position"]])
    return " ".join(words)


def random_captions(
    batch: WorldBatch,
    generator: torch.Generator,
    *,
    drop: float = 0.3,
    empty: float = 0.1,
    position: float | None = None,
    swap: float = 0.0,
    bare: float = 0.0,
) -> list[str]:
    """Training captions: each attribute stated with probability ``1 - drop``; ``empty`` of them
    are empty (the unconditional half of classifier-free guidance).

    ``position``: the probability that a lone person's position is stated instead (``None``: as
    any attribute); two people's positions are always stated (they say who is who). ``swap``: the
    share of two-person captions that describe the right-hand person first (0: always the left one
    first, which ties the first-described person to the left for the model to learn; see
    ``docs/toyworld-position.md``). ``bare``: the share of captions that leave every person's
    look out and keep only pose, position and scene ("a person waving on the right in the park"),
    the short prompts artists write and stories use, which ``drop`` alone almost never makes
    (0.3 ** 8 of lone-person captions). At the defaults the captions and the generator's draws
    are what they always were.
    """
    n = len(batch)
    names = list(PERSON_ATTRIBUTES)
    keep = (torch.rand((n, MAX_PEOPLE, len(names)), generator=generator) >= drop).tolist()
    keep_scene = (torch.rand((n,), generator=generator) >= drop).tolist()
    blank = (torch.rand((n,), generator=generator) < empty).tolist()
    at = names.index("position")
    if position is not None:
        say = (torch.rand((n, MAX_PEOPLE), generator=generator) < position).tolist()
        for i in range(n):
            for slot in range(MAX_PEOPLE):
                keep[i][slot][at] = say[i][slot]
    swapped = (torch.rand((n,), generator=generator) < swap).tolist() if swap > 0 else [False] * n
    if bare > 0:
        look = [j for j, name in enumerate(names) if name in APPEARANCE]
        for i in (torch.rand((n,), generator=generator) < bare).nonzero().flatten().tolist():
            for slot, j in itertools.product(range(MAX_PEOPLE), look):
                keep[i][slot][j] = False
    present = batch.present.tolist()
    values = {name: batch.people[name].tolist() for name in names}
    scenes = batch.scene.tolist()
    out: list[str] = []
    for i in range(n):
        if blank[i]:
            out.append("")
            continue
        parts = []
        for slot in range(MAX_PEOPLE):
            if not present[i][slot]:
                continue
            chosen = {name for j, name in enumerate(names) if keep[i][slot][j]}
            if present[i][1]:
                chosen.add("position")  # says who is who
            person = {name: PERSON_ATTRIBUTES[name][values[name][i][slot]] for name in names}
            parts.append(describe_person(person, chosen))
        if swapped[i]:
            parts.reverse()
        text = " and ".join(parts)
        if keep_scene[i]:
            text += " " + SCENE_PHRASES[SCENES[scenes[i]]]
        out.append(text)
    return out


def position_sets(
    sets: int, generator: torch.Generator, *, drop: float = 0.3, bare: float = 0.0
) -> tuple[WorldBatch, list[str]]:
    """``3 * sets`` one-person pictures and their captions: each set is one picture drawn on the
    left, in the middle and on the right (rows ``3k``, ``3k + 1``, ``3k + 2``), the same person,
    pose, scene and placement details, captioned alike but for the position phrase, which is
    always stated.

    Trained at one noise level with one noise per set, the three differ only where the figure
    stands and in one phrase: a direct lesson in the position words. ``bare``: as in
    :func:`random_captions`.
    """
    base = sample_world(sets, generator, two_people=0.0)
    captions = random_captions(base, generator, drop=drop, empty=0.0, position=1.0, bare=bare)
    three = len(PERSON_ATTRIBUTES["position"])
    people = {k: v.repeat_interleave(three, dim=0) for k, v in base.people.items()}
    people["position"][:, 0] = torch.arange(three).repeat(sets)
    world = WorldBatch(
        base.scene.repeat_interleave(three),
        people,
        base.present.repeat_interleave(three, dim=0),
        base.jitter.repeat_interleave(three, dim=0),
    )
    phrases = list(POSITION_PHRASES.values())
    out: list[str] = []
    for k, text in enumerate(captions):
        stated = phrases[int(base.people["position"][k, 0])]
        head, tail = text.rsplit(stated, 1)  # the person's phrase (a scene phrase comes after)
        out += [head + phrase + tail for phrase in phrases]
    return world, out


def vocabulary() -> list[str]:
    """Every word a caption can contain (the tokenizer gives each its own token)."""
    words = {"a", "person", "with", "and", "hair", "glasses", "wearing", "shirt", "hat"}
    words |= {"clothes", "without", "an"}
    for values in PERSON_ATTRIBUTES.values():
        words |= set(values)
    for phrase in [*SCENE_PHRASES.values(), *POSITION_PHRASES.values()]:
        words |= set(phrase.split())
    words -= {"none", "no", "yes"}
    return sorted(words)
