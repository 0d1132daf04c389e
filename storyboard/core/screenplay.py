"""A screenplay's elements as scenes, panels and characters: what every screenplay format shares.

The Fountain reader (:mod:`storyboard.core.script_fountain`) and the Final Draft reader
(:mod:`storyboard.core.script_fdx`) each turn their file into a list of :class:`Element`
(scene heading, action, a speech with its cue, transition, section, synopsis) with the line or
paragraph it came from; :func:`build_project` makes the project from that list by the same rule
of thumb a board artist would apply by hand:

* one scene per scene heading, titled by the heading (its scene number, if any, in the scene's
  notes); anything before the first heading goes into a scene called "Opening";
* one panel per action paragraph; the speeches that follow are attached to it as
  ``Name: (parenthetical) line``, one line per speech, and a speech with no action before it in
  the scene (or after a transition) starts a panel of its own;
* one character per distinct cue name, without extensions (``(V.O.)``, ``(CONT'D)``); a panel's
  ``character_ids`` lists the characters named in its action, then its on-screen speakers (a
  voice over or off-screen voice is not in the picture);
* transitions go to the previous panel's notes and set its transition kind; notes go to the panel
  they are written in or after; sections go to the next scene's notes, synopses to the current
  scene's.

Everything here is linear in the number of elements: notes and dialogue grow as lists joined
once, characters are found by name in dicts and their mentions in one pass (``NameFinder``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Literal

from storyboard.core.fountain_markup import parenthetical_texts, without_parentheticals
from storyboard.core.model import Character, Panel, Project, Scene, Transition, TransitionKind
from storyboard.core.name_search import NameFinder
from storyboard.core.timeline import seconds_to_frames, suggested_duration

log = logging.getLogger(__name__)

ElementKind = Literal["heading", "action", "dialogue", "transition", "section", "synopsis"]
OPENING = "Opening"  # the scene of whatever comes before the first scene heading

_OFF_SCREEN = frozenset({"VO", "OS", "OC", "OFF"})
_CONTINUED = frozenset({"CONTD", "CONT", "CONTINUED", "CONTINUING"})
_NOT_LETTERS = re.compile(r"[^A-Z]")


@dataclass(slots=True)
class Cue:
    """Who speaks: one :class:`Character` per ``key``."""

    key: str  # casefolded name
    name: str
    label: str  # the name with the extensions worth reading, e.g. "Bob (V.O.)"
    on_screen: bool


@dataclass(slots=True)
class Element:
    """One element of a screenplay and the range of lines (or paragraphs) it came from.

    ``text`` is plain text (the format's own markup already removed); a heading's ``number`` is
    its scene number as written, if the script gives one.
    """

    kind: ElementKind
    first: int
    last: int
    text: str = ""
    cue: Cue | None = None
    number: str | None = None


def parse_cue(text: str, *, forced: bool = False) -> Cue | None:
    """The cue in ``text`` (a name and its ``(extensions)``), or None when it is not shaped like
    one: no name, a name ending in ``:``, or (unless ``forced``) a name not in capitals.

    Uppercase names are title-cased (``MARY JANE`` -> "Mary Jane"); forced ones are kept as
    written.
    """
    name = " ".join(without_parentheticals(text).split())
    if not name or name.endswith(":") or "(" in name or ")" in name:
        return None
    if not forced and (name != name.upper() or not any(c.isalpha() for c in name)):
        return None
    extensions = [" ".join(e.split()) for e in parenthetical_texts(text)]
    codes = [_NOT_LETTERS.sub("", e.upper()) for e in extensions]
    shown = [f"({e})" for e, c in zip(extensions, codes, strict=True) if c not in _CONTINUED]
    display = name if forced else name.title()
    return Cue(
        key=name.casefold(),
        name=display,
        label=" ".join([display, *shown]),
        on_screen=not any(c in _OFF_SCREEN for c in codes),
    )


def transition_kind(text: str) -> TransitionKind:
    """The animatic transition a screenplay transition asks for (``DISSOLVE TO:`` a crossfade,
    ``FADE OUT.`` a dip to black, anything else a cut)."""
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


def _start_scene(build: _Build, title: str, number: str | None) -> Scene:
    scene = Scene(title=title.strip() or "Untitled scene")
    notes = [*build.pending_notes, *([f"Scene number {number}"] if number is not None else [])]
    scene.notes = "\n".join(notes)
    build.pending_notes.clear()
    build.project.scenes[scene.id] = scene
    build.project.scene_ids.append(scene.id)
    build.scene, build.open_panel = scene, None
    return scene


def _new_panel(build: _Build, action: str) -> Panel:
    scene = build.scene or _start_scene(build, OPENING, None)
    panel = Panel(action=action, prompt=" ".join(action.split()))
    build.project.panels[panel.id] = panel
    scene.panel_ids.append(panel.id)
    build.spoken[panel.id], build.speakers[panel.id] = [], {}
    build.open_panel = build.last_panel = panel
    return panel


def _character(build: _Build, cue: Cue) -> Character:
    project = build.project
    if (character := build.by_key.get(cue.key)) is not None:
        return character
    character = Character(name=cue.name)
    project.characters[character.id] = character
    project.character_ids.append(character.id)
    build.by_key.setdefault(character.name.casefold(), character)
    return character


def _add_dialogue(build: _Build, element: Element) -> None:
    if element.cue is None:
        return
    panel = build.open_panel or _new_panel(build, "")
    character = _character(build, element.cue)
    line = f"{element.cue.label}: {element.text}".rstrip()
    build.dialogue.setdefault(panel.id, []).append(line)
    build.spoken[panel.id].append(without_parentheticals(element.text))
    if element.cue.on_screen:
        build.speakers[panel.id].setdefault(character.id)


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
    kind = transition_kind(text)
    frames = 0 if kind is TransitionKind.CUT else seconds_to_frames(0.5, build.fps)
    panel.transition = Transition(kind=kind, frames=frames)
    build.add_note(panel, f"Transition: {text}")
    build.open_panel = None


def _apply(build: _Build, element: Element) -> None:
    if element.kind == "heading":
        _start_scene(build, element.text, element.number)
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


def build_project(
    elements: list[Element],
    fps: float,
    *,
    title: str = "",
    notes: list[tuple[int, str]] | None = None,
) -> Project:
    """The project of a screenplay's ``elements`` (in script order); never raises.

    ``notes`` are ``(line, text)`` pairs in line order: each goes to the panel (else scene) of
    the element it is written in or after.
    """
    notes = notes or []
    build = _Build(fps=fps)
    build.project.settings.title = title
    next_note = 0
    for element in elements:
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
    log.debug(
        "screenplay: %d elements -> %d scenes, %d panels",
        len(elements),
        len(build.project.scene_ids),
        len(build.project.panels),
    )
    return build.project
