"""Animatic files read back: ffprobe streams, decoded frames and sound, and failure clean-up."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from storyboard.cli import main
from storyboard.core.model import Transition, TransitionKind
from storyboard.export.animatic import plan_animatic
from storyboard.export.animatic_options import AnimaticOptions, AudioClip, CaptionMode
from storyboard.export.fcpxml import export_fcpxml
from storyboard.export.output import ExportCancelled, ExportError
from storyboard.export.video import export_video
from tests.export.animatic_helpers import (
    BLUE,
    RED,
    decode,
    decode_audio,
    ffprobe,
    project_with,
    solid,
    write_tone,
)

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "sample.storyboard"


def test_mp4_streams_cut_and_crossfade(qapp: object, tmp_path: Path) -> None:
    project = project_with(tmp_path / "P.storyboard", [solid(RED), solid(BLUE), solid(RED)])
    project.ordered_panels()[1].transition = Transition(TransitionKind.CROSSFADE, 11)
    project.ordered_panels()[0].dialogue = "MIRA: Hello."
    tone = write_tone(tmp_path / "tone.wav", 2.0)
    options = AnimaticOptions(
        size=(160, 90), captions=CaptionMode.SOFT, soundtrack=(AudioClip(tone, 12, -6.0),)
    )
    plan = plan_animatic(project, options)
    done = export_video(plan, tmp_path / "P.storyboard", tmp_path / "a.mp4")
    streams = {s["codec_type"]: s for s in ffprobe(done.path)}
    assert streams["video"]["codec_name"] == "h264"
    assert streams["video"]["pix_fmt"] == "yuv420p"
    assert int(streams["video"]["nb_read_frames"]) == plan.frames == 72
    assert streams["audio"]["codec_name"] == "aac"
    assert streams["subtitle"]["codec_name"] == "mov_text"
    assert "MIRA: Hello." in done.subtitles.read_text() if done.subtitles else False

    frames = [f.reshape(-1, 3).mean(axis=0) for f in decode(done.path)]
    assert np.allclose(frames[23], RED, atol=4) and np.allclose(frames[24], BLUE, atol=4)
    middle = (np.array(BLUE) + np.array(RED)) / 2
    assert np.allclose(frames[48], middle, atol=4)  # t = 0.5 at the centre of the crossfade
    assert not np.allclose(frames[45], middle, atol=10)

    sound = decode_audio(done.path).mean(axis=0)
    assert np.abs(sound[: 48_000 // 2 - 2048]).max() < 0.01  # silent before frame 12
    playing = sound[48_000 : 48_000 + 9600]
    # a 0.5 sine, -6 dB, mono spread on two channels at -3 dB each (constant-power pan)
    expected = 0.5 * 10 ** (-6 / 20) * np.sqrt(0.5) / np.sqrt(2)
    assert np.sqrt(np.mean(playing**2)) == pytest.approx(expected, rel=0.1)
    spectrum = np.abs(np.fft.rfft(playing))
    assert np.argmax(spectrum) * 48_000 / len(playing) == pytest.approx(440, abs=10)


def test_burned_captions_touch_only_the_caption_area(qapp: object, tmp_path: Path) -> None:
    from storyboard.export.frames import FrameRenderer

    project = project_with(tmp_path / "P.storyboard", [solid(BLUE)], duration=6)
    project.ordered_panels()[0].dialogue = "OTO: Careful! Careful!"
    outputs = []
    for mode in (CaptionMode.NONE, CaptionMode.BURN):
        plan = plan_animatic(project, AnimaticOptions(size=(160, 90), captions=mode))
        outputs.append(
            decode(export_video(plan, tmp_path / "P.storyboard", tmp_path / f"{mode}.mp4").path)[3]
        )
    box = FrameRenderer(plan, None).caption_rect("OTO: Careful! Careful!").adjusted(-4, -4, 4, 4)
    diff = np.abs(outputs[0].astype(int) - outputs[1]).max(axis=2)
    inside = np.zeros(diff.shape, bool)
    inside[box.top() : box.bottom() + 1, box.left() : box.right() + 1] = True
    assert (diff[inside] > 60).sum() > 40
    assert diff[~inside].max() <= 12


def test_gif_and_png_sequence(qapp: object, tmp_path: Path) -> None:
    project = project_with(tmp_path / "P.storyboard", [solid(RED), solid(BLUE)], duration=5)
    plan = plan_animatic(project, AnimaticOptions(size=(160, 90), captions=CaptionMode.NONE))
    gif = export_video(plan, tmp_path / "P.storyboard", tmp_path / "a.gif")
    frames = decode(gif.path)
    assert len(frames) == 10
    assert np.allclose(frames[0].reshape(-1, 3).mean(0), RED, atol=8)
    assert np.allclose(frames[9].reshape(-1, 3).mean(0), BLUE, atol=8)
    folder = export_video(plan, tmp_path / "P.storyboard", tmp_path / "frames").path
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == "frame_000000.png" and len(names) == 10


def test_cancel_and_failure_leave_nothing_behind(qapp: object, tmp_path: Path) -> None:
    project = project_with(tmp_path / "P.storyboard", [solid(RED), solid(BLUE)])
    calls: list[int] = []
    (tmp_path / "out").mkdir()
    with pytest.raises(ExportCancelled):
        export_video(
            project,
            tmp_path / "P.storyboard",
            tmp_path / "out" / "a.mp4",
            AnimaticOptions(size=(160, 90)),
            progress=lambda done, total: calls.append(done),
            cancelled=lambda: len(calls) >= 10,
        )
    assert list((tmp_path / "out").iterdir()) == []
    not_audio = tmp_path / "out" / "noise.wav"
    not_audio.write_bytes(b"this is not sound")
    bad = AnimaticOptions(size=(160, 90), soundtrack=(AudioClip(not_audio),))
    with pytest.raises(ExportError, match="could not be read as audio"):
        export_video(project, tmp_path / "P.storyboard", tmp_path / "out" / "b.mp4", bad)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["noise.wav"]
    with pytest.raises(ExportError, match="folder does not exist"):
        export_video(project, None, tmp_path / "missing" / "c.mp4", bad)


def test_fcpxml_timeline(qapp: object, tmp_path: Path) -> None:
    project = project_with(tmp_path / "P.storyboard", [solid(RED), None, solid(BLUE)])
    project.ordered_panels()[0].transition = Transition(TransitionKind.DIP_TO_BLACK, 6)
    plan = plan_animatic(project, AnimaticOptions(size=(160, 90)))
    path = export_fcpxml(plan, tmp_path / "P.storyboard", tmp_path / "cut.fcpxml")
    root = ET.parse(path).getroot()
    clips = root.findall(".//spine/video")
    assert [c.get("offset") for c in clips] == ["0s", "1s", "2s"]
    assert [c.get("duration") for c in clips] == ["1s", "1s", "1s"]
    (dissolve,) = root.findall(".//spine/transition")
    assert (dissolve.get("offset"), dissolve.get("duration")) == ("7/8s", "1/4s")
    sources = [m.get("src") for m in root.findall(".//media-rep")]
    assert all(s and Path(s.removeprefix("file://")).is_file() for s in sources)
    assert "cut_media" in sources[1]  # the imageless panel got its card rendered


def test_cli_exports_the_sample_project(
    qapp: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sample.mp4"
    assert (
        main(
            [
                "export-video",
                str(SAMPLE),
                "-o",
                str(out),
                "--size",
                "160x90",
                "--captions",
                "both",
                "--fps",
                "25",
            ]
        )
        == 0
    )
    streams = {s["codec_type"]: s for s in ffprobe(out)}
    assert int(streams["video"]["nb_read_frames"]) == round(701 / 24 * 25)
    assert (tmp_path / "sample.srt").read_text().startswith("1\n00:00:00,000 --> ")
    assert main(["export-video", str(SAMPLE), "-o", str(out), "--size", "7x3"]) == 2
    assert capsys.readouterr().err.startswith("error: 7x3: is not a video size")
    # larger than H.264 takes (it ran for minutes before): refused at once
    assert main(["export-video", str(SAMPLE), "-o", str(out), "--size", "10000x10000"]) == 2
    assert capsys.readouterr().err.startswith("error: 10000x10000: is larger than video players")


def test_a_project_without_panels_is_refused_and_nothing_written(
    qapp: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", str(tmp_path / "Empty")]) == 0
    out = tmp_path / "empty.mp4"
    assert main(["export-video", str(tmp_path / "Empty.storyboard"), "-o", str(out)]) == 2
    assert "no panels, so there is nothing to put in a video" in capsys.readouterr().err
    assert not out.exists()
