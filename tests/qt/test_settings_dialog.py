"""File > Settings round-trips every field it shows into the saved settings file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from storyboard.core.settings import AppSettings, load_settings, save_settings
from storyboard.qt.widgets.settings_dialog import SettingsDialog


def test_settings_dialog_edits_are_saved_and_read_back(qapp: QApplication, tmp_path: Path) -> None:
    dialog = SettingsDialog(AppSettings())
    dialog.model.setText("/models/realvis")
    dialog.device.setCurrentText("cpu")
    dialog.steps.setValue(12)
    dialog.transition_backend.setCurrentText("wan")
    dialog.controlnet.setText("/models/scribble")
    dialog.image_editor.setText("krita {file}")
    chosen = dialog.result_settings()
    save_settings(chosen, tmp_path / "settings.json")
    loaded = load_settings(tmp_path / "settings.json")
    assert (loaded.model_source, loaded.device, loaded.default_steps) == (
        "/models/realvis",
        "cpu",
        12,
    )
    assert (loaded.transition_backend, loaded.controlnet, loaded.image_editor) == (
        "wan",
        "/models/scribble",
        "krita {file}",
    )


def test_a_damaged_settings_file_is_set_aside(tmp_path: Path) -> None:
    file = tmp_path / "settings.json"
    file.write_text("{ not json")
    assert load_settings(file) == AppSettings()
    assert (tmp_path / "settings.damaged.json").read_text() == "{ not json"
