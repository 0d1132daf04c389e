"""Style templates (``resources/styles.json``): how a panel prompt becomes a styled prompt.

A style wraps the prompt (``{prompt}`` marks where it goes) and brings its own negative prompt, so
one choice per project (or per panel) sets the look of every image. The templates are data, not
code, so that an artist can add one without touching Python.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from storyboard.core.resources import RESOURCES

STYLES_FILE = RESOURCES / "styles.json"
PLACEHOLDER = "{prompt}"


@dataclass(frozen=True, slots=True)
class Style:
    key: str
    label: str
    prompt: str  # template containing {prompt}
    negative: str

    def apply(self, prompt: str) -> str:
        """The styled prompt (the template's text around the panel prompt)."""
        styled = self.prompt.replace(PLACEHOLDER, prompt.strip())
        return ", ".join(part.strip() for part in styled.split(",") if part.strip())


class UnknownStyle(ValueError):
    """A project names a style this installation does not have."""


def load_styles(path: Path = STYLES_FILE) -> dict[str, Style]:
    """Every style in ``path``, by key, in file order."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    styles = {}
    for key, entry in data.items():
        template = str(entry["prompt"])
        if PLACEHOLDER not in template:
            raise ValueError(f"style {key!r} in {path} has no {PLACEHOLDER} in its prompt")
        styles[key] = Style(key, str(entry["label"]), template, str(entry.get("negative", "")))
    return styles


@functools.cache
def builtin_styles() -> dict[str, Style]:
    """The styles shipped with the editor (read once)."""
    return load_styles()


def style_named(key: str) -> Style:
    """A shipped style by key; :class:`UnknownStyle` lists the known keys."""
    styles = builtin_styles()
    try:
        return styles[key]
    except KeyError:
        raise UnknownStyle(f"unknown style {key!r}; known styles: {', '.join(styles)}") from None
