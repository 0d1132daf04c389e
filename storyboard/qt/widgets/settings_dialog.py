"""Preferences: model source and model folders, device, cluster, generation defaults, autosave,
exports.

The model folders (ComfyUI ``models/checkpoints``, A1111 ``models/Stable-diffusion``, any folder)
are scanned in the background when the dialog opens and whenever the list changes; the model
field then lists what they hold (``storyboard/qt/model_folders.py``).
"""

from __future__ import annotations

import copy

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from inference.cluster.connect import INSTALL as RAY_INSTALL
from inference.cluster.connect import ray_available
from storyboard.core.jobs import SCHEDULERS
from storyboard.core.model_scan import ScanResult
from storyboard.core.settings import AppSettings
from storyboard.core.styles import builtin_styles
from storyboard.core.transition_setup import BACKENDS
from storyboard.qt.model_folders import ModelFolderScan
from storyboard.qt.theme import THEMES
from storyboard.qt.widgets.folder_list import FolderList
from storyboard.qt.widgets.forms import row, spin_box
from storyboard.qt.widgets.model_picker import ModelPicker

DEVICES = ["auto", "cuda", "mps", "cpu"]
PAGE_PRESETS = ["us-comic", "a4", "letter", "b5-manga", "a5", "digest"]
VIDEO_SIZES = ["720p", "1080p", "4k", "vertical", "square"]
FAST_GENERATION_TIP = (
    "Faster generation on NVIDIA graphics cards. The first time a model is used on this card, "
    'its building blocks are compiled for it (a minute or so, shown as "Preparing the model '
    'for this GPU"); the result is kept in the cache folder, so later starts are quick. On '
    "RTX 40-series, H100 and newer cards the model's matrix products also run in 8-bit floating "
    "point (fp8): faster and lighter, at the cost of a little precision, so a seed gives a "
    "slightly different picture than with this off. Not used on the CPU, on Apple GPUs or in "
    "low-VRAM mode. Turn it off to get exactly what diffusers draws."
)


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = copy.deepcopy(settings)
        self.model = ModelPicker(settings.model_source, "empty: each project's own model")
        self.folders = FolderList(settings.model_folders, "Folder of checkpoints")
        self.folders.setObjectName("model-folders")
        self.folders.changed.connect(self.rescan)
        self.scan_status = QLabel()
        self.scan_status.setObjectName("model-scan-status")
        self.scan_status.setWordWrap(True)
        self.scan = ModelFolderScan(self)
        self.scan.found.connect(self._show_scan)
        self.device = _combo(DEVICES, settings.device)
        self.low_vram = QCheckBox("Low VRAM (offload to CPU memory)")
        self.low_vram.setChecked(settings.low_vram)
        self.fast_generation = QCheckBox("Faster generation (compiled for the GPU, fp8)")
        self.fast_generation.setObjectName("fast-generation")
        self.fast_generation.setChecked(settings.fast_generation)
        self.fast_generation.setToolTip(FAST_GENERATION_TIP)
        self.low_vram.toggled.connect(self._show_fast_applies)
        self.device.currentTextChanged.connect(self._show_fast_applies)
        self._show_fast_applies()
        self.cluster, self.cluster_status = _cluster_field(settings.cluster)
        self.width_ = spin_box(64, 4096, settings.default_width, 64)
        self.height_ = spin_box(64, 4096, settings.default_height, 64)
        self.steps = spin_box(1, 200, settings.default_steps)
        self.style_box = _combo(
            list(builtin_styles()) or [settings.default_style], settings.default_style
        )
        self.scheduler = _combo(list(SCHEDULERS), settings.default_scheduler)
        self.theme = _combo(list(THEMES), settings.theme)
        self.autosave = spin_box(5, 3600, settings.autosave_seconds)
        self.autosave.setSuffix(" s")
        self.page = _combo(PAGE_PRESETS, settings.export.page_preset)
        self.dpi = _combo(["300", "600"], str(settings.export.dpi))
        self.video = _combo(VIDEO_SIZES, settings.export.video_size)
        self.transition_backend = _combo(list(BACKENDS), settings.transition_backend)
        self.transition_model = QLineEdit(settings.transition_model)
        self.transition_model.setPlaceholderText(
            "folder or hub id (smp: a trained predictor folder); empty: the engine's default "
            "(a toy world project: its own video model)"
        )
        self.controlnet = QLineEdit(settings.controlnet)
        self.controlnet.setPlaceholderText("folder of a scribble or lineart ControlNet")
        self.t2i_adapter = QLineEdit(settings.t2i_adapter)
        self.t2i_adapter.setPlaceholderText("folder of a sketch T2I-Adapter")
        self.lora_folders = FolderList(settings.lora_folders, "Folder of LoRA files")
        self.lora_folders.setObjectName("lora-folders")
        self.lora_folders.setToolTip(
            "ComfyUI's models/loras, AUTOMATIC1111's models/Lora, any folder"
        )
        self.image_editor = QLineEdit(settings.image_editor)
        self.image_editor.setPlaceholderText("program, {file} marks the image; empty: the system's")
        form = QFormLayout(self)
        form.addRow("Model", self.model)
        form.addRow("Model folders", self.folders)
        form.addRow("", self.scan_status)
        form.addRow("Device", self.device)
        form.addRow(self.low_vram)
        form.addRow(self.fast_generation)
        form.addRow("Cluster", self.cluster)
        form.addRow("", self.cluster_status)
        form.addRow("Default size", row(self.width_, self.height_))
        form.addRow("Default steps", self.steps)
        form.addRow("Default style", self.style_box)
        form.addRow("Default scheduler", self.scheduler)
        form.addRow("Autosave every", self.autosave)
        form.addRow("Colours", self.theme)
        form.addRow("Comic page", self.page)
        form.addRow("Print resolution", self.dpi)
        form.addRow("Animatic size", self.video)
        form.addRow("Transition engine", self.transition_backend)
        form.addRow("Transition model", self.transition_model)
        form.addRow("ControlNet (sketch lines)", self.controlnet)
        form.addRow("T2I-Adapter (sketch)", self.t2i_adapter)
        form.addRow("LoRA folders", self.lora_folders)
        form.addRow("External image editor", self.image_editor)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.finished.connect(lambda _: self.scan.cancel())
        self.rescan()

    def _show_fast_applies(self) -> None:
        """Faster generation applies on CUDA only and never with CPU offload: greyed out where
        it would do nothing (the artist's choice is kept for when it applies again)."""
        applies = self.device.currentText() in ("auto", "cuda") and not self.low_vram.isChecked()
        self.fast_generation.setEnabled(applies)

    def add_folder(self, folder: str) -> None:
        """Add ``folder`` to the model folders (once) and scan again."""
        self.folders.add(folder)

    def rescan(self) -> None:
        folders = self.folders.folders()
        if not folders:
            self.scan_status.setText(
                "Add the folders that hold your checkpoints (ComfyUI models/checkpoints, "
                "AUTOMATIC1111 models/Stable-diffusion) to list them in the model field."
            )
            self.model.show_found([])
            return
        self.scan_status.setText("Looking for checkpoints…")
        self.scan.start(folders)

    def _show_scan(self, result: ScanResult) -> None:
        self.model.show_found(result.models)
        usable = sum(1 for m in result.models if m.usable)
        text = f"{usable} checkpoint{'s' if usable != 1 else ''} found"
        if len(result.models) > usable:
            text += f", {len(result.models) - usable} not usable (see their tooltips)"
        self.scan_status.setText("; ".join([text, *result.notes[:3]]))

    def result_settings(self) -> AppSettings:
        s = self.settings
        s.model_source = self.model.text()
        s.model_folders = self.folders.folders()
        s.device = self.device.currentText()
        s.low_vram = self.low_vram.isChecked()
        s.fast_generation = self.fast_generation.isChecked()
        s.cluster = self.cluster.text().strip()
        s.default_width, s.default_height = self.width_.value(), self.height_.value()
        s.default_steps = self.steps.value()
        s.default_style = self.style_box.currentText()
        s.default_scheduler = self.scheduler.currentText()
        s.autosave_seconds = self.autosave.value()
        s.theme = self.theme.currentText()
        s.export.page_preset = self.page.currentText()
        s.export.dpi = int(self.dpi.currentText())
        s.export.video_size = self.video.currentText()
        s.transition_backend = self.transition_backend.currentText()
        s.transition_model = self.transition_model.text().strip()
        s.controlnet = self.controlnet.text().strip()
        s.t2i_adapter = self.t2i_adapter.text().strip()
        s.image_editor = self.image_editor.text().strip()
        s.lora_folders = self.lora_folders.folders()
        return s

    def add_lora_folder(self, folder: str) -> None:
        self.lora_folders.add(folder)


def _cluster_field(address: str) -> tuple[QLineEdit, QLabel]:
    """Settings > Cluster: where stories are generated (docs/cluster.md), and a line saying how
    to install Ray when it is missing (it is imported only by a job that uses it)."""
    field = QLineEdit(address)
    field.setObjectName("cluster")
    field.setPlaceholderText("empty: this machine; local, auto or a Ray address (HOST:6379)")
    status = QLabel("" if ray_available() else f"Ray is not installed: {RAY_INSTALL}")
    status.setObjectName("cluster-status")
    status.setWordWrap(True)
    status.setVisible(bool(status.text()))
    return field, status


def _combo(items: list[str], current: str) -> QComboBox:
    box = QComboBox()
    box.addItems(items if current in items else [*items, current])
    box.setCurrentText(current)
    return box
