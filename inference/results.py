"""What the engine reports: progress while denoising, and each finished image."""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from storyboard.core.jobs import PanelJob


@dataclass(frozen=True)
class Progress:
    """Where a request is: ``phase`` is "loading", "identity" or "panels"."""

    phase: str
    labels: tuple[str, ...] = ()  # panel numbers of the batch being denoised
    step: int = 0
    total: int = 0  # steps of this batch
    images_done: int = 0
    images_total: int = 0
    previews: tuple[Image.Image, ...] = ()  # one per panel of the batch, on some steps only
    note: str = ""  # what the wait is for, when it is not denoising (compiling for the GPU)


@dataclass(frozen=True)
class GeneratedImage:
    """One finished image and everything needed to record it as a candidate."""

    job: PanelJob
    png: bytes
    width: int
    height: int
    model: str
    identity_of: str | None  # the character whose identity panel this was
    settings: dict[str, str | int | float | bool | None] = field(default_factory=dict)


class Stop(Exception):
    """Raised inside the step callback to abandon the pipeline call at once (no decode)."""
