"""Generate > Print size in the editor, with a scripted engine on the real worker thread: the
dialog's plan, one queue job per panel with progress, each result a new accepted candidate with
the original kept, and Cancel."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from inference.worker import EngineSettings
from storyboard.core.numbering import panel_numbers
from storyboard.core.print_jobs import UPSCALED_FROM
from storyboard.core.settings import AppSettings
from storyboard.qt.controller import GenerationController, JobState
from storyboard.qt.document import Document
from storyboard.qt.main_window import MainWindow
from storyboard.qt.print_size_action import PrintSizeDialog
from tests.qt.fake_engine import FakeEngine

WAIT = 10_000


@pytest.fixture
def script() -> dict[str, object]:
    return {}


@pytest.fixture
def controller(app: QApplication, script: dict[str, object]) -> Iterator[GenerationController]:
    made = GenerationController(lambda settings: FakeEngine(settings, **script))  # type: ignore[arg-type]
    yield made
    made.shutdown()


@pytest.fixture
def studio(
    app: QApplication, sample_copy: object, controller: GenerationController, qtbot: QtBot
) -> Iterator[MainWindow]:
    document, _ = Document.open(sample_copy)  # type: ignore[arg-type]
    window = MainWindow(AppSettings(model_source="tiny/test"), document, controller)
    window.show()
    window.generation.story.trigger()  # every panel gets a 16x9 image
    qtbot.waitUntil(lambda: all(j.state is JobState.DONE for j in controller.jobs), timeout=WAIT)
    controller.clear_finished()
    yield window
    window.document.undo_stack.setClean()
    window.document._unsaved_results = False
    window.close()


def answer(dpi: int, pages: str, seen: list[str]) -> object:
    """A stand-in for the dialog's exec: set the options, note the plan shown, press OK."""

    def exec_(dialog: PrintSizeDialog) -> int:
        dialog.dpi.setValue(dpi)
        dialog.pages.setText(pages)
        seen.append(dialog.summary.text())
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        seen.append(ok.text() if ok.isEnabled() else "")
        return int(ok.isEnabled())

    return exec_


def test_print_size_queues_a_job_per_panel_and_accepts_the_larger_image(
    studio: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = studio.document.project
    numbers = panel_numbers(project)
    on_page = [f.panel_id for f in project.pages[project.page_ids[0]].frames]
    originals = {pid: project.panels[pid].image for pid in on_page}
    seen: list[str] = []
    monkeypatch.setattr(PrintSizeDialog, "exec", answer(30, "1", seen))
    studio.generation.print_size.trigger()

    plan, button = seen
    first = numbers[on_page[0]]
    assert plan.splitlines()[0].startswith(f"{first}: 16x9 -> 64x40 px (")  # 4x at most
    assert button == f"Enlarge {len(on_page)} panels"
    jobs = studio.controller.jobs
    assert [j.label for j in jobs] == [f"Print size {numbers[p]} (64x40)" for p in on_page]
    qtbot.waitUntil(lambda: all(j.state is JobState.DONE for j in jobs), timeout=WAIT)
    for pid in on_page:
        panel = project.panels[pid]
        new = panel.candidates[-1]
        assert panel.image == new.asset != originals[pid]  # the larger one is shown
        assert new.settings[UPSCALED_FROM] == originals[pid]
        assert originals[pid] in [c.asset for c in panel.candidates]  # the original is kept
    # a second run finds them enlarged (the largest version is what it measures)
    seen.clear()
    monkeypatch.setattr(PrintSizeDialog, "exec", answer(12, "1", seen))
    studio.generation.print_size.trigger()
    assert seen[0].startswith("already 12 dpi or more: ") and seen[1] == ""


def test_a_running_print_job_cancels_and_leaves_the_panel_as_it_was(
    studio: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, script: dict[str, object]
) -> None:
    gate = threading.Event()
    script["step_gate"] = gate
    # a new engine with the gate: the settings differ, so the worker makes one
    monkeypatch.setattr(studio.generation, "engine_settings", lambda: EngineSettings("cpu"))
    project = studio.document.project
    pid = project.pages[project.page_ids[0]].frames[0].panel_id
    before = (project.panels[pid].image, len(project.panels[pid].candidates))
    monkeypatch.setattr(PrintSizeDialog, "exec", answer(30, "1", []))
    studio.generation.print_size.trigger()
    running = studio.controller.jobs[0]
    qtbot.waitUntil(lambda: running.state is JobState.RUNNING, timeout=WAIT)
    studio.controller.cancel_all()
    gate.set()
    qtbot.waitUntil(
        lambda: all(j.state is JobState.CANCELLED for j in studio.controller.jobs), timeout=WAIT
    )
    assert (project.panels[pid].image, len(project.panels[pid].candidates)) == before


def test_the_dialog_refuses_unknown_pages_and_says_why(studio: MainWindow, qtbot: QtBot) -> None:
    dialog = PrintSizeDialog(studio, studio.document)
    qtbot.addWidget(dialog)
    dialog.pages.setText("9")
    assert dialog.summary.text() == "no page 9 (the comic has 2)"
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
