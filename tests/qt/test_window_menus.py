"""The menu bar as an artist uses it: Open recent, and Edit > Undo after another project opens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu

from storyboard.core.settings import AppSettings
from storyboard.qt.document import Document
from storyboard.qt.main_window import MainWindow
from storyboard.qt.project_files import empty_project


def submenu(parent: QMenu | None, title: str) -> QMenu:
    assert parent is not None
    for action in parent.actions():
        if action.text() == title and action.menu() is not None:
            menu = action.menu()
            assert isinstance(menu, QMenu)
            return menu
    raise AssertionError(f"no menu {title!r}")


def item(menu: QMenu, text: str) -> QAction:
    return next(a for a in menu.actions() if a.text() == text)


@pytest.fixture
def fresh(app: QApplication, qtbot: object, sample_copy: Path) -> Iterator[MainWindow]:
    """An untitled window that has the sample copy among its recent projects."""
    main = MainWindow(AppSettings(recent_projects=[str(sample_copy)]), Document(empty_project()))
    main.show()
    yield main
    main.document.undo_stack.setClean()
    main.close()


def file_menu(window: MainWindow) -> QMenu:
    menu = window.menuBar().actions()[0].menu()
    assert isinstance(menu, QMenu) and menu.title() == "&File"
    return menu


def test_open_recent_lists_the_recent_projects_and_opens_one(
    fresh: MainWindow, sample_copy: Path
) -> None:
    recent = submenu(file_menu(fresh), "Open &recent")
    recent.aboutToShow.emit()
    item(recent, str(sample_copy)).trigger()
    assert fresh.document.path == sample_copy
    assert fresh.windowTitle().startswith("sample[*]")


def test_open_recent_says_none_when_there_are_none(app: QApplication, qtbot: object) -> None:
    main = MainWindow(AppSettings(), Document(empty_project()))
    recent = submenu(file_menu(main), "Open &recent")
    recent.aboutToShow.emit()
    recent.aboutToShow.emit()  # shown twice: still one entry
    assert [a.text() for a in recent.actions()] == ["(none)"]
    assert not recent.actions()[0].isEnabled()
    main.close()


def test_edit_undo_follows_the_project_opened_after_it(window: MainWindow) -> None:
    old = window.document
    item(file_menu(window), "&New").trigger()
    assert window.document is not old
    window.panel_actions.new_after.trigger()
    stack = window.document.undo_stack
    assert stack.count() == 1
    bar = window.menuBar()
    edit = next(a.menu() for a in bar.actions() if a.text() == "&Edit")
    assert isinstance(edit, QMenu)
    undo = item(edit, f"&Undo {stack.undoText()}")
    undo.trigger()
    assert stack.count() == 1 and stack.index() == 0  # the new project's step was undone
    assert old.undo_stack.count() == 0
