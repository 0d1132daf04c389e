"""The balloon dock: add, letter (one undo step per stretch of typing), kind, delete."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from storyboard.core.model import BalloonKind
from storyboard.qt.main_window import MainWindow


def test_add_letter_change_kind_and_delete_a_balloon(window: MainWindow, qtbot: QtBot) -> None:
    panel_id = window.timeline_model.panel_ids()[2]  # 1C: a panel with dialogue
    window.timeline.select_panels([panel_id])
    editor = window.balloons
    panel = window.document.project.panels[panel_id]
    before = len(panel.balloons)  # the sample panel's own dialogue balloon
    editor.add_balloon()
    assert len(panel.balloons) == before + 1
    assert panel.balloons[-1].character_id is not None  # the panel's only character speaks
    editor.text.selectAll()
    qtbot.keyClicks(editor.text, "Anybody home?")
    assert panel.balloons[-1].text == "Anybody home?"
    editor.kind.setCurrentIndex(editor.kind.findData(BalloonKind.SHOUT))
    editor.kind.activated.emit(editor.kind.currentIndex())
    assert panel.balloons[-1].kind == BalloonKind.SHOUT
    stack = window.document.undo_stack
    assert [stack.text(i) for i in range(stack.count())] == [
        "Add balloon",
        "Edit balloon",  # the typing, merged
        "Edit balloon",  # the kind
    ]
    editor.delete_balloon()
    assert len(panel.balloons) == before
    stack.undo()
    assert panel.balloons[-1].text == "Anybody home?"
    assert editor.list.count() == before + 1
