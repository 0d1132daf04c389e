"""Letter all panels, and Letter it on one, as one undo step each, with a line saying what was
done for the status bar (the Balloons dock, the Comic pages view and the inspector use these)."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton

from storyboard.core.lettering import letter_all
from storyboard.core.model import BalloonKind
from storyboard.core.numbering import panel_numbers
from storyboard.core.story_edits import balloon_from_dialogue
from storyboard.qt.document import Document


def letter_all_panels(document: Document) -> str:
    """Every panel with dialogue and no balloon gets one; returns what was done, in words."""
    lettering = letter_all(document.project)
    if lettering.command is not None:
        document.push(lettering.command)
    return lettering.message


def letter_panel(document: Document, panel_id: str) -> str:
    """The panel's dialogue as a balloon (or caption); returns what was done, in words."""
    number = panel_numbers(document.project).get(panel_id, "")
    try:
        command = balloon_from_dialogue(document.project, panel_id)
    except ValueError:
        return f"Panel {number} has no dialogue to letter"
    document.push(command)
    what = "a caption" if command.balloon.kind == BalloonKind.CAPTION else "a speech balloon"
    return f"Lettered panel {number}: its dialogue is {what} now (drag it on the page to move it)"


def letter_all_button() -> QPushButton:
    button = QPushButton("Letter all panels")
    button.setObjectName("letter-all")
    button.setToolTip(
        "Every panel with dialogue and no balloon yet gets its dialogue as a balloon "
        "(one undo step)"
    )
    return button
