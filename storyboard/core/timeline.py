"""Time on the story's timeline: frames at the project fps, seconds and SMPTE timecode.

Durations are stored in frames because editors and animatics count frames; seconds are derived.
23.976 and 29.97 are the NTSC rates 24000/1001 and 30000/1001.
"""

from __future__ import annotations

from fractions import Fraction

from storyboard.core.model import Project

_NTSC = {23.976: Fraction(24000, 1001), 29.97: Fraction(30000, 1001)}


def exact_fps(fps: float) -> Fraction:
    """The exact rate behind a displayed fps (23.976 -> 24000/1001)."""
    return _NTSC.get(round(fps, 3), Fraction(fps).limit_denominator(1001))


def frames_to_seconds(frames: int, fps: float) -> float:
    return float(frames / exact_fps(fps))


def seconds_to_frames(seconds: float, fps: float) -> int:
    return max(1, round(Fraction(seconds) * exact_fps(fps)))


def timecode(frames: int, fps: float) -> str:
    """HH:MM:SS:FF, counting whole frames at the nominal rate (non-drop-frame timecode)."""
    nominal = round(fps)
    seconds, ff = divmod(frames, nominal)
    minutes, ss = divmod(seconds, 60)
    hh, mm = divmod(minutes, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


def panel_starts(project: Project) -> dict[str, int]:
    """The first frame of every panel on the whole story's timeline."""
    starts: dict[str, int] = {}
    frame = 0
    for panel in project.ordered_panels():
        starts[panel.id] = frame
        frame += panel.duration
    return starts


def total_frames(project: Project) -> int:
    return sum(panel.duration for panel in project.panels.values())


def suggested_duration(dialogue: str, fps: float, minimum_seconds: float = 2.0) -> int:
    """Storyboarder's reading-time rule: 300 ms per word of dialogue plus 300 ms."""
    words = len(dialogue.split())
    seconds = max(minimum_seconds, 0.3 * words + 0.3) if words else minimum_seconds
    return seconds_to_frames(seconds, fps)
