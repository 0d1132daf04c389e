"""The panel inspector: every field of the current panel, each edit an undoable command.

Typing in a text field is one undo step per stretch of typing (the field's merge key changes
whenever the field gains focus). When the project changes under the inspector (undo, another
view), the fields are refreshed without pushing anything back.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.commands import Change, EditFields
from storyboard.core.jobs import panel_job
from storyboard.core.limits import MAX_PANEL_FRAMES
from storyboard.core.model import (
    TRANSITION_DIRECTIONS,
    CameraMove,
    Panel,
    Rect,
    Transition,
    TransitionKind,
)
from storyboard.core.numbering import panel_numbers
from storyboard.core.prompt_text import assemble_prompt
from storyboard.core.styles import builtin_styles
from storyboard.core.timeline import frames_to_seconds, timecode
from storyboard.qt.document import Document
from storyboard.qt.lettering import letter_panel
from storyboard.qt.selection import Selection
from storyboard.qt.widgets.camera_editor import CameraEditor
from storyboard.qt.widgets.forms import TypingSessions, row
from storyboard.qt.widgets.panel_sound import PanelSound
from storyboard.qt.widgets.sections import Section, align_labels
from storyboard.qt.widgets.vocabulary_marks import (
    UnknownWords,
    show_unknown,
    unknown_label,
    vocabulary_for,
)

CAMERA_PRESETS: dict[str, CameraMove | None] = {
    "Static": None,
    "Push in": CameraMove(Rect(0, 0, 1, 1), Rect(0.15, 0.15, 0.7, 0.7)),
    "Pull out": CameraMove(Rect(0.15, 0.15, 0.7, 0.7), Rect(0, 0, 1, 1)),
    "Pan left to right": CameraMove(Rect(0, 0.1, 0.8, 0.8), Rect(0.2, 0.1, 0.8, 0.8)),
    "Pan right to left": CameraMove(Rect(0.2, 0.1, 0.8, 0.8), Rect(0, 0.1, 0.8, 0.8)),
    "Tilt up": CameraMove(Rect(0.1, 0.2, 0.8, 0.8), Rect(0.1, 0, 0.8, 0.8)),
}
CUSTOM_CAMERA = "Custom"


class PanelInspector(QScrollArea):
    message = Signal(str)  # what a button did, for the status bar

    def __init__(self, document: Document, selection: Selection) -> None:
        super().__init__()
        self.setObjectName("inspector")
        self.document = document
        self.selection = selection
        self.panel_id: str | None = None
        self._loading = False
        self._library: list[tuple[str, str]] = []  # the characters the checkboxes were made for
        self._character_boxes: dict[str, QCheckBox] = {}
        self._sessions = TypingSessions(self)
        self.model_override: Callable[[], str] = lambda: ""  # the settings' model, if chosen
        self._build()
        selection.current_changed.connect(self.show_panel)
        document.changed.connect(self._on_change)
        self.show_panel(selection.current)

    # -- layout -----------------------------------------------------------------------------------

    def _text(self, field: str, lines: int) -> QPlainTextEdit:
        edit = QPlainTextEdit()
        edit.setObjectName(field)
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines + 12)
        self._sessions.watch(edit)
        edit.textChanged.connect(lambda: self._edit_text(field, edit.toPlainText(), edit))
        return edit

    def _build(self) -> None:
        """What the panel shows and says (prompt, characters, dialogue) always, then collapsible
        sections: action and notes, timing and camera, generation settings (folded at first, so
        the first fields fit a laptop's screen; each remembers whether the artist opened it)."""
        body = self.body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(6, 4, 6, 4)
        column.setSpacing(4)
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setObjectName("header")
        column.addWidget(self.header)
        self.story = QWidget()  # always shown: what the panel shows and says
        self.story.setObjectName("inspector-story")
        story_form = QFormLayout(self.story)
        story_form.setContentsMargins(0, 0, 0, 0)
        self.sections = {
            "notes": Section("inspector-notes", "Action and notes", opened=False),
            "timing": Section("inspector-timing", "Timing, sound and camera", opened=False),
            "generation": Section("inspector-generation", "Generation", opened=False),
        }
        form = self.form = story_form
        self.prompt = self._text("prompt", 3)
        form.addRow("Prompt", self.prompt)
        self.prompt_marks = UnknownWords(self.prompt.document())
        self.unknown = unknown_label()  # the words of the prompt as the model gets it
        form.addRow(self.unknown)
        self.characters_box = QWidget()
        self.characters_layout = QHBoxLayout(self.characters_box)
        self.characters_layout.setContentsMargins(0, 0, 0, 0)
        form.addRow("Characters", self.characters_box)
        self.box_prompts = QLabel()  # what each boxed character's box is drawn from
        self.box_prompts.setObjectName("box-prompts")
        self.box_prompts.setWordWrap(True)
        self.box_prompts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.box_prompts.setToolTip(
            "With two or more characters, each character's box is drawn from a prompt that "
            "leaves the others out, so their looks don't mix"
        )
        form.addRow("In boxes", self.box_prompts)
        self.dialogue = self._text("dialogue", 2)
        self.make_balloon = QPushButton("Letter it")
        self.make_balloon.setObjectName("make-balloon")
        self.make_balloon.setToolTip("Add the dialogue to the panel as a speech balloon or caption")
        self.make_balloon.clicked.connect(self.letter_dialogue)
        form.addRow("Dialogue", row(self.dialogue, self.make_balloon))
        self.action = self._text("action", 2)
        self.sections["notes"].form.addRow("Action", self.action)
        self.notes = self._text("notes", 2)
        self.sections["notes"].form.addRow("Notes", self.notes)
        self._build_timing(self.sections["timing"].form)
        self._build_generation(self.sections["generation"].form)
        column.addWidget(self.story)
        for section in self.sections.values():
            column.addWidget(section)
        column.addStretch()
        align_labels(story_form, *(section.form for section in self.sections.values()))
        self.setWidget(body)
        self.setWidgetResizable(True)

    def _build_timing(self, form: QFormLayout) -> None:
        self.duration = QSpinBox()
        self.duration.setObjectName("duration")
        self.duration.setRange(1, MAX_PANEL_FRAMES)
        self.duration.setSuffix(" frames")
        self.duration.valueChanged.connect(lambda v: self._set({"duration": v}, "Set duration"))
        self.seconds = QLabel()
        form.addRow("Duration", row(self.duration, self.seconds))
        self.sound = PanelSound(self.document, self.selection)
        form.addRow("Sound", self.sound)

        self.camera = QComboBox()
        self.camera.setObjectName("camera")
        self.camera.addItems([*CAMERA_PRESETS, CUSTOM_CAMERA])
        self.camera.activated.connect(self._camera_chosen)
        form.addRow("Camera", self.camera)
        self.camera_editor = CameraEditor()
        self.camera_editor.edited.connect(lambda move, label: self._set({"camera": move}, label))
        form.addRow("Framing", self.camera_editor)

        self.transition = QComboBox()
        self.transition.setObjectName("transition")
        for kind in TransitionKind:
            self.transition.addItem(kind.value.replace("_", " "), kind)
        self.transition_frames = QSpinBox()
        self.transition_frames.setRange(0, 240)
        self.transition_frames.setSuffix(" frames")
        self.transition_direction = QComboBox()
        self.transition_direction.setObjectName("transition-direction")
        self.transition_direction.setToolTip("Where a wipe's edge or a push travels to")
        self.transition_direction.addItems(list(TRANSITION_DIRECTIONS))
        self.transition.activated.connect(self._transition_changed)
        self.transition_frames.valueChanged.connect(self._transition_changed)
        self.transition_direction.activated.connect(self._transition_changed)
        form.addRow(
            "To next", row(self.transition, self.transition_frames, self.transition_direction)
        )

    def _build_generation(self, form: QFormLayout) -> None:

        self.seed = QSpinBox()
        self.seed.setObjectName("seed")
        self.seed.setRange(-1, 2**31 - 1)
        self.seed.setSpecialValueText("automatic")
        self.seed.valueChanged.connect(
            lambda v: self._set({"seed": None if v < 0 else v}, "Set seed")
        )
        self.seed_locked = QCheckBox("Lock")
        self.seed_locked.toggled.connect(lambda on: self._set({"seed_locked": on}, "Lock seed"))
        form.addRow("Seed", row(self.seed, self.seed_locked))

        self.style_box = QComboBox()
        self.style_box.setObjectName("style")
        self.style_box.addItem("Project default", None)
        for key, style in builtin_styles().items():
            self.style_box.addItem(style.label, key)
        self.style_box.activated.connect(
            lambda _: self._set({"style": self.style_box.currentData()}, "Set style")
        )
        form.addRow("Style", self.style_box)

        self.negative = QLineEdit()
        self.negative.setObjectName("negative_prompt")
        self._sessions.watch(self.negative)
        self.negative.textEdited.connect(
            lambda text: self._edit_text("negative_prompt", text, self.negative)
        )
        form.addRow("Avoid", self.negative)
        self.number = QLineEdit()
        self.number.setObjectName("number_override")
        self.number.editingFinished.connect(self._number_changed)
        form.addRow("Number", self.number)

    # -- showing ----------------------------------------------------------------------------------

    def set_document(self, document: Document) -> None:
        self.sound.set_document(document)
        self.document.changed.disconnect(self._on_change)
        self.document = document
        document.changed.connect(self._on_change)
        self.show_panel(self.selection.current)

    def _panel(self) -> Panel | None:
        return self.document.project.panels.get(self.panel_id) if self.panel_id else None

    def show_panel(self, panel_id: str | None) -> None:
        self.panel_id = panel_id
        self._refresh()

    def _on_change(self, change: Change) -> None:
        if (
            self.panel_id in change.panels
            or change.characters
            or change.structure
            or change.settings
        ):
            self._refresh()

    def _refresh(self) -> None:
        panel = self._panel()
        for part in (self.story, *self.sections.values()):  # no fields of a panel not shown
            part.setVisible(panel is not None)
        if panel is None:
            self.header.setText(
                "No panel selected: click a card in the timeline."
                if self.document.project.panels
                else "No panels yet: add one (N), or start from a story script (File menu)."
            )
            return
        self._loading = True
        try:
            self._fill(panel)
        finally:
            self._loading = False

    def _fill(self, panel: Panel) -> None:
        project = self.document.project
        scene = project.scene_of(panel.id)
        number = panel_numbers(project)[panel.id]
        self.header.setText(f"<b>Panel {number}</b> · {scene.title or 'Untitled scene'}")
        for edit, text in (
            (self.prompt, panel.prompt),
            (self.dialogue, panel.dialogue),
            (self.action, panel.action),
            (self.notes, panel.notes),
        ):
            _set_plain_text(edit, text)
        self.make_balloon.setEnabled(bool(panel.dialogue.strip()))
        if self.negative.text() != panel.negative_prompt:
            self.negative.setText(panel.negative_prompt)
        self.number.setText(panel.number_override or "")
        self.number.setPlaceholderText(number)
        self._fill_characters(panel)
        self._fill_box_prompts(panel)
        vocabulary = vocabulary_for(project, self.model_override())
        self.prompt_marks.set_vocabulary(vocabulary)
        show_unknown(self.unknown, [assemble_prompt(project, panel)], vocabulary)
        self.duration.setValue(panel.duration)
        fps = project.settings.fps
        seconds = frames_to_seconds(panel.duration, fps)
        self.seconds.setText(f"{seconds:.2f} s  ({timecode(panel.duration, fps)})")
        preset = next((n for n, m in CAMERA_PRESETS.items() if m == panel.camera), CUSTOM_CAMERA)
        self.camera.setCurrentText(preset)
        image = self.document.assets.file(panel.image)
        aspect = project.settings.aspect_ratio
        self.camera_editor.show_camera(panel.camera, image, panel.prompt, aspect)
        self.transition.setCurrentIndex(self.transition.findData(panel.transition.kind))
        self.transition_frames.setValue(panel.transition.frames)
        self.transition_direction.setCurrentText(panel.transition.direction)
        directed = panel.transition.kind in (TransitionKind.WIPE, TransitionKind.PUSH)
        self.transition_direction.setEnabled(directed)
        self.seed.setValue(-1 if panel.seed is None else panel.seed)
        self.seed_locked.setChecked(panel.seed_locked)
        self.style_box.setCurrentIndex(max(0, self.style_box.findData(panel.style)))

    def _fill_characters(self, panel: Panel) -> None:
        """One checkbox per character; rebuilt only when the library changes, not per keystroke."""
        library = [(c.id, c.name) for c in self.document.project.ordered_characters()]
        if library != self._library:
            self._library = library
            while self.characters_layout.count():
                item = self.characters_layout.takeAt(0)
                widget = item.widget() if item is not None else None
                if widget is not None:
                    widget.hide()  # gone at once, deleted by the event loop
                    widget.deleteLater()
            self._character_boxes = {}
            for character_id, name in library:
                box = QCheckBox(name)
                box.setObjectName(f"character-{character_id}")
                box.toggled.connect(lambda on, cid=character_id: self._toggle_character(cid, on))
                self.characters_layout.addWidget(box)
                self._character_boxes[character_id] = box
            self.characters_layout.addStretch()
        for character_id, box in self._character_boxes.items():
            box.setChecked(character_id in panel.character_ids)

    def _fill_box_prompts(self, panel: Panel) -> None:
        project = self.document.project
        lines = [
            f"<b>{html.escape(project.characters[cid].name)}</b>: {html.escape(text)}"
            for cid, text in panel_job(project, panel).region_prompts
        ]
        self.box_prompts.setText("<br>".join(lines))
        self.form.setRowVisible(self.box_prompts, bool(lines))

    # -- editing ----------------------------------------------------------------------------------

    def _set(self, changes: dict[str, Any], label: str, merge_key: object = None) -> None:
        if self._loading or self.panel_id is None:
            return
        panel = self._panel()
        if panel is None or all(getattr(panel, k) == v for k, v in changes.items()):
            return
        self.document.push(EditFields("panel", self.panel_id, changes, label, merge_key))

    def _edit_text(self, field: str, text: str, widget: QObject) -> None:
        label = f"Edit {field.replace('_', ' ')}"
        self._set({field: text}, label, (self.panel_id, field, self._sessions.key(widget)))

    def _toggle_character(self, character_id: str, on: bool) -> None:
        panel = self._panel()
        if panel is None:
            return
        ids = [c for c in panel.character_ids if c != character_id]
        if on:
            ids.append(character_id)
        name = self.document.project.characters[character_id].name
        self._set({"character_ids": ids}, f"{'Add' if on else 'Remove'} {name}")

    def _camera_chosen(self, _: int) -> None:
        name = self.camera.currentText()
        if name in CAMERA_PRESETS:
            self._set({"camera": CAMERA_PRESETS[name]}, "Set camera move")

    def _transition_changed(self, *_: object) -> None:
        panel = self._panel()
        if panel is None:
            return
        direction = self.transition_direction.currentText()
        if direction not in TRANSITION_DIRECTIONS:
            return
        transition = Transition(
            TransitionKind(self.transition.currentData()),  # Qt hands the enum back as a str
            self.transition_frames.value(),
            direction,
            panel.transition.clip,  # a generated clip stays with its pair of panels
        )
        self._set({"transition": transition}, "Set transition")

    def _number_changed(self) -> None:
        self._set({"number_override": self.number.text().strip() or None}, "Set panel number")

    def letter_dialogue(self) -> None:
        if self.panel_id is not None:
            self.message.emit(letter_panel(self.document, self.panel_id))


def _set_plain_text(edit: QPlainTextEdit, text: str) -> None:
    """Replace the text only when it differs, keeping the cursor where the user had it."""
    if edit.toPlainText() == text:
        return
    position = edit.textCursor().position()
    edit.setPlainText(text)
    cursor = edit.textCursor()
    cursor.setPosition(min(position, len(text)))
    edit.setTextCursor(cursor)
