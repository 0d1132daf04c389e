"""Fountain's inline markup, read by scanning forward, never by a backtracking regex.

A script may come from anyone, and the regexes this replaces (``(\\*{1,3})(?=\\S)(.+?)(?<=\\S)\\1``,
``\\(([^)]*)\\)``, ``>\\s*(.*?)\\s*<`` ...) took quadratic or cubic time on lines such as
``_a _a _a ...``, a cue with thousands of ``(``, or ``>`` and spaces: a 3 KB file froze the editor
for a minute. Each function here gives exactly what its regex gave (``tests/core/
test_script_speed.py`` compares them on generated text) in time linear in the text.

``str.isspace`` is the set Python's ``\\s`` matches, so the two agree on every character.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from string import ascii_letters

_LETTERS = frozenset(ascii_letters)
_KEY_CHARS = frozenset(ascii_letters + " ")


def spans(text: str, opener: str, closer: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each ``opener ... closer`` (shortest, left to right, not nested).

    Like ``re.finditer(opener + "(.*?)" + closer, text, re.DOTALL)``: once an opener has no
    closer after it, no later opener has one either, so the scan stops instead of retrying.
    """
    position = 0
    while (start := text.find(opener, position)) >= 0:
        close = text.find(closer, start + len(opener))
        if close < 0:
            return
        position = close + len(closer)
        yield start, position


def parentheticals(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each ``(...)`` as ``\\(([^)]*)\\)`` finds them (an inner ``(`` is
    part of the text between)."""
    return list(spans(text, "(", ")"))


def parenthetical_texts(text: str) -> list[str]:
    """The text inside each ``(...)``."""
    return [text[start + 1 : end - 1] for start, end in parentheticals(text)]


def without_parentheticals(text: str, replacement: str = " ") -> str:
    """The text with each ``(...)`` replaced."""
    return _replace_spans(text, parentheticals(text), lambda _start, _end: replacement)


def _replace_spans(
    text: str, found: list[tuple[int, int]], replace: Callable[[int, int], str]
) -> str:
    parts: list[str] = []
    position = 0
    for start, end in found:
        parts += [text[position:start], replace(start, end)]
        position = end
    parts.append(text[position:])
    return "".join(parts)


def cut(
    text: str, opener: str, closer: str, replace: Callable[[int, int], str]
) -> tuple[str, list[tuple[int, int]]]:
    """The text with each ``opener ... closer`` replaced by ``replace(start, end)``, and the
    spans that were cut (positions in the original text)."""
    found = list(spans(text, opener, closer))
    return _replace_spans(text, found, replace), found


def line_of(breaks: list[int], position: int) -> int:
    """The 1-based line of ``position``, given the sorted positions of the line breaks."""
    return bisect.bisect_left(breaks, position) + 1


def centered(text: str) -> str | None:
    """The text of a centered line ``> text <`` (stripped), like ``>\\s*(.*?)\\s*<`` fullmatch."""
    if len(text) < 2 or text[0] != ">" or text[-1] != "<":
        return None
    inner = text[1:-1].strip()
    return None if "\n" in inner else inner


def title_key(line: str) -> tuple[str, str] | None:
    """A title page's ``Key: value``, as ``([A-Za-z][A-Za-z ]*?)\\s*:\\s*(.*)`` matched it."""
    colon = line.find(":")
    key, value = line[:colon].rstrip(), line[colon + 1 :].lstrip()
    if colon < 1 or not key or key[0] not in _LETTERS or not _KEY_CHARS.issuperset(key):
        return None
    return None if "\n" in value else (key, value)


def scene_number(title: str) -> tuple[str, str | None]:
    """A heading without its ``#number#`` at the end, and the number (None when there is none).

    As ``\\s*#([^#]*)#\\s*$`` searched and cut it.
    """
    trimmed = title.rstrip()
    if len(trimmed) < 2 or trimmed[-1] != "#":
        return title, None
    opening = trimmed.rfind("#", 0, len(trimmed) - 1)
    if opening < 0:
        return title, None
    return trimmed[:opening].rstrip(), trimmed[opening + 1 : -1]


def _unwrap(line: str, mark: str, widths: tuple[int, ...]) -> str:
    """``line`` with each emphasis ``mark*k text mark*k`` replaced by its text.

    Exactly ``re.sub(rf"({mark}{{1,k}})(?=\\S)(.+?)(?<=\\S)\\1", group 2)`` on one line: at each
    mark, the widest run of marks first; the text must start and end with a non-space; the
    nearest closing run of the same width wins. The closing positions for each width are
    found once, so each opening costs a binary search instead of a scan to the end of the line.
    """
    marks = [index for index, char in enumerate(line) if char == mark]
    if len(marks) < 2:
        return line
    run = dict.fromkeys(marks, 0)  # marks in a row from each mark on
    for index in reversed(marks):
        run[index] = run.get(index + 1, 0) + 1
    closers = {
        width: [j for j in marks if run[j] >= width and j > 0 and not line[j - 1].isspace()]
        for width in widths
    }
    parts: list[str] = []
    position = 0
    for start in marks:
        if start < position:
            continue
        for width in widths:
            body = start + width
            if run[start] < width or body >= len(line) or line[body].isspace():
                continue
            ends = closers[width]
            found = bisect.bisect_left(ends, body + 1)
            if found < len(ends):
                close = ends[found]
                parts += [line[position:start], line[body:close]]
                position = close + width
                break
    parts.append(line[position:])
    return "".join(parts)


def plain(text: str) -> str:
    """Text without Fountain emphasis (``***``, ``**``, ``*``, ``_``) or its escapes."""
    if "*" in text or "_" in text:
        lines = text.split("\n")  # emphasis never spans lines
        lines = [_unwrap(line, "*", (3, 2, 1)) if "*" in line else line for line in lines]
        lines = [_unwrap(line, "_", (1,)) if "_" in line else line for line in lines]
        text = "\n".join(lines)
    return text.replace("\\*", "*").replace("\\_", "_")
