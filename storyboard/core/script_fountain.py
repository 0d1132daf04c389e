"""Fountain screenplays (https://fountain.io) as scenes and panels.

A screenplay is written for reading, a storyboard for seeing, so the mapping is a rule of thumb a
board artist would apply by hand:

* one scene per scene heading (``INT.``, ``EXT.``, ``EST.``, ``INT./EXT.``, ``I/E`` or a forced
  ``.HEADING``), titled by the heading without its ``#scene number#``; anything before the first
  heading goes into a scene called "Opening";
* one panel per action paragraph (centered ``>text<`` counts as action); the dialogue that follows
  is attached to it as ``Name: (parenthetical) line``, one line per speech, and dialogue with no
  action before it in the scene (or after a transition) starts a panel of its own;
* one character per distinct cue name, without extensions (``(V.O.)``, ``(CONT'D)``) or the dual
  dialogue caret; uppercase cues are title-cased (``MARY JANE`` -> "Mary Jane"), forced ``@`` cues
  are kept as written; a panel's ``character_ids`` lists the characters named in its action,
  then its on-screen speakers (a voice over or off-screen voice is not in the picture);
* transitions (``CUT TO:``, forced ``>``, and ``FADE IN/OUT``) go to the previous panel's notes and
  set its transition kind; notes ``[[...]]`` go to the panel they are written in or after;
  sections go to the next scene's notes, synopses to the current scene's; the boneyard, page
  breaks and emphasis markup are dropped; the title page's Title becomes the project's title.

Problems are ``(line, message)`` pairs, 1-based; only unclosed boneyards and notes and a script
without any panel are problems, everything else in Fountain is valid text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Literal

from storyboard.core.fountain_markup import (
    centered,
    cut,
    line_of,
    parenthetical_texts,
    plain,
    scene_number,
    title_key,
    without_parentheticals,
)
from storyboard.core.model import Character, Panel, Project, Scene, Transition, TransitionKind
from storyboard.core.name_search import NameFinder
from storyboard.core.script_storydiffusion import split_lines
from storyboard.core.timeline import seconds_to_frames, suggested_duration

log = logging.getLogger(__name__)

Problems = list[tuple[int, str]]
Line = tuple[int, str]
ElementKind = Literal["heading", "action", "dialogue", "transition", "section", "synopsis"]

_TITLE_KEYS = frozenset(
    {"title", "credit", "author", "authors", "source", "draft date", "date", "contact"}
    | {"copyright", "notes", "revision", "watermark"}
)
_HEADING = re.compile(r"(?:INT\./EXT|INT/EXT|I/E|INT|EXT|EST)[.\s]", re.IGNORECASE)
_FORCED_HEADING = re.compile(r"\.(?=\w)(.*)")
_FADE = re.compile(r"(?:FADE (?:IN|OUT|TO BLACK|TO WHITE)|CUT TO BLACK)[:.]?")
_PAGE_BREAK = re.compile(r"={3,}")
_OFF_SCREEN = frozenset({"VO", "OS", "OC", "OFF"})
_CONTINUED = frozenset({"CONTD", "CONT", "CONTINUED", "CONTINUING"})
_REMOVED = "\x1f"  # marks where the boneyard or a note was cut out of a line


@dataclass(slots=True)
class _Cue:
    key: str  # casefolded name: one Character per key
    name: str
    label: str  # the name with the extensions worth reading, e.g. "Bob (V.O.)"
    on_screen: bool


@dataclass(slots=True)
class _Element:
    kind: ElementKind
    first: int
    last: int
    text: str = ""
    cue: _Cue | None = None


@dataclass(slots=True)
class _Build:
    """The project being built and where the next panel, note or transition goes."""

    fps: float
    project: Project = field(default_factory=Project)
    scene: Scene | None = None
    open_panel: Panel | None = None  # takes the next dialogue
    last_panel: Panel | None = None  # in the whole script: takes a transition
    pending_notes: list[str] = field(default_factory=list)  # for the next scene
    spoken: dict[str, list[str]] = field(default_factory=dict)  # panel id -> spoken lines
    speakers: dict[str, dict[str, None]] = field(default_factory=dict)  # panel id -> ids
    by_key: dict[str, Character] = field(default_factory=dict)  # casefolded name -> character
    # Notes and dialogue grow a line at a time: kept as lists, joined once at the end, because
    # adding to a string copies it and a script may give one panel thousands of lines.
    notes: dict[str, tuple[Panel | Scene, list[str]]] = field(default_factory=dict)
    dialogue: dict[str, list[str]] = field(default_factory=dict)  # panel id -> lines

    def add_note(self, target: Panel | Scene, note: str) -> None:
        self.notes.setdefault(target.id, (target, [target.notes]))[1].append(note)

    def finish_text(self) -> None:
        for target, parts in self.notes.values():
            target.notes = _joined(parts)
        for panel_id, lines in self.dialogue.items():
            self.project.panels[panel_id].dialogue = "\n".join(lines)


def _joined(parts: list[str]) -> str:
    """``parts`` joined by line breaks as if added one by one to a text that ignores an empty
    line while it is still empty."""
    first = next((index for index, part in enumerate(parts) if part), len(parts))
    return "\n".join(parts[first:])


# -- text clean-up -----------------------------------------------------------------------------


def _cut(text: str, opener: str, closer: str, notes: list[tuple[int, str]] | None) -> str:
    """Cut ``opener ... closer`` out of the text keeping its line breaks; note bodies go to
    ``notes``."""

    def replace(start: int, end: int) -> str:
        return _REMOVED + f"\n{_REMOVED}" * text.count("\n", start, end)

    result, found = cut(text, opener, closer, replace)
    if notes is not None and found:
        breaks = [index for index, char in enumerate(text) if char == "\n"]
        for start, end in found:
            body = text[start + len(opener) : end - len(closer)]
            notes.append((line_of(breaks, start), " ".join(body.split())))
    return result


def _unclosed(text: str, opener: str, closer: str, what: str, problems: Problems) -> str:
    """Report an opener with no closer, and drop the rest of that line's opener."""
    index = text.find(opener)
    if index < 0:
        return text
    line = text.count("\n", 0, index) + 1
    problems.append((line, f"{what} opened with {opener} is never closed; expected {closer}"))
    return text.replace(opener, "")


def _clean_lines(text: str, problems: Problems) -> tuple[list[Line], list[tuple[int, str]]]:
    """Numbered lines without boneyard and notes, and the notes with their line numbers.

    A line left empty only because something was cut out of it is dropped, so a note on its own
    line does not split an action paragraph in two.
    """
    text = text.replace(_REMOVED, "")
    text = _cut(text, "/*", "*/", None)
    text = _unclosed(text, "/*", "*/", "boneyard", problems)
    notes: list[tuple[int, str]] = []
    text = _cut(text, "[[", "]]", notes)
    text = _unclosed(text, "[[", "]]", "note", problems)
    lines: list[Line] = []
    for number, raw in enumerate(split_lines(text), start=1):
        line = raw.replace(_REMOVED, "")
        if line.strip() or _REMOVED not in raw:
            lines.append((number, line))
    return lines, notes


# -- title page --------------------------------------------------------------------------------


def _title_page(lines: list[Line]) -> tuple[dict[str, str], list[Line]]:
    """The title page's ``key: value`` pairs (lower-case keys) and the lines after it."""
    start = 0
    while start < len(lines) and not lines[start][1].strip():
        start += 1
    first = title_key(lines[start][1]) if start < len(lines) else None
    if first is None or first[0].strip().casefold() not in _TITLE_KEYS:
        return {}, lines
    values: dict[str, list[str]] = {}
    key = ""
    index = start
    while index < len(lines) and lines[index][1].strip():
        line = lines[index][1]
        match = None if line[:1].isspace() else title_key(line)
        if match:
            key = match[0].strip().casefold()
            values.setdefault(key, [])
            line = match[1]
        if line.strip():
            values.setdefault(key, []).append(plain(line.strip()))
        index += 1
    log.debug("fountain title page keys: %s", sorted(values))
    return {k: " ".join(v) for k, v in values.items()}, lines[index:]


# -- elements ----------------------------------------------------------------------------------


def _cue(line: str) -> _Cue | None:
    """The character cue on this line, or None when it is not shaped like one."""
    text = line.strip().removesuffix("^").rstrip()
    if text.startswith(("!", "~")):
        return None
    forced = text.startswith("@")
    text = text.removeprefix("@")
    name = " ".join(without_parentheticals(text).split())
    if not name or name.endswith(":") or "(" in name or ")" in name:
        return None
    if not forced and (name != name.upper() or not any(c.isalpha() for c in name)):
        return None
    extensions = [" ".join(e.split()) for e in parenthetical_texts(text)]
    codes = [re.sub(r"[^A-Z]", "", e.upper()) for e in extensions]
    shown = [f"({e})" for e, c in zip(extensions, codes, strict=True) if c not in _CONTINUED]
    display = name if forced else name.title()
    return _Cue(
        key=name.casefold(),
        name=display,
        label=" ".join([display, *shown]),
        on_screen=not any(c in _OFF_SCREEN for c in codes),
    )


def _is_blank(line: str, in_dialogue: bool) -> bool:
    """Blank, except that two spaces keep a dialogue going (Fountain's rule)."""
    return not line.strip() and not (in_dialogue and len(line) >= 2)


def _dialogue(lines: list[Line], start: int, cue: _Cue) -> tuple[_Element, int]:
    """The speech after a cue, up to the next blank line: ``(aside) words`` on one line."""
    parts: list[str] = []
    index = start + 1
    while index < len(lines) and not _is_blank(lines[index][1], in_dialogue=True):
        text = lines[index][1].strip().removeprefix("~").strip()
        if text:
            parts.append(plain(text))
        index += 1
    element = _Element("dialogue", lines[start][0], lines[index - 1][0], " ".join(parts), cue)
    return element, index


def _special(text: str) -> _Element | None:
    """One-line elements recognised by their first characters alone."""
    if _PAGE_BREAK.fullmatch(text):
        return _Element("section", 0, 0, "")  # an empty section: nothing to keep
    if text.startswith("#"):
        return _Element("section", 0, 0, plain(text.lstrip("#").strip()))
    if text.startswith("="):
        return _Element("synopsis", 0, 0, plain(text.lstrip("=").strip()))
    if (middle := centered(text)) is not None:
        return _Element("action", 0, 0, plain(middle))
    if text.startswith(">"):
        return _Element("transition", 0, 0, plain(text[1:].strip()))
    return None


def _after_blank(text: str, next_blank: bool) -> _Element | None:
    """Headings, transitions: elements that need an empty line before them."""
    if forced := _FORCED_HEADING.fullmatch(text):
        return _Element("heading", 0, 0, forced.group(1).strip())
    if _HEADING.match(text + " "):
        return _Element("heading", 0, 0, text)
    if next_blank and text.endswith("TO:") and text == text.upper():
        return _Element("transition", 0, 0, text)
    return None


def _action(lines: list[Line], start: int) -> tuple[_Element, int]:
    """An action paragraph: lines up to a blank line or a line that is an element by itself."""
    parts: list[str] = []
    index = start
    while index < len(lines) and lines[index][1].strip():
        text = lines[index][1].strip()
        if index > start and _special(text):
            break
        parts.append(plain(text.removeprefix("!").removeprefix("~").strip()))
        index += 1
    return _Element("action", lines[start][0], lines[index - 1][0], "\n".join(parts)), index


def _elements(lines: list[Line]) -> list[_Element]:
    """The screenplay's elements in order, each with the range of lines it came from."""
    elements: list[_Element] = []
    index, previous_blank = 0, True
    while index < len(lines):
        number, line = lines[index]
        text = line.strip()
        if not text:
            index, previous_blank = index + 1, True
            continue
        next_blank = index + 1 >= len(lines) or not lines[index + 1][1].strip()
        element = _special(text)
        if element is None and _FADE.fullmatch(text):
            element = _Element("transition", 0, 0, text)
        if element is None and previous_blank:
            element = _after_blank(text, next_blank)
        if element is not None:
            element.first = element.last = number
            index += 1
        elif previous_blank and not next_blank and (cue := _cue(text)) is not None:
            element, index = _dialogue(lines, index, cue)
        else:
            element, index = _action(lines, index)
        elements.append(element)
        previous_blank = False
    return elements


# -- building the project ----------------------------------------------------------------------


def _start_scene(build: _Build, title: str) -> Scene:
    title, number = scene_number(title)
    scene = Scene(title=plain(title).strip() or "Untitled scene")
    notes = [*build.pending_notes, *([f"Scene number {number}"] if number is not None else [])]
    scene.notes = "\n".join(notes)
    build.pending_notes.clear()
    build.project.scenes[scene.id] = scene
    build.project.scene_ids.append(scene.id)
    build.scene, build.open_panel = scene, None
    return scene


def _new_panel(build: _Build, action: str) -> Panel:
    scene = build.scene or _start_scene(build, "Opening")
    panel = Panel(action=action, prompt=" ".join(action.split()))
    build.project.panels[panel.id] = panel
    scene.panel_ids.append(panel.id)
    build.spoken[panel.id], build.speakers[panel.id] = [], {}
    build.open_panel = build.last_panel = panel
    return panel


def _character(build: _Build, cue: _Cue) -> Character:
    project = build.project
    if (character := build.by_key.get(cue.key)) is not None:
        return character
    character = Character(name=cue.name)
    project.characters[character.id] = character
    project.character_ids.append(character.id)
    build.by_key.setdefault(character.name.casefold(), character)
    return character


def _add_dialogue(build: _Build, element: _Element) -> None:
    if element.cue is None:
        return
    panel = build.open_panel or _new_panel(build, "")
    character = _character(build, element.cue)
    line = f"{element.cue.label}: {element.text}".rstrip()
    build.dialogue.setdefault(panel.id, []).append(line)
    build.spoken[panel.id].append(without_parentheticals(element.text))
    if element.cue.on_screen:
        build.speakers[panel.id].setdefault(character.id)


def _transition_kind(text: str) -> TransitionKind:
    upper = text.upper()
    if "DISSOLVE" in upper or "CROSS" in upper:
        return TransitionKind.CROSSFADE
    if "WIPE" in upper:
        return TransitionKind.WIPE
    if "MORPH" in upper:
        return TransitionKind.MORPH
    if "FADE" in upper and ("BLACK" in upper or "OUT" in upper):
        return TransitionKind.DIP_TO_BLACK
    return TransitionKind.CUT


def _add_note(build: _Build, note: str) -> None:
    """A note for the panel it belongs to, else the scene, else the next scene."""
    scene = build.scene
    target: Panel | Scene | None = scene
    if scene is not None and scene.panel_ids:
        target = build.project.panels[scene.panel_ids[-1]]
    if target is None:
        build.pending_notes.append(note)
    else:
        build.add_note(target, note)


def _add_transition(build: _Build, text: str) -> None:
    panel = build.last_panel
    if panel is None:
        build.pending_notes.append(f"Transition: {text}")
        return
    kind = _transition_kind(text)
    frames = 0 if kind is TransitionKind.CUT else seconds_to_frames(0.5, build.fps)
    panel.transition = Transition(kind=kind, frames=frames)
    build.add_note(panel, f"Transition: {text}")
    build.open_panel = None


def _apply(build: _Build, element: _Element) -> None:
    if element.kind == "heading":
        _start_scene(build, element.text)
    elif element.kind == "action" and element.text:
        _new_panel(build, element.text)
    elif element.kind == "dialogue":
        _add_dialogue(build, element)
    elif element.kind == "transition":
        _add_transition(build, element.text)
    elif element.kind == "section" and element.text:
        build.pending_notes.append(f"Section: {element.text}")
    elif element.kind == "synopsis" and element.text:
        if build.scene is None:
            build.pending_notes.append(element.text)
        else:
            build.add_note(build.scene, element.text)


def _mentions(text: str, finder: NameFinder) -> list[str]:
    """Ids of the characters whose name (as written or in capitals) appears in the text, in
    the order of their first mention."""
    found = finder.first_mentions(text)
    return sorted(found, key=lambda cid: (found[cid], cid))


def _finish_panels(build: _Build) -> None:
    """Characters and durations, once every cue of the script is known."""
    characters = build.project.ordered_characters()
    names = {c.id: c.name for c in characters}
    finder = NameFinder((form, c.id) for c in characters for form in {c.name, c.name.upper()})
    for panel in build.project.panels.values():
        speakers = build.speakers[panel.id]
        ids = _mentions(panel.action, finder)
        mentioned = set(ids)
        panel.character_ids = ids + [cid for cid in speakers if cid not in mentioned]
        if not panel.prompt and speakers:
            panel.prompt = " and ".join(names[cid] for cid in speakers) + " speaking"
        panel.duration = suggested_duration(" ".join(build.spoken[panel.id]), build.fps)


def parse_fountain(text: str, fps: float) -> tuple[Project, Problems]:
    """Build a project from a Fountain screenplay; never raises for any text."""
    problems: Problems = []
    lines, notes = _clean_lines(text, problems)
    title_page, body = _title_page(lines)
    build = _Build(fps=fps)
    build.project.settings.title = title_page.get("title", "")
    next_note = 0
    for element in _elements(body):
        while next_note < len(notes) and notes[next_note][0] < element.first:
            _add_note(build, notes[next_note][1])
            next_note += 1
        _apply(build, element)
        while next_note < len(notes) and notes[next_note][0] <= element.last:
            _add_note(build, notes[next_note][1])
            next_note += 1
    for _, note in notes[next_note:]:
        _add_note(build, note)
    if build.pending_notes and build.scene is not None:
        build.add_note(build.scene, "\n".join(build.pending_notes))
    build.finish_text()
    _finish_panels(build)
    if not build.project.panels:
        problems.append((1, "expected at least one action paragraph or line of dialogue"))
    return build.project, problems
