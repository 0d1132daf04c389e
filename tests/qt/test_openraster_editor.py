"""OpenRaster in the editor: selected panels out in the background, a file back as one undo."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMenu
from pytestqt.qtbot import QtBot

from storyboard.core.model import LayerKind
from storyboard.qt.main_window import MainWindow
from tests.export.test_openraster import drawn, members


def test_export_the_selection_then_import_it_back_as_one_undo_step(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    panels = window.timeline_model.panel_ids()
    window.timeline.select_panels(panels[1:3])
    out = tmp_path / "ora"
    with qtbot.waitSignal(window.exports.finished, timeout=60_000):
        assert window.exports.export_openraster(window.selection.selected, out) is not None
    assert sorted(p.name for p in out.iterdir()) == ["1B.ora", "1C.ora"]

    # the artist draws on the empty sketch layer of 1B in a paint program and saves
    data = members(out / "1B.ora")
    data["data/layer-0.png"] = drawn((1024, 576), (0, 0, 0, 255), (10, 10, 200, 100))
    painted = tmp_path / "1B-painted.ora"
    with zipfile.ZipFile(painted, "w") as archive:
        for name, content in data.items():
            archive.writestr(name, content)

    window.timeline.select_panels([panels[1]])
    panel = window.document.project.panels[panels[1]]
    before = list(panel.layers)
    with qtbot.waitSignal(window.openraster.imported):
        result = window.openraster.import_file(painted)
    assert result is not None
    assert [layer.kind for layer in panel.layers] == [LayerKind.SKETCH]
    assert panel.layers[0].asset is not None and window.document.is_modified()
    assert window.document.undo_stack.undoText() == "Import OpenRaster"
    window.document.undo_stack.undo()
    assert panel.layers == before
    assert window.banner.isVisible()  # no "Image" layer: the warning says the image was kept


def test_the_selection_as_photoshop_files_from_the_panel_menu(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from psd_tools import PSDImage

    panels = window.timeline_model.panel_ids()
    window.timeline.select_panels(panels[:2])
    out = tmp_path / "psd"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    menus = window.menuBar().findChildren(QMenu)
    assert any(window.openraster.export_psd_action in menu.actions() for menu in menus)
    with qtbot.waitSignal(window.exports.finished, timeout=60_000):
        window.openraster.export_psd_action.trigger()
    assert sorted(p.name for p in out.iterdir()) == ["1A.psd", "1B.psd"]
    assert next(layer.name for layer in PSDImage.open(out / "1A.psd")) in ("Image", "Sketch")
