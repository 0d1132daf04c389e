"""The toy world in motion: clips of one person walking across a scene, or standing and waving.

A clip keeps one person's look and one scene from its first frame to its last; what changes is the
person's centre ``x`` (a real number of pixels, anywhere a whole person fits), the pose (standing,
waving or walking, :data:`~training.toyworld.world.PERSON_ATTRIBUTES`) and, while walking, a phase
that advances with the distance walked (the legs open and close, the arms swing). Every frame of
every clip is drawn in one call of the still renderer (:func:`~training.toyworld.render.render`
with per-frame ``x`` and ``phase``, the background once per clip), so a batch of clips costs about
what as many still pictures cost, on a GPU or a CPU, and the same seed gives the same clips.

It is the training data of the Semantic Motion Predictor on the toy world (issue #24): a clip's
first and last frame say where the person starts and ends, its caption says which way they walk
("a person with red hair walking right in the park"). :mod:`training.toyworld.motion_reader` reads
``x``, the pose, the look and the scene back from single frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from training.toyworld.render import SLOT_X, render
from training.toyworld.world import (
    APPEARANCE,
    JITTER_SIZE,
    MAX_PEOPLE,
    PERSON_ATTRIBUTES,
    POSE_WORDS,
    POSITION_PHRASES,
    SCENE_PHRASES,
    SCENES,
    WorldBatch,
    describe_person,
)

X_MIN, X_MAX = 10.0, 54.0
"""Where a person's centre may be: a tall walker's arms and legs stay inside the 64 px frame."""
STRIDE_PX = 7.0
"""Distance walked while the legs close and open again (half a turn of the walking phase)."""
STILL = 0.25
"""Share of clips whose person does not move (when no ``move`` range is asked for)."""
CHANGE = 0.3
"""Share of clips with a pose change: standing <-> waving, or walking that stops early."""
MIN_MOVE = 2.0
"""The shortest walk drawn when no ``move`` range is asked for."""

POSES = PERSON_ATTRIBUTES["pose"]
STANDING, WAVING, WALKING = (POSES.index(p) for p in ("standing", "waving", "walking"))
DIRECTIONS = {-1: "left", 1: "right"}
"""How a caption says which way a person walks ("walking right"); the shipped tokenizer knows
"left" and "right" but not "to" or "towards"."""


@dataclass
class ClipBatch:
    """``B`` clips of ``L`` frames; ``frames`` on the device asked for, everything else on the CPU.

    ``people`` holds the person's appearance (:data:`~training.toyworld.world.APPEARANCE`) as
    world.py's value indices, one per clip; ``jitter`` the scene's details (tree, sun, buildings),
    which :func:`backgrounds` draws without the person. ``phase`` is the walking phase per frame
    (radians; it only shows where ``pose`` is walking).
    """

    frames: torch.Tensor
    x: torch.Tensor
    pose: torch.Tensor
    captions: list[str]
    scene: torch.Tensor
    people: dict[str, torch.Tensor]
    phase: torch.Tensor
    jitter: torch.Tensor = field(repr=False)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def distance(self) -> torch.Tensor:
        """``|end x - start x|`` per clip, in pixels."""
        return (self.x[:, -1] - self.x[:, 0]).abs()

    @property
    def direction(self) -> torch.Tensor:
        """-1 (walks left), 0 (stays) or 1 (walks right), per clip."""
        return torch.sign(self.x[:, -1] - self.x[:, 0]).long()

    def person(self, index: int) -> dict[str, str]:
        """Clip ``index``'s person's appearance as words."""
        return {k: PERSON_ATTRIBUTES[k][int(v[index])] for k, v in self.people.items()}

    def scene_name(self, index: int) -> str:
        return SCENES[int(self.scene[index])]


def render_clips(
    batch: int,
    frames: int,
    *,
    seed: int,
    device: torch.device | str = "cpu",
    move: tuple[float, float] | None = None,
    generator: torch.Generator | None = None,
    still: float = STILL,
    change: float = CHANGE,
    drop: float = 0.3,
    empty: float = 0.1,
) -> ClipBatch:
    """``batch`` random clips of ``frames`` frames (``frames`` >= 2), drawn at once on ``device``.

    Each clip has a random person and scene, a start and an end ``x``, and walks from one to the
    other along a straight or eased path, the walking phase advancing with the distance. ``move``:
    every clip walks a distance drawn uniformly from ``(lo, hi)`` pixels (a benchmark's small or
    large moves; at most ``X_MAX - X_MIN``); without it, ``still`` of the clips stay put and the
    others walk 2 to 44 px. ``change`` of the clips change pose at a random frame: a still person
    starts or stops waving, a walker arrives early and then stands or waves. ``drop`` and
    ``empty`` are the caption options of :func:`~training.toyworld.world.random_captions`.

    ``generator``: draw from this CPU generator instead of a new one seeded with ``seed`` (a
    training loop draws batch after batch from one stream).
    """
    if frames < 2:
        raise ValueError(f"a clip needs at least 2 frames, not {frames}")
    span = X_MAX - X_MIN
    if move is not None and not 0 <= move[0] <= move[1] <= span:
        raise ValueError(f"move {move} must satisfy 0 <= lo <= hi <= {span} px")
    g = generator if generator is not None else torch.Generator().manual_seed(seed)
    world = _looks(batch, g)
    x, pose, phase = _paths(batch, frames, g, move, still, change)
    captions = _captions(world, x, pose, g, drop=drop, empty=empty)
    images = render_frames(world, x, pose, phase, device)
    return ClipBatch(
        frames=images.view(batch, frames, 3, 64, 64),
        x=x,
        pose=pose,
        captions=captions,
        scene=world.scene,
        people={k: world.people[k][:, 0].clone() for k in APPEARANCE},
        phase=phase,
        jitter=world.jitter,
    )


@dataclass
class FrameBatch:
    """Single frames, each of its own person and scene (what the motion reader trains on):
    ``frames`` ``(N, 3, 64, 64)`` in [-1, 1] on the device asked for; everything else on the CPU,
    per frame: ``x`` (pixels), ``pose``, ``scene`` and the look ``people`` (each
    :data:`~training.toyworld.world.APPEARANCE` attribute) as world.py's value indices."""

    frames: torch.Tensor
    x: torch.Tensor
    pose: torch.Tensor
    scene: torch.Tensor
    people: dict[str, torch.Tensor]

    def __len__(self) -> int:
        return int(self.x.shape[0])


def sample_labelled_frames(
    count: int,
    *,
    seed: int = 0,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> FrameBatch:
    """``count`` single frames of a clip, each on its own: a random person and scene, any ``x`` a
    person fits at, any pose and walking phase, with every label the motion reader reads."""
    g = generator if generator is not None else torch.Generator().manual_seed(seed)
    world = _looks(count, g)
    x = X_MIN + (X_MAX - X_MIN) * torch.rand((count, 1), generator=g)
    pose = torch.randint(len(POSES), (count, 1), generator=g)
    phase = 2 * math.pi * torch.rand((count, 1), generator=g)
    return FrameBatch(
        frames=render_frames(world, x, pose, phase, device),
        x=x.flatten(),
        pose=pose.flatten(),
        scene=world.scene,
        people={k: world.people[k][:, 0].clone() for k in APPEARANCE},
    )


def sample_frames(
    count: int,
    *,
    seed: int = 0,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`sample_labelled_frames`' frames ``(count, 3, 64, 64)`` in [-1, 1] on ``device``,
    and their ``x`` and pose on the CPU (the same draws: the same seed gives the same frames)."""
    batch = sample_labelled_frames(count, seed=seed, generator=generator, device=device)
    return batch.frames, batch.x, batch.pose


def render_frames(
    world: WorldBatch,
    x: torch.Tensor,
    pose: torch.Tensor,
    phase: torch.Tensor,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Clips of ``world``'s people (one clip per picture of ``world``) at ``x``, ``pose`` and
    ``phase`` (each ``(B, L)``), as ``(B * L, 3, 64, 64)`` in [-1, 1]; the background is drawn
    once per clip. ``L == 1``: single frames, as the motion reader trains on."""
    length = x.shape[1]
    people = {k: v.repeat_interleave(length, dim=0) for k, v in world.people.items()}
    people["pose"][:, 0] = pose.flatten()
    frames = WorldBatch(
        world.scene.repeat_interleave(length),
        people,
        world.present.repeat_interleave(length, dim=0),
        world.jitter.repeat_interleave(length, dim=0),
    )
    images = render(frames, device, x=x.flatten(), phase=phase.flatten(), run=length)
    return images * 2 - 1


def backgrounds(clips: ClipBatch, device: torch.device | str = "cpu") -> torch.Tensor:
    """Each clip's scene without its person, ``(B, 3, 64, 64)`` in [-1, 1]."""
    n = len(clips)
    people = {k: torch.zeros((n, MAX_PEOPLE), dtype=torch.long) for k in PERSON_ATTRIBUTES}
    world = WorldBatch(
        clips.scene, people, torch.zeros((n, MAX_PEOPLE), dtype=torch.bool), clips.jitter
    )
    return render(world, device) * 2 - 1


def _looks(n: int, g: torch.Generator) -> WorldBatch:
    """``n`` one-person pictures' content (person slot 0; the pose and place come per frame)."""
    scene = torch.randint(len(SCENES), (n,), generator=g)
    people = {
        name: torch.randint(len(values), (n, MAX_PEOPLE), generator=g)
        for name, values in PERSON_ATTRIBUTES.items()
    }
    present = torch.zeros((n, MAX_PEOPLE), dtype=torch.bool)
    present[:, 0] = True
    return WorldBatch(scene, people, present, torch.rand((n, JITTER_SIZE), generator=g))


def _paths(
    n: int,
    length: int,
    g: torch.Generator,
    move: tuple[float, float] | None,
    still: float,
    change: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-frame ``x``, pose and walking phase of ``n`` clips, each ``(n, length)``."""
    span = X_MAX - X_MIN
    u = torch.rand((n, 8), generator=g)
    if move is None:
        distance = torch.where(u[:, 0] < still, 0.0, MIN_MOVE + (span - MIN_MOVE) * u[:, 1])
    else:
        distance = move[0] + (move[1] - move[0]) * u[:, 1]
    direction = torch.where(u[:, 2] < 0.5, -1.0, 1.0)
    left = X_MIN + (span - distance) * u[:, 3]  # the path's left end
    start = torch.where(direction > 0, left, left + distance)
    moving = distance > 0
    changes = u[:, 4] < change
    # a walker that changes pose arrives at a frame in the second half and then stands or waves;
    # a still person switches between standing and waving at any frame after the first
    t = torch.arange(length, dtype=torch.float32).view(1, -1)
    last = float(length - 1)
    half = math.ceil(last / 2)
    early = half + torch.floor((last - half) * u[:, 5])  # in [half, last - 1]
    arrive = torch.where(changes & moving & (length >= 4), early, last)
    progress = (t / arrive.view(-1, 1)).clamp(0, 1)
    eased = u[:, 6] < 0.5
    progress = torch.where(eased.view(-1, 1), progress * progress * (3 - 2 * progress), progress)
    x = start.view(-1, 1) + (direction * distance).view(-1, 1) * progress
    first = torch.where(u[:, 7] < 0.5, STANDING, WAVING)
    other = STANDING + WAVING - first
    switch = torch.floor(1 + (last * torch.rand((n,), generator=g))).clamp(max=last)
    phase0 = 2 * math.pi * torch.rand((n,), generator=g)
    end_pose = torch.where(torch.rand((n,), generator=g) < 0.5, STANDING, WAVING)
    still_pose = torch.where(
        changes.view(-1, 1) & (t >= switch.view(-1, 1)), other.view(-1, 1), first.view(-1, 1)
    )
    walk_pose = torch.where(t <= arrive.view(-1, 1), WALKING, end_pose.view(-1, 1))
    pose = torch.where(moving.view(-1, 1), walk_pose, still_pose).long()
    phase = phase0.view(-1, 1) + math.pi * (x - start.view(-1, 1)).abs() / STRIDE_PX
    return x, pose, phase


def _captions(
    world: WorldBatch,
    x: torch.Tensor,
    pose: torch.Tensor,
    g: torch.Generator,
    *,
    drop: float,
    empty: float,
) -> list[str]:
    """Captions as world.py writes them (each appearance attribute, the place and the scene
    stated with probability ``1 - drop``, ``empty`` of them empty), with the pose replaced by the
    clip's motion, which a non-empty caption always states: "walking left", "standing and
    waving", "walking right and waving" (a walker who stops). Where a still person stands is said
    as a still picture says it ("on the left"); a walker's start and end are left to the frames."""
    n = len(world)
    keep = (torch.rand((n, len(APPEARANCE) + 2), generator=g) >= drop).tolist()
    blank = (torch.rand((n,), generator=g) < empty).tolist()
    places = list(POSITION_PHRASES.values())
    out: list[str] = []
    for i in range(n):
        if blank[i]:
            out.append("")
            continue
        person = {k: PERSON_ATTRIBUTES[k][int(world.people[k][i, 0])] for k in PERSON_ATTRIBUTES}
        stated = {k for k, kept in zip(APPEARANCE, keep[i], strict=False) if kept}
        words = [describe_person(person, stated), _motion_phrase(x[i], pose[i])]
        if keep[i][-2] and x[i, 0] == x[i, -1]:
            words.append(places[_nearest_place(float(x[i, 0]))])
        if keep[i][-1]:
            words.append(SCENE_PHRASES[SCENES[int(world.scene[i])]])
        out.append(" ".join(words))
    return out


def _motion_phrase(x: torch.Tensor, pose: torch.Tensor) -> str:
    """The clip's poses in order, a walk with its direction: "walking left and waving"."""
    parts: list[str] = []
    for value in torch.unique_consecutive(pose).tolist():
        word = POSE_WORDS[POSES[value]]
        if value == WALKING:
            word += " " + DIRECTIONS[1 if float(x[-1]) > float(x[0]) else -1]
        parts.append(word)
    return " and ".join(parts)


def _nearest_place(x: float) -> int:
    """The position slot (left, middle, right) nearest to ``x``."""
    return min(range(len(SLOT_X)), key=lambda k: abs(SLOT_X[k] - x))
