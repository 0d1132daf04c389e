"""Attaching LoRAs in the editor: a character's and the project's, with weights, trigger words
and (for the project) which panels; each edit an undo step; missing files said plainly."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QComboBox, QDoubleSpinBox, QLineEdit, QPushButton

from storyboard.core.model import LoraUse
from storyboard.core.settings import AppSettings
from storyboard.qt.main_window import MainWindow
from storyboard.qt.widgets.lora_list import LoraList
from storyboard.qt.widgets.project_settings import ProjectSettingsDialog
from storyboard.qt.widgets.settings_dialog import SettingsDialog


def _lora(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"{}")  # only found and listed here, never loaded
    return path


def _cells(table: LoraList, row: int) -> tuple[QDoubleSpinBox, QLineEdit]:
    weight, words = table.table.cellWidget(row, 1), table.table.cellWidget(row, 2)
    assert isinstance(weight, QDoubleSpinBox) and isinstance(words, QLineEdit)
    return weight, words


def test_a_character_gets_a_lora_with_a_weight_and_trigger_words_each_undoable(
    window: MainWindow, qtbot: object, tmp_path: Path
) -> None:
    folder = tmp_path / "ComfyUI" / "models" / "loras"
    _lora(folder / "people" / "mia.safetensors")
    window.settings.lora_folders = [str(folder)]
    library = window.characters
    library.list.setCurrentRow(0)
    character = library.current()
    assert character is not None and character.loras == []
    stack = window.document.undo_stack
    before = stack.count()

    library.loras.add_name("people/mia.safetensors")
    weight, words = _cells(library.loras, 0)
    weight.setValue(0.6)
    weight.setValue(0.75)
    qtbot.keyClicks(words, "miachar")  # type: ignore[attr-defined]
    assert character.loras == [LoraUse("people/mia.safetensors", 0.75, "miachar")]
    assert stack.count() == before + 3  # attach, the weight typed, the words typed
    assert library.loras.status.text() == ""  # the file is there

    stack.undo()
    assert character.loras[0].trigger_words == ""
    stack.undo()
    assert character.loras[0].weight == 1.0
    assert _cells(library.loras, 0)[0].value() == 1.0  # the table follows the undo
    stack.undo()
    assert character.loras == [] and library.loras.table.rowCount() == 0


def test_a_lora_missing_on_this_machine_is_shown_with_what_to_do(window: MainWindow) -> None:
    library = window.characters
    library.list.setCurrentRow(0)
    library.loras.add_name("gone.safetensors")
    assert "Not on this machine: gone.safetensors" in library.loras.status.text()
    item = library.loras.table.item(0, 0)
    assert "'gone.safetensors' was not found in" in item.toolTip()


def test_a_file_picked_outside_the_folders_adds_its_folder_to_the_settings(
    window: MainWindow, tmp_path: Path
) -> None:
    picked = _lora(tmp_path / "Downloads" / "style" / "ink.safetensors")
    library = window.characters
    library.list.setCurrentRow(0)
    assert library.loras.add_file(picked) == "ink.safetensors"
    assert window.settings.lora_folders == [str(picked.parent)]
    character = library.current()
    assert character is not None and [u.file for u in character.loras] == ["ink.safetensors"]
    assert library.loras.status.text() == ""


def test_project_loras_for_every_panel_or_one_style_in_one_undo_step(
    window: MainWindow, tmp_path: Path
) -> None:
    folder = tmp_path / "loras"
    for name in ("ink.safetensors", "noir.safetensors"):
        _lora(folder / name)
    settings = window.document.project.settings
    dialog = ProjectSettingsDialog(window.document, window, [str(folder)])
    dialog.loras.add_name("ink.safetensors")
    dialog.loras.add_name("noir.safetensors")
    _cells(dialog.loras, 0)[0].setValue(0.5)
    scope = dialog.loras.table.cellWidget(1, 3)
    assert isinstance(scope, QComboBox)
    scope.setCurrentIndex(scope.findData("noir"))
    command = dialog.command()
    assert command is not None
    window.document.push(command)
    assert settings.loras == [LoraUse("ink.safetensors", 0.5, "")]
    assert settings.style_loras == {"noir": [LoraUse("noir.safetensors", 1.0, "")]}

    again = ProjectSettingsDialog(window.document, window, [str(folder)])
    assert [use.file for _, use in again.loras.scoped()] == ["ink.safetensors", "noir.safetensors"]
    assert [scope for scope, _ in again.loras.scoped()] == ["", "noir"]
    assert again.command() is None  # shown as kept: nothing changed
    window.document.undo_stack.undo()
    assert settings.loras == [] and settings.style_loras == {}


def test_the_lora_folders_setting_round_trips(qapp: QApplication) -> None:
    dialog = SettingsDialog(AppSettings(lora_folders=["/a/loras"]))
    dialog.add_lora_folder("/b/Lora")
    dialog.add_lora_folder("/a/loras")
    assert dialog.result_settings().lora_folders == ["/a/loras", "/b/Lora"]
    dialog.add_lora_folder("/a/loras")  # once only
    dialog.lora_folders.list.setCurrentRow(0)
    remove = next(b for b in dialog.lora_folders.findChildren(QPushButton) if b.text() == "Remove")
    remove.click()
    assert dialog.result_settings().lora_folders == ["/b/Lora"]
