"""The animatic's edit as an OpenTimelineIO timeline, from the same plan the MP4 is rendered from.

One source of truth: every cut point, transition and sound start comes from
:class:`~storyboard.export.animatic.AnimaticPlan`, so the timeline an editor opens and the MP4
beside it agree frame for frame. Times are rational (frames at the plan's rate; 23.976 and 29.97
are the exact NTSC rates 24000/1001 and 30000/1001).

Tracks, bottom to top:

- **Panels** (video): one clip per panel, named by its panel number, its metadata
  (``storyboard.panel_id``) naming the panel so a conform finds it after any renumbering. The
  clip points at the panel's still in the media folder, with handles for the dissolves around it.
  A crossfade becomes an ``SMPTE_Dissolve`` centred on the cut (as the animatic plays it). The
  other kinds (dips, wipes, pushes, morphs) become the same dissolve, named after what it stands
  for ("Cross Dissolve (was wipe left)", kind and direction in its metadata): a dissolve keeps the
  animatic's timing and is what every editor imports; a wipe's or push's own effect does not
  exist in the exchange formats.
- **Generated transitions** (video, only when the project has some): the motion model's clips
  as clips, over the cut they replace, each slowed or sped up (``LinearTimeWarp``) to last as
  long as the transition does in the animatic.
- **Soundtrack** and **Panel sounds** (audio): the soundtrack lane from its start, each panel's
  own sound from the panel's first frame; sounds that overlap go on further tracks ("Panel
  sounds 2"). Gains are kept in each clip's metadata (``storyboard.gain_db``): the exchange
  formats have no common volume field.

Markers on each panel's clip carry its dialogue (green) and its notes (yellow), each spanning the
clip. Camera moves and burnt-in captions are not part of the edit: the MP4 has them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import opentimelineio as otio  # type: ignore[import-untyped]  # (no stubs)
from opentimelineio.opentime import RationalTime, TimeRange  # type: ignore[import-untyped]

from storyboard.core.conform import METADATA_KEY
from storyboard.core.model import TransitionKind
from storyboard.export.animatic import AnimaticPlan, ClipPlan, TransitionPlan
from storyboard.export.timeline_media import MediaFile, MediaFolder

NAMESPACE = METADATA_KEY  # the metadata key of everything we add (conform reads it back)
PANELS_TRACK = "Panels"
GENERATED_TRACK = "Generated transitions"
SOUNDTRACK_TRACK = "Soundtrack"
PANEL_SOUNDS_TRACK = "Panel sounds"
DISSOLVE = "Cross Dissolve"
MARKER_NAME_CHARS = 500

_KIND_WORDS = {
    TransitionKind.DIP_TO_BLACK: "dip to black",
    TransitionKind.DIP_TO_WHITE: "dip to white",
    TransitionKind.WIPE: "wipe",
    TransitionKind.PUSH: "push",
    TransitionKind.MORPH: "morph",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` on one line: an EDL is line-based, so a newline typed into a panel number or a
    note must never start a line of its own (it would read as an event)."""
    line = " ".join(_CONTROL.sub(" ", text).split())
    if limit is not None and len(line) > limit:
        line = line[: limit - 1] + "…"
    return line


def dissolve_offsets(transition: TransitionPlan) -> tuple[int, int]:
    """Frames of the dissolve before and after the cut (centred by the plan; an odd frame after)."""
    length = transition.end - transition.start
    return length // 2, length - length // 2


@dataclass(frozen=True, slots=True)
class _Times:
    rate: float

    def t(self, frames: float) -> RationalTime:
        return RationalTime(frames, self.rate)

    def range(self, start: float, duration: float) -> TimeRange:
        return TimeRange(self.t(start), self.t(duration))

    def frames(self, seconds: float) -> int:
        return math.ceil(seconds * self.rate - 1e-6)


def _reference(file: MediaFile, times: _Times, frames: int) -> otio.schema.ExternalReference:
    """An absolute ``file://`` URL: what Resolve, Premiere and Avid all resolve without asking
    (relative URLs are read against different folders by different tools); a moved folder is
    relinked by its readable file names."""
    return otio.schema.ExternalReference(
        target_url=file.path.resolve().as_uri(), available_range=times.range(0, frames)
    )


def build_timeline(plan: AnimaticPlan, media: MediaFolder) -> otio.schema.Timeline:
    """The timeline of ``plan`` whose clips point at the files of ``media``."""
    times = _Times(float(plan.fps))
    timeline = otio.schema.Timeline(
        name=one_line(plan.title) or "Storyboard",
        global_start_time=times.t(0),
        metadata={
            NAMESPACE: {
                "fps": f"{plan.fps.numerator}/{plan.fps.denominator}",
                "size": [plan.width, plan.height],
            }
        },
    )
    timeline.tracks.append(_panels_track(plan, media, times))
    generated = _generated_track(plan, media, times)
    if generated is not None:
        timeline.tracks.append(generated)
    for track in _audio_tracks(plan, media, times):
        timeline.tracks.append(track)
    return timeline


def _panels_track(plan: AnimaticPlan, media: MediaFolder, times: _Times) -> otio.schema.Track:
    track = otio.schema.Track(name=PANELS_TRACK, kind=otio.schema.TrackKind.Video)
    dissolves = {t.index: t for t in plan.transitions if t.clip is None}
    for clip, still in zip(plan.clips, media.stills, strict=True):
        before = dissolves.get(clip.index - 1)
        after = dissolves.get(clip.index)
        head = dissolve_offsets(before)[0] if before is not None else 0
        tail = dissolve_offsets(after)[1] if after is not None else 0
        length = clip.end - clip.start
        item = otio.schema.Clip(
            name=one_line(clip.number),
            media_reference=_reference(still, times, head + length + tail),
            source_range=times.range(head, length),
            metadata={
                NAMESPACE: {
                    "panel_id": clip.panel_id,
                    "number": clip.number,
                    "scene": clip.scene,
                }
            },
        )
        for marker in _markers(clip, times.range(head, length)):
            item.markers.append(marker)
        track.append(item)
        if after is not None:
            track.append(_dissolve(after, times))
    return track


def _markers(clip: ClipPlan, span: TimeRange) -> list[otio.schema.Marker]:
    markers = []
    for kind, text, colour in (
        ("dialogue", clip.dialogue, otio.schema.MarkerColor.GREEN),
        ("notes", clip.notes, otio.schema.MarkerColor.YELLOW),
    ):
        if text:
            label = "Dialogue" if kind == "dialogue" else "Note"
            markers.append(
                otio.schema.Marker(
                    name=one_line(f"{label}: {text}", MARKER_NAME_CHARS),
                    marked_range=span,
                    color=colour,
                    comment=text,
                    metadata={NAMESPACE: {"kind": kind, "panel_id": clip.panel_id}},
                )
            )
    return markers


def _dissolve(transition: TransitionPlan, times: _Times) -> otio.schema.Transition:
    before, after = dissolve_offsets(transition)
    kind = TransitionKind(transition.effect)
    name = DISSOLVE
    metadata: dict[str, str] = {"kind": kind.value}
    if kind in (TransitionKind.WIPE, TransitionKind.PUSH):
        metadata["direction"] = transition.direction.value
        name = f"{DISSOLVE} (was {_KIND_WORDS[kind]} {transition.direction.value})"
    elif kind in _KIND_WORDS:
        name = f"{DISSOLVE} (was {_KIND_WORDS[kind]})"
    return otio.schema.Transition(
        name=name,
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=times.t(before),
        out_offset=times.t(after),
        metadata={NAMESPACE: metadata},
    )


def _generated_track(
    plan: AnimaticPlan, media: MediaFolder, times: _Times
) -> otio.schema.Track | None:
    if not media.transitions:
        return None
    track = otio.schema.Track(name=GENERATED_TRACK, kind=otio.schema.TrackKind.Video)
    at = 0
    for transition in plan.transitions:
        file = media.transitions.get(transition.index)
        if file is None:
            continue
        if transition.start > at:
            track.append(otio.schema.Gap(source_range=times.range(0, transition.start - at)))
        length = transition.end - transition.start
        before = plan.clips[transition.index].number
        after = plan.clips[transition.index + 1].number
        media_frames = times.frames(file.seconds) if file.seconds else length
        item = otio.schema.Clip(
            name=one_line(f"{before}-{after}"),
            media_reference=_reference(file, times, max(media_frames, 1)),
            source_range=times.range(0, length),
            metadata={
                NAMESPACE: {
                    "kind": TransitionKind.GENERATED.value,
                    "from_panel_id": plan.clips[transition.index].panel_id,
                }
            },
        )
        if media_frames != length:
            item.effects.append(otio.schema.LinearTimeWarp(time_scalar=media_frames / length))
        track.append(item)
        at = transition.end
    return track


@dataclass(slots=True)
class _Lane:
    """One audio track being filled: where its last sound ends, and its sounds by start frame."""

    end: int = 0
    items: list[tuple[int, otio.schema.Clip]] = field(default_factory=list)


def _audio_tracks(plan: AnimaticPlan, media: MediaFolder, times: _Times) -> list[otio.schema.Track]:
    """Sounds on as few tracks as hold them without overlaps, soundtrack lanes first."""
    clip_of = {clip.panel_id: clip for clip in plan.clips}
    lanes: dict[str, list[_Lane]] = {SOUNDTRACK_TRACK: [], PANEL_SOUNDS_TRACK: []}
    placed = sorted(zip(plan.audio, media.sounds, strict=True), key=lambda pair: pair[0].start)
    for sound, file in placed:
        if sound.start >= plan.frames:
            continue
        panel = clip_of.get(sound.panel_id) if sound.panel_id is not None else None
        if file.seconds is not None:
            frames = max(1, times.frames(file.seconds))
        elif panel is not None:
            frames = panel.end - panel.start
        else:
            frames = plan.frames - sound.start
        used = min(frames, plan.frames - sound.start)
        item = otio.schema.Clip(
            name=one_line(f"{panel.number} sound") if panel is not None else "Soundtrack",
            media_reference=_reference(file, times, frames),
            source_range=times.range(0, used),
            metadata={NAMESPACE: {"gain_db": sound.gain_db, "panel_id": sound.panel_id}},
        )
        role = lanes[PANEL_SOUNDS_TRACK if panel is not None else SOUNDTRACK_TRACK]
        lane = next((lane for lane in role if lane.end <= sound.start), None)
        if lane is None:
            lane = _Lane()
            role.append(lane)
        lane.items.append((sound.start, item))
        lane.end = sound.start + used
    tracks = []
    for name, role in lanes.items():
        for number, lane in enumerate(role, start=1):
            track = otio.schema.Track(
                name=name if number == 1 else f"{name} {number}", kind=otio.schema.TrackKind.Audio
            )
            at = 0
            for start, item in lane.items:
                if start > at:
                    track.append(otio.schema.Gap(source_range=times.range(0, start - at)))
                track.append(item)
                at = start + round(item.source_range.duration.value)
            tracks.append(track)
    return tracks
