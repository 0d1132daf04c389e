"""The selection, the canvas and the player follow the panel an edit or an undo touched."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from storyboard.qt.main_window import MainWindow

WAIT = 3000


def shows(window: MainWindow, panel_id: str, qtbot: QtBot) -> None:
    """Selected, in the inspector and the canvas, and on the player once it has re-planned."""
    assert window.selection.current == panel_id
    assert window.selection.selected == [panel_id]
    assert window.inspector.panel_id == panel_id
    assert window.preview.selection.current == panel_id
    qtbot.waitUntil(lambda: window.player.current_panel() == panel_id, timeout=WAIT)


def test_a_new_or_duplicated_panel_is_shown_on_the_player(window: MainWindow, qtbot: QtBot) -> None:
    ids = window.timeline_model.panel_ids()
    window.timeline.setFocus()
    window.timeline.select_panels([ids[3]])
    qtbot.waitUntil(lambda: window.player.current_panel() == ids[3], timeout=WAIT)
    qtbot.keyClick(window.timeline, Qt.Key.Key_N)
    new = window.timeline_model.panel_ids()[4]
    shows(window, new, qtbot)
    window.timeline.select_panels([ids[0]])
    qtbot.waitUntil(lambda: window.player.current_panel() == ids[0], timeout=WAIT)
    qtbot.keyClick(window.timeline, Qt.Key.Key_D)
    copy = window.timeline_model.panel_ids()[1]
    assert copy not in ids
    shows(window, copy, qtbot)


def test_undo_and_redo_select_the_panel_they_touched(window: MainWindow, qtbot: QtBot) -> None:
    ids = window.timeline_model.panel_ids()
    stack = window.document.undo_stack
    window.timeline.setFocus()
    window.timeline.select_panels([ids[5]])
    qtbot.keyClick(window.timeline, Qt.Key.Key_N)
    first = window.selection.current
    qtbot.keyClick(window.timeline, Qt.Key.Key_N)
    second = window.selection.current
    assert first and second and second != first
    window.timeline.select_panels([ids[0]])  # the artist looks elsewhere
    stack.undo()  # the second addition goes: the panel before it
    shows(window, first, qtbot)
    stack.undo()  # the first goes too: the panel they were added after
    shows(window, ids[5], qtbot)
    stack.redo()
    shows(window, first, qtbot)
    stack.redo()
    shows(window, second, qtbot)
    window.panel_actions.delete.trigger()
    window.timeline.select_panels([ids[0]])
    stack.undo()  # the deleted panel comes back, selected
    shows(window, second, qtbot)
    window.timeline.select_panels([ids[2]])
    window.inspector.duration.setValue(50)
    window.timeline.select_panels([ids[7]])
    stack.undo()  # a field edit: its panel is shown again
    shows(window, ids[2], qtbot)


def test_undoing_the_first_panels_selects_the_next_one(window: MainWindow, qtbot: QtBot) -> None:
    ids = window.timeline_model.panel_ids()
    window.timeline.select_panels([ids[0]])
    window.panel_actions.new_panel(after=False)  # before 1A: the first panel of the story
    window.document.undo_stack.undo()
    shows(window, ids[0], qtbot)
