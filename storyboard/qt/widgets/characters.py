"""The character library: who is in the story, what they look like, and how their identity is
kept consistent. Renaming a character rewrites the ``[Name]`` tokens of the panels that use it.
Its LoRAs (its look as a LoRA file, with trigger words) are edited in :class:`LoraList`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.commands import AddItem, Change, EditFields
from storyboard.core.lora_files import lora_roots
from storyboard.core.model import Character, IdentitySettings, LoraUse
from storyboard.core.story_edits import remove_character, rename_character
from storyboard.qt.document import Document
from storyboard.qt.widgets.forms import TypingSessions, row
from storyboard.qt.widgets.lora_list import LoraList
from storyboard.qt.widgets.vocabulary_marks import (
    UnknownWords,
    show_unknown,
    unknown_label,
    vocabulary_for,
)


def png_bytes_of(path: Path) -> bytes:
    """Any image Qt can read, as PNG bytes (the asset store keeps PNG only)."""
    image = QImage(str(path))
    if image.isNull():
        raise ValueError(f"{path} is not an image this editor can read")
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, b"PNG")
    return bytes(data.data())


BOXED_NOTE = (
    "In a panel where several characters have boxes, a character's LoRA is not applied: a LoRA "
    "changes the whole picture and cannot be kept inside one box. Its identity panels are drawn "
    "with it, so its look still reaches the box through the identity bank."
)


class CharacterLibrary(QWidget):
    identity_requested = Signal(str)  # character id: generate its identity panels

    def __init__(self, document: Document) -> None:
        super().__init__()
        self.setObjectName("characters")
        self.document = document
        self._loading = False
        self._sessions = TypingSessions(self)
        self.list = QListWidget()
        self.list.setObjectName("character-list")
        self.list.currentRowChanged.connect(lambda _: self._fill())
        add, remove = QPushButton("Add"), QPushButton("Delete")
        add.setObjectName("add-character")
        remove.setObjectName("delete-character")
        add.clicked.connect(self.add_character)
        remove.clicked.connect(self.delete_character)

        self.name = QLineEdit()
        self.name.setObjectName("name")
        self.name.editingFinished.connect(self._rename)
        self.description = QPlainTextEdit()
        self.description.setObjectName("description")
        self.description.setFixedHeight(self.description.fontMetrics().lineSpacing() * 4 + 12)
        self._sessions.watch(self.description)
        self.description.textChanged.connect(self._describe)
        self.model_override: Callable[[], str] = lambda: ""  # the settings' model, if chosen
        self.description_marks = UnknownWords(self.description.document())
        self.unknown = unknown_label()
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.valueChanged.connect(lambda v: self._edit({"seed": v}, "Set character seed"))
        self.identity_panels = QSpinBox()
        self.identity_panels.setRange(1, 8)
        self.identity_panels.valueChanged.connect(self._identity_changed)
        self.consistent = QCheckBox("Consistent across panels")
        self.consistent.setToolTip(
            "Keep this character's face, hair and clothes the same in every panel it is in "
            "(its identity panels are shared with the others)"
        )
        self.consistent.toggled.connect(self._identity_changed)
        self.shared = QSpinBox()
        self.shared.setObjectName("shared-tokens")
        self.shared.setRange(10, 100)
        self.shared.setSingleStep(10)
        self.shared.setSuffix(" %")
        self.shared.setToolTip(
            "How much of the identity panels each panel looks at. More keeps the character more "
            "alike (the built-in model: 100%), less leaves the panels freer and uses less memory."
        )
        self.shared.valueChanged.connect(self._identity_changed)
        self.references = QListWidget()
        self.references.setViewMode(QListWidget.ViewMode.IconMode)
        self.references.setIconSize(QSize(64, 64))
        self.references.setFixedHeight(84)
        add_ref, remove_ref = QPushButton("Add…"), QPushButton("Remove")  # (under References)
        add_ref.setToolTip("Add a reference image of this character")
        remove_ref.setToolTip("Remove the selected reference image")
        identity = QPushButton("Generate identity")
        identity.setObjectName("generate-identity")
        identity.setToolTip("Make this character's identity panels again (the reference look)")
        identity.clicked.connect(self._identity_clicked)
        add_ref.clicked.connect(self._choose_reference)
        remove_ref.clicked.connect(self._remove_reference)
        # the settings' LoRA folders and a way to add one (the main window sets both)
        self.lora_folders: Callable[[], list[str]] = lambda: []
        self.add_lora_folder: Callable[[Path], None] = lambda _folder: None
        self.loras = LoraList(self._lora_roots, self._new_lora_folder)
        self.loras.setObjectName("character-loras")
        self.loras.edited.connect(self._loras_edited)
        boxed_note = QLabel(BOXED_NOTE)
        boxed_note.setWordWrap(True)
        boxed_note.setEnabled(False)  # greyed: a note, not a control

        self.form = QWidget()
        form = QFormLayout(self.form)
        form.addRow("Name", self.name)
        form.addRow(QLabel("Looks"))
        form.addRow(self.description)  # the whole dock's width: descriptions are long
        form.addRow(self.unknown)
        form.addRow("Seed", self.seed)
        form.addRow("Identity panels", self.identity_panels)
        form.addRow(self.consistent)
        form.addRow("Shared tokens", self.shared)
        form.addRow(QLabel("References"))
        form.addRow(self.references)
        form.addRow(row(add_ref, remove_ref))
        form.addRow(QLabel("LoRAs"))
        form.addRow(self.loras)
        form.addRow(boxed_note)
        form.addRow(identity)
        scroll = QScrollArea()  # scrolls on a short screen instead of making the window taller
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.list, 1)
        layout.addWidget(row(add, remove))
        layout.addWidget(scroll, 3)
        document.changed.connect(self._on_change)
        self._reload_list()

    def set_document(self, document: Document) -> None:
        self.document.changed.disconnect(self._on_change)
        self.document = document
        document.changed.connect(self._on_change)
        self._reload_list()

    # -- reading ----------------------------------------------------------------------------------

    def current(self) -> Character | None:
        item = self.list.currentItem()
        if item is None:
            return None
        return self.document.project.characters.get(item.data(Qt.ItemDataRole.UserRole))

    def _on_change(self, change: Change) -> None:
        if change.characters or change.structure:
            self._reload_list()

    def _reload_list(self) -> None:
        current = self.current()
        keep = current.id if current else None
        self.list.blockSignals(True)
        self.list.clear()
        for character in self.document.project.ordered_characters():
            item = QListWidgetItem(character.name)
            item.setData(Qt.ItemDataRole.UserRole, character.id)
            self.list.addItem(item)
            if character.id == keep:
                self.list.setCurrentItem(item)
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(0)
        self.list.blockSignals(False)
        self._fill()

    def _fill(self) -> None:
        character = self.current()
        self.form.setEnabled(character is not None)
        if character is None:
            return
        self._loading = True
        try:
            if self.name.text() != character.name:
                self.name.setText(character.name)
            if self.description.toPlainText() != character.description:
                self.description.setPlainText(character.description)
            vocabulary = vocabulary_for(self.document.project, self.model_override())
            self.description_marks.set_vocabulary(vocabulary)
            show_unknown(self.unknown, [character.description], vocabulary)
            self.seed.setValue(character.seed)
            self.identity_panels.setValue(character.identity.identity_panels)
            self.consistent.setChecked(character.identity.enabled)
            self.shared.setValue(round(character.identity.sample_rate_low_res * 100))
            self.references.clear()
            for asset in character.reference_images:
                path = self.document.assets.file(asset)
                icon = QIcon(QPixmap(str(path))) if path else QIcon()
                item = QListWidgetItem(icon, "")
                item.setData(Qt.ItemDataRole.UserRole, asset)
                self.references.addItem(item)
            self.loras.set_loras(character.loras)
        finally:
            self._loading = False

    # -- editing ----------------------------------------------------------------------------------

    def _edit(self, changes: dict[str, object], label: str, merge_key: object = None) -> None:
        character = self.current()
        if self._loading or character is None:
            return
        if all(getattr(character, k) == v for k, v in changes.items()):
            return
        self.document.push(EditFields("character", character.id, changes, label, merge_key))

    def add_character(self) -> None:
        project = self.document.project
        number = len(project.characters) + 1
        while project.character_named(f"Character {number}"):
            number += 1
        character = Character(name=f"Character {number}", seed=number)
        self.document.push(
            AddItem("characters", character, len(project.character_ids), "Add character")
        )
        self.list.setCurrentRow(self.list.count() - 1)

    def delete_character(self) -> None:
        character = self.current()
        if character is not None:
            self.document.push(remove_character(self.document.project, character.id))

    def _rename(self) -> None:
        character = self.current()
        new_name = self.name.text().strip()
        if self._loading or character is None or new_name == character.name:
            return
        try:
            command = rename_character(self.document.project, character.id, new_name)
        except ValueError as exc:
            QMessageBox.warning(self, "Rename character", str(exc))
            self.name.setText(character.name)
            return
        self.document.push(command)

    def _describe(self) -> None:
        key = ("description", self._sessions.key(self.description))
        self._edit({"description": self.description.toPlainText()}, "Edit description", key)

    def _lora_roots(self) -> list[Path]:
        return lora_roots(self.document.bundle, self.lora_folders())

    def _new_lora_folder(self, folder: Path) -> None:
        self.add_lora_folder(folder)  # looked up now: the window sets it after construction

    def _loras_edited(self, loras: list[LoraUse]) -> None:
        character = self.current()
        if character is None:
            return
        # typing a weight or trigger words is one undo step; adding or removing one is its own
        last = self.loras.last_merge
        key = ("loras", character.id, *last) if last is not None else None
        self._edit({"loras": loras}, "Edit LoRAs", key)

    def _identity_changed(self, *_: object) -> None:
        character = self.current()
        if character is None:
            return
        low, high = character.identity.sample_rate_low_res, character.identity.sample_rate_high_res
        if self.shared.value() != round(low * 100):  # else rates a file set apart stay so
            low = high = self.shared.value() / 100
        identity = IdentitySettings(
            identity_panels=self.identity_panels.value(),
            sample_rate_low_res=low,
            sample_rate_high_res=high,
            enabled=self.consistent.isChecked(),
        )
        self._edit({"identity": identity}, "Set identity settings")

    def _identity_clicked(self) -> None:
        character = self.current()
        if character is not None:
            self.identity_requested.emit(character.id)

    def add_reference(self, path: Path) -> None:
        character = self.current()
        if character is None:
            return
        asset = self.document.assets.put(png_bytes_of(path))
        images = [*character.reference_images, asset]
        self._edit({"reference_images": images}, "Add reference image")

    def _choose_reference(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Reference image", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp)"
        )
        if name:
            try:
                self.add_reference(Path(name))
            except (OSError, ValueError) as exc:
                QMessageBox.warning(self, "Reference image", str(exc))

    def _remove_reference(self) -> None:
        character, item = self.current(), self.references.currentItem()
        if character is None or item is None:
            return
        asset = item.data(Qt.ItemDataRole.UserRole)
        images = [a for a in character.reference_images if a != asset]
        self._edit({"reference_images": images}, "Remove reference image")
