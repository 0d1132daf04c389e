"""Which words of a prompt a model with a closed vocabulary does not know.

The built-in toy-world model was trained on captions of about 45 words; its tokenizer gives each
one token, and every other word falls to byte pieces the model learnt to ignore. A prompt in
everyday words ("teal hair", "spaceship") therefore gives pictures that silently leave them out.
The editor marks such words. Words are split as the CLIP tokenizer splits them (runs of letters,
lowercased); single letters are byte tokens of their own and never marked; ``[Name]`` tags are not
words of the prompt (they become the character's description, checked where it is written).

Pure and fast: one regex pass and a set lookup per word, so it runs on every keystroke.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"[^\W\d_]+")  # the tokenizer's [\p{L}]+
_TAG = re.compile(r"\[[^\[\]]*\]")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The words a model knows, and its name as the artist knows it ("Toy world")."""

    model: str
    words: frozenset[str]


def unknown_spans(text: str, vocabulary: Vocabulary) -> list[tuple[int, int]]:
    """(start, end) of each word of ``text`` the model does not know, in order."""
    tags = [match.span() for match in _TAG.finditer(text)]
    spans = []
    for match in _WORD.finditer(text):
        start, end = match.span()
        if end - start < 2 or match.group().lower() in vocabulary.words:
            continue
        if any(a <= start < b for a, b in tags):
            continue
        spans.append((start, end))
    return spans


def unknown_words(texts: Iterable[str], vocabulary: Vocabulary) -> list[str]:
    """Every unknown word of ``texts``, lowercased, once each, in the order first met."""
    found: dict[str, None] = {}
    for text in texts:
        for start, end in unknown_spans(text, vocabulary):
            found.setdefault(text[start:end].lower(), None)
    return list(found)


def unknown_line(words: list[str], vocabulary: Vocabulary, most: int = 12) -> str:
    """The line the editor shows: "not known to the Toy world model: teal, spaceship"."""
    if not words:
        return ""
    shown = ", ".join(words[:most]) + (
        f" and {len(words) - most} more" if len(words) > most else ""
    )
    return f"Not known to the {vocabulary.model} model (left out of its pictures): {shown}"


def known_line(vocabulary: Vocabulary, most: int = 80) -> str:
    """The words the model knows, for a new user who was just told which ones it does not (the
    toy world knows 44: without them, rewriting a story in words it draws is guesswork)."""
    words = sorted(vocabulary.words)
    shown = ", ".join(words[:most]) + (
        f" and {len(words) - most} more" if len(words) > most else ""
    )
    return f"The words it knows: {shown}."
