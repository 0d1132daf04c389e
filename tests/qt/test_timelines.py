"""The editor's timeline export and File > Conform to edited timeline…, on the sample project."""

from __future__ import annotations

import copy
from pathlib import Path

import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime, TimeRange
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from storyboard.core.numbering import panel_numbers
from storyboard.export.animatic_options import AnimaticOptions
from storyboard.export.timeline_files import export_timeline
from storyboard.qt import conform_action
from storyboard.qt.main_window import MainWindow
from tests.export.animatic_helpers import write_tone

WAIT = 60_000


def test_export_dialog_offers_the_timeline_formats(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offered: list[str] = []

    def save_as(parent: object, title: str, name: str, filters: str) -> tuple[str, str]:
        offered.extend(filters.split(";;"))
        return str(tmp_path / "cut"), "CMX3600 EDL (*.edl)"  # typed without an extension

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    music = write_tone(tmp_path / "music.wav", 1.0)
    window.document.project.settings.soundtrack = window.document.assets.put_file(music)
    with qtbot.waitSignal(window.exports.finished, timeout=WAIT) as done:
        window.exports.video.trigger()
    assert done.args == [tmp_path / "cut.edl"]
    assert {
        "OpenTimelineIO (*.otio)",
        "Premiere / Final Cut Pro 7 XML (*.xml)",
        "CMX3600 EDL (*.edl)",
        "Final Cut XML (*.fcpxml)",
    } <= set(offered)
    timeline = otio.adapters.read_from_file(str(tmp_path / "cut.edl"), rate=24)
    numbers = panel_numbers(window.document.project)
    ordered = [numbers[p.id] for p in window.document.project.ordered_panels()]
    assert [c.name for c in timeline.find_clips()] == ordered
    assert (tmp_path / "cut_media").is_dir()
    assert window.banner.isVisible()  # what the EDL could not hold is said
    assert window.banner.label.text() == (
        "cut.edl left out what its format cannot hold: 1 sound(s): the EDL has no audio events"
    )


def _edited_cut(window: MainWindow, tmp_path: Path) -> Path:
    """The sample's .otio with its second shot 12 frames longer and its third taken out."""
    project = window.document.project
    export_timeline(
        copy.deepcopy(project), window.document.bundle, tmp_path / "cut.otio", AnimaticOptions()
    )
    timeline = otio.adapters.read_from_file(str(tmp_path / "cut.otio"))
    track = timeline.tracks[0]
    clips = [item for item in track if isinstance(item, otio.schema.Clip)]
    longer = clips[1].source_range
    twelve = RationalTime(longer.duration.value + 12, longer.duration.rate)
    clips[1].source_range = TimeRange(longer.start_time, twelve)
    index = list(track).index(clips[2])
    if index + 1 < len(track) and isinstance(track[index + 1], otio.schema.Transition):
        del track[index + 1]
    if isinstance(track[index - 1], otio.schema.Transition):
        del track[index - 1]
        index -= 1
    del track[index]
    otio.adapters.write_to_file(timeline, str(tmp_path / "edited.otio"))
    return tmp_path / "edited.otio"


def test_conform_is_one_undo_step_with_a_summary(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    edited = _edited_cut(window, tmp_path)
    document = window.document
    before = copy.deepcopy(document.project)
    panels = before.ordered_panels()
    steps = document.undo_stack.count()
    result = window.conform_action.conform(edited)
    assert result is not None and result.command is not None
    assert document.undo_stack.count() == steps + 1
    assert document.undo_stack.undoText() == "Conform to edited timeline"
    now = document.project.ordered_panels()
    assert [p.id for p in now] == [p.id for i, p in enumerate(panels) if i != 2]
    assert now[1].duration == panels[1].duration + 12
    summary = window.findChild(QMessageBox, "conform-summary")
    assert summary is not None and summary.isVisible()
    assert "1 duration, 0 moves, 1 removal" in summary.text()
    assert "removed: " in summary.informativeText()
    document.undo_stack.undo()
    assert document.project == before


def test_conform_refuses_what_it_cannot_read(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        conform_action, "show_error", lambda parent, title, message: shown.append(message)
    )
    bad = tmp_path / "bad.otio"
    bad.write_text("[" * 100_000)
    steps = window.document.undo_stack.count()
    assert window.conform_action.conform(bad) is None
    assert shown and "is not OpenTimelineIO JSON" in shown[0]
    assert window.document.undo_stack.count() == steps
