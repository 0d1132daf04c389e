"""The project's own animatic fields reach the picture and the sound: panel audio and its gain,
fit-to-audio, the soundtrack, transition kinds, directions and generated clips, camera angles."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from storyboard.cli import main
from storyboard.core.assets import AssetStore
from storyboard.core.model import CameraMove, Rect, Transition, TransitionKind
from storyboard.core.persistence import save_project
from storyboard.export.animatic import plan_animatic as plan_of
from storyboard.export.animatic_options import AnimaticOptions, CaptionMode, Direction
from storyboard.export.frames import FrameRenderer, pixels
from storyboard.export.media import BundleMedia
from tests.export.animatic_helpers import (
    BLUE,
    RED,
    decode_audio,
    ffprobe,
    project_with,
    solid,
    write_tone,
)

SMALL = AnimaticOptions(size=(160, 90), captions=CaptionMode.NONE)
GREEN = (30, 200, 30)


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples**2)))


def test_panel_audio_and_soundtrack_from_the_project_are_heard_in_the_mp4(
    qapp: object, tmp_path: Path
) -> None:
    bundle = tmp_path / "Talk.storyboard"
    project = project_with(bundle, [solid(RED), solid(BLUE)], duration=24)
    store = AssetStore(bundle)
    line = write_tone(tmp_path / "line.wav", 1.5, hz=440)
    second = project.ordered_panels()[1]
    second.audio = store.put_file(line)
    second.audio_gain_db = -6.0
    project.settings.fit_panels_to_audio = True  # panel 2 becomes 1.5 s = 36 frames
    save_project(project, bundle)
    out = tmp_path / "talk.mp4"
    assert main(["export-video", str(bundle), "-o", str(out), "--size", "160x90"]) == 0
    video, audio = (s for s in ffprobe(out) if s["codec_type"] in ("video", "audio"))
    assert int(video["nb_read_frames"]) == 24 + 36
    assert audio["codec_name"] == "aac"
    sound = decode_audio(out).mean(axis=0)
    assert _rms(sound[: 48_000 - 2048]) < 0.01  # silent over the first panel (24 frames = 1 s)
    expected = 0.5 * 10 ** (-6 / 20) * np.sqrt(0.5) / np.sqrt(2)
    assert _rms(sound[48_000 + 2048 : 48_000 + 12_000]) == pytest.approx(expected, rel=0.1)

    project.settings.soundtrack = store.put_file(write_tone(tmp_path / "music.wav", 3.0, hz=220))
    project.settings.soundtrack_gain_db = -12.0
    plan = plan_of(project, SMALL, BundleMedia(bundle))
    assert [(a.start, a.gain_db) for a in plan.audio] == [(0, -12.0), (24, -6.0)]
    silenced = plan_of(
        project, AnimaticOptions(soundtrack=(), fit_to_audio=False), BundleMedia(bundle)
    )
    assert [a.start for a in silenced.audio] == [24]  # options still override the project
    assert silenced.frames == 48


def test_missing_sound_files_are_skipped(tmp_path: Path) -> None:
    project = project_with(tmp_path, [None, None])
    project.ordered_panels()[0].audio = "f" * 64 + ".wav"
    project.settings.soundtrack = "e" * 64 + ".mp3"
    assert plan_of(project, SMALL, BundleMedia(tmp_path)).audio == ()


def _middle(project: object, bundle: Path, options: AnimaticOptions = SMALL) -> np.ndarray:
    plan = plan_of(project, options, BundleMedia(bundle))  # type: ignore[arg-type]
    (transition,) = plan.transitions
    frame = (transition.start + transition.end - 1) // 2
    renderer = FrameRenderer(plan, bundle)  # alive while its image is read
    return pixels(renderer.render(frame))[..., :3].copy()


def test_dip_to_white_passes_through_white(qapp: object, tmp_path: Path) -> None:
    project = project_with(tmp_path, [solid(RED), solid(BLUE)], duration=12)
    project.ordered_panels()[0].transition = Transition(TransitionKind.DIP_TO_WHITE, 9)
    assert (_middle(project, tmp_path) >= 250).all()


@pytest.mark.parametrize(
    ("direction", "blue_part", "red_part"),
    [
        ("right", np.s_[:, :30], np.s_[:, -30:]),
        ("left", np.s_[:, -30:], np.s_[:, :30]),
        ("down", np.s_[:20, :], np.s_[-20:, :]),
    ],
)
def test_push_travels_the_panels_direction(
    qapp: object, tmp_path: Path, direction: str, blue_part: tuple, red_part: tuple
) -> None:
    project = project_with(tmp_path, [solid(RED), solid(BLUE)], duration=12)
    project.ordered_panels()[0].transition = Transition(TransitionKind.PUSH, 9, direction)
    (planned,) = plan_of(project, SMALL).transitions
    assert (planned.effect, planned.direction) == (TransitionKind.PUSH, Direction(direction))
    frame = _middle(project, tmp_path)
    assert np.allclose(frame[blue_part].reshape(-1, 3).mean(axis=0), BLUE, atol=3)
    assert np.allclose(frame[red_part].reshape(-1, 3).mean(axis=0), RED, atol=3)
    override = AnimaticOptions(size=(160, 90), push_direction=Direction.UP)
    assert plan_of(project, override).transitions[0].direction is Direction.UP


def test_generated_clip_asset_plays_in_the_transition(qapp: object, tmp_path: Path) -> None:
    clip = tmp_path / "move.mp4"
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 160, 90, "yuv420p"
        for _ in range(8):
            frame = av.VideoFrame.from_ndarray(solid(GREEN, (160, 90)), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    project = project_with(tmp_path, [solid(RED), solid(BLUE)], duration=12)
    first = project.ordered_panels()[0]
    first.transition = Transition(
        TransitionKind.GENERATED, 8, clip=AssetStore(tmp_path).put_file(clip)
    )
    middle = _middle(project, tmp_path)
    assert np.allclose(middle.reshape(-1, 3).mean(axis=0), GREEN, atol=8)
    without_media = plan_of(project, SMALL)  # no bundle to find the clip: a crossfade
    assert without_media.transitions[0].effect is TransitionKind.CROSSFADE


def test_camera_angle_rotates_the_panel(qapp: object, tmp_path: Path) -> None:
    bar = np.zeros((180, 320, 3), np.uint8)
    bar[80:100, :] = 255  # a horizontal white bar through the middle
    project = project_with(tmp_path, [bar], duration=12)
    project.ordered_panels()[0].camera = CameraMove(
        Rect(0, 0, 1, 1), Rect(0, 0, 1, 1), "linear", start_angle=0.0, end_angle=90.0
    )
    plan = plan_of(project, AnimaticOptions(size=(320, 180), captions=CaptionMode.NONE))
    assert plan.clips[0].framing(11).angle == pytest.approx(90.0)
    renderer = FrameRenderer(plan, tmp_path)
    first = pixels(renderer.render(0))[..., 0].copy()
    last = pixels(renderer.render(11))[..., 0].copy()
    assert first[90, 20] > 200 and first[20, 160] < 50  # horizontal at the start
    assert last[20, 160] > 200 and last[90, 20] < 50  # vertical at the end
