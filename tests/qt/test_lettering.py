"""Letter all panels from the Comic pages view and the Balloons dock, and Letter it on one panel:
each one undo step, each saying in the status bar what it did."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from storyboard.qt.main_window import MainWindow


def test_letter_all_panels_from_the_pages_view_and_the_balloons_dock(
    window: MainWindow, qtbot: QtBot
) -> None:
    project = window.document.project
    talking = [p for p in project.ordered_panels() if p.dialogue.strip()]
    assert len(talking) == 12
    for panel in talking[:9]:  # as a story typed into the editor: dialogue, no balloons
        panel.balloons = []
    lettered = talking[9:]
    window.pages.letter_all.click()
    assert all(p.balloons for p in talking)
    message = window.statusBar().currentMessage()
    assert message == "Lettered 9 panels; 3 panels already had balloons"
    stack = window.document.undo_stack
    assert stack.count() == 1 and stack.text(0).startswith("Letter ")
    stack.undo()
    assert [p for p in talking if p.balloons] == lettered
    window.balloons.letter_all.click()  # the same from the Balloons dock
    assert all(p.balloons for p in talking)
    window.balloons.letter_all.click()  # nothing left: it says so and adds no step
    assert window.statusBar().currentMessage().startswith("No panel to letter")
    assert stack.count() == 1


def test_letter_it_on_one_panel_says_what_it_did(window: MainWindow) -> None:
    panel = next(p for p in window.document.project.ordered_panels() if p.dialogue.strip())
    panel.balloons = []
    window.timeline.select_panels([panel.id])
    window.inspector.make_balloon.click()
    assert len(panel.balloons) == 1
    assert window.statusBar().currentMessage().startswith("Lettered panel ")
