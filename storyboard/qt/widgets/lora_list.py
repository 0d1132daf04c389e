"""The LoRAs attached to a character or to the project: file, weight, trigger words (and, for the
project, which panels: every panel or one style's).

The list edits plain :class:`~storyboard.core.model.LoraUse` values; its owner turns each edit
into a command (``EditFields``), so every change is an undo step. A LoRA is chosen from the
files found in the project's ``loras/`` and the LoRA folders of the settings, or picked by hand:
a file outside those folders adds its folder to the settings (the user's choice, never the
project's), because a project only names LoRAs (:mod:`storyboard.core.lora_files`). A LoRA the
project names that is not on this machine is shown in red with the folders looked in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.lora_files import (
    LoraUnavailable,
    find_lora,
    list_loras,
    relative_name,
)
from storyboard.core.model import LoraUse
from storyboard.qt.widgets.forms import row

EVERY_PANEL = ""  # the "Applies to" value of a project LoRA used in every panel
BROWSE = "Browse for a file…"


class LoraList(QWidget):
    """A table of LoRAs; ``edited`` carries the whole new list (and, with ``scopes``, each row's
    scope: ``EVERY_PANEL`` or a style key)."""

    edited = Signal(list)

    def __init__(
        self,
        roots: Callable[[], list[Path]],
        add_folder: Callable[[Path], None],
        scopes: Sequence[tuple[str, str]] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.roots = roots
        self.add_folder = add_folder
        self.scopes = list(scopes)  # (label, key); empty: no "Applies to" column
        self._loading = False
        columns = ["LoRA file", "Weight", "Trigger words"] + (["Applies to"] if scopes else [])
        self.table = QTableWidget(0, len(columns))
        self.table.setObjectName("lora-table")
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(self.table.fontMetrics().lineSpacing() * 6)
        self.add_button, self.remove_button = QPushButton("Add LoRA…"), QPushButton("Remove")
        self.add_button.setObjectName("add-lora")
        self.remove_button.setObjectName("remove-lora")
        self.add_button.clicked.connect(self._choose)
        self.remove_button.clicked.connect(self.remove_current)
        self.status = QLabel()
        self.status.setObjectName("lora-status")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addWidget(row(self.add_button, self.remove_button))
        layout.addWidget(self.status)
        self._rows: list[LoraUse] = []
        self._scope_of: list[str] = []
        # what the last edit was, for its owner's undo merge key: (field, row) for a weight,
        # trigger words or scope (typing merges into one step), None for an add or remove
        self.last_merge: tuple[str, int] | None = None

    # -- reading and showing ----------------------------------------------------------------------

    def loras(self) -> list[LoraUse]:
        return [LoraUse(u.file, u.weight, u.trigger_words) for u in self._rows]

    def scoped(self) -> list[tuple[str, LoraUse]]:
        """Each row with its scope (``EVERY_PANEL`` or a style key)."""
        return list(zip(self._scope_of, self.loras(), strict=True))

    def set_loras(self, loras: Sequence[LoraUse], scopes: Sequence[str] | None = None) -> None:
        """Show ``loras`` (without emitting ``edited``); the same list again keeps the widgets,
        so a weight being typed keeps its focus when the edit comes back as a project change."""
        same_scopes = scopes is None or list(scopes) == self._scope_of
        if list(loras) == self._rows and same_scopes and self.table.rowCount() == len(loras):
            self._show_missing()
            return
        self._rows = [LoraUse(u.file, u.weight, u.trigger_words) for u in loras]
        self._scope_of = list(scopes) if scopes is not None else [EVERY_PANEL] * len(loras)
        self._loading = True
        try:
            self.table.setRowCount(len(self._rows))
            for index, use in enumerate(self._rows):
                self._fill_row(index, use)
        finally:
            self._loading = False
        self._show_missing()

    def _fill_row(self, index: int, use: LoraUse) -> None:
        name = QTableWidgetItem(use.file)
        name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.table.setItem(index, 0, name)
        weight = QDoubleSpinBox()
        weight.setRange(-4.0, 4.0)  # limits.LoraWeight
        weight.setSingleStep(0.05)
        weight.setDecimals(2)
        weight.setValue(use.weight)
        weight.valueChanged.connect(lambda v, i=index: self._set(i, weight=v))
        self.table.setCellWidget(index, 1, weight)
        words = QLineEdit(use.trigger_words)
        words.setPlaceholderText("trigger words")
        words.textEdited.connect(lambda t, i=index: self._set(i, trigger_words=t))
        self.table.setCellWidget(index, 2, words)
        if self.scopes:
            scope = QComboBox()
            for label, key in self.scopes:
                scope.addItem(label, key)
            current = self._scope_of[index]
            if scope.findData(current) < 0:
                scope.addItem(f"style {current}", current)
            scope.setCurrentIndex(scope.findData(current))
            scope.currentIndexChanged.connect(
                lambda _, i=index, box=scope: self._set_scope(i, box.currentData())
            )
            self.table.setCellWidget(index, 3, scope)

    def _show_missing(self) -> None:
        roots = self.roots()
        missing = []
        for index, use in enumerate(self._rows):
            item = self.table.item(index, 0)
            if item is None:
                continue
            try:
                find_lora(use.file, roots)
            except LoraUnavailable as exc:
                missing.append(use.file)
                item.setForeground(QBrush(QColor("#c0392b")))
                item.setToolTip(str(exc))
            else:
                item.setForeground(QBrush())
                item.setToolTip("")
        if missing:
            self.status.setText(
                "Not on this machine: " + ", ".join(missing) + ". Put them in the project's "
                "loras folder or a LoRA folder of Settings; until then generating stops with "
                "this message."
            )
        else:
            self.status.setText("")

    # -- editing ----------------------------------------------------------------------------------

    def _emit(self) -> None:
        if not self._loading:
            self.edited.emit(self.loras())

    def _set(self, index: int, **changes: object) -> None:
        use = self._rows[index]
        for name, value in changes.items():
            setattr(use, name, value)
        self.last_merge = (next(iter(changes)), index)
        self._emit()

    def _set_scope(self, index: int, scope: str) -> None:
        self._scope_of[index] = scope
        self.last_merge = ("scope", index)
        self._emit()

    def add_name(self, name: str, scope: str = EVERY_PANEL) -> None:
        """Attach the LoRA ``name`` (found in the LoRA folders) at weight 1."""
        rows, scopes = [*self._rows, LoraUse(name, 1.0, "")], [*self._scope_of, scope]
        self.set_loras(rows, scopes)
        self.table.selectRow(len(self._rows) - 1)
        self.last_merge = None
        self._emit()

    def add_file(self, path: Path) -> str:
        """Attach a file picked by hand; a file outside the LoRA folders adds its folder to the
        settings first. Returns the name the project keeps."""
        path = Path(path)
        if path.suffix.lower() != ".safetensors":
            raise LoraUnavailable(f"{path.name} is not a .safetensors file (only those load)")
        name = relative_name(path, self.roots())
        if name is None:
            self.add_folder(path.parent)
            name = relative_name(path, self.roots())
        if name is None:
            raise LoraUnavailable(f"{path} could not be added to the LoRA folders")
        self.add_name(name)
        return name

    def remove_current(self) -> None:
        index = self.table.currentRow()
        if 0 <= index < len(self._rows):
            rows, scopes = list(self._rows), list(self._scope_of)
            del rows[index], scopes[index]
            self.set_loras(rows, scopes)
            self.last_merge = None
            self._emit()

    def _choose(self) -> None:
        found = [f.name for f in list_loras(self.roots())]
        name, ok = QInputDialog.getItem(
            self, "Add LoRA", "LoRA files in the LoRA folders:", [*found, BROWSE], 0, False
        )
        if not ok:
            return
        if name != BROWSE:
            self.add_name(name)
            return
        picked, _ = QFileDialog.getOpenFileName(self, "LoRA file", "", "LoRA (*.safetensors)")
        if picked:
            try:
                self.add_file(Path(picked))
            except LoraUnavailable as exc:
                self.status.setText(str(exc))
