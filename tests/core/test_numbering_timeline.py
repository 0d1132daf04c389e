"""Panel numbers and timecode as a storyboard artist reads them."""

from __future__ import annotations

import pytest

from storyboard.core.commands import EditFields
from storyboard.core.model import Project
from storyboard.core.numbering import find_panels, letters, panel_numbers
from storyboard.core.panel_commands import MovePanels
from storyboard.core.timeline import (
    frames_to_seconds,
    panel_starts,
    seconds_to_frames,
    suggested_duration,
    timecode,
)


def test_letters_never_run_out() -> None:
    assert [letters(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip


def test_numbers_follow_reorder_and_overrides_stick(project: Project) -> None:
    assert panel_numbers(project) == {"p1": "1A-alt", "p2": "1B", "p3": "2A"}
    EditFields("panel", "p1", {"number_override": None}).apply(project)
    MovePanels(["p2"], "s1", 0).apply(project)
    assert panel_numbers(project) == {"p2": "1A", "p1": "1B", "p3": "2A"}
    assert find_panels(project, ["1b", " 2A"]) == ["p1", "p3"]
    with pytest.raises(KeyError, match="9Z"):
        find_panels(project, ["9Z"])
    # a number two panels share (an import of Storyboarder shots: 1A in every scene) is never
    # guessed at: the message says where they are
    EditFields("panel", "p3", {"number_override": "1a"}).apply(project)
    with pytest.raises(KeyError, match=r"2 panels are numbered 1A \(in scenes 1, 2\)"):
        find_panels(project, ["1A"])
    assert find_panels(project, ["1B"]) == ["p1"]


def test_ntsc_rates_and_timecode() -> None:
    assert frames_to_seconds(24000, 23.976) == pytest.approx(1001.0)
    assert seconds_to_frames(2.0, 29.97) == 60
    assert timecode(24 * 3661 + 5, 24.0) == "01:01:01:05"


def test_panel_starts_run_through_scenes(project: Project) -> None:
    assert panel_starts(project) == {"p1": 0, "p2": 60, "p3": 108}


def test_suggested_duration_grows_with_dialogue() -> None:
    assert suggested_duration("", 24.0) == 48
    assert suggested_duration(" ".join(["word"] * 20), 24.0) == seconds_to_frames(6.3, 24.0)
