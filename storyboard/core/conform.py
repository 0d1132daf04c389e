"""Conform: an editor's changes to the exported timeline, applied back to the project.

The editor trims shots, reorders them and takes some out; the timeline comes back as ``.otio``,
FCP7 XML or an EDL. :mod:`storyboard.export.timeline_read` reads it into the plain data below
(so the core needs no OpenTimelineIO), and :func:`conform` matches every clip of the picture
track to a panel:

1. by the panel id our export put in the clip's metadata (``.otio`` keeps it: it survives any
   renumbering),
2. else by the clip's name, which the export set to the panel number (FCP7 XML and EDLs keep it),
3. else by the clip's media file, which the export named ``0001_1A.png`` (relinked clips whose
   names an editor changed).

The result is one :class:`~storyboard.core.commands.Batch` (one undo step): the panels the
timeline no longer has are removed, the others take the timeline's order and its durations. The
picture track is the video track with the most matched clips (our export puts the panels on the
first; generated transitions lie above them and are not panels).

A timeline may come from anyone. What cannot be matched is listed and left alone, never guessed:
clips no panel matches (a title card the editor added), a panel used twice (the later use is
ignored; two pieces next to each other, a razor cut, add up), durations that are not a whole
number of frames at least one frame long and at most four hours. A timeline that matches no panel
at all changes nothing (it would remove every panel).
"""

from __future__ import annotations

import copy
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from fractions import Fraction

from storyboard.core.commands import Batch, Command, EditFields
from storyboard.core.errors import ProjectError
from storyboard.core.limits import MAX_PANEL_FRAMES
from storyboard.core.model import Project
from storyboard.core.numbering import panel_numbers, safe_number
from storyboard.core.panel_commands import MovePanels, RemovePanels
from storyboard.core.timeline import exact_fps

LABEL = "Conform to edited timeline"
METADATA_KEY = "storyboard"  # our exports' metadata in a timeline: {"panel_id": ..., ...}
LISTED = 12  # names listed in a summary line before "and N more"


class ConformError(ProjectError):
    """The edited timeline cannot be read, or matches nothing: the project is unchanged."""


@dataclass(frozen=True, slots=True)
class EditedClip:
    """One clip of an edited timeline, as plain data.

    ``duration`` is in seconds (exact: frames over the timeline's rate), None when the file gave
    none that can be read. ``panel_id`` is what our export wrote in the clip's metadata, if any;
    ``media`` the file name of the media it points at, if any.
    """

    name: str
    duration: Fraction | None
    panel_id: str | None = None
    media: str | None = None


@dataclass(frozen=True, slots=True)
class EditedTrack:
    name: str
    clips: tuple[EditedClip, ...]


@dataclass(frozen=True, slots=True)
class EditedTimeline:
    """The video tracks of an edited timeline, bottom first, and what reading it left out."""

    name: str
    tracks: tuple[EditedTrack, ...]
    notes: tuple[str, ...] = ()
    source: str = ""  # the file it was read from, for messages


@dataclass(frozen=True, slots=True)
class DurationChange:
    number: str
    old: int
    new: int


@dataclass(slots=True)
class ConformResult:
    """What conforming changes, in words, and the command that does it (None: nothing)."""

    command: Batch | None
    durations: list[DurationChange] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # panel numbers (before the conform)
    removed: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # clips no panel matches
    notes: list[str] = field(default_factory=list)  # what was read but not applied, and why

    def counts(self) -> str:
        parts = [
            _count(len(self.durations), "duration"),
            _count(len(self.moved), "move"),
            _count(len(self.removed), "removal"),
        ]
        return ", ".join(parts)

    def lines(self) -> list[str]:
        """The summary a user reads: what changed, then what could not be matched."""
        lines = [f"changes: {self.counts()}" if self.command else "nothing to change"]
        if self.durations:
            shown = [f"{d.number} {d.old}→{d.new}" for d in self.durations]
            lines.append(f"  durations (frames): {_listed(shown)}")
        if self.moved:
            lines.append(f"  moved: {_listed(self.moved)}")
        if self.removed:
            lines.append(f"  removed: {_listed(self.removed)}")
        if self.unmatched:
            lines.append(
                f"not matched, left out: {len(self.unmatched)} clip(s): {_listed(self.unmatched)}"
            )
        lines.extend(f"note: {note}" for note in self.notes[:LISTED])
        if len(self.notes) > LISTED:
            lines.append(f"note: and {len(self.notes) - LISTED} more like these")
        return lines


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:LISTED])
    return shown if len(items) <= LISTED else f"{shown} and {len(items) - LISTED} more"


def _shown(name: str) -> str:
    """A clip name from someone else's file, safe to print on one line."""
    text = " ".join("".join(c if c.isprintable() else " " for c in name).split())
    return repr(text[:60] + ("…" if len(text) > 60 else ""))


class _Matcher:
    """Finds the panel a clip stands for: metadata id, else number, else media file name."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.numbers = panel_numbers(project)
        self.order = [p.id for p in project.ordered_panels()]
        self.by_number: dict[str, list[str]] = {}
        self.by_safe: dict[str, list[str]] = {}
        for pid in self.order:
            number = self.numbers[pid]
            self.by_number.setdefault(number.strip().casefold(), []).append(pid)
            self.by_safe.setdefault(safe_number(number).casefold(), []).append(pid)

    def panel(self, clip: EditedClip) -> str | None:
        if clip.panel_id is not None and clip.panel_id in self.project.panels:
            return clip.panel_id
        named = self.by_number.get(clip.name.strip().casefold(), [])
        if len(named) == 1:
            return named[0]
        return self._by_media(clip.media)

    def _by_media(self, media: str | None) -> str | None:
        """``0003_1C.png``: the panel numbered 1C (the one third in the story if two are)."""
        if not media:
            return None
        match = re.fullmatch(r"(\d{1,6})_(.+?)(?:\.[A-Za-z0-9]{1,5})?", media)
        if match is None:
            return None
        candidates = self.by_safe.get(match.group(2).casefold(), [])
        if len(candidates) == 1:
            return candidates[0]
        position = int(match.group(1)) - 1
        if 0 <= position < len(self.order) and self.order[position] in candidates:
            return self.order[position]
        return None


def conform(project: Project, timeline: EditedTimeline) -> ConformResult:
    """The edits ``timeline`` makes to ``project``, as one undoable command and a summary.

    ``project`` is not changed (push ``result.command`` to apply it). Raises
    :class:`ConformError` when the timeline has no video track or matches no panel.
    """
    if not timeline.tracks:
        raise ConformError(
            timeline.source or timeline.name, "has no video track", "Export the edit with its video"
        )
    matcher = _Matcher(project)
    matched = [[matcher.panel(clip) for clip in track.clips] for track in timeline.tracks]
    counts = [sum(pid is not None for pid in track) for track in matched]
    best = max(range(len(counts)), key=lambda i: (counts[i], -i))
    if counts[best] == 0:
        raise ConformError(
            timeline.source or timeline.name,
            "matches no panel of this project (by panel id, panel number or media file name)",
            "Conform a timeline exported from this project; nothing was changed",
        )
    result = ConformResult(None, notes=list(timeline.notes))
    for index, track in enumerate(timeline.tracks):
        if index != best and track.clips:
            result.notes.append(
                f"video track {track.name or index + 1!r} ({len(track.clips)} clip(s)) "
                "was not conformed: only the panels' track is"
            )
    order, frames = _entries(project, timeline.tracks[best], matched[best], matcher, result)
    commands = _commands(project, order, frames, matcher, result)
    result.command = Batch(LABEL, commands) if commands else None
    return result


def _entries(
    project: Project,
    track: EditedTrack,
    panels: list[str | None],
    matcher: _Matcher,
    result: ConformResult,
) -> tuple[list[str], dict[str, int | None]]:
    """The panels in the track's order and each one's new duration in project frames (None:
    keep), adding what cannot be used to ``result``."""
    fps = exact_fps(project.settings.fps)
    order: list[str] = []
    seconds: dict[str, Fraction | None] = {}
    previous: str | None = None
    for position, (clip, pid) in enumerate(zip(track.clips, panels, strict=True), start=1):
        if pid is None:
            result.unmatched.append(f"#{position} {_shown(clip.name)}")
            previous = None
            continue
        number = matcher.numbers[pid]
        if pid == previous:  # pieces of one shot next to each other (a razor cut)
            total = seconds[pid]
            seconds[pid] = None if total is None or clip.duration is None else total + clip.duration
            continue
        previous = pid
        if pid in seconds:
            result.notes.append(
                f"clip #{position} {_shown(clip.name)} uses panel {number} again: "
                "a panel has one place in the story, so only its first use counts"
            )
            continue
        order.append(pid)
        seconds[pid] = clip.duration
    frames: dict[str, int | None] = {}
    for pid in order:
        frames[pid] = _frames(seconds[pid], fps, matcher.numbers[pid], result)
    return order, frames


def _frames(
    duration: Fraction | None, fps: Fraction, number: str, result: ConformResult
) -> int | None:
    if duration is None:
        result.notes.append(f"panel {number}: its clip has no readable duration; kept as it was")
        return None
    exact = duration * fps
    frames = round(exact)
    if not 1 <= frames <= MAX_PANEL_FRAMES:
        result.notes.append(
            f"panel {number}: a duration of {float(exact):.6g} frames is not a panel's "
            f"(1 to {MAX_PANEL_FRAMES}); kept as it was"
        )
        return None
    return frames


def _commands(
    project: Project,
    order: list[str],
    frames: dict[str, int | None],
    matcher: _Matcher,
    result: ConformResult,
) -> list[Command]:
    """Remove, move, then set durations: built against a copy of the panel lists, so each
    command's indexes are the ones it will meet inside the batch."""
    numbers = matcher.numbers
    kept = set(order)
    removed = [pid for pid in matcher.order if pid not in kept]
    sketch = Project(
        scenes=copy.deepcopy(project.scenes),
        scene_ids=list(project.scene_ids),
        panels=dict(project.panels),
    )
    commands: list[Command] = []
    if removed:
        remove = RemovePanels(removed, label=LABEL)
        remove.apply(sketch)
        commands.append(remove)
        result.removed = [numbers[pid] for pid in removed]
    staying = _longest_increasing({pid: i for i, pid in enumerate(matcher.order)}, order)
    for at, pid in enumerate(order):
        if pid in staying:
            continue
        if at == 0:
            anchor = next(p for p in order if p in staying)
            scene = sketch.scene_of(anchor)
            index = 0
        else:
            scene = sketch.scene_of(order[at - 1])
            index = scene.panel_ids.index(order[at - 1]) + 1
        move = MovePanels([pid], scene.id, index, label=LABEL)
        move.apply(sketch)
        commands.append(move)
        result.moved.append(numbers[pid])
    if [p.id for p in sketch.ordered_panels()] != order:  # a bug of ours: refuse, change nothing
        raise ConformError(project.settings.title, "the new order could not be built", "")
    fitted = []
    for pid in order:
        new, panel = frames[pid], project.panels[pid]
        if new is None or new == panel.duration:
            continue
        if project.settings.fit_panels_to_audio and panel.audio:
            fitted.append(numbers[pid])
            continue
        commands.append(EditFields("panel", pid, {"duration": new}, label=LABEL))
        result.durations.append(DurationChange(numbers[pid], panel.duration, new))
    if fitted:
        result.notes.append(
            f"{_listed(fitted)}: durations kept: these panels last as long as their sound "
            "('fit panels to audio' is on in Project settings)"
        )
    return commands


def _longest_increasing(position: dict[str, int], order: list[str]) -> set[str]:
    """The most panels of ``order`` that are already in story order: these stay, the others
    move (so a single shot dragged elsewhere is one move, not a renumbering of everything)."""
    tails: list[int] = []  # tails[k]: smallest story position ending an increasing run of k+1
    tail_at: list[int] = []  # index in ``order`` of that position
    before: list[int] = [-1] * len(order)
    for i, pid in enumerate(order):
        value = position[pid]
        k = bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_at.append(i)
        else:
            tails[k] = value
            tail_at[k] = i
        before[i] = tail_at[k - 1] if k > 0 else -1
    staying: set[str] = set()
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        staying.add(order[i])
        i = before[i]
    return staying
