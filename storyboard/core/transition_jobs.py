"""A request for a generated transition clip between a panel and the next one (issue: motion).

Pure data, so the editor builds it without importing torch; the worker turns it into the motion
engine's request. Both panels need an accepted image: the clip starts and ends exactly on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.core.model import Project
from storyboard.core.numbering import panel_numbers

BACKENDS = ("ltx", "wan", "smp")


@dataclass(frozen=True, slots=True)
class TransitionJob:
    panel_id: str  # the clip plays as this panel's transition to the next one
    label: str  # "3A → 3B"
    start: str  # image file of this panel
    end: str  # image file of the next panel
    backend: str = "ltx"
    model: str | None = None  # keyframe model (ltx/wan) or predictor folder (smp); None: default
    frames: int = 16
    width: int = 512
    height: int = 512
    steps: int = 25
    seed: int = 0
    guidance: float = 7.5
    prompt: str = ""
    fps: int = 8


def build_transition_job(
    project: Project,
    panel_id: str,
    bundle: Path,
    *,
    backend: str = "ltx",
    model: str | None = None,
    frames: int = 16,
) -> TransitionJob:
    """The job for the transition after ``panel_id``; ValueError says what is missing."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown transition engine {backend!r}; choose one of {BACKENDS}")
    order = [p.id for p in project.ordered_panels()]
    numbers = panel_numbers(project)
    index = order.index(panel_id)
    if index + 1 >= len(order):
        raise ValueError(f"panel {numbers[panel_id]} is the last one: there is no next panel")
    first, second = project.panels[panel_id], project.panels[order[index + 1]]
    store = AssetStore(bundle)
    start, end = store.file(first.image), store.file(second.image)
    for panel, path in ((first, start), (second, end)):
        if path is None:
            raise ValueError(
                f"panel {numbers[panel.id]} has no image yet; generate or draw both panels first"
            )
    assert start is not None and end is not None
    ratio = project.settings.aspect_ratio
    width = 512 if ratio <= 1 else round(512 * ratio / 32) * 32
    height = 512 if ratio >= 1 else round(512 / ratio / 32) * 32
    return TransitionJob(
        panel_id=panel_id,
        label=f"{numbers[first.id]} → {numbers[second.id]}",
        start=str(start),
        end=str(end),
        backend=backend,
        model=model or None,
        frames=frames,
        width=width,
        height=height,
        seed=first.seed if first.seed is not None else project.settings.generation.seed,
        prompt=first.action or first.prompt,
    )
