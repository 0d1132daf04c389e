"""Edits that touch several objects at once, built from the primitive commands as one undo step.

Renaming a character rewrites the ``[Name]`` tokens in the prompts that mention it; removing a
character takes it out of every panel; changing the fps keeps every panel's length in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from storyboard.core.commands import AddBalloon, Batch, Command, EditFields, RemoveItem
from storyboard.core.model import (
    FPS_CHOICES,
    Balloon,
    BalloonKind,
    Character,
    Point,
    Project,
    Rect,
)
from storyboard.core.timeline import exact_fps


def _name_token(name: str) -> re.Pattern[str]:
    return re.compile(r"\[" + re.escape(name) + r"\]", re.IGNORECASE)


def rename_character(project: Project, character_id: str, new_name: str) -> Batch:
    character = project.characters[character_id]
    new_name = new_name.strip()
    if not new_name or "[" in new_name or "]" in new_name:
        raise ValueError("a character name must be non-empty and contain no brackets")
    other = project.character_named(new_name)
    if other is not None and other.id != character_id:
        raise ValueError(f"there is already a character named {other.name}")
    token = _name_token(character.name)
    commands: list[Command] = [EditFields("character", character_id, {"name": new_name})]
    for panel in project.ordered_panels():
        if token.search(panel.prompt):
            prompt = token.sub(f"[{new_name}]", panel.prompt)
            commands.append(EditFields("panel", panel.id, {"prompt": prompt}))
    return Batch(f"Rename {character.name} to {new_name}", commands)


def remove_character(project: Project, character_id: str) -> Batch:
    """Delete a character from the library and from every panel it appears in.

    The ``[Name]`` text stays in prompts (the artist may want to re-add the character); the
    engine reports it as an unknown name instead of silently dropping it.
    """
    character = project.characters[character_id]
    commands: list[Command] = []
    for panel in project.ordered_panels():
        if character_id in panel.character_ids or character_id in panel.character_regions:
            regions = {k: v for k, v in panel.character_regions.items() if k != character_id}
            ids = [c for c in panel.character_ids if c != character_id]
            changes = {"character_ids": ids, "character_regions": regions}
            commands.append(EditFields("panel", panel.id, changes))
    for panel in project.panels.values():
        for balloon in panel.balloons:
            if balloon.character_id == character_id:
                commands.append(EditFields("balloon", balloon.id, {"character_id": None}))
    commands.append(RemoveItem("characters", character_id))
    return Batch(f"Delete character {character.name}", commands)


def set_fps(project: Project, fps: float) -> Batch:
    """Change the frame rate, rescaling durations so every panel keeps its length in seconds."""
    if fps not in FPS_CHOICES:
        raise ValueError(f"fps must be one of {', '.join(map(str, FPS_CHOICES))}")
    ratio = exact_fps(fps) / exact_fps(project.settings.fps)
    commands: list[Command] = [EditFields("settings", "", {"fps": fps})]
    for panel in project.ordered_panels():
        duration = max(1, round(panel.duration * ratio))
        transition = type(panel.transition)(
            panel.transition.kind, round(panel.transition.frames * ratio)
        )
        commands.append(
            EditFields("panel", panel.id, {"duration": duration, "transition": transition})
        )
    return Batch(f"Set frame rate to {fps:g} fps", commands)


def balloon_from_dialogue(
    project: Project, panel_id: str, names: Mapping[str, Character] | None = None
) -> AddBalloon:
    """One click: the panel's dialogue as a balloon, ready to letter.

    ``NAME: line`` becomes a speech balloon of that character (the name is not lettered); a line
    without a speaker is spoken by the panel's only character, or else becomes a caption box. The
    tail points at the speaker's region when the panel has one. ``names`` (casefolded name to
    character, see :func:`names_index`) saves a search of the library for each of many panels.
    """
    panel = project.panels[panel_id]
    text = panel.dialogue.strip()
    if not text:
        raise ValueError("the panel has no dialogue to letter")
    speaker = None
    name, colon, line = text.partition(":")
    if colon and line.strip():
        wanted = name.strip()
        speaker = project.character_named(wanted) if names is None else names.get(wanted.casefold())
        if speaker is not None:
            text = line.strip()
    if speaker is None and ":" not in text and len(panel.character_ids) == 1:
        speaker = project.characters[panel.character_ids[0]]
    if speaker is None:
        balloon = Balloon(kind=BalloonKind.CAPTION, text=text, box=Rect(0.03, 0.03, 0.5, 0.16))
        return AddBalloon(panel_id, balloon, label="Caption from dialogue")
    region = panel.character_regions.get(speaker.id)
    tail = (
        Point(region.x + region.w / 2, region.y + region.h * 0.3) if region else Point(0.45, 0.55)
    )
    balloon = Balloon(
        kind=BalloonKind.SPEECH,
        text=text,
        box=Rect(0.52, 0.04, 0.44, 0.24),
        tail=tail,
        character_id=speaker.id,
    )
    return AddBalloon(panel_id, balloon, label="Balloon from dialogue")


def names_index(project: Project) -> dict[str, Character]:
    """Characters by casefolded name, the first of equal names winning as in ``character_named``."""
    index: dict[str, Character] = {}
    for character in project.characters.values():
        index.setdefault(character.name.casefold(), character)
    return index
