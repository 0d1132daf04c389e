"""The numbers, dates and names of a ``.storyboarder`` file, checked before the import uses them.

The file may come from anyone: a value that makes no sense (an infinite or hour-long duration, a
date past the year 9999, an fps of 0 or an aspect ratio of 1000) is replaced by Storyboarder's
default or the nearest sensible value, with a warning said through ``say``; it never fails the
import. Each check is constant time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from storyboard.core.model import FPS_CHOICES, Project
from storyboard.core.storyboarder_format import DEFAULT_BOARD_MS

MAX_BOARD_SECONDS = 3600  # longer is a broken file, and would make an export run for days
ASPECT_RANGE = (0.1, 10.0)
FPS_RANGE = (1.0, 240.0)

Say = Callable[[str], None]


def number(value: Any) -> float | None:
    """A JSON number as a float (maybe infinite or NaN: Python's json reads both); else None."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def in_range(value: float | None, low: float, high: float) -> bool:
    return value is not None and math.isfinite(value) and low <= value <= high


def as_str(value: Any) -> str | None:
    """A string from the file (a name, a url); anything else is None."""
    return value if isinstance(value, str) else None


def apply_settings(project: Project, data: dict[str, Any], say: Say) -> None:
    """The file's ``fps`` (the nearest we support) and ``aspectRatio`` as the project's."""
    fps = number(data.get("fps"))
    if fps is not None and not in_range(fps, *FPS_RANGE):
        say(f"fps {fps:g} is not a frame rate; 24 fps is used")
        fps = None
    fps = 24.0 if fps is None else fps
    nearest = min(FPS_CHOICES, key=lambda choice: abs(choice - fps))
    if abs(nearest - fps) > 0.01:
        say(f"{fps:g} fps is not supported; using {nearest:g} fps")
    project.settings.fps = nearest
    aspect = number(data.get("aspectRatio"))
    if in_range(aspect, *ASPECT_RANGE):
        project.settings.aspect_ratio = float(aspect or 0)
    elif aspect is not None:
        say(f"aspect ratio {aspect:g} is out of range; 16:9 is used")


def default_timing(value: Any, say: Say) -> float:
    """The file's ``defaultBoardTiming`` in ms: a board's duration when it gives none."""
    timing = number(value)
    if timing is None:
        return DEFAULT_BOARD_MS
    if not in_range(timing, 1, MAX_BOARD_SECONDS * 1000):
        say(f"default board timing {timing:g} ms makes no sense; 2 s is used")
        return DEFAULT_BOARD_MS
    return timing


def milliseconds(value: Any, default: float, what: str, say: Say) -> float:
    """A duration from the file, at most an hour; a broken one is the default, with a warning."""
    duration = number(value)
    if duration is None:
        return default
    if not math.isfinite(duration):
        say(f"{what} {duration:g} is not a duration; {default / 1000:g} s is used")
        return default
    if duration > MAX_BOARD_SECONDS * 1000:
        say(f"{what} of {duration:g} ms is longer than an hour; an hour is used")
        return MAX_BOARD_SECONDS * 1000
    return duration


def created(value: Any, say: Say) -> str:
    """A board's ``lastEdited`` (ms since 1970) as an ISO date; "" when there is none."""
    stamp = number(value)
    if not stamp:
        return ""
    try:
        return datetime.fromtimestamp(stamp / 1000, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        say(f"last edited time {stamp:g} is not a date; it was left out")
        return ""
