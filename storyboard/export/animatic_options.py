"""What the user chooses for an animatic export: size, fps, fit, captions, easing, audio, media.

Settings only, kept apart from the plan (``storyboard.export.animatic``) that is computed from
a project and these choices. Sounds and generated clips are asset ids in the project; a
:class:`Media` (the bundle's store, ``storyboard.export.media.BundleMedia``) turns them into files
and sound lengths, so the plan itself reads no file. :class:`AnimaticOptions` can override each
of them for one export.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from storyboard.core.model import FPS_CHOICES

SIZE_PRESETS: dict[str, tuple[int, int]] = {
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "4k": (3840, 2160),
    "vertical": (1080, 1920),
    "square": (1080, 1080),
}
FPS_PRESETS = FPS_CHOICES


class CaptionMode(StrEnum):
    BURN = "burn"  # drawn into the picture
    SOFT = "soft"  # a subtitle track in the MP4 and an .srt beside it
    BOTH = "both"
    NONE = "none"


class Fit(StrEnum):
    FIT = "fit"  # the whole panel is visible, bars where the aspect ratios differ
    FILL = "fill"  # the frame is covered, the panel is cropped


class Direction(StrEnum):
    """Where a wipe's edge or a push's motion travels to."""

    LEFT = "left"
    RIGHT = "right"
    UP = "up"
    DOWN = "down"


EASINGS = ("linear", "ease-in", "ease-out", "ease-in-out")


def ease(kind: str, t: float) -> float:
    """Easing curves for camera moves (cubic); unknown names fall back to ease-in-out."""
    t = min(1.0, max(0.0, t))
    if kind == "linear":
        return t
    if kind == "ease-in":
        return t * t * t
    if kind == "ease-out":
        return 1 - (1 - t) ** 3
    return 4 * t**3 if t < 0.5 else 1 - (-2 * t + 2) ** 3 / 2


@dataclass(frozen=True, slots=True)
class CaptionStyle:
    font: str = "ui"  # "ui" (Noto Sans, most legible) or "lettering" (Comic Neue)
    size: float = 0.05  # text height as a fraction of the frame height
    outline: float = 0.12  # outline width as a fraction of the text height
    position: str = "bottom"  # "bottom" or "top"
    safe_area: float = 0.1  # margin on every side, as a fraction of the frame (title safe)
    color: str = "#ffffff"
    outline_color: str = "#000000"


@dataclass(frozen=True, slots=True)
class AudioClip:
    """A sound placed on the animatic: a file, the output frame it starts on, a gain in dB, and
    the panel whose own sound it is (None: the soundtrack lane; the timeline exports put the two
    on separate audio tracks)."""

    path: Path
    start: int = 0
    gain_db: float = 0.0
    panel_id: str | None = None


@dataclass(frozen=True, slots=True)
class PanelAudio:
    """A panel's own sound (dialogue, effects); ``seconds`` lets the plan fit the panel to it
    (None: the file could not be measured, so the panel keeps its duration)."""

    path: Path
    seconds: float | None
    gain_db: float = 0.0


class Media(Protocol):
    """Where the plan finds the files behind the project's sound and clip asset ids."""

    def file(self, asset: str) -> Path | None:
        """The asset's file; None when it is missing (loading the project listed it)."""
        ...

    def seconds(self, path: Path) -> float | None:
        """How long a sound plays; None when it cannot be decoded."""
        ...


@dataclass(frozen=True, slots=True)
class AnimaticOptions:
    fps: float | None = None  # None: the project's fps
    size: tuple[int, int] = SIZE_PRESETS["1080p"]
    fit: Fit = Fit.FIT
    captions: CaptionMode = CaptionMode.BURN
    caption_style: CaptionStyle = field(default_factory=CaptionStyle)
    shot_numbers: bool = False
    timecode: bool = False
    # None in the fields below: what the project says (each transition's direction, its clips,
    # its soundtrack, its fit-to-audio setting); a value overrides the project for this export.
    wipe_direction: Direction | None = None
    push_direction: Direction | None = None
    # Share of pixels whose forward and backward flows disagree above which a morph ghosts and
    # the renderer crossfades instead (the research measured 17 % on a real move, 99.7 % on
    # unrelated panels).
    morph_max_disagreement: float = 0.5
    generated_clips: Mapping[str, Path] = field(default_factory=dict)  # panel id -> clip to next
    soundtrack: tuple[AudioClip, ...] | None = None
    panel_audio: Mapping[str, PanelAudio] = field(default_factory=dict)  # panel id -> its sound
    fit_to_audio: bool | None = None  # lengthen or shorten a panel to its own audio
