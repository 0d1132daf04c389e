"""Lettering the whole story at once: every panel with dialogue and no balloon yet gets its
dialogue as a balloon (``balloon_from_dialogue``), as one undoable step that says what it did.

A panel that already has a balloon is left alone, whatever its balloons say: the artist may have
lettered it by hand. A project made from a story script is lettered this way as it is made
(``script.py``), so its comic pages show the dialogue without a click.
"""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.core.commands import Batch, Command
from storyboard.core.model import Project
from storyboard.core.story_edits import balloon_from_dialogue, names_index


@dataclass(frozen=True, slots=True)
class Lettering:
    command: Batch | None  # None when there is nothing to letter
    lettered: int  # panels that get a balloon
    already: int  # panels with dialogue that had balloons and were left alone

    @property
    def message(self) -> str:
        """What the artist is told: "Lettered 9 panels; 3 already had balloons"."""
        if not self.lettered:
            text = "No panel to letter: no panel has dialogue without a balloon"
        else:
            text = f"Lettered {_panels(self.lettered)}"
        if self.already:
            text += f"; {_panels(self.already)} already had balloons"
        return text


def _panels(count: int) -> str:
    return f"{count} panel{'s' if count != 1 else ''}"


def letter_all(project: Project) -> Lettering:
    """The command that letters every panel with dialogue and no balloon, in story order."""
    commands: list[Command] = []
    already = 0
    names = names_index(project)  # one pass over the library, not one per panel
    for panel in project.ordered_panels():
        if not panel.dialogue.strip():
            continue
        if panel.balloons:
            already += 1
            continue
        commands.append(balloon_from_dialogue(project, panel.id, names))
    label = f"Letter {_panels(len(commands))}"
    return Lettering(Batch(label, commands) if commands else None, len(commands), already)


def letter_new_project(project: Project) -> int:
    """Letter a project as it is made (no undo history yet); returns how many panels."""
    lettering = letter_all(project)
    if lettering.command is not None:
        lettering.command.apply(project)
    return lettering.lettered
