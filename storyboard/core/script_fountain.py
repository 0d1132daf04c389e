"""Fountain screenplays (https://fountain.io) as scenes and panels.

This module reads Fountain's elements; :mod:`storyboard.core.screenplay` builds the project from
them (shared with the Final Draft reader). A screenplay is written for reading, a storyboard for
seeing, so the mapping is a rule of thumb a board artist would apply by hand:

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

from storyboard.core.fountain_markup import (
    centered,
    cut,
    line_of,
    plain,
    scene_number,
    title_key,
)
from storyboard.core.model import Project
from storyboard.core.screenplay import Cue, Element, build_project, parse_cue
from storyboard.core.script_storydiffusion import split_lines

log = logging.getLogger(__name__)

Problems = list[tuple[int, str]]
Line = tuple[int, str]

_TITLE_KEYS = frozenset(
    {"title", "credit", "author", "authors", "source", "draft date", "date", "contact"}
    | {"copyright", "notes", "revision", "watermark"}
)
_HEADING = re.compile(r"(?:INT\./EXT|INT/EXT|I/E|INT|EXT|EST)[.\s]", re.IGNORECASE)
_FORCED_HEADING = re.compile(r"\.(?=\w)(.*)")
_FADE = re.compile(r"(?:FADE (?:IN|OUT|TO BLACK|TO WHITE)|CUT TO BLACK)[:.]?")
_PAGE_BREAK = re.compile(r"={3,}")
_REMOVED = "\x1f"  # marks where the boneyard or a note was cut out of a line


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


def _cue(line: str) -> Cue | None:
    """The character cue on this line, or None when it is not shaped like one."""
    text = line.strip().removesuffix("^").rstrip()
    if text.startswith(("!", "~")):
        return None
    forced = text.startswith("@")
    return parse_cue(text.removeprefix("@"), forced=forced)


def _is_blank(line: str, in_dialogue: bool) -> bool:
    """Blank, except that two spaces keep a dialogue going (Fountain's rule)."""
    return not line.strip() and not (in_dialogue and len(line) >= 2)


def _dialogue(lines: list[Line], start: int, cue: Cue) -> tuple[Element, int]:
    """The speech after a cue, up to the next blank line: ``(aside) words`` on one line."""
    parts: list[str] = []
    index = start + 1
    while index < len(lines) and not _is_blank(lines[index][1], in_dialogue=True):
        text = lines[index][1].strip().removeprefix("~").strip()
        if text:
            parts.append(plain(text))
        index += 1
    element = Element("dialogue", lines[start][0], lines[index - 1][0], " ".join(parts), cue)
    return element, index


def _special(text: str) -> Element | None:
    """One-line elements recognised by their first characters alone."""
    if _PAGE_BREAK.fullmatch(text):
        return Element("section", 0, 0, "")  # an empty section: nothing to keep
    if text.startswith("#"):
        return Element("section", 0, 0, plain(text.lstrip("#").strip()))
    if text.startswith("="):
        return Element("synopsis", 0, 0, plain(text.lstrip("=").strip()))
    if (middle := centered(text)) is not None:
        return Element("action", 0, 0, plain(middle))
    if text.startswith(">"):
        return Element("transition", 0, 0, plain(text[1:].strip()))
    return None


def _heading(text: str) -> Element:
    """A scene heading, titled without its ``#scene number#`` and markup."""
    title, number = scene_number(text)
    return Element("heading", 0, 0, plain(title).strip(), number=number)


def _after_blank(text: str, next_blank: bool) -> Element | None:
    """Headings, transitions: elements that need an empty line before them."""
    if forced := _FORCED_HEADING.fullmatch(text):
        return _heading(forced.group(1).strip())
    if _HEADING.match(text + " "):
        return _heading(text)
    if next_blank and text.endswith("TO:") and text == text.upper():
        return Element("transition", 0, 0, text)
    return None


def _action(lines: list[Line], start: int) -> tuple[Element, int]:
    """An action paragraph: lines up to a blank line or a line that is an element by itself."""
    parts: list[str] = []
    index = start
    while index < len(lines) and lines[index][1].strip():
        text = lines[index][1].strip()
        if index > start and _special(text):
            break
        parts.append(plain(text.removeprefix("!").removeprefix("~").strip()))
        index += 1
    return Element("action", lines[start][0], lines[index - 1][0], "\n".join(parts)), index


def _elements(lines: list[Line]) -> list[Element]:
    """The screenplay's elements in order, each with the range of lines it came from."""
    elements: list[Element] = []
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
            element = Element("transition", 0, 0, text)
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


def parse_fountain(text: str, fps: float) -> tuple[Project, Problems]:
    """Build a project from a Fountain screenplay; never raises for any text."""
    problems: Problems = []
    lines, notes = _clean_lines(text, problems)
    title_page, body = _title_page(lines)
    project = build_project(_elements(body), fps, title=title_page.get("title", ""), notes=notes)
    if not project.panels:
        problems.append((1, "expected at least one action paragraph or line of dialogue"))
    return project, problems
