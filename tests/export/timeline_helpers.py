"""A project that uses everything a timeline export carries, and ways to read timelines back."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import av
import numpy as np
import opentimelineio as otio

from storyboard.core.assets import AssetStore
from storyboard.core.model import Project, Transition, TransitionKind
from tests.export.animatic_helpers import BLUE, RED, project_with, solid, write_tone

NTSC_FILM = 24000 / 1001


def write_clip(path: Path, frames: int = 16, fps: int = 8) -> Path:
    """A small H.264 clip, as the motion model delivers a generated transition."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        for i in range(frames):
            image = np.full((36, 64, 3), (i * 15) % 255, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def rich_project(bundle: Path, tmp: Path) -> Project:
    """Five panels of 24 frames at 23.976 fps: 1A -crossfade 7-> 1B -wipe up 6-> 1C (no image)
    -generated clip 8-> 1D -cut-> 1E. Dialogue on 1A, notes on 1C, a sound on 1B (1.5 s, runs
    into 1C) and on 1C (0.5 s), a 2 s soundtrack."""
    project = project_with(bundle, [solid(RED), solid(BLUE), None, solid(RED), solid(BLUE)])
    project.settings.fps = 23.976
    project.settings.title = "The Lost Hat"
    store = AssetStore(bundle)
    panels = project.ordered_panels()
    panels[0].transition = Transition(TransitionKind.CROSSFADE, 7)
    panels[1].transition = Transition(TransitionKind.WIPE, 6, "up")
    clip = store.put_media(write_clip(tmp / "gen.mp4").read_bytes(), "mp4")
    panels[2].transition = Transition(TransitionKind.GENERATED, 8, clip=clip)
    panels[0].dialogue = "MIRA: Where is it?\n(whispers) My hat."
    panels[2].notes = "Fix the hat's colour"
    panels[1].audio = store.put_media(write_tone(tmp / "b.wav", 1.5).read_bytes(), "wav")
    panels[2].audio = store.put_media(write_tone(tmp / "c.wav", 0.5, 660).read_bytes(), "wav")
    project.settings.soundtrack = store.put_media(
        write_tone(tmp / "music.wav", 2.0, 220).read_bytes(), "wav"
    )
    return project


def items(track: otio.schema.Track, kind: type) -> list:
    return [item for item in track if isinstance(item, kind)]


def starts(track: otio.schema.Track) -> list[tuple[str, int]]:
    """(clip name, first frame on the timeline) of each clip of ``track``."""
    return [
        (item.name, round(track.range_of_child_at_index(i).start_time.value))
        for i, item in enumerate(track)
        if isinstance(item, otio.schema.Clip)
    ]


def media_path(clip: otio.schema.Clip) -> Path:
    return Path(unquote(urlparse(clip.media_reference.target_url).path))
