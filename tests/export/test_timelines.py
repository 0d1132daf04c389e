"""Timeline exports read back with OpenTimelineIO and its FCP7 XML and CMX3600 adapters."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
import pytest

from storyboard.cli import main
from storyboard.core.model import Project, Transition, TransitionKind
from storyboard.core.persistence import save_project
from storyboard.core.timeline import exact_fps
from storyboard.export.animatic import plan_animatic
from storyboard.export.animatic_options import AnimaticOptions
from storyboard.export.media import BundleMedia
from storyboard.export.output import ExportCancelled, ExportError
from storyboard.export.timeline_files import export_timeline
from storyboard.export.timeline_read import read_timeline
from tests.export.animatic_helpers import RED, project_with, solid
from tests.export.timeline_helpers import NTSC_FILM, items, media_path, rich_project, starts

SMALL = AnimaticOptions(size=(160, 90))
MEDIA = [
    "0001_1A.png",
    "0002_1B.png",
    "0002_1B_sound.wav",
    "0003_1C.png",
    "0003_1C_sound.wav",
    "0004_1C-1D.mp4",
    "0004_1D.png",
    "0005_1E.png",
    "soundtrack.wav",
]


@pytest.fixture
def exported(qapp: object, tmp_path: Path) -> tuple[Project, Path]:
    """The rich project exported as .otio, .xml and .edl into ``out/`` (one media folder each)."""
    bundle = tmp_path / "P.storyboard"
    project = rich_project(bundle, tmp_path)
    plan = plan_animatic(project, SMALL, BundleMedia(bundle))
    out = tmp_path / "out"
    out.mkdir()
    for suffix in ("otio", "xml", "edl"):
        export_timeline(plan, bundle, out / f"cut.{suffix}")
    return project, out


def test_otio_holds_the_animatic_edit(exported: tuple[Project, Path]) -> None:
    project, out = exported
    timeline = otio.adapters.read_from_file(str(out / "cut.otio"))
    assert timeline.name == "The Lost Hat"
    names = [track.name for track in timeline.tracks]
    assert names == [
        "Panels",
        "Generated transitions",
        "Soundtrack",
        "Panel sounds",
        "Panel sounds 2",
    ]
    panels = timeline.tracks[0]
    clips = items(panels, otio.schema.Clip)
    assert [c.name for c in clips] == ["1A", "1B", "1C", "1D", "1E"]
    for clip in clips:  # every panel lasts its 24 frames at the exact NTSC rate
        assert clip.source_range.duration.value == 24
        assert clip.source_range.duration.rate == pytest.approx(NTSC_FILM, abs=1e-9)
    assert [s for _, s in starts(panels)] == [0, 24, 48, 72, 96]
    assert timeline.duration().value == 120

    dissolves = items(panels, otio.schema.Transition)
    assert [d.transition_type for d in dissolves] == ["SMPTE_Dissolve"] * 2
    assert [(d.in_offset.value, d.out_offset.value) for d in dissolves] == [(3, 4), (3, 3)]
    assert dissolves[1].name == "Cross Dissolve (was wipe up)"
    assert dissolves[1].metadata["storyboard"]["kind"] == "wipe"
    assert clips[1].source_range.start_time.value == 3  # the handle its dissolve plays over
    assert clips[1].media_reference.available_range.duration.value == 3 + 24 + 3

    generated = timeline.tracks[1]
    (clip,) = items(generated, otio.schema.Clip)
    assert starts(generated) == [("1C-1D", 68)]  # centred on the cut at 72, 8 frames long
    assert clip.source_range.duration.value == 8
    (warp,) = clip.effects
    assert warp.time_scalar == pytest.approx(6.0)  # 2 s of motion played in 8 frames

    ids = [c.metadata["storyboard"]["panel_id"] for c in clips]
    assert ids == [p.id for p in project.ordered_panels()]
    (dialogue,) = clips[0].markers
    assert dialogue.name == "Dialogue: MIRA: Where is it? (whispers) My hat."
    assert dialogue.comment == "MIRA: Where is it?\n(whispers) My hat."
    assert dialogue.color == "GREEN"
    (note,) = clips[2].markers
    assert (note.name, note.color) == ("Note: Fix the hat's colour", "YELLOW")
    assert note.marked_range.duration.value == 24

    music, sounds, overlap = (timeline.tracks[i] for i in (2, 3, 4))
    assert starts(music) == [("Soundtrack", 0)]
    assert items(music, otio.schema.Clip)[0].source_range.duration.value == 48  # 2 s
    assert starts(sounds) == [("1B sound", 24)]
    assert items(sounds, otio.schema.Clip)[0].source_range.duration.value == 36  # 1.5 s
    assert starts(overlap) == [("1C sound", 48)]  # 1B's sound still plays there

    every = [media_path(c) for c in timeline.find_clips()]
    assert sorted(p.name for p in every) == MEDIA
    assert all(p.parent == out / "cut_media" and p.stat().st_size > 0 for p in every)
    assert sorted(p.name for p in (out / "cut_media").iterdir()) == MEDIA


def test_fcp7_xml_reads_back_with_the_fcp_adapter(exported: tuple[Project, Path]) -> None:
    _, out = exported
    text = (out / "cut.xml").read_text()
    assert "<timebase>24</timebase>" in text and "<ntsc>TRUE</ntsc>" in text
    timeline = otio.adapters.read_from_file(str(out / "cut.xml"), "fcp_xml")
    video = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    audio = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Audio]
    assert len(video) == 2 and len(audio) == 3
    clips = items(video[0], otio.schema.Clip)
    assert [c.name for c in clips] == ["1A", "1B", "1C", "1D", "1E"]
    assert [c.source_range.duration.value for c in clips] == [24] * 5
    dissolves = items(video[0], otio.schema.Transition)
    assert [(d.in_offset.value, d.out_offset.value) for d in dissolves] == [(3, 4), (3, 3)]
    assert [m.name for m in clips[0].markers] == ["Dialogue: MIRA: Where is it? (whispers) My hat."]
    assert [m.name for m in clips[2].markers] == ["Note: Fix the hat's colour"]
    assert starts(video[1]) == [("1C-1D", 68)]
    assert [starts(t) for t in audio] == [
        [("Soundtrack", 0)],
        [("1B sound", 24)],
        [("1C sound", 48)],
    ]
    for clip in timeline.find_clips():
        assert media_path(clip).is_file()
    assert media_path(items(audio[1], otio.schema.Clip)[0]).name == "0002_1B_sound.wav"


def test_edl_keeps_the_panels_and_dissolves_and_says_what_it_drops(
    exported: tuple[Project, Path],
) -> None:
    _, out = exported
    timeline = otio.adapters.read_from_file(str(out / "cut.edl"), "cmx_3600", rate=NTSC_FILM)
    (video,) = timeline.tracks  # one video track; no audio events
    clips = items(video, otio.schema.Clip)
    assert [c.name for c in clips] == ["1A", "1B", "1C", "1D", "1E"]
    dissolves = items(video, otio.schema.Transition)
    assert [d.in_offset.value + d.out_offset.value for d in dissolves] == [7, 6]
    # an EDL dissolve starts at its cut: the clip before it ends half the dissolve early
    assert [c.source_range.duration.value for c in clips] == [21, 24, 27, 24, 24]
    markers = [m.name for c in clips for m in c.markers]
    assert "DIALOGUE: MIRA: WHERE IS IT? (WHISPERS) MY HAT." in markers
    # our reader centres the dissolves again: the panels' own durations
    edited = read_timeline(out / "cut.edl", 23.976)
    assert [(c.name, c.duration * NTSC_FILM) for c in edited.tracks[0].clips] == [
        (n, pytest.approx(24)) for n in ("1A", "1B", "1C", "1D", "1E")
    ]


def test_edl_result_lists_what_was_left_out(qapp: object, tmp_path: Path) -> None:
    bundle = tmp_path / "P.storyboard"
    project = rich_project(bundle, tmp_path)
    result = export_timeline(project, bundle, tmp_path / "cut.edl", SMALL)
    assert result.dropped == (
        "1 generated transition clip(s) (the EDL cuts there)",
        "3 sound(s): the EDL has no audio events",
    )
    assert export_timeline(project, bundle, tmp_path / "cut.otio", SMALL).dropped == ()


@pytest.mark.parametrize("fps", [29.97, 25.0])
def test_other_rates_round_trip_in_whole_frames(qapp: object, tmp_path: Path, fps: float) -> None:
    bundle = tmp_path / "P.storyboard"
    project = project_with(bundle, [solid(RED)] * 3, duration=100)
    project.settings.fps = fps
    project.ordered_panels()[0].transition = Transition(TransitionKind.CROSSFADE, 9)
    for suffix in ("otio", "xml", "edl"):
        export_timeline(project, bundle, tmp_path / f"cut.{suffix}", SMALL)
        edited = read_timeline(tmp_path / f"cut.{suffix}", fps)
        frames = [c.duration * exact_fps(fps) for c in edited.tracks[0].clips if c.duration]
        assert frames == [100, 100, 100], suffix


@pytest.mark.parametrize("number", ["../../x", "a/b", "..", "1A\n002  AX  V  C", "é" * 300])
def test_panel_numbers_never_leave_the_media_folder_or_break_an_edl(
    qapp: object, tmp_path: Path, number: str
) -> None:
    bundle = tmp_path / "P.storyboard"
    project = project_with(bundle, [solid(RED), None, solid(RED)])
    project.ordered_panels()[1].number_override = number
    out = tmp_path / "out"
    out.mkdir()
    for suffix in ("otio", "xml", "edl"):
        export_timeline(project, bundle, out / f"cut.{suffix}", SMALL)
    assert sorted(p.name for p in out.iterdir()) == ["cut.edl", "cut.otio", "cut.xml", "cut_media"]
    names = sorted(p.name for p in (out / "cut_media").iterdir())
    assert len(names) == 3 and names[0] == "0001_1A.png" and names[2] == "0003_1C.png"
    assert names[1].startswith("0002_") and len(names[1]) <= 50 and "/" not in names[1]
    events = [line for line in (out / "cut.edl").read_text().splitlines() if line[:3].isdigit()]
    assert len(events) == 3  # a newline in a number never becomes an event of its own


def test_a_media_folder_that_leads_elsewhere_is_refused(qapp: object, tmp_path: Path) -> None:
    bundle = tmp_path / "P.storyboard"
    project = project_with(bundle, [solid(RED), None])
    victim = tmp_path / "victim"
    victim.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "cut_media").symlink_to(victim)
    with pytest.raises(ExportError, match="leads outside the folder chosen"):
        export_timeline(project, bundle, out / "cut.otio", SMALL)
    assert list(victim.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["cut_media"]


def test_a_cancelled_export_leaves_nothing(qapp: object, tmp_path: Path) -> None:
    bundle = tmp_path / "P.storyboard"
    project = rich_project(bundle, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    calls: list[int] = []

    def cancel_at_the_fourth_file() -> bool:
        calls.append(1)
        return len(calls) >= 4

    with pytest.raises(ExportCancelled):
        export_timeline(project, bundle, out / "cut.xml", SMALL, None, cancel_at_the_fourth_file)
    assert list(out.iterdir()) == []
    with pytest.raises(ExportError, match="not a timeline format"):
        export_timeline(project, bundle, out / "cut.mov", SMALL)


def test_cli_picks_the_timeline_by_its_extension(
    qapp: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "P.storyboard"
    save_project(rich_project(bundle, tmp_path), bundle)
    for suffix in ("otio", "xml", "edl", "fcpxml"):
        out = tmp_path / f"cut.{suffix}"
        assert main(["export-video", str(bundle), "-o", str(out), "--size", "160x90"]) == 0
        assert out.stat().st_size > 0
    printed = capsys.readouterr().out
    assert f"wrote {tmp_path / 'cut.otio'} (5 clips, media in {tmp_path / 'cut_media'})" in printed
    assert "left out (the format cannot hold it): 3 sound(s)" in printed
    assert otio.adapters.read_from_file(str(tmp_path / "cut.otio")).tracks[0].name == "Panels"
