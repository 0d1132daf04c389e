"""One owner per project in the editor: a second window or a running ``generate`` makes a window
read-only (with a banner saying who holds it, and Take over once they are gone), and a save never
overwrites a newer project.json without asking."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from storyboard.cli import main
from storyboard.core.commands import EditFields
from storyboard.core.ownership import LOCK_FILE, read_holder
from storyboard.core.persistence import load_project, save_project
from storyboard.core.settings import AppSettings
from storyboard.qt.main_window import MainWindow
from tests.core.test_ownership import hold_in_subprocess

Opener = Callable[[Path], MainWindow]


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the windows showed in error dialogs (shown, not blocking the test)."""
    shown: list[str] = []

    def show(_parent: object, title: str, message: str, details: str = "") -> None:
        shown.append(f"{title}: {message}")

    for module in ("project_files", "generation_actions", "recovery"):
        monkeypatch.setattr(f"storyboard.qt.{module}.show_error", show)
    return shown


@pytest.fixture
def open_window(app: QApplication) -> Iterator[Opener]:
    """Windows opened on a project as an artist would (File > Open), closed at the end."""
    windows: list[MainWindow] = []

    def opener(path: Path) -> MainWindow:
        window = MainWindow(AppSettings())
        window.show()
        assert window.files.open_path(path)
        windows.append(window)
        return window

    yield opener
    for window in windows:
        window.document.undo_stack.setClean()
        window.document._unsaved_results = False
        window.close()


def retitle(window: MainWindow, title: str) -> None:
    settings = window.document.project.settings
    window.document.push(EditFields("settings", "", {"title": title}))
    assert settings.title == title or window.document.read_only


def test_a_second_window_opens_read_only_and_never_writes(
    sample_copy: Path,
    open_window: Opener,
    answer: list[QMessageBox.StandardButton],
    errors: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = open_window(sample_copy)
    retitle(first, "Edited in the first window")
    first.files.autosave_now()
    recovery = (sample_copy / "recovery.json").read_bytes()
    lock = read_holder(sample_copy)
    saved = (sample_copy / "project.json").read_bytes()

    # no "did not close cleanly" question: `answer` holds none, so asking would fail the test
    second = open_window(sample_copy)
    assert second.document.read_only and not first.document.read_only
    banner = second.read_only_banner
    assert banner.isVisible()
    assert f"open in the editor (process {os.getpid()} on {socket.gethostname()}" in (
        banner.label.text()
    )
    assert "(read-only)" in second.windowTitle()

    retitle(second, "Edited in the second window")  # refused: the project is not changed
    assert second.document.project.settings.title != "Edited in the second window"
    assert not second.isWindowModified()
    assert not second.generation.enqueue("Story", None)
    assert not second.files.save_to(None)
    assert "open in the editor" in errors[-1] and str(sample_copy / LOCK_FILE) in errors[-1]
    second.close()  # closing the read-only window touches nothing of the owner's

    assert (sample_copy / "recovery.json").read_bytes() == recovery
    assert read_holder(sample_copy) == lock
    assert (sample_copy / "project.json").read_bytes() == saved
    # so generate still sees the first window as the owner
    assert main(["generate", str(sample_copy), "--panels", "1A"]) == 2
    assert "is open in the editor" in capsys.readouterr().err
    assert first.files.save_to(None)
    assert load_project(sample_copy).project.settings.title == "Edited in the first window"


def test_take_over_once_the_owner_is_gone(
    sample_copy: Path, open_window: Opener, qtbot: QtBot, errors: list[str]
) -> None:
    first = open_window(sample_copy)
    second = open_window(sample_copy)
    assert not second.read_only_banner.button.isVisible()
    retitle(first, "Saved by the first window")
    assert first.files.save_to(None)
    first.close()

    banner = second.read_only_banner
    qtbot.waitUntil(banner.button.isVisible, timeout=5000)  # it looks every two seconds
    assert "no longer has this project open" in banner.label.text()
    banner.button.click()
    assert not second.document.read_only and not banner.isVisible()
    assert second.document.project.settings.title == "Saved by the first window"
    assert read_holder(sample_copy).token == second.document.lock.holder.token  # type: ignore[union-attr]
    retitle(second, "Now edited in the second window")
    assert second.files.save_to(None)
    assert errors == []


def test_the_editor_is_read_only_while_generate_runs(
    sample_copy: Path, open_window: Opener, errors: list[str]
) -> None:
    generate = hold_in_subprocess(sample_copy, "generate")  # a real process holding the lock
    try:
        window = open_window(sample_copy)
        assert window.document.read_only
        text = window.read_only_banner.label.text()
        assert f"open in storyboard generate (process {generate.pid} " in text
        assert not window.files.save_to(None)
        assert "storyboard generate" in errors[-1] and "Wait until it finishes" in errors[-1]
    finally:
        generate.kill()  # even killed, generate leaves no lock that keeps the editor out
        generate.wait()
    window.read_only_banner.refresh()
    assert window.read_only_banner.button.isVisible()
    assert window.files.take_over() and not window.document.read_only


def test_reopening_the_open_project_in_its_window_keeps_it_writable(
    sample_copy: Path, open_window: Opener
) -> None:
    window = open_window(sample_copy)
    assert window.files.open_path(sample_copy)
    assert not window.document.read_only and window.document.lock is not None
    assert read_holder(sample_copy) == window.document.lock.holder


@pytest.fixture
def choose(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Scripted clicks in the save-conflict dialog, by button text."""
    clicks: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: 0)

    def clicked(box: QMessageBox) -> object:
        wanted = clicks.pop(0)
        return next(b for b in box.buttons() if b.text() == wanted)

    monkeypatch.setattr(QMessageBox, "clickedButton", clicked)
    return clicks


def test_a_save_never_silently_overwrites_a_newer_project_json(
    sample_copy: Path,
    open_window: Opener,
    choose: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    window = open_window(sample_copy)
    # another program (an older editor, a sync tool) writes the project meanwhile
    theirs = load_project(sample_copy).project
    theirs.settings.title = "Saved elsewhere"
    save_project(theirs, sample_copy)
    retitle(window, "Mine")

    choose.append("Cancel")
    assert not window.files.save_to(None)
    assert load_project(sample_copy).project.settings.title == "Saved elsewhere"

    copy = tmp_path / "mine-copy"
    monkeypatch.setattr(
        "storyboard.qt.project_files.QFileDialog.getSaveFileName", lambda *a, **k: (str(copy), "")
    )
    choose.append("Save As…")
    assert window.files.save_to(None)
    assert load_project(sample_copy).project.settings.title == "Saved elsewhere"
    assert load_project(tmp_path / "mine-copy.storyboard").project.settings.title == "Mine"


def test_reload_or_overwrite_after_a_change_on_disk(
    sample_copy: Path, open_window: Opener, choose: list[str]
) -> None:
    window = open_window(sample_copy)
    theirs = load_project(sample_copy).project
    theirs.settings.title = "Saved elsewhere"
    save_project(theirs, sample_copy)
    retitle(window, "Mine")

    choose.append("Reload")
    assert not window.files.save_to(None)
    assert window.document.project.settings.title == "Saved elsewhere"
    assert not window.isWindowModified() and not window.document.read_only

    theirs.settings.title = "Saved elsewhere again"
    save_project(theirs, sample_copy)
    retitle(window, "Mine after all")
    choose.append("Overwrite")
    assert window.files.save_to(None)
    assert load_project(sample_copy).project.settings.title == "Mine after all"
    retitle(window, "And again")  # what it wrote is now the version it knows: no question
    assert window.files.save_to(None)


def test_save_as_onto_a_project_open_elsewhere_is_refused(
    sample_copy: Path, open_window: Opener, errors: list[str], tmp_path: Path
) -> None:
    other = Path(shutil.copytree(sample_copy, tmp_path / "b.storyboard"))
    busy = open_window(other)
    window = open_window(sample_copy)
    before = (other / "project.json").read_bytes()
    assert not window.files.save_to(other)
    assert "open in the editor" in errors[-1]
    assert (other / "project.json").read_bytes() == before
    assert not busy.document.read_only
