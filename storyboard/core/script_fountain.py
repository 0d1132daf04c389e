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

import bisect
import logging
import re
from dataclasses import dataclass, field
from typing import Literal

from storyboard.core.model import Character, Panel, Project, Scene, Transition, TransitionKind
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
_KEY = re.compile(r"([A-Za-z][A-Za-z ]*?)\s*:\s*(.*)")
_HEADING = re.compile(r"(?:INT\./EXT|INT/EXT|I/E|INT|EXT|EST)[.\s]", re.IGNORECASE)
_FORCED_HEADING = re.compile(r"\.(?=\w)(.*)")
_SCENE_NUMBER = re.compile(r"\s*#([^#]*)#\s*$")
_FADE = re.compile(r"(?:FADE (?:IN|OUT|TO BLACK|TO WHITE)|CUT TO BLACK)[:.]?")
_CENTERED = re.compile(r">\s*(.*?)\s*<")
_PAGE_BREAK = re.compile(r"={3,}")
_EXTENSION = re.compile(r"\(([^)]*)\)")
_OFF_SCREEN = frozenset({"VO", "OS", "OC", "OFF"})
_CONTINUED = frozenset({"CONTD", "CONT", "CONTINUED", "CONTINUING"})
_EMPHASIS = (re.compile(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1"), re.compile(r"_(?=\S)(.+?)(?<=\S)_"))
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
    speakers: dict[str, list[str]] = field(default_factory=dict)  # panel id -> character ids


# -- text clean-up -----------------------------------------------------------------------------


def _plain(text: str) -> str:
    """Text without Fountain emphasis markup or its escapes."""
    for pattern in _EMPHASIS:
        text = pattern.sub(lambda m: m.group(m.lastindex or 0), text)
    return text.replace("\\*", "*").replace("\\_", "_")


def _cut(text: str, pattern: str, notes: list[tuple[int, str]] | None) -> str:
    """Cut ``pattern`` out of the text keeping its line breaks; note bodies go to ``notes``."""

    breaks = [index for index, char in enumerate(text) if char == "\n"]

    def replace(match: re.Match[str]) -> str:
        if notes is not None:
            line = bisect.bisect_left(breaks, match.start()) + 1
            notes.append((line, " ".join(match.group(1).split())))
        return _REMOVED + f"\n{_REMOVED}" * match.group(0).count("\n")

    return re.sub(pattern, replace, text, flags=re.DOTALL)


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
    text = _cut(text, r"/\*(.*?)\*/", None)
    text = _unclosed(text, "/*", "*/", "boneyard", problems)
    notes: list[tuple[int, str]] = []
    text = _cut(text, r"\[\[(.*?)\]\]", notes)
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
    first = _KEY.fullmatch(lines[start][1]) if start < len(lines) else None
    if first is None or first.group(1).strip().casefold() not in _TITLE_KEYS:
        return {}, lines
    values: dict[str, list[str]] = {}
    key = ""
    index = start
    while index < len(lines) and lines[index][1].strip():
        line = lines[index][1]
        match = None if line[:1].isspace() else _KEY.fullmatch(line)
        if match:
            key = match.group(1).strip().casefold()
            values.setdefault(key, [])
            line = match.group(2)
        if line.strip():
            values.setdefault(key, []).append(_plain(line.strip()))
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
    name = " ".join(_EXTENSION.sub(" ", text).split())
    if not name or name.endswith(":") or "(" in name or ")" in name:
        return None
    if not forced and (name != name.upper() or not any(c.isalpha() for c in name)):
        return None
    extensions = [" ".join(e.split()) for e in _EXTENSION.findall(text)]
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
            parts.append(_plain(text))
        index += 1
    element = _Element("dialogue", lines[start][0], lines[index - 1][0], " ".join(parts), cue)
    return element, index


def _special(text: str) -> _Element | None:
    """One-line elements recognised by their first characters alone."""
    if _PAGE_BREAK.fullmatch(text):
        return _Element("section", 0, 0, "")  # an empty section: nothing to keep
    if text.startswith("#"):
        return _Element("section", 0, 0, _plain(text.lstrip("#").strip()))
    if text.startswith("="):
        return _Element("synopsis", 0, 0, _plain(text.lstrip("=").strip()))
    if centered := _CENTERED.fullmatch(text):
        return _Element("action", 0, 0, _plain(centered.group(1)))
    if text.startswith(">"):
        return _Element("transition", 0, 0, _plain(text[1:].strip()))
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
        parts.append(_plain(text.removeprefix("!").removeprefix("~").strip()))
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
    number = _SCENE_NUMBER.search(title)
    scene = Scene(title=_plain(_SCENE_NUMBER.sub("", title)).strip() or "Untitled scene")
    notes = [*build.pending_notes, *([f"Scene number {number.group(1)}"] if number else [])]
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
    build.spoken[panel.id], build.speakers[panel.id] = [], []
    build.open_panel = build.last_panel = panel
    return panel


def _character(build: _Build, cue: _Cue) -> Character:
    project = build.project
    for character in project.characters.values():
        if character.name.casefold() == cue.key:
            return character
    character = Character(name=cue.name)
    project.characters[character.id] = character
    project.character_ids.append(character.id)
    return character


def _add_dialogue(build: _Build, element: _Element) -> None:
    if element.cue is None:
        return
    panel = build.open_panel or _new_panel(build, "")
    character = _character(build, element.cue)
    line = f"{element.cue.label}: {element.text}".rstrip()
    panel.dialogue = f"{panel.dialogue}\n{line}" if panel.dialogue else line
    build.spoken[panel.id].append(_EXTENSION.sub(" ", element.text))
    if element.cue.on_screen and character.id not in build.speakers[panel.id]:
        build.speakers[panel.id].append(character.id)


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
        target.notes = f"{target.notes}\n{note}" if target.notes else note


def _add_transition(build: _Build, text: str) -> None:
    panel = build.last_panel
    if panel is None:
        build.pending_notes.append(f"Transition: {text}")
        return
    kind = _transition_kind(text)
    frames = 0 if kind is TransitionKind.CUT else seconds_to_frames(0.5, build.fps)
    panel.transition = Transition(kind=kind, frames=frames)
    panel.notes = f"{panel.notes}\nTransition: {text}" if panel.notes else f"Transition: {text}"
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
            scene = build.scene
            scene.notes = f"{scene.notes}\n{element.text}" if scene.notes else element.text


def _mentions(text: str, characters: list[Character]) -> list[str]:
    """Ids of the characters whose name (as written or in capitals) appears in the text."""
    found: list[tuple[int, str]] = []
    for character in characters:
        forms = {character.name, character.name.upper()}
        pattern = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
        match = re.search(rf"(?<!\w)(?:{pattern})(?!\w)", text)
        if match:
            found.append((match.start(), character.id))
    return [cid for _, cid in sorted(found)]


def _finish_panels(build: _Build) -> None:
    """Characters and durations, once every cue of the script is known."""
    characters = build.project.ordered_characters()
    names = {c.id: c.name for c in characters}
    for panel in build.project.panels.values():
        speakers = build.speakers[panel.id]
        ids = _mentions(panel.action, characters)
        panel.character_ids = ids + [cid for cid in speakers if cid not in ids]
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
    pending = list(notes)
    for element in _elements(body):
        while pending and pending[0][0] < element.first:
            _add_note(build, pending.pop(0)[1])
        _apply(build, element)
        while pending and pending[0][0] <= element.last:
            _add_note(build, pending.pop(0)[1])
    for _, note in pending:
        _add_note(build, note)
    if build.pending_notes and build.scene is not None:
        notes_left = "\n".join(build.pending_notes)
        scene = build.scene
        scene.notes = f"{scene.notes}\n{notes_left}" if scene.notes else notes_left
    _finish_panels(build)
    if not build.project.panels:
        problems.append((1, "expected at least one action paragraph or line of dialogue"))
    return build.project, problems
