"""The one model field of the editor (Settings, Project settings, the missing-model dialog).

A model source can be a preset, a hub id, a diffusers folder or a ``.safetensors`` file. The
field lists the presets by name, takes any of the others typed or browsed, and says under it
whether this machine has the model, with the download command when it has not: the artist
learns that before a job fails on it. The checkpoints found in the model folders (Settings) are
listed after the presets with their family and size; those the editor cannot run are listed too,
greyed out, with the reason as their tooltip.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.model_scan import FoundModel, human_size
from storyboard.core.resources import model_presets, model_status
from storyboard.qt.model_folders import ModelFolderScan
from storyboard.qt.widgets.forms import row


class ModelPicker(QWidget):
    """``text()`` is the source as the engine takes it: a preset key, hub id or path."""

    def __init__(self, source: str, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choice = QComboBox()
        self.choice.setObjectName("model")
        self.choice.setEditable(True)
        self.choice.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.choice.setMinimumContentsLength(24)
        self.choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        for key, preset in model_presets().items():
            self.choice.addItem(f"{preset.label} ({key})", key)
            self.choice.setItemData(
                self.choice.count() - 1, preset.notes, Qt.ItemDataRole.ToolTipRole
            )
        line = self.choice.lineEdit()
        assert line is not None
        line.setPlaceholderText(placeholder)
        self.status = QLabel()
        self.status.setObjectName("model-status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        folder, file = QPushButton("Folder…"), QPushButton("File…")
        folder.clicked.connect(self._pick_folder)
        file.clicked.connect(self._pick_file)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(row(self.choice, folder, file))
        layout.addWidget(self.status)
        self.choice.currentTextChanged.connect(lambda _: self._show_status())
        self._presets = self.choice.count()
        self._scan: ModelFolderScan | None = None
        self.setText(source)

    def show_found(self, models: Sequence[FoundModel]) -> None:
        """List ``models`` (a folder scan's) after the presets, replacing the last scan's."""
        current = self.text()
        self.choice.blockSignals(True)
        while self.choice.count() > self._presets:
            self.choice.removeItem(self.choice.count() - 1)
        if models:
            self.choice.insertSeparator(self._presets)
        items = self.choice.model()
        assert isinstance(items, QStandardItemModel)
        for found in models:
            self.choice.addItem(found_label(found), found.path)
            index = self.choice.count() - 1
            tip = found.path if found.usable else f"{found.path}\nNot usable: {found.why_not}"
            self.choice.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
            item = items.item(index)
            if item is not None and not found.usable:
                item.setEnabled(False)
        self.choice.blockSignals(False)
        self.setText(current)

    def scan(self, folders: Sequence[str]) -> None:
        """List what ``folders`` (the settings' model folders) hold once a background scan of
        them ends; the field works meanwhile. Settings runs its own scan (it shows its status)."""
        if not folders:
            return
        if self._scan is None:
            self._scan = ModelFolderScan(self)
            self._scan.found.connect(lambda result: self.show_found(result.models))
            self.destroyed.connect(self._scan.cancel)
        self._scan.start(folders)

    def found_paths(self) -> list[str]:
        """The paths listed from the last folder scan, in order."""
        return [str(self.choice.itemData(i)) for i in range(self._presets + 1, self.choice.count())]

    def text(self) -> str:
        shown = self.choice.currentText().strip()
        index = self.choice.findText(shown)
        return str(self.choice.itemData(index)) if index >= 0 else shown

    def setText(self, source: str) -> None:  # noqa: N802 (the QLineEdit it replaces)
        index = self.choice.findData(source.strip())
        if index >= 0:
            self.choice.setCurrentIndex(index)
        else:
            self.choice.setEditText(source)
        self._show_status()

    def _show_status(self) -> None:
        source = self.text()
        self.status.setVisible(bool(source))
        if not source:
            return
        status = model_status(source)
        colour = "#2e7d32" if status.ready else "#b26a00"
        self.status.setText(f'<span style="color:{colour}">{html.escape(status.text)}</span>')

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Diffusers model folder")
        if folder:
            self.setText(folder)

    def _pick_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Checkpoint", "", "Checkpoints (*.safetensors *.ckpt)"
        )
        if name:
            self.setText(name)


def found_label(found: FoundModel) -> str:
    """``juggernautXL_v9 — SDXL, 7.1 GB`` (``— not usable`` added when it is not)."""
    label = f"{found.name} — {found.family}, {human_size(found.size)}"
    return label if found.usable else f"{label} — not usable"
