"""The words of a panel's prompt, from its text and the project's characters (no style yet).

``[Name]`` becomes the character's description; ``[NC]`` ("no character") goes; an unknown
``[Word]`` keeps its word. A character linked to the panel but not named in its text has its
description put in front, so the model always gets the description. The prompt of one
character's box (``focus``) leaves the other characters out (:func:`_only`), for regional
prompts (``inference.engine.regional_prompt``).
"""

from __future__ import annotations

import itertools
import re

from storyboard.core.model import Character, Panel, Project
from storyboard.core.panel_loras import trigger_words

_TAG = re.compile(r"\[([^\[\]]+)\]")
_JOIN = r"\s*(?:,|\band\b|\bwith\b)\s*"  # what joins a character to the rest
_CLAUSE = re.compile(rf".*?(?={_JOIN})")  # a character's own words, up to what joins the next


def assemble_prompt(
    project: Project, panel: Panel, focus: str | None = None, *, triggers: bool = True
) -> str:
    """The panel prompt with character descriptions in place of ``[Name]`` (no style yet).

    With ``focus`` (a character id), the other characters are left out (see :func:`_only`):
    the prompt drawn inside that character's box. Naming them as "a person" instead was tried:
    in the two-person bench the right-hand person's whole look came out right in 17% of the
    pictures, against 54% with them left out. ``triggers``: False where the characters' LoRAs
    are not applied (a panel drawing regional prompts), so their trigger words are left out too.
    """
    named: set[str] = set()

    def describe(character: Character) -> str:
        words = trigger_words(character.loras) if triggers else ""
        own = character.description.strip() or character.name
        return f"{words}, {own}" if words else own

    def substitute(match: re.Match[str]) -> str:
        word = match.group(1).strip()
        if word.casefold() == "nc":
            return ""
        character = project.character_named(word)
        if character is None:
            return word
        named.add(character.id)
        return describe(character)

    text = _TAG.sub(substitute, _only(project, panel.prompt, focus))
    missing = [
        describe(c)
        for cid in panel.character_ids
        if cid not in named and (c := project.characters.get(cid)) is not None
        if focus is None or cid == focus
    ]
    return _tidy(", ".join([*missing, text]) if missing else text)


def _only(project: Project, prompt: str, focus: str | None) -> str:
    """``prompt`` without the characters other than ``focus`` (all kept when None).

    Each leaves with the "and", "with" or comma that joined it and with its own words: those
    after its tag up to the next comma, "and" or "with" ("[Mia] waving and [Leo] sitting, in
    the park"). Words that run on to the end of the prompt stay (they may be the scene), and so
    do the words after a list ("[Mia] and [Leo] sitting"): they are everyone's.
    """
    if focus is None:
        return prompt
    tags = list(_TAG.finditer(prompt))
    pairs = itertools.pairwise(tags)
    listed = any(re.fullmatch(_JOIN, prompt[a.end() : b.start()]) for a, b in pairs)
    text = prompt
    for match in reversed(tags):  # from the end: the spans before stay valid
        character = project.character_named(match.group(1).strip())
        if character is None or character.id == focus:
            continue
        start, end = match.span()
        clause = _CLAUSE.match(text, end)
        if not listed and clause is not None:
            end = clause.end()
        before, after = re.search(_JOIN + "$", text[:start]), re.match(_JOIN, text[end:])
        if before:
            start = before.start()
        elif after:
            end += after.end()
        text = f"{text[:start]} {text[end:]}"
    return text


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    return re.sub(r"(,\s*)+", ", ", text).strip(" ,")


def join_negative(*parts: str) -> str:
    return ", ".join(p.strip().strip(",") for p in parts if p.strip())
