"""Settings > Model folders: the folders are scanned in the background and the model field lists
what they hold, with family and size; files the editor cannot run are shown greyed with why."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QApplication

from storyboard.core.settings import AppSettings
from storyboard.qt.widgets.settings_dialog import SettingsDialog
from tests.fixtures.checkpoint_headers import FAMILIES, SD15, SDXL, header_file


def test_the_model_field_lists_the_checkpoints_of_the_model_folders(
    qapp: QApplication, qtbot: object, tmp_path: Path
) -> None:
    comfy = tmp_path / "ComfyUI" / "models" / "checkpoints"
    comfy.mkdir(parents=True)
    header_file(comfy / "juggernautXL_v9.safetensors", SDXL)
    header_file(comfy / "flux1-dev.safetensors", FAMILIES["flux"])
    a1111 = tmp_path / "webui" / "models" / "Stable-diffusion"
    a1111.mkdir(parents=True)
    header_file(a1111 / "dreamshaper_8.safetensors", SD15)

    dialog = SettingsDialog(AppSettings(model_folders=[str(comfy)]))
    picker = dialog.model
    qtbot.waitUntil(lambda: len(picker.found_paths()) == 2, timeout=5000)  # type: ignore[attr-defined]
    labels = [picker.choice.itemText(i) for i in range(picker.choice.count())]
    jugg = next(label for label in labels if label.startswith("juggernautXL_v9"))
    size = (comfy / "juggernautXL_v9.safetensors").stat().st_size
    assert jugg == f"juggernautXL_v9 — SDXL, {size} B"
    flux_row = next(i for i, label in enumerate(labels) if label.startswith("flux1-dev"))
    items = picker.choice.model()
    assert isinstance(items, QStandardItemModel)
    assert not items.item(flux_row).isEnabled()  # listed, but cannot be picked
    assert "Flux models are not supported" in picker.choice.itemData(flux_row, 3)  # tooltip
    assert "1 checkpoint found, 1 not usable" in dialog.scan_status.text()

    picker.choice.setCurrentIndex(labels.index(jugg))
    assert picker.text() == str(comfy / "juggernautXL_v9.safetensors")
    assert "SDXL checkpoint" in picker.status.text() and "ready" in picker.status.text()

    dialog.add_folder(str(a1111))  # a second folder: scanned again, both listed
    qtbot.waitUntil(lambda: len(picker.found_paths()) == 3, timeout=5000)  # type: ignore[attr-defined]
    assert picker.text() == str(comfy / "juggernautXL_v9.safetensors")  # the choice survives
    assert dialog.result_settings().model_folders == [str(comfy), str(a1111)]


def test_a_slow_folder_never_blocks_and_a_newer_scan_wins(
    qapp: QApplication, qtbot: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storyboard.core import model_scan
    from storyboard.qt import model_folders

    hung = threading.Event()

    def slow_scan(folders: list[str], cancelled: object) -> model_scan.ScanResult:
        if "network-drive" in folders[0]:
            hung.wait(10)  # a drive that does not answer
        return model_scan.scan_folders(folders, cancelled)  # type: ignore[arg-type]

    monkeypatch.setattr(model_folders, "scan_folders", slow_scan)
    header_file(tmp_path / "dreamshaper_8.safetensors", SD15)
    started = time.monotonic()
    dialog = SettingsDialog(AppSettings(model_folders=[str(tmp_path / "network-drive")]))
    assert time.monotonic() - started < 1 and "Looking" in dialog.scan_status.text()
    dialog.folders.clear()  # the list only: no scan
    dialog.add_folder(str(tmp_path))  # while the first scan still hangs
    qtbot.waitUntil(lambda: len(dialog.model.found_paths()) == 1, timeout=5000)  # type: ignore[attr-defined]
    hung.set()  # the stale scan ends now: its result must not replace the newer one
    qtbot.wait(200)  # type: ignore[attr-defined]
    assert dialog.model.found_paths() == [str(tmp_path / "dreamshaper_8.safetensors")]


def test_a_missing_folder_is_said(qapp: QApplication, qtbot: object, tmp_path: Path) -> None:
    dialog = SettingsDialog(AppSettings(model_folders=[str(tmp_path / "unplugged-drive")]))
    qtbot.waitUntil(  # type: ignore[attr-defined]
        lambda: "no such folder" in dialog.scan_status.text(), timeout=5000
    )
    assert dialog.model.found_paths() == []
    empty = SettingsDialog(AppSettings())
    assert "Add the folders that hold your checkpoints" in empty.scan_status.text()


def test_project_settings_and_the_missing_model_dialog_list_the_model_folders_too(
    qapp: QApplication, qtbot: object, tmp_path: Path
) -> None:
    from storyboard.core.model import Project
    from storyboard.qt.document import Document
    from storyboard.qt.generation_actions import ModelDialog
    from storyboard.qt.widgets.project_settings import ProjectSettingsDialog

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    header_file(folder / "dreamshaper_8.safetensors", SD15)
    found = [str(folder / "dreamshaper_8.safetensors")]
    project = ProjectSettingsDialog(Document(Project()), model_folders=[str(folder)])
    missing = ModelDialog(None, "the model is not on this machine", "sd15", [str(folder)])
    for picker in (project.model, missing.source):
        qtbot.waitUntil(lambda p=picker: p.found_paths() == found, timeout=5000)  # type: ignore[attr-defined]
    assert project.model.text() == Project().settings.generation.model  # the choice is kept
