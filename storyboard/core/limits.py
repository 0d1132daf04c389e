"""The range of every number in a project, declared with the field's type in ``model.py``.

A project file may come from anyone, and numbers were not checked: a duration of 10^12 frames
made ``export-video`` run without end, 10^400 crashed ``info`` with OverflowError, and a huge or
NaN gutter, crop or camera framing ended exports in OverflowError, ZeroDivisionError or "cannot
convert float NaN to integer", naming no file and no field.

Each number field's type is one of the aliases below. Two kinds:

* ``Interval`` (from ``annotated_types``): pydantic refuses a value outside it (NaN and infinity
  included) while loading, so the file is ``ProjectCorrupt`` with the field's JSON path and the
  value in the message. These bounds hold every value the editor, the script and Storyboarder
  imports and the older formats ever wrote, with room to spare.
* :class:`Repaired`: the loader has always repaired these (``persistence._repair``): a length
  below one frame, an unsupported fps, an absurd aspect ratio. A value outside the range is
  replaced, with a warning naming the panel, instead of refusing the whole project.

Bounds are chosen for a storyboard: a panel lasts at most four hours (a value no film needs, and
an export of it still ends), positions relative to a panel or page stay within ten times its
size, seeds fit the editor's seed boxes (31 bits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import Interval


@dataclass(frozen=True, slots=True)
class Repaired:
    """A range the loader enforces by repairing the value (with a warning), not by refusing."""

    lo: float
    hi: float

    def __contains__(self, value: float) -> bool:
        return self.lo <= value <= self.hi  # False for NaN

    def clamp(self, value: float) -> float:
        return min(max(value, self.lo), self.hi)

    def repair_note(self, where: str, value: float) -> str:
        """The warning for a value :meth:`clamp` repaired, naming the field's JSON path."""
        return (
            f"{where}: {_shown(value)} is out of range ({self.lo:g} to {self.hi:g}); "
            f"{self.clamp(value):g} is used"
        )


MAX_PANEL_FRAMES = 432_000
"""Four hours at 30 fps, the highest project rate (the inspector's duration box stops here)."""
SEED_MAX = 2**31 - 1  # the seed boxes of the inspector, the characters and Project settings
MAX_RELATIVE = 10.0  # a position or size relative to its panel, image or page's live area
MIN_RELATIVE_SIZE = 1e-3  # a box no side of which is a thousandth of its panel: nothing to frame

# -- repaired when out of range (persistence._repair) ---------------------------------------------
PANEL_FRAMES = Repaired(1, MAX_PANEL_FRAMES)
TRANSITION_FRAMES = Repaired(0, MAX_PANEL_FRAMES)
FPS = Repaired(23.976, 30.0)  # snapped to the nearest of FPS_CHOICES
ASPECT = Repaired(0.1, 10.0)  # 16:9 otherwise

Frames = Annotated[int, PANEL_FRAMES]
TransitionFrames = Annotated[int, TRANSITION_FRAMES]
Fps = Annotated[float, FPS]
AspectRatio = Annotated[float, ASPECT]

# -- refused when out of range (ProjectCorrupt naming the field) ----------------------------------
Relative = Annotated[float, Interval(ge=-MAX_RELATIVE, le=MAX_RELATIVE)]
RelativeSize = Annotated[float, Interval(ge=MIN_RELATIVE_SIZE, le=MAX_RELATIVE)]
Proportion = Annotated[float, Interval(ge=0.0, le=1.0)]  # opacity, strength, sample rates
Degrees = Annotated[float, Interval(ge=-360.0, le=360.0)]
Decibels = Annotated[float, Interval(ge=-120.0, le=40.0)]
Seed = Annotated[int, Interval(ge=0, le=SEED_MAX)]
Points = Annotated[float, Interval(ge=0.0, le=288.0)]  # page margins: up to 4 inches
Gutter = Annotated[float, Interval(ge=0.0, le=144.0)]  # between frames: up to 2 inches
ImageSide = Annotated[int, Interval(ge=64, le=8192)]  # generated pixels
Steps = Annotated[int, Interval(ge=1, le=1000)]
GuidanceScale = Annotated[float, Interval(ge=0.0, le=100.0)]
IdentityPanels = Annotated[int, Interval(ge=1, le=64)]
# A LoRA's strength: tools offer -2..2 (negative "slider" LoRAs); beyond 4 any LoRA is noise.
LoraWeight = Annotated[float, Interval(ge=-4.0, le=4.0)]
# A generated image's recorded settings (free-form): any finite float, any 64-bit integer.
SettingInt = Annotated[int, Interval(ge=-(2**63), le=2**64 - 1)]
SettingFloat = Annotated[float, Interval(ge=-1.7976931348623157e308, le=1.7976931348623157e308)]

_RANGE_ERRORS = frozenset(
    {"less_than_equal", "greater_than_equal", "less_than", "greater_than", "finite_number"}
)


def _shown(value: Any) -> str:
    text = repr(value)
    if isinstance(value, int) and len(text) > 16:
        return f"a {len(text.lstrip('-'))}-digit number"
    return text if len(text) <= 40 else text[:37] + "..."


def out_of_range(error: Any) -> str | None:
    """For a pydantic error of a number outside its range: 'nan is out of range (should be less
    than or equal to 10)'. None for any other error."""
    if error.get("type") not in _RANGE_ERRORS:
        return None
    return f"{_shown(error.get('input'))} is out of range ({error['msg'].lower()})"


_BOX_KEYS = frozenset({"x", "y", "w", "h"})


def box_needs_repair(box: dict[str, Any]) -> bool:
    """A box of the raw JSON drawn right to left, bottom to top, or with no size.

    The canvas of earlier versions stored a box dragged up or to the left with a negative width
    or height, and one clicked without a drag with none: those projects must still open, so
    the loader turns such boxes round (:func:`turn_box_round`) before the type check, which
    would refuse the sizes. Other hostile sizes (NaN, huge) are still refused there.
    """
    if box.keys() != _BOX_KEYS or not all(_is_number(v) for v in box.values()):
        return False
    return any(-MAX_RELATIVE <= box[side] < MIN_RELATIVE_SIZE for side in ("w", "h"))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def turn_box_round(box: dict[str, Any]) -> str:
    """Flips negative sides (the box keeps its place), gives empty ones the smallest size;
    returns what was done, for the loader's warning."""
    before = f"{_shown(box['w'])} x {_shown(box['h'])}"
    for start, side in (("x", "w"), ("y", "h")):
        if box[side] < 0:
            box[start], box[side] = box[start] + box[side], -box[side]
        box[side] = max(box[side], MIN_RELATIVE_SIZE)
    return f"a box of {before} was turned the right way round ({box['w']:g} x {box['h']:g})"
