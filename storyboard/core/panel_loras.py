"""Which LoRAs a panel is drawn with, and their trigger words.

A panel gets the project's LoRAs, then those of its style, then those of the characters it shows
(each character's look). Diffusers applies a LoRA to the whole UNet pass: peft's layers have no
notion of where in the picture a token is, so a LoRA cannot be limited to a character's box in one
pass. A panel that draws regional prompts (two or more characters, boxed) therefore gets no
character LoRA and none of their trigger words: its characters come from their identity banks
(made with their LoRAs, so CSA still carries the LoRA's look into each box) and their own prompts.
Mixing every character's LoRA over the whole picture would blend the looks it boxes apart.

The same file attached twice (say, to the project and to a character) loads once, its weights
added.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from storyboard.core.lora_files import LoraFile, LoraUnavailable, lora_file
from storyboard.core.model import LoraUse, Panel, Project


def attached_loras(
    project: Project, panel: Panel, style: str, *, with_characters: bool
) -> list[tuple[str, LoraUse]]:
    """(whose, LoRA) pairs for ``panel`` in order: project, style, characters; ``whose`` names
    the owner for messages ("character Mia")."""
    pairs = [("the project", use) for use in project.settings.loras]
    pairs += [(f"style {style}", use) for use in project.settings.style_loras.get(style, [])]
    if with_characters:
        for cid in dict.fromkeys(panel.character_ids):
            character = project.characters.get(cid)
            if character is not None:
                pairs += [(f"character {character.name}", use) for use in character.loras]
    return [(whose, use) for whose, use in pairs if use.file.strip()]


def resolve_loras(
    pairs: Sequence[tuple[str, LoraUse]], roots: Sequence[Path], label: str
) -> tuple[LoraFile, ...]:
    """The files of ``pairs`` (one per name, weights added), or :class:`LoraUnavailable`
    naming the panel, the owner and the folders searched."""
    weights: dict[str, float] = {}
    owners: dict[str, str] = {}
    for whose, use in pairs:
        weights[use.file] = weights.get(use.file, 0.0) + use.weight
        owners.setdefault(use.file, whose)
    files = []
    for name, weight in weights.items():
        try:
            files.append(lora_file(name, weight, roots))
        except LoraUnavailable as exc:
            raise LoraUnavailable(
                f"panel {label}: the LoRA of {owners[name]}: {exc}. Put the file in the project's "
                "loras folder or add its folder under Settings > LoRA folders, or detach it"
            ) from None
    return tuple(files)


def trigger_words(uses: Sequence[LoraUse]) -> str:
    """The trigger words of ``uses``, joined with commas (empty ones skipped)."""
    return ", ".join(w for use in uses if (w := use.trigger_words.strip().strip(",").strip()))


def panel_triggers(project: Project, style: str) -> str:
    """The trigger words of the project's and the style's LoRAs, put in front of the prompt."""
    return trigger_words([*project.settings.loras, *project.settings.style_loras.get(style, [])])
