"""Draws toy-world pictures: flat shapes from a :class:`~training.toyworld.world.WorldBatch`.

Every shape is a boolean mask computed for the whole batch at once from per-picture parameters
broadcast over a pixel grid, so one call draws thousands of pictures on a GPU (or hundreds per
second on a CPU) with no Python loop over pictures. The output depends only on the batch: the same
seed gives the same pictures (bit-identical on one device).

Clips (:mod:`training.toyworld.motion`) pass the first person's centre as a real number, a walking
phase, and runs of frames that share one scene; without them a picture is drawn exactly as the
shipped model and reader were trained on.
"""

from __future__ import annotations

import torch

from training.toyworld.world import MAX_PEOPLE, PERSON_ATTRIBUTES, SCENES, WorldBatch

SIZE = 64

PALETTE: dict[str, dict[str, tuple[int, int, int]]] = {
    "hair": {
        "black": (25, 22, 22),
        "brown": (110, 62, 28),
        "blond": (240, 208, 90),
        "red": (200, 50, 25),
        "white": (235, 235, 235),
        "blue": (40, 90, 230),
    },
    "shirt": {
        "red": (215, 40, 40),
        "blue": (40, 80, 210),
        "green": (40, 165, 60),
        "yellow": (245, 215, 40),
        "purple": (140, 60, 180),
        "orange": (245, 140, 30),
        "white": (245, 245, 245),
        "black": (30, 30, 35),
    },
    "bottom_colour": {
        "blue": (50, 70, 150),
        "black": (20, 20, 25),
        "gray": (130, 130, 135),
        "brown": (120, 80, 45),
    },
    "hat": {"none": (0, 0, 0), "red": (220, 30, 40), "green": (30, 140, 50), "black": (15, 15, 15)},
}
SKIN = (236, 190, 150)
SHOE = (45, 35, 30)
EYE = (20, 20, 20)

SLOT_X = (14.0, 32.0, 50.0)
_Num = torch.Tensor | float


_COLOURS: list[tuple[int, int, int]] = [(0, 0, 0)]
"""Every colour drawn so far; pictures are painted as indices into it (one byte a pixel)."""


def _index(colour: tuple[int, int, int]) -> int:
    if colour not in _COLOURS:
        _COLOURS.append(colour)
    return _COLOURS.index(colour)


def _colours(kind: str, device: torch.device) -> torch.Tensor:
    """The colour index of each value of attribute ``kind``."""
    indices = [_index(PALETTE[kind][v]) for v in PERSON_ATTRIBUTES[kind]]
    return torch.tensor(indices, dtype=torch.uint8, device=device)


def _rgb(colour: tuple[int, int, int], device: torch.device) -> torch.Tensor:
    return torch.tensor(_index(colour), dtype=torch.uint8, device=device)


class _Canvas:
    """A batch of pictures being painted, as colour indices (a quarter of the memory traffic of
    painting RGB floats), with the pixel grid shapes are tested against."""

    def __init__(self, n: int, device: torch.device) -> None:
        self.labels = torch.zeros((n, SIZE, SIZE), dtype=torch.uint8, device=device)
        centres = torch.arange(SIZE, dtype=torch.float32, device=device) + 0.5
        self.y = centres.view(1, SIZE, 1)
        self.x = centres.view(1, 1, SIZE)
        self.device = device

    def paint(self, mask: torch.Tensor, colour: torch.Tensor) -> None:
        """Colour index ``colour`` (one, or one per picture) wherever ``mask`` (n, H, W) is set."""
        value = colour.view(-1, 1, 1) if colour.ndim else colour
        self.labels = torch.where(mask, value, self.labels)

    def image(self) -> torch.Tensor:
        """``(n, 3, H, W)`` floats in [0, 1]."""
        table = torch.tensor(_COLOURS, dtype=torch.float32, device=self.device) / 255.0
        return table[self.labels.long()].permute(0, 3, 1, 2).contiguous()

    def rect(self, x0: _Num, y0: _Num, x1: _Num, y1: _Num) -> torch.Tensor:
        return (self.x >= x0) & (self.x < x1) & (self.y >= y0) & (self.y < y1)

    def disc(self, cx: _Num, cy: _Num, r: _Num) -> torch.Tensor:
        return (self.x - cx) ** 2 + (self.y - cy) ** 2 < r * r


def _p(values: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Per-picture numbers as (n, 1, 1) for broadcasting over the grid."""
    return values.to(device=device, dtype=torch.float32).view(-1, 1, 1)


def render(
    batch: WorldBatch,
    device: torch.device | str = "cpu",
    *,
    x: torch.Tensor | None = None,
    phase: torch.Tensor | None = None,
    run: int = 1,
) -> torch.Tensor:
    """The pictures of ``batch`` as ``(n, 3, 64, 64)`` floats in [0, 1].

    ``x``: the first person's centre in pixels per picture, instead of its position slot and
    jitter. ``phase``: a walking phase in radians per picture; a walking person's legs open and
    close and its arms swing with it (without it, the still walking pose). ``run``: consecutive
    runs of this many pictures share their scene and its details (the frames of a clip), so the
    background is drawn once per run. A person slot nobody fills is skipped (it paints nothing).
    """
    device = torch.device(device)
    canvas = _Canvas(len(batch), device)
    if run == 1:
        _background(canvas, batch, device)
    else:
        first = WorldBatch(batch.scene[::run], {}, batch.present[::run], batch.jitter[::run])
        backdrop = _Canvas(len(first), device)
        _background(backdrop, first, device)
        canvas.labels = backdrop.labels.repeat_interleave(run, dim=0)
    for slot in range(MAX_PEOPLE):
        if bool(batch.present[:, slot].any()):
            _person(canvas, batch, slot, device, x if slot == 0 else None, phase)
    return canvas.image()


# ------------------------------------------------------------------------------ scenes
def _background(c: _Canvas, batch: WorldBatch, device: torch.device) -> None:
    scene = batch.scene.to(device)
    j = batch.jitter.to(device)
    n = len(batch)
    horizon = _p(38 + 6 * j[:, 0], device)
    sky = c.y < horizon
    full = torch.ones((n, SIZE, SIZE), dtype=torch.bool, device=device)

    def where(name: str) -> torch.Tensor:
        return (scene == SCENES.index(name)).view(-1, 1, 1)

    def paint(name: str, mask: torch.Tensor, colour: tuple[int, int, int]) -> None:
        c.paint(mask & where(name), _rgb(colour, device))

    # park: sky, grass, a tree
    paint("park", full, (80, 170, 75))
    paint("park", sky, (140, 200, 240))
    tree_x = _p(6 + 52 * j[:, 1], device)
    paint("park", c.rect(tree_x - 1.5, horizon - 12, tree_x + 1.5, horizon + 2), (100, 65, 35))
    paint("park", c.disc(tree_x, horizon - 14, 6.5), (30, 110, 45))
    # beach: sky, sea band, sand, sun
    paint("beach", full, (235, 210, 145))
    paint("beach", c.y < horizon + 4, (35, 120, 200))
    paint("beach", sky, (150, 215, 250))
    paint(
        "beach",
        c.disc(_p(8 + 48 * j[:, 1], device), _p(8 + 6 * j[:, 2], device), 4.5),
        (255, 225, 60),
    )
    # city: pale sky, buildings, road
    paint("city", full, (70, 70, 75))
    paint("city", sky, (195, 200, 210))
    for k in range(4):
        left = 16.0 * k
        top = _p(8 + 22 * j[:, 3 + k], device)
        shade = 100 + 25 * (k % 2)
        paint("city", c.rect(left + 1, top, left + 15, horizon) & sky, (shade, shade, shade + 10))
        windows = (torch.remainder(c.x - left, 4) < 1.5) & (torch.remainder(c.y - top, 5) < 2)
        paint("city", c.rect(left + 3, top + 2, left + 13, horizon - 2) & windows, (250, 230, 120))
    # night: dark sky with stars and a moon, dark ground
    paint("night", full, (30, 45, 40))
    paint("night", sky, (18, 22, 58))
    stars = _stars(batch, device)
    paint("night", sky & stars, (245, 245, 210))
    paint(
        "night",
        c.disc(_p(8 + 48 * j[:, 1], device), _p(9 + 6 * j[:, 2], device), 4.5),
        (240, 240, 200),
    )
    # room: wall, floor, window
    paint("room", full, (150, 95, 55))
    paint("room", sky, (230, 210, 175))
    wx = _p(6 + 40 * j[:, 1], device)
    paint("room", c.rect(wx, 8, wx + 14, 24), (250, 250, 250))
    paint("room", c.rect(wx + 1.5, 9.5, wx + 12.5, 22.5), (150, 205, 245))
    # snow: pale sky, white ground, snowflakes, a pine
    paint("snow", full, (248, 250, 255))
    paint("snow", sky, (200, 215, 235))
    paint("snow", sky & stars, (255, 255, 255))
    px = _p(6 + 52 * j[:, 1], device)
    pine = (c.y > horizon - 22) & (c.y < horizon) & ((c.x - px).abs() < (c.y - horizon + 22) * 0.3)
    paint("snow", pine, (25, 90, 55))


def _stars(batch: WorldBatch, device: torch.device) -> torch.Tensor:
    """Sparse dots whose layout follows the picture's jitter (deterministic, no RNG here)."""
    j = batch.jitter.to(device)
    cells = torch.arange(SIZE * SIZE, device=device, dtype=torch.float32).view(1, SIZE, SIZE)
    phase = (cells * 0.6180339 + j[:, 5:6, None] * 97.0) % 1.0
    twist = (cells * 0.7548777 + j[:, 6:7, None] * 61.0) % 1.0
    return (phase < 0.12) & (twist < 0.12)


# ------------------------------------------------------------------------------ people
class _Figure:
    """One person slot of every picture: placement, size and colours as (n, 1, 1) / (n, 3)."""

    def __init__(
        self,
        c: _Canvas,
        batch: WorldBatch,
        slot: int,
        device: torch.device,
        x: torch.Tensor | None = None,
        phase: torch.Tensor | None = None,
    ) -> None:
        a = {k: v[:, slot].to(device) for k, v in batch.people.items()}
        j = batch.jitter.to(device)
        slots = torch.tensor(SLOT_X, device=device)
        self.c, self.a, self.device = c, a, device
        self.present = batch.present[:, slot].to(device).view(-1, 1, 1)
        if x is None:
            self.cx = _p(slots[a["position"]] + 4 * (j[:, 7 + slot] - 0.5), device)
        else:
            self.cx = _p(x, device)
        self.phase = None if phase is None else _p(phase, device)
        self.s = _p(torch.where(a["size"] == 1, 1.0, 0.72), device)
        self.feet = _p(59 + 3 * j[:, 9 + slot], device)
        self.pose = _p(a["pose"], device)
        self.hip = self.feet - 16 * self.s
        self.shoulder = self.feet - 30 * self.s
        self.skin = _rgb(SKIN, device)

    def flag(self, name: str) -> torch.Tensor:
        """Where attribute ``name`` is not its first value (skirt, long hair, glasses, a hat)."""
        return _p(self.a[name], self.device) > 0.5

    def colour(self, name: str) -> torch.Tensor:
        return _colours(name, self.device)[self.a[name]]

    def paint(self, mask: torch.Tensor, colour: torch.Tensor) -> None:
        self.c.paint(mask & self.present, colour)

    def legs(self) -> None:
        """Trousers or a skirt over bare legs; the legs spread apart when walking."""
        c, s, cx, hip, feet = self.c, self.s, self.cx, self.hip, self.feet
        skirt, bottom = self.flag("bottom"), self.colour("bottom_colour")
        t = ((c.y - hip) / (16 * s)).clamp(0, 1)
        if self.phase is None:
            spread = torch.where(self.pose == 2, 3.5, 0.6) * s
        else:  # a stride: the legs close and open again every half turn of the phase
            spread = torch.where(self.pose == 2, 0.6 + 2.9 * self.phase.sin().abs(), 0.6) * s
        in_legs = (c.y >= hip) & (c.y < feet)
        leg_l = (c.x - (cx - 2.2 * s - spread * t)).abs() < 1.9 * s
        leg_r = (c.x - (cx + 2.2 * s + spread * t)).abs() < 1.9 * s
        legs = in_legs & (leg_l | leg_r)
        self.paint(legs & ~skirt, bottom)
        self.paint(legs & skirt, self.skin)
        self.paint(legs & (c.y >= feet - 2 * s), _rgb(SHOE, self.device))
        top, end = hip - 2 * s, hip + 8 * s
        u = ((c.y - top) / (10 * s)).clamp(0, 1)
        flare = (c.y >= top) & (c.y < end) & ((c.x - cx).abs() < (5 + 3.5 * u) * s)
        self.paint(flare & skirt, bottom)

    def body(self) -> None:
        """Torso and arms: one arm raised when waving, both held out when walking (and swung up
        and down, one against the other, with a walking phase)."""
        c, s, cx, hip, shoulder = self.c, self.s, self.cx, self.hip, self.shoulder
        shirt = self.colour("shirt")
        self.paint(c.rect(cx - 5.5 * s, shoulder, cx + 5.5 * s, hip + 0.5), shirt)
        swing = torch.where(self.pose == 2, 1.5, 0.0) * s
        lift: _Num = 0.0
        if self.phase is not None:
            lift = torch.where(self.pose == 2, 1.5 * self.phase.sin(), 0.0) * s
        top, end = shoulder + 1 - lift, hip - 1 - lift
        left_arm = c.rect(cx - 8.5 * s - swing, top, cx - 5.5 * s - swing, end)
        self.paint(left_arm, shirt)
        self.paint(left_arm & (c.y >= hip - 4 * s - lift), self.skin)
        up = self.pose == 1
        top, end = shoulder + 1 + lift, hip - 1 + lift
        right_down = c.rect(cx + 5.5 * s + swing, top, cx + 8.5 * s + swing, end)
        right_up = c.rect(cx + 5.5 * s, shoulder - 11 * s, cx + 8.5 * s, shoulder + 3)
        self.paint(right_down & ~up, shirt)
        self.paint(right_down & ~up & (c.y >= hip - 4 * s + lift), self.skin)
        self.paint(right_up & up, shirt)
        self.paint(right_up & up & (c.y < shoulder - 7 * s), self.skin)

    def head(self) -> None:
        """Face, short or long hair, eyes or glasses, and a hat on top."""
        c, s, cx = self.c, self.s, self.cx
        head_y = self.shoulder - 5.5 * s
        hair, eye = self.colour("hair"), _rgb(EYE, self.device)
        hair_back = c.rect(cx - 6.3 * s, head_y - 2 * s, cx + 6.3 * s, head_y + 8.5 * s)
        self.paint(hair_back & self.flag("hairstyle"), hair)
        self.paint(c.disc(cx, head_y, 5.2 * s), self.skin)
        self.paint(c.disc(cx, head_y - 0.8 * s, 5.8 * s) & (c.y < head_y - 1.6 * s), hair)
        glasses = self.flag("glasses")
        eye_y = head_y + 0.4 * s
        for side in (-1.0, 1.0):
            ex = cx + side * 2.3 * s
            self.paint(c.rect(ex - 0.5, eye_y - 0.5, ex + 0.5, eye_y + 0.6) & ~glasses, eye)
            self.paint(c.rect(ex - 1.8, eye_y - 1.3, ex + 1.8, eye_y + 1.4) & glasses, eye)
        self.paint(c.rect(cx - 1, eye_y - 0.6, cx + 1, eye_y + 0.4) & glasses, eye)
        brim = c.rect(cx - 7.5 * s, head_y - 5.2 * s, cx + 7.5 * s, head_y - 3.4 * s)
        crown = c.rect(cx - 4.5 * s, head_y - 10 * s, cx + 4.5 * s, head_y - 5 * s)
        self.paint((brim | crown) & self.flag("hat"), self.colour("hat"))


def _person(
    c: _Canvas,
    batch: WorldBatch,
    slot: int,
    device: torch.device,
    x: torch.Tensor | None = None,
    phase: torch.Tensor | None = None,
) -> None:
    figure = _Figure(c, batch, slot, device, x, phase)
    figure.legs()
    figure.body()
    figure.head()


def position_box(position: str) -> tuple[float, float, float, float]:
    """Where a person at ``position`` stands, as (left, top, right, bottom) of the picture.

    The character's region box in the consistency benchmark (the prompt asks for that position);
    generous, since generated people are not placed exactly.
    """
    centre = SLOT_X[PERSON_ATTRIBUTES["position"].index(position)] / SIZE
    return (max(0.0, centre - 0.2), 0.15, min(1.0, centre + 0.2), 1.0)
