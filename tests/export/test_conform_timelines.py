"""Round trips: export a timeline, edit it as an editor would (with OTIO), conform the project.

And hostile timelines: whatever a file from someone else holds, conform reads only that file,
never crashes or hangs, and changes nothing it cannot match.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime, TimeRange

from storyboard.cli import main
from storyboard.core.conform import ConformError, conform
from storyboard.core.model import Project, Transition, TransitionKind
from storyboard.core.ownership import Program, ProjectLock
from storyboard.core.persistence import load_project, save_project
from storyboard.export.animatic_options import AnimaticOptions
from storyboard.export.timeline_files import export_timeline
from storyboard.export.timeline_read import read_timeline
from tests.export.animatic_helpers import BLUE, RED, project_with, solid
from tests.export.timeline_helpers import NTSC_FILM, items

SMALL = AnimaticOptions(size=(160, 90))


def four_panels(bundle: Path) -> Project:
    """1A -crossfade 6-> 1B, 1C, 1D; 24 frames each at 23.976 fps; saved."""
    project = project_with(bundle, [solid(RED), solid(BLUE), None, solid(RED)])
    project.settings.fps = 23.976
    project.ordered_panels()[0].transition = Transition(TransitionKind.CROSSFADE, 6)
    save_project(project, bundle)
    return project


def frames(value: int) -> RationalTime:
    return RationalTime(value, NTSC_FILM)


def retime(clip: otio.schema.Clip, length: int) -> None:
    clip.source_range = TimeRange(clip.source_range.start_time, frames(length))


def state(project: Project) -> list[tuple[str, int]]:
    return [(p.id, p.duration) for p in project.ordered_panels()]


@pytest.fixture
def cut(qapp: object, tmp_path: Path) -> tuple[Path, Project]:
    bundle = tmp_path / "P.storyboard"
    project = four_panels(bundle)
    export_timeline(project, bundle, tmp_path / "cut.otio", SMALL)
    return bundle, project


def test_otio_round_trip_durations_order_removal_and_undo(cut: tuple[Path, Project]) -> None:
    bundle, project = cut
    ids = [p.id for p in project.ordered_panels()]
    path = bundle.parent / "cut.otio"
    timeline = otio.adapters.read_from_file(str(path))
    track = timeline.tracks[0]
    clips = items(track, otio.schema.Clip)
    retime(clips[0], 30)  # 1A longer
    retime(clips[1], 12)  # 1B shorter
    moved = clips[3]  # 1D to the front, 1C taken out
    track.remove(moved)
    track.remove(clips[2])
    track.insert(0, moved)
    otio.adapters.write_to_file(timeline, str(bundle.parent / "edited.otio"))

    loaded = load_project(bundle)
    before = copy.deepcopy(loaded.project)
    result = conform(loaded.project, read_timeline(bundle.parent / "edited.otio", 23.976))
    assert result.counts() == "2 durations, 1 move, 1 removal"
    assert result.unmatched == []
    assert result.command is not None
    result.command.apply(loaded.project)
    assert state(loaded.project) == [(ids[3], 24), (ids[0], 30), (ids[1], 12)]
    result.command.revert(loaded.project)  # one undo step puts everything back
    assert loaded.project == before


@pytest.mark.parametrize("adapter", ["fcp_xml", "cmx_3600"])
def test_xml_and_edl_round_trips_conform_by_panel_number(
    qapp: object, tmp_path: Path, adapter: str
) -> None:
    """No panel ids there: the clip names (panel numbers) carry the match."""
    bundle = tmp_path / "P.storyboard"
    project = four_panels(bundle)
    suffix = ".xml" if adapter == "fcp_xml" else ".edl"
    export_timeline(project, bundle, tmp_path / f"cut{suffix}", SMALL)
    kwargs = {"rate": NTSC_FILM} if adapter == "cmx_3600" else {}
    timeline = otio.adapters.read_from_file(str(tmp_path / f"cut{suffix}"), adapter, **kwargs)
    video = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    clips = items(video, otio.schema.Clip)
    retime(clips[3], 48)  # 1D twice as long
    video.remove(clips[2])  # 1C out
    edited = tmp_path / f"edited{suffix}"
    otio.adapters.write_to_file(timeline, str(edited), adapter, **kwargs)

    result = conform(project, read_timeline(edited, 23.976))
    assert result.unmatched == [] and result.moved == []
    assert [(d.number, d.old, d.new) for d in result.durations] == [("1D", 24, 48)]
    assert result.removed == ["1C"]


def test_clips_an_editor_added_are_reported(cut: tuple[Path, Project]) -> None:
    bundle, project = cut
    timeline = otio.adapters.read_from_file(str(bundle.parent / "cut.otio"))
    card = otio.schema.Clip(name="Title card", source_range=TimeRange(frames(0), frames(48)))
    timeline.tracks[0].insert(0, card)
    for clip in items(timeline.tracks[0], otio.schema.Clip)[1:]:
        clip.metadata.clear()  # metadata lost on the way: names still match
    otio.adapters.write_to_file(timeline, str(bundle.parent / "edited.otio"))
    result = conform(project, read_timeline(bundle.parent / "edited.otio", 23.976))
    assert result.command is None
    assert result.lines() == [
        "nothing to change",
        "not matched, left out: 1 clip(s): #1 'Title card'",
    ]


def test_cli_conform_dry_run_then_apply_under_the_lock(
    cut: tuple[Path, Project], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, _ = cut
    timeline = otio.adapters.read_from_file(str(bundle.parent / "cut.otio"))
    retime(items(timeline.tracks[0], otio.schema.Clip)[2], 60)
    edited = bundle.parent / "edited.otio"
    otio.adapters.write_to_file(timeline, str(edited))
    saved = (bundle / "project.json").read_bytes()

    assert main(["conform", str(bundle), str(edited), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"would conform {bundle} to {edited}\nchanges: 1 duration, 0 moves")
    assert "durations (frames): 1C 24→60" in out
    assert (bundle / "project.json").read_bytes() == saved

    editor = ProjectLock.acquire(bundle, Program.EDITOR)
    try:
        assert main(["conform", str(bundle), str(edited)]) == 2
        error = capsys.readouterr().err
        assert error.startswith(f"error: {bundle}: the project is open in the editor")
        assert "conform in the editor (File > Conform to edited timeline…)" in error
    finally:
        editor.release()
    assert (bundle / "project.json").read_bytes() == saved

    assert main(["conform", str(bundle), str(edited)]) == 0
    assert capsys.readouterr().out.startswith(f"conformed {bundle} to {edited}")
    assert [p.duration for p in load_project(bundle).project.ordered_panels()] == [24, 24, 60, 24]
    assert not (bundle / "session.lock").exists()


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _hostile_otio(tmp: Path) -> Path:
    """A well-formed OTIO file from a stranger: traversal names, absurd durations, URLs that
    point at files outside, no metadata; plus one clip that does match, so it gets applied."""
    timeline = otio.schema.Timeline(name="../../evil\nTITLE: x")
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for name, length in (
        ("../../etc/passwd", 24),
        ("1A", 10**300),
        ("1B", -24),
        ("1C", 0),
        ("1D", 36),
    ):
        track.append(
            otio.schema.Clip(
                name=name,
                media_reference=otio.schema.ExternalReference(target_url="file:///etc/shadow"),
                source_range=TimeRange(frames(0), RationalTime(length, NTSC_FILM)),
            )
        )
    track.append(otio.schema.Clip(name="no range at all"))
    timeline.tracks.append(track)
    path = tmp / "stranger.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return path


def test_a_strangers_timeline_is_reported_never_guessed(
    cut: tuple[Path, Project], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, _ = cut
    path = _hostile_otio(bundle.parent)
    before = _tree(bundle.parent)
    assert main(["conform", str(bundle), str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "changes: 1 duration, 0 moves, 0 removals" in out  # 1D; nothing is removed:
    assert "1D 24→36" in out  # every panel is still in the timeline
    assert "#1 '../../etc/passwd'" in out and "#6 'no range at all'" in out
    assert "panel 1A: a duration of 1e+300 frames is not a panel's" in out
    assert "panel 1B: a duration of -24 frames" in out
    assert "panel 1C: a duration of 0 frames" in out
    assert _tree(bundle.parent) == before  # read one file, wrote none


HOSTILE = {
    "not-json.otio": (b"{ this is not json", "is not OpenTimelineIO JSON"),
    "deep.otio": (b"[" * 200_000 + b"]" * 200_000, "is not OpenTimelineIO JSON"),
    "nested.otio": (
        json.dumps(json.loads('{"a":' * 100 + "1" + "}" * 100)).encode(),
        "is nested more than 64 levels deep",
    ),
    "plain.otio": (b'{"hello": "world"}', "is JSON but not an OpenTimelineIO file"),
    "unknown.otio": (b'{"OTIO_SCHEMA": "Nonsense.7"}', "holds no timeline"),
    "laughs.xml": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xmeml>&b;</xmeml>',
        "declares XML entities",
    ),
    "deep.xml": (b"<a>" * 100 + b"</a>" * 100, "nested more than 64 levels"),
    "broken.xml": (b"<xmeml><sequence>", "is not XML"),
    "other.xml": (b"<html><body>hi</body></html>", "could not be read as FCP7 XML"),
    "binary.edl": (bytes(range(256)) * 10, "could not be read as a CMX3600 EDL"),
    "empty.otio": (b"", "is not OpenTimelineIO JSON"),
    "stranger.edl": (
        b"TITLE: other film\n\n001  AX       V     C        "
        b"00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00\n* FROM CLIP NAME:  SHOT_010\n",
        "matches no panel of this project",
    ),
    "notes.txt": (b"1A 24", "is not a timeline this program reads"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_end_in_one_clear_error(
    cut: tuple[Path, Project], capsys: pytest.CaptureFixture[str], name: str
) -> None:
    bundle, _ = cut
    content, message = HOSTILE[name]
    path = bundle.parent / name
    path.write_bytes(content)
    before = _tree(bundle.parent)
    assert main(["conform", str(bundle), str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {path}: ")
    assert message in error and error.count("\n") == 1
    assert _tree(bundle.parent) == before


def test_an_oversized_file_is_refused_before_it_is_read(cut: tuple[Path, Project]) -> None:
    bundle, _ = cut
    path = bundle.parent / "huge.otio"
    with path.open("wb") as file:
        file.truncate(33 * 1024 * 1024)  # sparse: nothing to write
    with pytest.raises(ConformError, match="larger than a timeline can be"):
        read_timeline(path, 24.0)
