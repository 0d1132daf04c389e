"""Conform: an edited timeline (as plain data) becomes one undoable edit of the panels."""

from __future__ import annotations

import copy
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storyboard.core.conform import (
    ConformError,
    EditedClip,
    EditedTimeline,
    EditedTrack,
    conform,
)
from storyboard.core.model import Panel, Project, Scene
from storyboard.core.numbering import panel_numbers


def story(*scenes: int, duration: int = 24) -> Project:
    """Scenes of that many panels, ids p1, p2, ... in story order, at 24 fps."""
    project = Project()
    count = 0
    for size in scenes:
        scene = Scene(title=f"scene {len(project.scene_ids) + 1}")
        project.scenes[scene.id] = scene
        project.scene_ids.append(scene.id)
        for _ in range(size):
            count += 1
            panel = Panel(id=f"p{count}", duration=duration)
            project.panels[panel.id] = panel
            scene.panel_ids.append(panel.id)
    return project


def seconds(frames: int, fps: int = 24) -> Fraction:
    return Fraction(frames, fps)


def by_id(*entries: tuple[str, int]) -> EditedTimeline:
    """A timeline of clips naming their panel in metadata, as our .otio export writes them."""
    clips = tuple(EditedClip("?", seconds(f), panel_id=pid) for pid, f in entries)
    return EditedTimeline("cut", (EditedTrack("V1", clips),))


def order(project: Project) -> list[str]:
    return [p.id for p in project.ordered_panels()]


def durations(project: Project) -> dict[str, int]:
    return {p.id: p.duration for p in project.ordered_panels()}


def test_durations_order_and_removals_are_one_undoable_command() -> None:
    project = story(3, 2)
    before = copy.deepcopy(project)
    result = conform(project, by_id(("p2", 30), ("p1", 24), ("p4", 12), ("p5", 24)))
    assert project == before  # nothing changes until the command is applied
    assert result.command is not None
    result.command.apply(project)
    assert order(project) == ["p2", "p1", "p4", "p5"]
    assert durations(project) == {"p2": 30, "p1": 24, "p4": 12, "p5": 24}
    assert "p3" not in project.panels
    assert [s.panel_ids for s in project.ordered_scenes()] == [["p2", "p1"], ["p4", "p5"]]
    assert result.counts() == "2 durations, 1 move, 1 removal"
    assert [(d.number, d.old, d.new) for d in result.durations] == [("1B", 24, 30), ("2A", 24, 12)]
    assert result.moved == ["1B"] and result.removed == ["1C"]
    result.command.revert(project)
    assert project == before


def test_clips_match_by_id_then_number_then_media_file() -> None:
    project = story(3)
    project.panels["p3"].number_override = "3/X"
    timeline = EditedTimeline(
        "cut",
        (
            EditedTrack(
                "V1",
                (
                    EditedClip("renamed", seconds(10), media="0002_1B.png"),  # by media name
                    EditedClip("1a", seconds(20)),  # by number, as an editor may retype it
                    EditedClip("whatever", seconds(30), panel_id="p3"),  # by our metadata
                ),
            ),
        ),
    )
    result = conform(project, timeline)
    assert result.command is not None
    result.command.apply(project)
    assert order(project) == ["p2", "p1", "p3"]
    assert durations(project) == {"p2": 10, "p1": 20, "p3": 30}
    # the safe file name of "3/X" is 3_X: a clip relinked to that file finds it too
    again = EditedTimeline(
        "cut", (EditedTrack("V1", (EditedClip("", seconds(5), media="0001_3_X.png"),)),)
    )
    assert conform(project, again).removed == ["1A", "1B"]


def test_unmatched_clips_are_listed_and_left_alone() -> None:
    project = story(2)
    timeline = by_id(("p1", 24), ("p2", 24))
    clips = (
        EditedClip("Title card", seconds(48)),
        *timeline.tracks[0].clips,
        EditedClip("../../etc/passwd\n", seconds(1), media="../../x.png"),
    )
    result = conform(project, EditedTimeline("cut", (EditedTrack("V1", clips),)))
    assert result.command is None  # the panels are as they were
    assert result.unmatched == ["#1 'Title card'", "#4 '../../etc/passwd'"]
    assert "not matched, left out: 2 clip(s): #1 'Title card', #4 '../../etc/passwd'" in (
        result.lines()
    )


def test_hostile_durations_are_reported_not_applied() -> None:
    project = story(5)
    timeline = EditedTimeline(
        "cut",
        (
            EditedTrack(
                "V1",
                (
                    EditedClip("1A", Fraction(10**300)),
                    EditedClip("1B", Fraction(-5, 24)),
                    EditedClip("1C", Fraction(0)),
                    EditedClip("1D", None),
                    EditedClip("1E", seconds(36)),
                ),
            ),
        ),
    )
    result = conform(project, timeline)
    assert [d.number for d in result.durations] == ["1E"]
    notes = "\n".join(result.notes)
    assert "panel 1A: a duration of 2.4e+301 frames is not a panel's (1 to 432000)" in notes
    assert "panel 1B: a duration of -5 frames" in notes
    assert "panel 1C: a duration of 0 frames" in notes
    assert "panel 1D: its clip has no readable duration; kept as it was" in notes


def test_razor_pieces_add_up_and_a_second_use_is_ignored() -> None:
    project = story(3)
    result = conform(project, by_id(("p1", 10), ("p1", 14), ("p2", 30), ("p3", 24), ("p1", 99)))
    assert result.command is not None
    result.command.apply(project)
    assert durations(project) == {"p1": 24, "p2": 30, "p3": 24}
    assert any("uses panel 1A again" in note for note in result.notes)


def test_the_panels_track_is_the_one_with_most_panels() -> None:
    project = story(2)
    generated = EditedTrack("Generated transitions", (EditedClip("1A-1B", seconds(8)),))
    panels = by_id(("p2", 24), ("p1", 24)).tracks[0]
    result = conform(project, EditedTimeline("cut", (generated, panels)))
    assert result.moved == ["1B"]
    assert any("'Generated transitions' (1 clip(s)) was not conformed" in n for n in result.notes)


def test_a_timeline_that_matches_nothing_changes_nothing() -> None:
    project = story(3)
    stranger = EditedTimeline("other", (EditedTrack("V1", (EditedClip("SHOT_010", seconds(5)),)),))
    with pytest.raises(ConformError, match="matches no panel of this project"):
        conform(project, stranger)
    with pytest.raises(ConformError, match="has no video track"):
        conform(project, EditedTimeline("empty", ()))


def test_panels_following_their_sound_keep_their_length() -> None:
    project = story(2)
    project.settings.fit_panels_to_audio = True
    project.panels["p1"].audio = "a" * 64 + ".wav"
    result = conform(project, by_id(("p1", 50), ("p2", 50)))
    assert [d.number for d in result.durations] == ["1B"]
    assert any("1A: durations kept" in note for note in result.notes)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_new_order_is_reached_and_undone(data: st.DataObject) -> None:
    sizes = data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=4))
    project = story(*sizes)
    ids = order(project)
    if not ids:
        return
    kept = data.draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    before = copy.deepcopy(project)
    numbers = panel_numbers(project)
    result = conform(project, by_id(*((pid, 24) for pid in kept)))
    if result.command is None:
        assert kept == ids
        return
    result.command.apply(project)
    assert order(project) == kept
    assert len(project.scene_ids) == len(before.scene_ids)  # scenes stay, empty or not
    assert sorted(result.removed) == sorted(numbers[p] for p in ids if p not in kept)
    result.command.revert(project)
    assert project == before
