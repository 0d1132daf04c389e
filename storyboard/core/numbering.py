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
    """Panel ids for numbers typed by a user ("3a", "3B").

    KeyError for a number no panel has, and for one that several panels share (manual numbers
    can repeat, e.g. Storyboarder's shots, which start at 1A in every scene): which of them was
    meant cannot be guessed, and the message says where they are.
    """
    by_number: dict[str, list[str]] = {}
    for pid, number in panel_numbers(project).items():
        by_number.setdefault(number.casefold(), []).append(pid)
    missing = [n for n in numbers if n.strip().casefold() not in by_number]
    if missing:
        raise KeyError(f"no panel numbered {', '.join(missing)}")
    found = []
    for typed in numbers:
        pids = by_number[typed.strip().casefold()]
        if len(pids) > 1:
            scenes = ", ".join(str(n) for n in _scene_numbers(project, pids))
            raise KeyError(
                f"{len(pids)} panels are numbered {typed.strip()} (in scenes {scenes}); give "
                "them numbers of their own in the editor (the panel's Number field) or clear "
                "those numbers there"
            )
        found.append(pids[0])
    return found


def _scene_numbers(project: Project, panel_ids: list[str]) -> list[int]:
    """The (1-based) scene number of each panel, in order."""
    scene_of = {
        pid: number
        for number, scene in enumerate(project.ordered_scenes(), start=1)
        for pid in scene.panel_ids
    }
    return [scene_of[pid] for pid in panel_ids]


NUMBER_CHARS = 40


def safe_number(number: str) -> str:
    """A panel number as part of a file name (exports' media folders): letters, digits, dots and
    dashes, the rest ``_``; no leading or trailing dot or underscore; at most 40 characters.
    A manual number like "3/A" or ".." never names a folder."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", number)[:NUMBER_CHARS].strip("._") or "panel"
