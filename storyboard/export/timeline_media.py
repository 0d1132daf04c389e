"""The media folder written beside an exported timeline: ``NAME_media/`` with readable names.

An editor who opens the timeline meets files named after the story, in play order, instead of the
project's hashed assets: ``0001_1A.png`` (panel 1's still), ``0002_1A-1B.mp4`` (the generated
clip leading into panel 2), ``0001_1A_sound.wav`` (panel 1's own sound), ``soundtrack.wav``. The
leading number is the position in the cut, so names stay unique when two panels share a manual
number, and a folder listing sorts in play order. Every file is a copy: the timeline keeps
working when the project is cleaned up, moved or edited.

Panel numbers are typed by users, so the number in a name keeps only letters, digits, dots and
dashes, starts with neither, and is cut to 40 characters: "3/A" or ".." never name a folder.
Every path is built with :func:`storyboard.core.bundle_paths.confined` under the folder the user
chose, so a ``NAME_media`` that is a link leading elsewhere is refused before anything is written.
Panels without an image get their card rendered (as the animatic shows them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av

from storyboard.core.assets import AssetStore
from storyboard.core.bundle_paths import OutsideBundle, confined
from storyboard.core.numbering import safe_number
from storyboard.export.animatic import AnimaticPlan
from storyboard.export.animatic_options import CaptionMode
from storyboard.export.audio import audio_seconds
from storyboard.export.frames import FrameRenderer
from storyboard.export.output import (
    Cancelled,
    ExportError,
    Progress,
    check_cancelled,
    encode_png,
    export_error,
    write_file,
)

log = logging.getLogger(__name__)


def _extension(path: Path, fallback: str) -> str:
    ext = path.suffix.lower().lstrip(".")
    return ext if ext.isascii() and ext.isalnum() and len(ext) <= 5 else fallback


def still_name(index: int, number: str) -> str:
    """The still of the clip at ``index`` (0-based): ``0001_1A.png``."""
    return f"{index + 1:04d}_{safe_number(number)}.png"


def transition_name(index: int, before: str, after: str, ext: str = "mp4") -> str:
    """The generated clip from clip ``index`` to ``index + 1``, named by the position of the panel
    it leads into (``0002_1A-1B.mp4``), so it sorts between the two stills."""
    return f"{index + 2:04d}_{safe_number(before)}-{safe_number(after)}.{ext}"


def sound_name(index: int, number: str, ext: str) -> str:
    """Panel ``index``'s own sound: ``0001_1A_sound.wav``."""
    return f"{index + 1:04d}_{safe_number(number)}_sound.{ext}"


def card_plan(plan: AnimaticPlan) -> AnimaticPlan:
    """The plan with plain framing and no overlays: what a panel's still should show."""
    options = dataclasses.replace(
        plan.options, captions=CaptionMode.NONE, shot_numbers=False, timecode=False
    )
    clips = tuple(dataclasses.replace(c, camera=None) for c in plan.clips)
    return dataclasses.replace(plan, options=options, clips=clips, transitions=())


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A file of the media folder, and how long it plays (None: a still, or not measurable)."""

    path: Path
    seconds: float | None = None


@dataclass(slots=True)
class MediaFolder:
    """What :func:`write_media` put in the folder, by what the timeline needs it for."""

    folder: Path
    stills: list[MediaFile] = field(default_factory=list)  # one per clip of the plan
    transitions: dict[int, MediaFile] = field(default_factory=dict)  # clip index -> clip to next
    sounds: list[MediaFile] = field(default_factory=list)  # one per AudioClip of the plan
    written: list[Path] = field(default_factory=list)

    def discard(self, created_folder: bool) -> None:
        """Remove what was written (a failed or cancelled export leaves nothing)."""
        for path in self.written:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        if created_folder:
            with contextlib.suppress(OSError):
                self.folder.rmdir()


def media_folder_for(out_path: Path) -> Path:
    """``NAME_media`` beside ``NAME.ext``."""
    out_path = Path(out_path)
    return out_path.with_name(f"{out_path.stem}_media")


def _target(folder: Path, name: str) -> Path:
    try:
        return confined(folder.parent, folder.name, name)
    except OutsideBundle as exc:
        raise ExportError(
            folder,
            "leads outside the folder chosen for the export (it is a link)",
            "Remove the link or pick another file name",
        ) from exc


def _copy(source: Path, target: Path) -> None:
    """Copy through a temp file renamed into place (never writing through a link there)."""
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        shutil.copyfile(source, temp)
        if temp.stat().st_size != source.stat().st_size:
            raise ExportError(
                target,
                "could not be written: the copy came out short",
                "Check the free space on that disk, or choose another",
            )
        temp.replace(target)
    except OSError as exc:
        raise export_error(target, exc) from exc
    finally:
        temp.unlink(missing_ok=True)


def clip_seconds(path: Path) -> float | None:
    """How long a video file plays, from its header; None when it cannot be read."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / av.time_base
    except (av.FFmpegError, OSError, IndexError) as exc:
        log.warning("clip %s: %s", path, exc)
    return None


def sound_seconds(path: Path) -> float | None:
    try:
        return audio_seconds(path)
    except ExportError as exc:
        log.warning("%s; its clip in the timeline lasts as long as its panel", exc)
        return None


def write_media(
    plan: AnimaticPlan,
    bundle: Path | None,
    folder: Path,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> MediaFolder:
    """Fill ``folder`` (created if needed) with every file the timeline of ``plan`` points at.

    On failure or cancel the files written so far are removed (and the folder, if made here).
    """
    folder = Path(folder)
    created = not folder.exists() and not folder.is_symlink()
    media = MediaFolder(folder)
    total = len(plan.clips) + len(plan.transitions) + len(plan.audio)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        check_cancelled(cancelled)
        if progress is not None:
            progress(done, total)

    try:
        _target(folder, "probe")  # a link leading out is refused before anything is made
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise export_error(folder, exc) from exc
        if not folder.is_dir():
            raise ExportError(folder, "is not a folder", "Pick another file name for the export")
        _stills(plan, bundle, media, step)
        for transition in plan.transitions:
            if transition.clip is not None:
                before = plan.clips[transition.index].number
                after = plan.clips[transition.index + 1].number
                ext = _extension(transition.clip, "mp4")
                target = _target(folder, transition_name(transition.index, before, after, ext))
                media.written.append(target)
                _copy(transition.clip, target)
                media.transitions[transition.index] = MediaFile(target, clip_seconds(target))
            step()
        _sounds(plan, media, step)
    except BaseException:
        media.discard(created)
        raise
    return media


def _stills(
    plan: AnimaticPlan, bundle: Path | None, media: MediaFolder, step: Callable[[], None]
) -> None:
    store = AssetStore(bundle) if bundle is not None else None
    renderer: FrameRenderer | None = None
    for clip in plan.clips:
        target = _target(media.folder, still_name(clip.index, clip.number))
        image = store.file(clip.image) if clip.image and store is not None else None
        media.written.append(target)
        if image is not None:  # only a file of the bundle's own: never one a link leads to
            _copy(image, target)
        else:
            renderer = renderer or FrameRenderer(card_plan(plan), None)
            write_file(target, encode_png(renderer.render(clip.start), target))
        media.stills.append(MediaFile(target))
        step()


def _sounds(plan: AnimaticPlan, media: MediaFolder, step: Callable[[], None]) -> None:
    by_panel = {clip.panel_id: clip for clip in plan.clips}
    soundtracks = 0
    for sound in plan.audio:
        clip = by_panel.get(sound.panel_id) if sound.panel_id is not None else None
        ext = _extension(sound.path, "wav")
        if clip is not None:
            name = sound_name(clip.index, clip.number, ext)
        else:
            soundtracks += 1
            name = "soundtrack" + (f"_{soundtracks}" if soundtracks > 1 else "") + f".{ext}"
        target = _target(media.folder, name)
        media.written.append(target)
        _copy(sound.path, target)
        media.sounds.append(MediaFile(target, sound_seconds(target)))
        step()
