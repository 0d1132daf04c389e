"""Nothing is lost to a crash: untitled work autosaves into the user data folder and is offered
at the next start; a damaged project.json opens from its autosave; a damaged autosave is set
aside with a message while the project opens as saved."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from storyboard.core.autosave import Autosave
from storyboard.core.ownership import LOCK_FILE
from storyboard.core.persistence import load_project
from storyboard.core.script import load_script
from storyboard.core.settings import AppSettings
from storyboard.qt.app import open_window
from storyboard.qt.controller import GenerationController, JobState
from storyboard.qt.document import Document
from storyboard.qt.main_window import MainWindow
from tests.qt.conftest import ROOT
from tests.qt.fake_engine import FakeEngine

Button = QMessageBox.StandardButton
SCRIPT = ROOT / "resources" / "scripts" / "lighthouse.txt"
# File > New from story script, one edit, the autosave timer fires, then kill -9
CRASHING_EDITOR = """
import os, signal, sys
from pathlib import Path
from storyboard.core.settings import AppSettings
from storyboard.qt.app import application
from storyboard.qt.main_window import MainWindow
from storyboard.qt.widgets.script_dialog import ScriptDialog
app = application()
text = Path(sys.argv[1]).read_text()
def create(dialog):  # the artist waits for the script to be read, then clicks Create
    dialog.set_text(text)
    dialog.wait()
    app.processEvents()
    return 1
ScriptDialog.exec = create
window = MainWindow(AppSettings())
window.show()
window.files.new_from_script()
window.timeline.select_panels(window.timeline_model.panel_ids()[:1])
window.panel_actions.new_panel(after=True)
window.files.autosave_now()
print(len(window.document.project.panels), window.document.bundle, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []

    def show(_parent: object, title: str, message: str, details: str = "") -> None:
        shown.append(f"{title}: {message}")

    for module in ("project_files", "recovery"):
        monkeypatch.setattr(f"storyboard.qt.{module}.show_error", show)
    return shown


@pytest.fixture
def windows(app: QApplication) -> Iterator[list[MainWindow]]:
    """Windows to close without questions at the end of a test."""
    made: list[MainWindow] = []
    yield made
    for window in made:
        window.document.undo_stack.setClean()
        window.document._unsaved_results = False
        window.close()


def test_untitled_work_survives_kill_9_and_is_offered_at_the_next_start(
    tmp_path: Path,
    windows: list[MainWindow],
    answer: list[Button],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}  # STORYBOARD_CONFIG_DIR: this test's
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_EDITOR, str(SCRIPT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    panels, folder = crashed.stdout.split(maxsplit=1)
    left = Path(folder.strip())
    assert left.parent == tmp_path / "config" / "data" / "untitled"

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # open_window installs its own
    answer.append(Button.Yes)  # "Recover untitled work?"
    window = open_window(None)  # the next start
    windows.append(window)
    document = window.document
    assert document.path is None and document.bundle == left
    assert len(document.project.panels) == int(panels) == 13  # the script's 12 and the edit
    assert window.isWindowModified()

    assert window.files.save_to(tmp_path / "Lighthouse")
    assert len(load_project(tmp_path / "Lighthouse.storyboard").project.panels) == 13
    assert not left.exists()  # the work moved into the project the artist named


def test_a_clean_close_of_untitled_work_leaves_nothing_to_offer(
    app: QApplication, tmp_path: Path, answer: list[Button]
) -> None:
    window = MainWindow(AppSettings(), Document(load_script(SCRIPT).project))
    window.panel_actions.new_panel(after=True)
    window.files.autosave_now()
    folder = window.document.bundle
    assert (folder / "recovery.json").is_file()
    answer.append(Button.Discard)  # "Save the changes?": no
    assert window.close()
    assert not folder.exists()
    other = MainWindow(AppSettings())
    other.files.offer_untitled_work()  # asks nothing: `answer` is empty
    other.close()


@pytest.fixture
def controller(app: QApplication) -> Iterator[GenerationController]:
    made = GenerationController(FakeEngine)
    yield made
    made.shutdown()


def test_generating_an_untitled_project_keeps_every_image_and_says_where(
    controller: GenerationController,
    windows: list[MainWindow],
    qtbot: QtBot,
    answer: list[Button],
) -> None:
    window = MainWindow(
        AppSettings(model_source="tiny/test"), Document(load_script(SCRIPT).project), controller
    )
    windows.append(window)
    window.show()
    window.generation.story.trigger()
    qtbot.waitUntil(
        lambda: bool(controller.jobs) and controller.jobs[0].state is JobState.DONE, timeout=10_000
    )
    folder = window.document.bundle
    assert "Not saved yet" in window.banner.label.text()
    assert str(folder) in window.banner.details  # Copy details gives the folder
    made = {c.asset for p in window.document.project.panels.values() for c in p.candidates}
    assert len(made) == 12 and all((folder / "assets" / f"{a}.png").is_file() for a in made)

    # the editor dies now (its lock names a process that is gone); the next start offers it all
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = {"program": "editor", "pid": dead.pid, "host": socket.gethostname(), "token": "t"}
    (folder / LOCK_FILE).write_text(json.dumps(lock))
    answer.append(Button.Yes)
    later = MainWindow(AppSettings())
    windows.append(later)
    later.files.offer_untitled_work()
    recovered = later.document.project
    assert {c.asset for p in recovered.panels.values() for c in p.candidates} == made


def test_a_damaged_project_opens_from_its_good_autosave(
    sample_copy: Path, windows: list[MainWindow], answer: list[Button], errors: list[str]
) -> None:
    project = load_project(sample_copy).project
    project.settings.title = "Autosaved after the last save"
    Autosave(sample_copy).write(project)
    (sample_copy / "project.json").write_text('{"format": "storyboard-project", "scenes": {')

    answer.append(Button.Yes)  # "Open the autosave?"
    window = MainWindow(AppSettings())
    windows.append(window)
    assert window.files.open_path(sample_copy), errors
    assert window.document.project == project
    assert window.isWindowModified() and not window.document.read_only
    assert "damaged" in window.banner.details
    assert window.files.save_to(None)
    assert load_project(sample_copy).project == project  # the save repaired project.json


def test_a_damaged_autosave_is_reported_and_the_project_opens_as_saved(
    sample_copy: Path, windows: list[MainWindow], answer: list[Button], errors: list[str]
) -> None:
    (sample_copy / "recovery.json").write_text('{"format": "storyboard-project", "scenes": ')
    answer.append(Button.Yes)  # "Recover unsaved work?"
    window = MainWindow(AppSettings())
    windows.append(window)
    assert window.files.open_path(sample_copy)
    assert window.document.project == load_project(sample_copy).project
    assert not window.isWindowModified()
    assert len(errors) == 1 and errors[0].startswith("The autosave could not be read")
    aside = sample_copy / "recovery.damaged.json"
    assert str(aside) in errors[0] and aside.read_text().startswith('{"format"')
    assert not (sample_copy / "recovery.json").exists()
