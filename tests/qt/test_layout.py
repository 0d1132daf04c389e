"""The window as a new artist meets it (issue 28): the default layout at laptop and desktop
sizes, the icons, and the empty states that say what to do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QTabBar, QToolBar, QWidget
from pytestqt.qtbot import QtBot

from storyboard.core.commands import RemoveItem
from storyboard.core.settings import AppSettings
from storyboard.qt.document import Document
from storyboard.qt.icons import icon
from storyboard.qt.main_window import MainWindow
from storyboard.qt.project_files import empty_project
from storyboard.qt.theme import dark_palette


def visible_cards(window: MainWindow) -> int:
    timeline = window.timeline
    viewport = timeline.viewport().rect()
    model = timeline.model()
    return sum(
        viewport.contains(timeline.visualRect(model.index(row, 0)))
        for row in range(model.rowCount())
    )


def on_screen(window: MainWindow, widget: QWidget) -> bool:
    """The widget is shown whole inside the window (not scrolled away, not cut off)."""
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return widget.isVisible() and window.rect().contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize(("screen", "cards"), [(QSize(1366, 768), 6), (QSize(1920, 1080), 8)])
def test_the_first_window_shows_cards_the_panel_and_its_candidates(
    window: MainWindow, qtbot: QtBot, screen: QSize, cards: int
) -> None:
    window.default_layout(screen)
    qtbot.wait(50)
    assert window.width() <= screen.width() and window.height() <= screen.height()
    assert visible_cards(window) >= cards
    assert on_screen(window, window.preview) and window.preview.height() >= 200
    assert on_screen(window, window.candidates.candidates)
    assert on_screen(window, window.candidates.accept)
    assert on_screen(window, window.inspector.prompt)
    timeline = window.docks["Timeline"].geometry()
    bars = window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
    assert not [b for b in bars if b.isVisible() and b.geometry().intersects(timeline)]
    # the Characters tab beside Scenes: its form as wide as it needs, nothing cut at the right
    window.docks["Characters"].raise_()
    qtbot.wait(50)
    form = window.characters.form
    shown = form.parentWidget()  # the scroll area's viewport
    assert form.minimumSizeHint().width() <= shown.width()


def test_toolbars_show_icons_with_their_words_in_tooltips(window: MainWindow) -> None:
    main = window.findChild(QToolBar, "main-toolbar")
    assert main is not None and main.isVisible()
    actions = [a for a in main.actions() if not a.isSeparator()]
    assert len(actions) >= 10
    for action in actions:
        assert not action.icon().isNull() and action.icon().pixmap(20, 20).toImage().width()
        assert action.toolTip()
    assert "(N)" in window.panel_actions.new_after.toolTip()  # the shortcut is said too
    for action in window.studio.tool_actions.values():  # the canvas tools wear the same set
        assert not action.icon().isNull()
    timeline_tools = window.findChild(QToolBar, "timeline-tools")
    assert timeline_tools is not None and timeline_tools.isVisible()
    assert window.panel_actions.new_after in timeline_tools.actions()
    assert window.panel_actions.new_after in main.actions()  # the same action, the same icon


def ink(action_icon: QIcon) -> QColor:
    """The colour of the icon's darkest or brightest drawn pixel (its stroke)."""
    image = action_icon.pixmap(48, 48).toImage()
    strokes = [
        image.pixelColor(x, y)
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() == 255
    ]
    assert strokes
    return strokes[0]


def test_icons_are_drawn_in_the_themes_text_colour(app: QApplication) -> None:
    light = QPalette(QGuiApplication.palette())
    light.setColor(QPalette.ColorRole.ButtonText, QColor("#101010"))
    try:
        app.setPalette(light)
        assert ink(icon("play")).lightness() < 60
        app.setPalette(dark_palette())
        assert ink(icon("play")).lightness() > 200  # the same QIcon, painted again
    finally:
        app.setPalette(QApplication.style().standardPalette())


@pytest.fixture
def empty_window(app: QApplication, qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    recent = tmp_path / "Harbour.storyboard"
    recent.mkdir()
    main = MainWindow(AppSettings(recent_projects=[str(recent)]), Document(empty_project()))
    main.show()
    yield main
    main.document.undo_stack.setClean()
    main.close()


def test_an_empty_project_offers_its_first_panel(empty_window: MainWindow, qtbot: QtBot) -> None:
    window = empty_window
    start = window.start_page
    assert start.isVisible() and not window.preview.isVisible()
    assert "no panels yet" in start.title.text()
    for label in ("Add the first panel", "New from story script…", "Open…", "Open the sample"):
        assert start.buttons[label].isVisible()
    assert [b.text() for b in start.findChildren(QWidget, "recent-project")] == ["Harbour"]
    start.buttons["Add the first panel"].click()
    assert len(window.document.project.panels) == 1
    assert window.preview.isVisible() and not start.isVisible()
    assert window.selection.current in window.document.project.panels
    window.document.undo_stack.undo()  # back to none: the start page again
    assert start.isVisible()


def test_the_sample_opens_as_an_untitled_copy(empty_window: MainWindow) -> None:
    empty_window.start_page.buttons["Open the sample"].click()
    document = empty_window.document
    assert document.path is None and len(document.project.panels) == 12
    assert empty_window.preview.isVisible()


def test_empty_comic_pages_say_what_to_do(window: MainWindow, qtbot: QtBot) -> None:
    project = window.document.project
    for page_id in list(project.page_ids):  # the sample has a page: take it away
        window.document.push(RemoveItem("pages", page_id, label="Remove page"))
    window.workspace.setCurrentIndex(1)
    empty = window.pages_empty
    assert empty.isVisible() and "No comic pages yet" in empty.title.text()
    button = empty.buttons["Lay out the first page"]
    assert button.isEnabled()
    button.click()
    assert len(project.page_ids) == 1 and window.pages.canvas.isVisible()


def test_menus_wear_the_toolbar_icons(window: MainWindow) -> None:
    file_menu = window.menuBar().actions()[0].menu()
    assert file_menu is not None
    named = {a.text(): a for a in file_menu.actions() if isinstance(a, QAction)}
    assert not named["&Save"].icon().isNull() and not named["&Open…"].icon().isNull()
