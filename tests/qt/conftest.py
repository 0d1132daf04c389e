"""Editor tests: real widgets offscreen, settings and window state kept out of the user's home."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from storyboard.core.settings import AppSettings
from storyboard.qt.app import application
from storyboard.qt.document import Document
from storyboard.qt.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "sample.storyboard"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_CONFIG_DIR", str(tmp_path / "config"))  # window.ini too


@pytest.fixture
def app(qapp: QApplication) -> QApplication:
    return application()


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SAMPLE, tmp_path / "sample.storyboard"))


@pytest.fixture
def window(app: QApplication, qtbot: object, sample_copy: Path) -> Iterator[MainWindow]:
    document, _ = Document.open(sample_copy)
    main = MainWindow(AppSettings(), document)
    main.show()
    yield main
    main.document.undo_stack.setClean()
    main.document._unsaved_results = False
    main.close()


@pytest.fixture
def answer(monkeypatch: pytest.MonkeyPatch) -> list[QMessageBox.StandardButton]:
    """Scripted answers for QMessageBox.question, so modal prompts don't block tests."""
    answers: list[QMessageBox.StandardButton] = []

    def question(*args: object, **kwargs: object) -> QMessageBox.StandardButton:
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    return answers
