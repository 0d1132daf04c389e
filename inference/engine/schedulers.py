"""The samplers an artist can pick, built from the loaded model's own scheduler config.

Building from the model's config keeps its noise schedule (betas, prediction type, timestep
offset); only the sampling algorithm changes. DDIM is the StoryDiffusion paper's sampler.
"""

from __future__ import annotations

from typing import Any

SCHEDULER_NAMES = {
    "ddim": "DDIM",
    "euler-a": "Euler ancestral",
    "dpmpp-2m-karras": "DPM++ 2M Karras",
}
FREEU_PAPER = {"s1": 0.6, "s2": 0.4, "b1": 1.1, "b2": 1.2}
"""FreeU factors used by StoryDiffusion everywhere (``enable_freeu``)."""


def make_scheduler(name: str, config: Any) -> Any:
    """A fresh scheduler ``name`` (a key of :data:`SCHEDULER_NAMES`) for a model's config."""
    from diffusers import (
        DDIMScheduler,
        DPMSolverMultistepScheduler,
        EulerAncestralDiscreteScheduler,
    )

    if name == "ddim":
        return DDIMScheduler.from_config(config, clip_sample=False, set_alpha_to_one=False)
    if name == "euler-a":
        return EulerAncestralDiscreteScheduler.from_config(config)
    if name == "dpmpp-2m-karras":
        return DPMSolverMultistepScheduler.from_config(
            config, algorithm_type="dpmsolver++", solver_order=2, use_karras_sigmas=True
        )
    known = ", ".join(SCHEDULER_NAMES)
    raise ValueError(f"unknown scheduler {name!r}; choose one of {known}")


def sdxl_ddim() -> Any:
    """DDIM with SDXL's (and SD 1.5's) training noise schedule, for models built from configs
    (the benchmarks), which have no scheduler folder to read it from."""
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
        timestep_spacing="leading",
    )
