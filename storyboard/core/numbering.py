"""Panel numbers in the Storyboarder / Storyboard Pro style: scene number + letter (3A, 3B, ...).

Numbers are derived, never stored, so a reorder renumbers everything at once; a panel's manual
``number_override`` (for a board that must keep the number printed on an old handout) wins.
"""

from __future__ import annotations

import re
from string import ascii_uppercase

from storyboard.core.model import Project


def letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, 27 -> AB: spreadsheet-style, so a long scene never runs out."""
    if index < 0:
        raise ValueError("index must be >= 0")
    text = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        text = ascii_uppercase[remainder] + text
    return text


def panel_numbers(project: Project) -> dict[str, str]:
    """The displayed number of every panel, by panel id."""
    numbers: dict[str, str] = {}
    for scene_number, scene in enumerate(project.ordered_scenes(), start=1):
        for index, panel_id in enumerate(scene.panel_ids):
            override = project.panels[panel_id].number_override
            numbers[panel_id] = override or f"{scene_number}{letters(index)}"
    return numbers


def find_panels(project: Project, numbers: list[str]) -> list[str]:
    """Panel ids for numbers typed by a user ("3a", "3B"); unknown numbers raise KeyError."""
    by_number = {number.casefold(): pid for pid, number in panel_numbers(project).items()}
    missing = [n for n in numbers if n.strip().casefold() not in by_number]
    if missing:
        raise KeyError(f"no panel numbered {', '.join(missing)}")
    return [by_number[n.strip().casefold()] for n in numbers]


NUMBER_CHARS = 40


def safe_number(number: str) -> str:
    """A panel number as part of a file name (exports' media folders): letters, digits, dots and
    dashes, the rest ``_``; no leading or trailing dot or underscore; at most 40 characters.
    A manual number like "3/A" or ".." never names a folder."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", number)[:NUMBER_CHARS].strip("._") or "panel"
