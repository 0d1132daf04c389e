"""The editor on hostile projects: opening, showing, editing externally, saving, Save As and
exporting never read, write or delete anything outside the project's folder.

The variants come from ``bench/hostile_projects.py`` (also used by ``tests/hostile`` for the
command line): a traversal, an absolute path or a link in an id field or a bundle entry. Before
and after, everything else in the sandbox is snapshot (the victim folder: names, sizes, times,
link targets); the window is grabbed with every panel selected on every tab, and must never show
the victim's magenta secret; the exports, the bundle and the Save As copy must not carry it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from bench.hostile_leaks import leaks
from bench.hostile_projects import variants
from bench.hostile_sandbox import Sandbox, Variant, make_sandbox
from bench.hostile_snapshot import changes, snapshot
from storyboard.core.settings import AppSettings
from storyboard.qt import exports as exports_module
from storyboard.qt import project_files as project_files_module
from storyboard.qt.main_window import MainWindow

WAIT = 60_000
OPENING = [
    v
    for v in variants()
    if v.opens and (v.form in ("symlink", "traversal") or v.name.startswith("all"))
]
REFUSED = [
    "panels.image/traversal",
    "panels.layers.asset/absolute",
    "assets/symlink",
    "assets+recovery/symlink",
    "project.json/symlink",
]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return make_sandbox(Path(tmp_path_factory.mktemp("hostile")))


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Error dialogs and questions answered without blocking: errors are recorded, and Yes is
    said (to "Recover unsaved work?" among others: a recovery file must be the project's own)."""
    shown: list[str] = []

    def show_error(_parent: object, title: str, message: str, details: str = "") -> None:
        shown.append(f"{title}: {message}")

    monkeypatch.setattr(project_files_module, "show_error", show_error)
    monkeypatch.setattr(exports_module, "show_error", show_error)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    return shown


@pytest.fixture
def window(app: QApplication) -> Iterator[MainWindow]:
    main = MainWindow(AppSettings())
    main.settings.image_editor = "true"  # a program that opens the file and exits at once
    main.settings.export.video_size = "720p"
    yield main
    main.studio.external.stop()
    main.document.undo_stack.setClean()
    main.document._unsaved_results = False
    main.close()


def _shows_secret(widget: QWidget) -> bool:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, stride * height).reshape(height, stride)
    pixels = rows[:, : width * 3].reshape(height, width, 3).astype(int)
    near = (pixels[..., 0] > 200) & (pixels[..., 1] < 70) & (pixels[..., 2] > 200)
    return int(near.sum()) >= 16


def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("variant", OPENING, ids=lambda v: v.name)
def test_the_editor_never_reaches_outside_a_hostile_project(
    app: QApplication,
    qtbot: QtBot,
    sandbox: Sandbox,
    window: MainWindow,
    errors: list[str],
    variant: Variant,
) -> None:
    bundle = variant.build(sandbox, name="editor")
    out = _fresh(sandbox.sandbox / "editor-out")
    out.mkdir()
    saved_as = _fresh(sandbox.sandbox / "editor-saved-as.storyboard")
    skip = (bundle, out, saved_as)
    before = snapshot(sandbox.root, skip=skip)

    assert window.files.open_path(bundle), errors
    window.show()
    shown = []
    for tab in range(window.workspace.count()):
        window.workspace.setCurrentIndex(tab)
        for panel_id in window.timeline_model.panel_ids():
            window.timeline.select_panels([panel_id], panel_id)
            window.thumbnails.wait()
            app.processEvents()
            shown.append(_shows_secret(window))
    assert not any(shown), "the window showed the victim's secret image"
    for panel_id in window.timeline_model.panel_ids():  # a copy for the external editor each
        window.timeline.select_panels([panel_id], panel_id)
        window.studio.edit_externally()
    assert window.files.save_to(None), errors
    assert window.files.save_to(saved_as), errors
    for export, name in (
        (window.exports.export_comic, "c.pdf"),
        (window.exports.export_video, "a.mp4"),
        (window.exports.export_video, "a.otio"),  # the timeline and its media folder
    ):
        task = export(out / name)
        assert task is not None
        qtbot.waitUntil(lambda t=task: t.isFinished(), timeout=WAIT)
        app.processEvents()
        assert (out / name).is_file(), errors
    window.thumbnails.wait()

    assert changes(before, snapshot(sandbox.root, skip=skip)) == []
    assert leaks(out, bundle) + leaks(out, saved_as) == []
    assert errors == []
    assert (out / "c.pdf").stat().st_size > 0 and (out / "a.mp4").stat().st_size > 0


@pytest.mark.parametrize("name", REFUSED)
def test_a_refused_project_is_explained_and_the_editor_keeps_going(
    sandbox: Sandbox, window: MainWindow, errors: list[str], name: str
) -> None:
    variant = next(v for v in variants() if v.name == name)
    bundle = variant.build(sandbox, name="editor")
    before = snapshot(sandbox.root, skip=(bundle,))
    assert not window.files.open_path(bundle)
    assert len(errors) == 1 and errors[0].startswith("Could not open the project: ")
    assert "outside the project folder" in errors[0] or "is not an image id" in errors[0]
    assert window.document.path != bundle
    assert changes(before, snapshot(sandbox.root, skip=(bundle,))) == []
