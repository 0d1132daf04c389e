"""Words the toy world does not know, mixed into training captions so the model learns to ignore
them: character names, style templates and negative prompts reach the model through the engine's
prompt assembly, and must not throw it off."""

from __future__ import annotations

import re
from functools import cache

import torch

from storyboard.core.styles import builtin_styles
from training.toyworld.world import vocabulary

NAMES = ("mia", "leo", "ada", "tom", "nora", "sam", "kai", "lena", "max", "zoe")


@cache
def junk_words() -> tuple[str, ...]:
    """Names and every word of the style templates that is not a toy-world word."""
    text = " ".join(f"{s.prompt} {s.negative}" for s in builtin_styles().values())
    words = set(re.findall(r"[a-z0-9]+", text.lower().replace("{prompt}", " ")))
    return tuple(sorted((words | set(NAMES)) - set(vocabulary())))


def add_junk(
    captions: list[str], generator: torch.Generator, *, rate: float = 0.2, empty_rate: float = 0.3
) -> list[str]:
    """Insert 1-4 unknown words into ``rate`` of the captions (at random places); replace
    ``empty_rate`` of the empty captions by unknown words only."""
    words = junk_words()
    out: list[str] = []
    draws = torch.rand((len(captions), 2), generator=generator)
    picks = torch.randint(len(words), (len(captions), 4), generator=generator)
    counts = torch.randint(1, 5, (len(captions),), generator=generator)
    places = torch.rand((len(captions), 4), generator=generator)
    for i, text in enumerate(captions):
        extra = [words[int(picks[i, k])] for k in range(int(counts[i]))]
        if not text:
            out.append(" ".join(extra) if float(draws[i, 1]) < empty_rate else "")
            continue
        if float(draws[i, 0]) >= rate:
            out.append(text)
            continue
        tokens = text.split()
        for k, word in enumerate(extra):
            tokens.insert(int(float(places[i, k]) * (len(tokens) + 1)), word)
        out.append(" ".join(tokens))
    return out
