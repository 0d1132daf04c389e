"""Exports from the editor run in the background on a snapshot, and cancel without leftovers."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pytestqt.qtbot import QtBot

from storyboard.qt.main_window import MainWindow

WAIT = 60_000


def test_comic_pdf_export_runs_in_the_background(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    target = tmp_path / "lost-hat.pdf"
    with qtbot.waitSignal(window.exports.finished, timeout=WAIT) as done:
        task = window.exports.export_comic(target)
        assert task is not None
        # the window stays usable while it runs: an edit now does not reach this export
        window.panel_actions.new_panel(after=True)
    assert done.args == [target]
    info = subprocess.run(["pdfinfo", str(target)], capture_output=True, text=True, check=True)
    pages = int(
        next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:"))
    )
    assert pages == 2  # the snapshot's 12 panels: 6 on the sample's page, 6 on a 2x3 page


def test_worksheets_export(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    target = tmp_path / "sheets.pdf"
    with qtbot.waitSignal(window.exports.finished, timeout=WAIT):
        window.exports.export_sheets(target)
    text = subprocess.run(
        ["pdftotext", str(target), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Why the long face?" in text


def test_cancelled_animatic_leaves_no_file(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "lost-hat.mp4"
    task = window.exports.export_video(target)
    assert task is not None
    task.stop.set()  # what the progress dialog's Cancel button does
    with qtbot.waitSignal(task.was_cancelled, timeout=WAIT):
        pass
    task.wait()
    assert not target.exists()
    assert list(out.iterdir()) == []  # no temp file either


def test_storyboarder_project_export(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    """File > Export > Storyboarder project…: a script project of the sample's three scenes."""
    import json

    target = tmp_path / "Lost Hat"
    assert "Export Storyboarder project…" in [a.text() for a in window.exports.actions()]
    with qtbot.waitSignal(window.exports.finished, timeout=WAIT):
        window.exports.export_storyboarder(target)
    files = sorted(target.glob("storyboards/*/*.storyboarder"))
    assert len(files) == 3 and (target / "Lost Hat.fountain").is_file()
    boards = [b for f in files for b in json.loads(f.read_text())["boards"]]
    assert len(boards) == 12 and boards[2]["dialogue"] == "MIA: Why the long face?"


def test_what_the_storyboarder_export_leaves_out_is_shown(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    from storyboard.core.model import LayerKind, PanelLayer

    panel = window.document.project.ordered_panels()[0]
    panel.layers.append(PanelLayer(LayerKind.MASK))
    with qtbot.waitSignal(window.exports.warned, timeout=WAIT):
        window.exports.export_storyboarder(tmp_path / "out")
    assert window.banner.label.text() == f"Exported {tmp_path / 'out'}, with warnings."
    assert window.banner.details == "panel 1A: a mask left out (Storyboarder has no such layer)"
