"""Which engine, model, size, length and speed a project's generated transitions use.

One rule, for the editor's Generate menu and the ``transitions`` command alike: the transition
model the user chose in the settings wins; without one, an image model preset that names its own
video model (``"transition"`` in ``resources/models.json``: the built-in toy world's) brings it,
with its size, frames, steps and fps; otherwise the settings' engine with its default weights, at
512 px on the short side. Pure Python: nothing here loads a model or checks that it exists (a
missing one fails the job as ``ModelUnavailable``, where the engine can say how to get it).
"""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.core.model import Project
from storyboard.core.resources import model_presets
from storyboard.core.settings import AppSettings

BACKENDS = ("ltx", "wan", "smp")


@dataclass(frozen=True, slots=True)
class TransitionSetup:
    backend: str = "ltx"
    model: str | None = None  # keyframe model (ltx/wan) or predictor folder (smp); None: default
    size: tuple[int, int] | None = None  # width, height; None: 512 px at the project's aspect
    frames: int = 16
    steps: int = 25
    fps: int = 8
    builtin: str = ""  # the preset whose shipped video model this is ("" for the user's own)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(
                f"unknown transition engine {self.backend!r}; choose one of {BACKENDS}"
            )


def image_model(settings: AppSettings, project: Project) -> str:
    """The model that draws the panels: the settings' model overrides the project's."""
    return settings.model_source or project.settings.generation.model


def transition_setup(settings: AppSettings, project: Project) -> TransitionSetup:
    """How this project's transitions are made (see the module's docstring for the rule)."""
    chosen = settings.transition_model.strip()
    if not chosen:
        preset = model_presets().get(image_model(settings, project))
        if preset is not None and preset.transition is not None:
            own = preset.transition
            return TransitionSetup(
                backend=own.backend,
                model=own.model,
                size=(own.size, own.size),
                frames=own.frames,
                steps=own.steps,
                fps=own.fps,
                builtin=preset.key if preset.builtin else "",
            )
    return TransitionSetup(backend=settings.transition_backend, model=chosen or None)
