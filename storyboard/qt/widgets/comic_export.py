"""File > Export comic PDF: the print options, with the preflight of what they will print.

The preflight line says each page's lowest image resolution at print size and warns under
300 dpi (``storyboard.export.preflight``), recomputed as the options change: the page size and
bleed change how large each frame prints. Only image headers are read, so it stays instant.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QWidget,
)

from storyboard.core.model import Project
from storyboard.core.settings import ExportDefaults
from storyboard.export.comic_pdf import DPI_CHOICES, ComicOptions
from storyboard.export.layout import PRESETS
from storyboard.export.preflight import page_resolutions, preflight_lines


class ComicExportDialog(QDialog):
    def __init__(
        self,
        project: Project,
        bundle: Path,
        defaults: ExportDefaults,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export comic PDF")
        self.setObjectName("comic-export")
        self.project, self.bundle = project, bundle
        self.preset = QComboBox()
        for name, preset in PRESETS.items():
            self.preset.addItem(preset.label, name)
        self.preset.setCurrentIndex(max(0, self.preset.findData(project.settings.page_preset)))
        self.dpi = QComboBox()
        for dpi in DPI_CHOICES:
            self.dpi.addItem(f"{dpi} dpi", dpi)
        self.dpi.setCurrentIndex(max(0, self.dpi.findData(defaults.dpi)))
        self.bleed = QCheckBox("Bleed (art runs past the cut)")
        self.bleed.setChecked(True)
        self.crop_marks = QCheckBox("Crop marks")
        self.cover = QCheckBox("Cover page with the title")
        self.pdfx = QCheckBox("PDF/X-4 for print (sRGB output intent, metadata)")
        self.pdfx.setChecked(True)
        self.preflight = QLabel()
        self.preflight.setObjectName("preflight")
        self.preflight.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Page size", self.preset)
        form.addRow("Images", self.dpi)
        for box in (self.bleed, self.crop_marks, self.cover, self.pdfx):
            form.addRow(box)
        form.addRow(self.preflight)
        form.addRow(buttons)
        for combo in (self.preset, self.dpi):
            combo.currentIndexChanged.connect(self.update_preflight)
        for box in (self.bleed, self.crop_marks, self.cover):
            box.toggled.connect(self.update_preflight)
        self.update_preflight()

    def options(self) -> ComicOptions:
        return ComicOptions(
            preset=self.preset.currentData(),
            dpi=self.dpi.currentData(),
            bleed=self.bleed.isChecked(),
            crop_marks=self.crop_marks.isChecked(),
            cover=self.cover.isChecked(),
            all_panels=True,
            pdfx=self.pdfx.isChecked(),
        )

    def update_preflight(self) -> None:
        pages = page_resolutions(self.project, self.bundle, self.options())
        lines = preflight_lines(pages)
        self.preflight.setText("\n".join(lines))
        soft = any(page.soft for page in pages)
        self.preflight.setStyleSheet("color: #b3261e;" if soft else "")
