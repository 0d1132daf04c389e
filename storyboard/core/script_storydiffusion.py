"""StoryDiffusion story scripts: one panel per line, characters named by ``[Name]``.

The official StoryDiffusion app takes two text boxes (character descriptions and the comic
description, one panel per line). We read both from one text, so the boundary has to be a rule
a writer can see:

* **Character block.** The first paragraph of the script (the lines before the first blank line
  or ``##`` heading) defines the characters when *every* line in it has the shape
  ``[Name] description``: one bracketed name at the start (not ``[NC]``), a non-empty
  description, no ``#`` and no other ``[...]``. A name defined twice there is a problem. A
  story that does not start with such a block has no characters.
* **Panels.** Every other non-blank line is one panel. ``[Name]`` names a defined character
  (case-insensitive); the token stays in the prompt because the engine substitutes the
  description at generation time, and the character's id goes to ``character_ids``. An unknown
  name is a problem (the panel is still made, without it). ``[NC]`` marks a panel with no
  character and is removed from the prompt; it cannot be combined with a name. A line without
  any tag is also a panel with no character.
* **Captions.** Text after the first ``#`` of a panel line is the caption (the panel's
  dialogue); ``[Name]`` tags in it are written as the plain name.
* **Scenes.** A blank line ends the current scene; a ``## Title`` line starts a scene called
  Title. Panels after a blank line without a heading get a scene called "Scene N".

Problems are ``(line, message)`` pairs, 1-based, so that this module needs nothing from the front
door (:mod:`storyboard.core.script`) and the two never import each other in a cycle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storyboard.core.model import Character, Panel, Project, Scene
from storyboard.core.timeline import suggested_duration

Problems = list[tuple[int, str]]

_TAG = re.compile(r"\[([^\[\]\n]*)\]")
_NO_CHARACTER = "nc"
_LISTED_NAMES = 10  # an unknown name's message lists this many known ones, not thousands


@dataclass(frozen=True, slots=True)
class _Definition:
    line: int
    name: str
    description: str


def split_lines(text: str) -> list[str]:
    """Lines as a text editor numbers them (only CR, LF and CRLF end a line)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _is_heading(line: str) -> bool:
    return line.strip().startswith("##")


def _definition(number: int, line: str) -> _Definition | None:
    """``[Name] description`` when the line has exactly that shape, else None.

    Read by hand rather than with ``\\s*\\[([^\\[\\]\\n]+)\\]\\s*(\\S.*?)\\s*``, which took
    quadratic time on a description with a long run of spaces.
    """
    text = line.strip()
    close = text.find("]")
    if not text.startswith("[") or close < 2 or "#" in line or "\n" in line:
        return None
    name, description = text[1:close], text[close + 1 :].lstrip()
    if "[" in name or not description or _TAG.search(description):
        return None
    name = " ".join(name.split())
    if not name or name.casefold() == _NO_CHARACTER:
        return None
    return _Definition(number, name, description)


def _character_block(lines: list[str]) -> tuple[list[_Definition], int]:
    """The definitions of the leading paragraph and the index of the first line after it.

    Returns no definitions (and index 0) when the first paragraph is not entirely definitions.
    """
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    end = start
    while end < len(lines) and lines[end].strip() and not _is_heading(lines[end]):
        end += 1
    found = [_definition(i + 1, lines[i]) for i in range(start, end)]
    definitions = [d for d in found if d is not None]
    if not found or len(definitions) != len(found):
        return [], 0
    return definitions, end


def _add_characters(
    project: Project, definitions: list[_Definition], problems: Problems
) -> dict[str, Character]:
    """The defined characters, by casefolded name."""
    first_line: dict[str, int] = {}
    by_name: dict[str, Character] = {}
    for definition in definitions:
        key = definition.name.casefold()
        if key in first_line:
            problems.append(
                (
                    definition.line,
                    f"character [{definition.name}] is already defined on line "
                    f"{first_line[key]}; expected each name once",
                )
            )
            continue
        first_line[key] = definition.line
        character = Character(name=definition.name, description=definition.description)
        project.characters[character.id] = character
        project.character_ids.append(character.id)
        by_name[key] = character
    return by_name


def _known_names(project: Project) -> str:
    names = [f"[{c.name}]" for c in project.ordered_characters()]
    more = len(names) - _LISTED_NAMES
    return ", ".join(names[:_LISTED_NAMES]) + (f", … ({more} more)" if more > 0 else "")


def _unknown_name_message(name: str, known: str) -> str:
    if known:
        return f"unknown character [{name}]; expected one of {known} or [NC]"
    return (
        f"unknown character [{name}]; no characters are defined: start the script with "
        f"'[{name}] description' lines, then a blank line"
    )


@dataclass(slots=True)
class _Cast:
    """The defined characters, looked up by name once per tag (not by a scan of them all)."""

    by_name: dict[str, Character]
    known: str  # the names an unknown one is told apart from, for its message

    def named(self, name: str) -> Character | None:
        return self.by_name.get(name.casefold())


def _characters_in(prompt: str, number: int, cast: _Cast, problems: Problems) -> list[str]:
    """The ids of the characters tagged in a prompt; problems for unknown or clashing tags."""
    ids: dict[str, None] = {}
    no_character = False
    for match in _TAG.finditer(prompt):
        name = " ".join(match.group(1).split())
        if not name:
            problems.append((number, "empty []; expected a character name or NC inside"))
        elif name.casefold() == _NO_CHARACTER:
            no_character = True
        elif (character := cast.named(name)) is None:
            problems.append((number, _unknown_name_message(name, cast.known)))
        else:
            ids.setdefault(character.id)
    if no_character and ids:
        problems.append((number, "[NC] means no character, but the line also names one"))
    return list(ids)


_ROUND = re.compile(r"\(([^()\n]*)\)|\{([^{}\n]*)\}")  # no nesting: each match scans ahead once


def _bracket_problems(prompt: str, cast: _Cast) -> list[str]:
    """Typos that would silently drop a character: a ``[`` never closed (``[Otto steers``), a
    ``]`` never opened, and a character's name in round or curly brackets (``(Otto) mends``).
    One pass over the prompt (plus one regex scan that never backtracks past a bracket)."""
    found: list[str] = []
    opened: int | None = None
    for column, char in enumerate(prompt, 1):
        if char == "[":
            if opened is not None:
                found.append(_unclosed(prompt, opened))
            opened = column
        elif char == "]":
            if opened is None:
                found.append(f"']' at column {column} closes no '['; expected [Name]")
            opened = None
    if opened is not None:
        found.append(_unclosed(prompt, opened))
    for match in _ROUND.finditer(prompt):
        name = " ".join((match.group(1) or match.group(2) or "").split())
        if name and (character := cast.named(name)) is not None:
            found.append(
                f"{match.group(0)} names a character in the wrong brackets; write "
                f"[{character.name}] to put {character.name} in the panel"
            )
    return found


def _unclosed(prompt: str, column: int) -> str:
    start = "[" + prompt[column : column + 19].split("[", maxsplit=1)[0].rstrip()
    return f"'[' at column {column} ('{start}…') is never closed; expected [Name]"


def _plain_caption(caption: str, cast: _Cast) -> str:
    """``[Bob] waves`` -> ``Bob waves`` for known names; other brackets are left alone."""

    def name(match: re.Match[str]) -> str:
        character = cast.named(" ".join(match.group(1).split()))
        return character.name if character else match.group(0)

    return _TAG.sub(name, caption).strip()


def _panel(number: int, line: str, cast: _Cast, fps: float, problems: Problems) -> Panel:
    prompt, _, caption = line.partition("#")
    problems += [(number, found) for found in _bracket_problems(prompt, cast)]
    ids = _characters_in(prompt, number, cast, problems)
    prompt = re.sub(r"\[\s*NC\s*\]", " ", prompt, flags=re.IGNORECASE)
    prompt = " ".join(prompt.split())
    if not prompt:
        problems.append(
            (number, "expected a prompt describing the panel (use '## Title' for a scene heading)")
        )
    dialogue = _plain_caption(caption, cast)
    return Panel(
        prompt=prompt,
        character_ids=ids,
        dialogue=dialogue,
        duration=suggested_duration(dialogue, fps),
    )


def _add_scene(project: Project, title: str) -> Scene:
    scene = Scene(title=title or f"Scene {len(project.scene_ids) + 1}")
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    return scene


def parse_storydiffusion(text: str, fps: float) -> tuple[Project, Problems]:
    """Build a project from a StoryDiffusion story; never raises for any text."""
    project = Project()
    project.settings.title = ""  # a story names no title: the caller picks one
    problems: Problems = []
    lines = split_lines(text)
    definitions, first = _character_block(lines)
    by_name = _add_characters(project, definitions, problems)
    cast = _Cast(by_name, _known_names(project))
    scene: Scene | None = None
    for index in range(first, len(lines)):
        number, line = index + 1, lines[index]
        if not line.strip():
            scene = None
        elif _is_heading(line):
            scene = _add_scene(project, line.strip().lstrip("#").strip())
        else:
            scene = scene or _add_scene(project, "")
            panel = _panel(number, line, cast, fps, problems)
            project.panels[panel.id] = panel
            scene.panel_ids.append(panel.id)
    if not project.panels:
        where = "after the character block" if definitions else "in the script"
        problems.append((max(first, 1), f"expected at least one panel line {where}"))
    return project, problems
