"""Words the built-in model does not know are underlined and listed where prompts are written:
the inspector's prompt, a character's description, the story script dialog."""

from __future__ import annotations

from PySide6.QtGui import QTextCharFormat
from PySide6.QtWidgets import QApplication, QPlainTextEdit
from pytestqt.qtbot import QtBot

from storyboard.qt.main_window import MainWindow
from storyboard.qt.widgets.script_dialog import ScriptDialog


def underlined(edit: QPlainTextEdit) -> list[str]:
    """The words of the field drawn with a wavy underline."""
    text = edit.toPlainText()
    block = edit.document().firstBlock()
    layout = block.layout()
    assert layout is not None
    return [
        text[r.start : r.start + r.length]
        for r in layout.formats()
        if r.format.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline
    ]


def test_the_inspector_marks_words_the_toy_world_model_does_not_know(
    window: MainWindow, qtbot: QtBot
) -> None:
    assert window.document.project.settings.generation.model == "toyworld"
    window.timeline.select_panels([window.timeline_model.panel_ids()[2]])
    inspector = window.inspector
    inspector.prompt.setPlainText("[Mia] with teal hair on the beach near a spaceship")
    assert underlined(inspector.prompt) == ["teal", "near", "spaceship"]
    assert inspector.unknown.isVisibleTo(inspector)
    assert "Toy world" in inspector.unknown.text()
    assert "teal, near, spaceship" in inspector.unknown.text()
    inspector.prompt.setPlainText("[Mia] waving on the beach")
    assert underlined(inspector.prompt) == []
    assert not inspector.unknown.isVisibleTo(inspector)
    window.settings.model_source = "sdxl-base"  # an open vocabulary: nothing is marked
    inspector.prompt.setPlainText("[Mia] on a spaceship")
    assert underlined(inspector.prompt) == []
    assert not inspector.unknown.isVisibleTo(inspector)


def test_a_characters_description_is_marked_too(window: MainWindow) -> None:
    library = window.characters
    library.list.setCurrentRow(0)
    library.description.setPlainText("a person with turquoise hair and freckles")
    assert underlined(library.description) == ["turquoise", "freckles"]
    assert "turquoise, freckles" in library.unknown.text()
    # the panels that show the character list its unknown words too (their prompt as sent)
    name = library.current()
    assert name is not None
    panel_id = next(
        p.id for p in window.document.project.ordered_panels() if name.id in p.character_ids
    )
    window.timeline.select_panels([panel_id])
    assert "turquoise" in window.inspector.unknown.text()


def test_the_script_dialog_lists_the_words_the_model_does_not_know(
    app: QApplication, qtbot: QtBot
) -> None:
    dialog = ScriptDialog()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.parsed):
        dialog.set_text("[Ann] a person with teal hair\n\n[Ann] waving on a spaceship\n")
    assert dialog.unknown.isVisibleTo(dialog)
    assert "teal, spaceship." in dialog.unknown.text()
    # and what to write instead: a new user cannot guess the 44 words the toy world knows
    known = dialog.unknown.text().split("The words it knows: ")[1]
    assert {"waving", "beach", "person", "red", "hair"} <= set(known.rstrip(".").split(", "))
    with qtbot.waitSignal(dialog.parsed):
        dialog.set_text("[Ann] a person with red hair\n\n[Ann] waving on the beach\n")
    assert not dialog.unknown.isVisibleTo(dialog)
