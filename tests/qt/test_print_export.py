"""The comic PDF dialog's options and preflight line, and the title a Save As gives a project."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from storyboard.core.persistence import load_project
from storyboard.core.settings import AppSettings, ExportDefaults
from storyboard.qt.document import Document
from storyboard.qt.main_window import MainWindow
from storyboard.qt.project_files import empty_project
from storyboard.qt.widgets.comic_export import ComicExportDialog
from tests.export.test_print import two_page_project


def test_the_dialog_shows_the_preflight_and_follows_the_options(
    app: QApplication, qtbot: QtBot, tmp_path: Path
) -> None:
    project = two_page_project(tmp_path)
    dialog = ComicExportDialog(project, tmp_path, ExportDefaults())
    qtbot.addWidget(dialog)
    assert dialog.pdfx.isChecked() and dialog.options().pdfx  # PDF/X-4 unless unticked
    text = dialog.preflight.text()
    assert "1: 333 dpi, 2: 53 dpi" in text
    assert "page 2: 53 dpi (panel 1B) — prints soft" in text
    assert "b3261e" in dialog.preflight.styleSheet()  # the warning stands out
    # a smaller page prints the same pixels smaller: sharper
    dialog.preset.setCurrentIndex(dialog.preset.findData("a5"))
    assert "1: 333 dpi" not in dialog.preflight.text()
    dialog.pdfx.setChecked(False)
    options = dialog.options()
    assert (options.preset, options.pdfx, options.all_panels) == ("a5", False, True)


def test_export_comic_asks_then_writes_what_the_dialog_chose(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "chosen.pdf"

    def choose(dialog: ComicExportDialog) -> int:
        dialog.pdfx.setChecked(False)
        dialog.cover.setChecked(True)
        return 1

    monkeypatch.setattr(ComicExportDialog, "exec", choose)
    monkeypatch.setattr(
        "storyboard.qt.exports.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), "")
    )
    with qtbot.waitSignal(window.exports.finished, timeout=60_000):
        assert window.exports.export_comic() is not None
    reader = PdfReader(target)
    assert "/OutputIntents" not in reader.trailer["/Root"]
    assert len(reader.pages) == 3  # the cover, then the sample's two pages


def test_save_as_names_an_untitled_project_after_its_folder(
    app: QApplication, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = MainWindow(AppSettings(), Document(empty_project()))
    qtbot.addWidget(window)
    assert window.document.project.settings.title == "Untitled"
    target = tmp_path / "Lost Hat"
    monkeypatch.setattr(
        "storyboard.qt.project_files.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), "")
    )
    assert window.files.save()  # an untitled project: Save is Save As
    assert window.document.project.settings.title == "Lost Hat"
    assert load_project(tmp_path / "Lost Hat.storyboard").project.settings.title == "Lost Hat"
    # a title the artist gave stays through a Save As
    window.document.project.settings.title = "The Lost Hat"
    other = tmp_path / "copy.storyboard"
    monkeypatch.setattr(
        "storyboard.qt.project_files.QFileDialog.getSaveFileName", lambda *a, **k: (str(other), "")
    )
    assert window.files.save_as()
    assert load_project(other).project.settings.title == "The Lost Hat"
    window.document.close_session()


def test_a_save_as_that_fails_leaves_the_title_untitled(app: QApplication, tmp_path: Path) -> None:
    document = Document(empty_project())
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(Exception, match="file"):
        document.save(blocked / "Inside")
    assert document.project.settings.title == "Untitled"
    document.close_session()
