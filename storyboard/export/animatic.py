"""The animatic as a plan: which panel, transition, framing and caption is on screen at frame N.

Pure Python over a project snapshot, so the player, the MP4/GIF/PNG exports, the FCPXML export and
the tests all agree on timing without rendering anything. Panel durations are frames at the
project fps; the plan converts them to the output fps from cumulative start times (no drift).

Transitions are centred on the cut between two panels, so the story's total length and every
cut point stay exactly where the timeline shows them; a transition is at most as long as the
shorter of its two panels.

Sounds and generated clips are asset ids in the project; a :class:`Media` (the bundle's store,
``storyboard.export.media.BundleMedia``) turns them into files and sound lengths, so the plan
itself reads no file. :class:`AnimaticOptions` can override each of them for one export.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from storyboard.core.model import CameraMove, Panel, Project, Rect, TransitionKind
from storyboard.core.numbering import panel_numbers
from storyboard.core.timeline import exact_fps, timecode
from storyboard.export.animatic_options import (
    AnimaticOptions,
    AudioClip,
    Direction,
    Fit,
    Media,
    PanelAudio,
    ease,
)
from storyboard.export.output import ExportError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Framing:
    """What part of the panel fills the picture (relative 0..1), and its rotation in degrees."""

    x: float = 0.0
    y: float = 0.0
    w: float = 1.0
    h: float = 1.0
    angle: float = 0.0

    @classmethod
    def of(cls, rect: Rect, angle: float = 0.0) -> Framing:
        return cls(rect.x, rect.y, rect.w, rect.h, angle)

    def lerp(self, other: Framing, t: float) -> Framing:
        def mix(a: float, b: float) -> float:
            return a + (b - a) * t

        return Framing(
            mix(self.x, other.x),
            mix(self.y, other.y),
            mix(self.w, other.w),
            mix(self.h, other.h),
            mix(self.angle, other.angle),
        )


FULL = Framing()


@dataclass(frozen=True, slots=True)
class Camera:
    start: Framing
    end: Framing
    easing: str = "ease-in-out"

    @classmethod
    def of(cls, move: CameraMove) -> Camera:
        start = Framing.of(move.start, move.start_angle)
        return cls(start, Framing.of(move.end, move.end_angle), move.easing)

    @property
    def moving(self) -> bool:
        return self.start != self.end

    def at(self, progress: float) -> Framing:
        return self.start.lerp(self.end, ease(self.easing, progress))


@dataclass(frozen=True, slots=True)
class ClipPlan:
    """One panel on the animatic. Frames are output frames, ``end`` exclusive.

    ``shown_from``/``shown_to`` include the halves of the transitions around the panel: the
    camera move runs over that whole span so it never freezes during a transition.
    """

    index: int
    panel_id: str
    number: str
    scene: str
    start: int
    end: int
    shown_from: int
    shown_to: int
    image: str | None
    prompt: str
    dialogue: str
    camera: Camera | None
    notes: str = ""  # the panel's notes for the team: markers in the timeline exports

    def framing(self, frame: int) -> Framing:
        if self.camera is None:
            return FULL
        span = max(1, self.shown_to - self.shown_from - 1)
        return self.camera.at((frame - self.shown_from) / span)


@dataclass(frozen=True, slots=True)
class TransitionPlan:
    """From clip ``index`` to clip ``index + 1`` over output frames ``[start, end)``."""

    index: int
    effect: TransitionKind
    start: int
    end: int
    direction: Direction = Direction.LEFT
    clip: Path | None = None  # the generated transition video, for TransitionKind.GENERATED

    def progress(self, frame: int) -> float:
        """0 < t < 1: no frame of a transition is a plain copy of either panel."""
        return (frame - self.start + 1) / (self.end - self.start + 1)


@dataclass(frozen=True, slots=True)
class CaptionPlan:
    start: int
    end: int
    text: str
    index: int


@dataclass(frozen=True, slots=True)
class FrameSpec:
    """What frame N shows: one clip, or a transition from ``clip`` to ``next_clip`` at ``t``."""

    frame: int
    clip: ClipPlan
    transition: TransitionPlan | None = None
    next_clip: ClipPlan | None = None
    t: float = 0.0
    caption: CaptionPlan | None = None


@dataclass(frozen=True, slots=True)
class AnimaticPlan:
    title: str
    fps: Fraction
    width: int
    height: int
    frames: int
    picture: tuple[int, int, int, int]  # where the project's frame sits in the output (x, y, w, h)
    clips: tuple[ClipPlan, ...]
    transitions: tuple[TransitionPlan, ...]
    captions: tuple[CaptionPlan, ...]
    audio: tuple[AudioClip, ...]
    options: AnimaticOptions

    @property
    def seconds(self) -> float:
        return float(self.frames / self.fps)

    def clip_at(self, frame: int) -> ClipPlan:
        """The panel that owns ``frame`` (for highlighting the timeline while playing)."""
        low, high = 0, len(self.clips) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if self.clips[mid].start <= frame:
                low = mid
            else:
                high = mid - 1
        return self.clips[low]

    def at(self, frame: int) -> FrameSpec:
        if not 0 <= frame < self.frames:
            raise IndexError(f"frame {frame} outside 0..{self.frames - 1}")
        clip = self.clip_at(frame)
        caption = next((c for c in self.captions if c.start <= frame < c.end), None)
        for transition in self._transitions_near(clip.index):
            if transition.start <= frame < transition.end:
                return FrameSpec(
                    frame,
                    self.clips[transition.index],
                    transition,
                    self.clips[transition.index + 1],
                    transition.progress(frame),
                    caption,
                )
        return FrameSpec(frame, clip, caption=caption)

    def _transitions_near(self, index: int) -> list[TransitionPlan]:
        return [t for t in self.transitions if t.index in (index - 1, index)]

    def timecode(self, frame: int) -> str:
        return timecode(frame, float(self.fps))


def picture_rect(size: tuple[int, int], aspect: float, fit: Fit) -> tuple[int, int, int, int]:
    """The project's frame placed in the output: letterboxed (fit) or cropped (fill)."""
    width, height = size
    wider = width / height > aspect
    if wider == (fit is Fit.FIT):
        w, h = round(height * aspect), height
    else:
        w, h = width, round(width / aspect)
    return (width - w) // 2, (height - h) // 2, w, h


MAX_VIDEO_SIDE = 8192
MAX_VIDEO_PIXELS = 8192 * 4320
"""H.264's largest frames (level 6.2: 8K); players refuse larger ones, and drawing them for every
frame would take hours."""


def _check(options: AnimaticOptions) -> None:
    width, height = options.size
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ExportError(
            f"{width}x{height}", "is not a video size", "Use even sizes of at least 16 pixels"
        )
    if max(width, height) > MAX_VIDEO_SIDE or width * height > MAX_VIDEO_PIXELS:
        raise ExportError(
            f"{width}x{height}",
            "is larger than video players take",
            f"Use at most {MAX_VIDEO_SIDE} pixels a side and 8192x4320 in all (4k is 3840x2160)",
        )


def plan_animatic(
    project: Project, options: AnimaticOptions | None = None, media: Media | None = None
) -> AnimaticPlan:
    """Lay every panel of ``project`` out on the output timeline.

    ``media`` finds the files of the project's panel sounds, soundtrack and generated clips;
    without it only the ones given in ``options`` are used.
    """
    options = options or AnimaticOptions()
    _check(options)
    project_fps = exact_fps(project.settings.fps)
    fps = exact_fps(options.fps) if options.fps else project_fps
    panels = project.ordered_panels()
    numbers = panel_numbers(project)
    scene_of = {pid: s.title for s in project.ordered_scenes() for pid in s.panel_ids}

    def to_output(project_frames: int) -> int:
        return round(Fraction(project_frames) * fps / project_fps)

    sounds = {**_project_sounds(panels, media), **options.panel_audio}
    fit_to_audio = options.fit_to_audio
    if fit_to_audio is None:
        fit_to_audio = project.settings.fit_panels_to_audio
    durations = []
    for panel in panels:
        sound = sounds.get(panel.id)
        if fit_to_audio and sound is not None and sound.seconds is not None:
            durations.append(max(1, math.ceil(sound.seconds * project_fps)))
        else:
            durations.append(max(1, panel.duration))
    cuts = [0]
    for duration in durations:
        cuts.append(cuts[-1] + duration)
    bounds = [to_output(c) for c in cuts]
    bounds = [max(b, i) for i, b in enumerate(bounds)]  # every panel keeps at least one frame

    clips_by_panel = {**_project_clips(panels, media), **options.generated_clips}
    transitions = _plan_transitions(options, panels, bounds, to_output, clips_by_panel)
    head = {t.index + 1: t.start for t in transitions}
    tail = {t.index: t.end for t in transitions}
    clips = tuple(
        ClipPlan(
            index=i,
            panel_id=panel.id,
            number=numbers[panel.id],
            scene=scene_of[panel.id],
            start=bounds[i],
            end=bounds[i + 1],
            shown_from=head.get(i, bounds[i]),
            shown_to=tail.get(i, bounds[i + 1]),
            image=panel.image,
            prompt=panel.prompt,
            dialogue=panel.dialogue.strip(),
            camera=Camera.of(panel.camera) if panel.camera else None,
            notes=panel.notes.strip(),
        )
        for i, panel in enumerate(panels)
    )
    captions = tuple(CaptionPlan(c.start, c.end, c.dialogue, c.index) for c in clips if c.dialogue)
    soundtrack = options.soundtrack
    if soundtrack is None:
        soundtrack = _project_soundtrack(project, media)
    audio = list(soundtrack)
    for clip in clips:
        sound = sounds.get(clip.panel_id)
        if sound is not None:
            audio.append(AudioClip(sound.path, clip.start, sound.gain_db, clip.panel_id))
    aspect = project.settings.aspect_ratio or 16 / 9
    return AnimaticPlan(
        title=project.settings.title,
        fps=fps,
        width=options.size[0],
        height=options.size[1],
        frames=bounds[-1],
        picture=picture_rect(options.size, aspect, options.fit),
        clips=clips,
        transitions=tuple(transitions),
        captions=captions,
        audio=tuple(audio),
        options=options,
    )


def _project_sounds(panels: list[Panel], media: Media | None) -> dict[str, PanelAudio]:
    sounds: dict[str, PanelAudio] = {}
    for panel in panels:
        path = media.file(panel.audio) if media is not None and panel.audio else None
        if media is not None and path is not None:
            sounds[panel.id] = PanelAudio(path, media.seconds(path), panel.audio_gain_db)
    return sounds


def _project_clips(panels: list[Panel], media: Media | None) -> dict[str, Path]:
    clips: dict[str, Path] = {}
    for panel in panels:
        asset = panel.transition.clip
        path = media.file(asset) if media is not None and asset else None
        if path is not None:
            clips[panel.id] = path
    return clips


def _project_soundtrack(project: Project, media: Media | None) -> tuple[AudioClip, ...]:
    settings = project.settings
    path = media.file(settings.soundtrack) if media is not None and settings.soundtrack else None
    return () if path is None else (AudioClip(path, 0, settings.soundtrack_gain_db),)


def _direction(panel: Panel, override: Direction | None) -> Direction:
    if override is not None:
        return override
    try:
        return Direction(panel.transition.direction)
    except ValueError:
        log.warning("panel %s: unknown transition direction; left is used", panel.id)
        return Direction.LEFT


def _plan_transitions(
    options: AnimaticOptions,
    panels: list[Panel],
    bounds: list[int],
    to_output: Callable[[int], int],
    generated: Mapping[str, Path],
) -> list[TransitionPlan]:
    planned: list[TransitionPlan] = []
    for i, panel in enumerate(panels[:-1]):
        effect = TransitionKind(panel.transition.kind)
        length = min(
            to_output(panel.transition.frames),
            bounds[i + 1] - bounds[i],
            bounds[i + 2] - bounds[i + 1],
        )
        if effect is TransitionKind.CUT or length < 1:
            continue
        clip = None
        if effect is TransitionKind.GENERATED:
            clip = generated.get(panel.id)
            if clip is None:
                log.info("panel %s has no generated transition clip; crossfading", panel.id)
                effect = TransitionKind.CROSSFADE
        override = (
            options.push_direction if effect is TransitionKind.PUSH else options.wipe_direction
        )
        direction = _direction(panel, override)
        start = bounds[i + 1] - length // 2
        planned.append(TransitionPlan(i, effect, start, start + length, direction, clip))
    return planned
