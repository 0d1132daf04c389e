"""File > Settings round-trips every field it shows into the saved settings file."""

from __future__ import annotations

from pathlib import Path

import huggingface_hub.constants
import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from storyboard.core.settings import AppSettings, load_settings, save_settings
from storyboard.qt.theme import apply_theme
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


def test_the_model_field_offers_the_presets_and_says_which_are_here(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    dialog = SettingsDialog(AppSettings(model_source="toyworld"))
    picker = dialog.model
    assert picker.choice.currentText() == "Toy world (built-in, 64 px) (toyworld)"
    assert "ready" in picker.status.text()
    names = [picker.choice.itemText(i) for i in range(picker.choice.count())]
    assert "SDXL base 1.0 (sdxl-base)" in names and "RealVisXL V4.0 (realvis-xl-4)" in names
    picker.choice.setCurrentIndex(names.index("SDXL base 1.0 (sdxl-base)"))
    assert dialog.result_settings().model_source == "sdxl-base"  # the key, not the label
    assert "not downloaded" in picker.status.text()
    assert "hf download stabilityai/stable-diffusion-xl-base-1.0" in picker.status.text()
    (tmp_path / "model_index.json").write_text("{}")
    picker.choice.setEditText(str(tmp_path))  # typed, or from Folder…
    assert dialog.result_settings().model_source == str(tmp_path)
    assert "diffusers model folder" in picker.status.text()


def test_dark_colours_apply_at_once_and_are_kept(qapp: QApplication, tmp_path: Path) -> None:
    light = QApplication.palette().color(QPalette.ColorRole.Window).lightness()
    dialog = SettingsDialog(AppSettings())
    assert dialog.theme.currentText() == "system"
    dialog.theme.setCurrentText("dark")
    chosen = dialog.result_settings()
    save_settings(chosen, tmp_path / "settings.json")
    assert load_settings(tmp_path / "settings.json").theme == "dark"
    try:
        apply_theme(chosen.theme)
        palette = QApplication.palette()
        assert palette.color(QPalette.ColorRole.Window).lightness() < 80
        assert palette.color(QPalette.ColorRole.Text).lightness() > 200  # light on dark
    finally:
        apply_theme("light")
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() == light > 150


def test_a_damaged_settings_file_is_set_aside(tmp_path: Path) -> None:
    file = tmp_path / "settings.json"
    file.write_text("{ not json")
    assert load_settings(file) == AppSettings()
    assert (tmp_path / "settings.damaged.json").read_text() == "{ not json"


def test_faster_generation_is_on_by_default_explained_and_greyed_where_it_does_nothing(
    qapp: QApplication, tmp_path: Path
) -> None:
    """On by default (it applies on CUDA only); its tooltip says what fp8 trades; greyed out for
    the CPU and in low-VRAM mode, and turning it off is saved."""
    dialog = SettingsDialog(AppSettings())
    box = dialog.fast_generation
    assert box.isChecked() and box.isEnabled()
    assert "fp8" in box.toolTip() and "precision" in box.toolTip()
    dialog.device.setCurrentText("cpu")
    assert not box.isEnabled()
    dialog.device.setCurrentText("cuda")
    dialog.low_vram.setChecked(True)
    assert not box.isEnabled()
    dialog.low_vram.setChecked(False)
    assert box.isEnabled()
    box.setChecked(False)
    save_settings(dialog.result_settings(), tmp_path / "settings.json")
    assert load_settings(tmp_path / "settings.json").fast_generation is False
    assert load_settings(tmp_path / "missing.json").fast_generation is True


def test_the_cluster_field_is_saved_and_picks_the_cluster_engine(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inference.cluster.engine import ClusterStoryEngine
    from inference.worker import EngineSettings, real_engine
    from storyboard.qt.widgets import settings_dialog

    dialog = SettingsDialog(AppSettings())
    assert dialog.cluster.text() == "" and dialog.cluster_status.isHidden()  # Ray is here
    dialog.cluster.setText(" 10.0.0.5:6379 ")
    save_settings(dialog.result_settings(), tmp_path / "settings.json")
    assert load_settings(tmp_path / "settings.json").cluster == "10.0.0.5:6379"
    engine = real_engine(EngineSettings(device="cpu", cluster="10.0.0.5:6379"))
    assert isinstance(engine, ClusterStoryEngine) and engine.address == "10.0.0.5:6379"

    monkeypatch.setattr(settings_dialog, "ray_available", lambda: False)  # a plain install
    line = SettingsDialog(AppSettings()).cluster_status
    assert not line.isHidden() and "pip install 'storyboard-editor[cluster]'" in line.text()
