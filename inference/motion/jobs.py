"""The motion engine behind plain-data transition jobs (``storyboard.core.transition_jobs``).

The editor's worker and the ``transitions`` command both run jobs through :class:`JobEngine`, so
a job means the same engine, model and clip in both. A job that names a built-in video model
whose folder is not there fails as :class:`ModelUnavailable` saying so (a broken or older install,
not a path the user typed), before torch is imported.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from inference.errors import ModelUnavailable
from storyboard.core.transition_jobs import TransitionJob

if TYPE_CHECKING:
    from inference.motion.engine import MotionSettings, TransitionClip
    from inference.results import Progress


def motion_settings(
    job: TransitionJob, device: str | None = None, low_vram: bool = False
) -> MotionSettings:
    """The engine a job needs (``device`` None or ``"auto"``: the best one)."""
    from inference.motion.engine import MotionSettings

    model = job.model
    return MotionSettings(
        backend=job.backend,
        predictor=model if job.backend == "smp" else None,
        keyframe_model=model if job.backend != "smp" else None,
        device=None if device in (None, "auto") else device,
        low_vram=low_vram,
    )


def check_builtin(job: TransitionJob) -> None:
    """A built-in video model's folder must be there; ModelUnavailable says what to do."""
    if not job.builtin or job.model is None or Path(job.model).is_dir():
        return
    raise ModelUnavailable(
        f"{job.builtin} video model",
        [f"the built-in video model of the {job.builtin!r} preset is missing: no {job.model}"],
        "This install of the editor lacks it: upgrade or reinstall the editor (in a source "
        "checkout, git pull brings resources/models/ up to date). Until then, set a transition "
        "engine and model in File > Settings (the transitions command reads the same "
        "settings), or use a transition that needs no model (crossfade, dip, wipe, push, morph)",
    )


class JobEngine:
    """One loaded motion engine for jobs of the same backend and model (kept between clips)."""

    def __init__(self, job: TransitionJob, device: str | None = None, low_vram: bool = False):
        check_builtin(job)  # before torch is imported: a missing model is said at once
        from inference.motion.engine import TransitionEngine

        self.engine = TransitionEngine(motion_settings(job, device, low_vram))

    def generate(
        self,
        job: TransitionJob,
        progress: Callable[[Progress], None] | None = None,
        cancelled: Callable[[], bool] | threading.Event | None = None,
    ) -> TransitionClip:
        from inference.motion.engine import TransitionRequest
        from inference.motion.transition import TransitionSettings

        settings = TransitionSettings(
            frames=job.frames,
            width=job.width,
            height=job.height,
            steps=job.steps,
            seed=job.seed,
            guidance=job.guidance,
            prompt=job.prompt,
        )
        request = TransitionRequest(Path(job.start), Path(job.end), settings, job.fps, job.label)
        return self.engine.generate(request, progress, cancelled)
