"""What a new user's first hour in the editor met (issue 28, ``tools/walkthrough.py``): a story
made from a script laid out, exported, saved, and the inspector at a laptop's size."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from storyboard.core.page_templates import DEFAULT_TEMPLATE
from storyboard.core.panel_commands import RemovePanels
from storyboard.core.script import parse_script
from storyboard.core.settings import AppSettings
from storyboard.qt.document import Document
from storyboard.qt.main_window import MainWindow
from storyboard.qt.widgets.comic_export import ComicExportDialog
from storyboard.qt.widgets.inspector import PanelInspector
from storyboard.qt.widgets.sections import Section

STORY = """\
[Ana] a small person with long red hair wearing a yellow shirt
[Tom] a tall person with short white hair and glasses

## The beach
[Ana] waving on the left on the beach #ANA: Look at the waves!
[Tom] standing on the right on the beach #TOM: Careful.
[Ana] walking on the left and [Tom] walking on the right, on the beach #They walked.

## Going home
[Tom] walking in the middle in the city #TOM: Home before dark.
[Ana] standing on the left in the snow #ANA: Snow!
[Ana] standing on the left and [Tom] standing on the right, in a room #Home at last.
"""


@pytest.fixture
def story_window(app: QApplication, qtbot: QtBot) -> Iterator[MainWindow]:
    window = MainWindow(AppSettings(), Document(parse_script(STORY).project))
    window.show()
    yield window
    window.document.undo_stack.setClean()  # closed here: pytest-qt would close it before this
    window.document._unsaved_results = False
    window.close()


def test_the_first_comic_page_takes_six_panels_not_a_splash(story_window: MainWindow) -> None:
    """The template list starts with the one-panel splash; a first page laid out from the
    empty Comic pages tab took it, so a 6-panel story printed 1A alone on page 1."""
    window = story_window
    assert not window.document.project.page_ids
    window.workspace.setCurrentIndex(1)
    window.pages_empty.buttons["Lay out the first page"].click()
    project = window.document.project
    page = project.pages[project.page_ids[0]]
    assert page.template == DEFAULT_TEMPLATE
    assert len([f for f in page.frames if f.panel_id]) == 6
    assert window.pages.template.currentData() == DEFAULT_TEMPLATE


def test_export_comic_pdf_from_the_menu_asks_for_the_print_options(
    story_window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The menu's triggered(checked=False) arrived as the target: no options dialog, and the
    file dialog was the first thing the artist saw."""
    asked: list[str] = []

    def refuse(dialog: ComicExportDialog) -> int:
        asked.append(dialog.windowTitle())
        return 0  # Cancel: nothing more is asked, nothing exported

    monkeypatch.setattr(ComicExportDialog, "exec", refuse)
    monkeypatch.setattr(
        "storyboard.qt.exports.QFileDialog.getSaveFileName",
        lambda *a, **k: pytest.fail("the file was asked for before the print options"),
    )
    story_window.exports.comic.trigger()
    assert asked == ["Export comic PDF"]


def test_the_not_saved_notice_comes_once_and_goes_with_the_save(
    story_window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = story_window
    window.controller.busy.emit(True)  # the first generation starts
    banner = window.banner
    assert banner.isVisible() and "Not saved yet" in banner.label.text()
    assert str(window.document.bundle) in banner.details  # the folder, for Copy details
    assert banner.label.heightForWidth(700) <= 3 * banner.label.fontMetrics().lineSpacing()
    banner.hide()  # Dismiss
    window.controller.busy.emit(False)
    window.controller.busy.emit(True)  # the next generation does not say it again
    assert not banner.isVisible()
    window.controller.busy.emit(False)
    window.files._told_untitled.clear()
    window.controller.busy.emit(True)
    monkeypatch.setattr(
        "storyboard.qt.project_files.QFileDialog.getSaveFileName",
        lambda *a, **k: (str(tmp_path / "Beach"), ""),
    )
    assert window.files.save()
    assert not banner.isVisible()  # it was saved: the notice was no longer true


def on_screen_in(area: QWidget, widget: QWidget) -> bool:
    """Shown whole inside the scroll area's viewport, without scrolling."""
    top_left = widget.mapTo(area, widget.rect().topLeft())
    return widget.isVisible() and area.rect().contains(QRect(top_left, widget.size()))


def test_at_1366x768_the_inspector_needs_no_scrolling_for_its_first_section(
    story_window: MainWindow, qtbot: QtBot
) -> None:
    window = story_window
    window.default_layout(QSize(1366, 768))
    qtbot.wait(100)
    inspector = window.inspector
    viewport = inspector.viewport()
    assert inspector.verticalScrollBar().value() == 0
    for widget in (
        inspector.prompt,
        inspector.characters_box,
        inspector.dialogue,
        inspector.make_balloon,
    ):
        assert on_screen_in(viewport, widget), widget.objectName()
    assert window.player.height() >= 150  # the player keeps a usable size below it


def test_inspector_sections_fold_and_remember(story_window: MainWindow, qtbot: QtBot) -> None:
    inspector = story_window.inspector
    timing = inspector.sections["timing"]
    assert not timing.is_open() and not inspector.duration.isVisible()
    timing.header.click()
    assert timing.is_open() and inspector.duration.isVisible()
    inspector.sections["notes"].header.click()
    assert inspector.notes.isVisible()
    inspector.sections["notes"].header.click()
    assert not inspector.notes.isVisible() and inspector.prompt.isVisible()
    again = PanelInspector(story_window.document, story_window.selection)  # the next start
    qtbot.addWidget(again)
    assert again.sections["timing"].is_open() and not again.sections["notes"].is_open()
    assert isinstance(again.sections["generation"], Section)
    assert not again.sections["generation"].is_open()


def test_with_no_panel_the_inspector_shows_no_old_fields(story_window: MainWindow) -> None:
    """With no panel (none selected, or none left) the inspector showed the last panel's
    prompt and characters, greyed, under "No panel selected"."""
    window = story_window
    inspector = window.inspector
    assert inspector.prompt.isVisible()
    window.selection.set([], None)
    assert not inspector.prompt.isVisible() and not inspector.characters_box.isVisible()
    assert "click a card in the timeline" in inspector.header.text()
    window.document.push(RemovePanels(list(window.document.project.panels)))
    window.selection.set([], None)
    assert not inspector.prompt.isVisible()
    assert "No panels yet" in inspector.header.text()
