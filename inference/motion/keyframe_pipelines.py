"""First-and-last-frame video pipelines with public weights: LTX-Video and Wan FLF2V.

Both take the two panels as keyframes; diffusers 0.42 has them as ``LTXConditionPipeline`` (a
condition image at any frame index; here frame 0 and the last) and ``WanImageToVideoPipeline``
(``image`` and ``last_image``). Their frame counts and sizes have fixed steps (LTX: 8k+1 frames,
sides of 32; Wan: 4k+1 frames, sides of 16), so a request is rounded up and the clip resampled to
the asked frame count. As with the motion predictor, the delivered end frames are the panels.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image

from inference.errors import ModelUnavailable
from inference.model_loading import round_size
from inference.motion.sources import resolve_folder
from inference.motion.transition import TransitionSettings, fit
from inference.results import Progress, Stop

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KeyframeFamily:
    key: str
    label: str
    default_repo: str
    pipeline: str  # diffusers class name in model_index.json
    frame_step: int  # frames = frame_step * k + 1
    size_multiple: int


LTX = KeyframeFamily(
    "ltx", "LTX-Video", "Lightricks/LTX-Video-0.9.5", "LTXConditionPipeline", 8, 32
)
WAN = KeyframeFamily(
    "wan",
    "Wan 2.1 first-last-frame",
    "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers",
    "WanImageToVideoPipeline",
    4,
    16,
)
FAMILIES = {f.key: f for f in (LTX, WAN)}
# LTX folders of 0.9.5+ say LTXPipeline in model_index.json; the condition pipeline reads them.
_ACCEPTED = {"ltx": {"LTXPipeline", "LTXConditionPipeline"}, "wan": {"WanImageToVideoPipeline"}}


def load_keyframe_pipeline(family: KeyframeFamily, source: str | None, dtype: torch.dtype) -> Any:
    """The family's pipeline from a hub id (cache only) or folder, on the CPU."""
    import diffusers

    name = source or family.default_repo
    folder = resolve_folder(name, marker="model_index.json", what=f"{family.label} model")
    index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    found = str(index.get("_class_name", ""))
    if found not in _ACCEPTED[family.key]:
        raise ModelUnavailable(
            name,
            [f"{folder} holds a {found or 'unknown'} model, not {family.label}"],
            f"Pick a {family.label} folder, e.g. {family.default_repo}",
        )
    cls = getattr(diffusers, family.pipeline)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            pipe = cls.from_pretrained(str(folder), torch_dtype=dtype, local_files_only=True)
    except Exception as exc:
        logger.debug("loading %s failed", folder, exc_info=True)
        raise ModelUnavailable(
            name,
            [f"{folder} could not be loaded: {type(exc).__name__}: {str(exc)[:200]}"],
            "The files may be incomplete; re-download them or pick another model",
        ) from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run_keyframe_pipeline(
    family: KeyframeFamily,
    pipe: Any,
    start: Image.Image,
    end: Image.Image,
    settings: TransitionSettings,
    report: Callable[[Progress], None],
    stop: Callable[[], bool],
) -> list[Image.Image]:
    """``settings.frames`` frames from ``start`` to ``end``; raises :class:`Stop` on cancel."""
    s = settings
    width, height = round_size(s.width, s.height, family.size_multiple)
    steps = -(-(max(s.frames, 2) - 1) // family.frame_step)
    frames = family.frame_step * steps + 1
    first, last = fit(start, width, height), fit(end, width, height)

    def on_step(_pipe: Any, i: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        report(Progress("transition", step=i + 1, total=s.steps, images_total=1))
        if stop():
            raise Stop
        return kwargs

    common: dict[str, Any] = {
        "prompt": s.prompt,
        "negative_prompt": s.negative_prompt,
        "width": width,
        "height": height,
        "num_frames": frames,
        "num_inference_steps": s.steps,
        "guidance_scale": s.guidance,
        "generator": torch.Generator("cpu").manual_seed(s.seed),
        "output_type": "pil",
        "callback_on_step_end": on_step,
    }
    if family is LTX:
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        conditions = [
            LTXVideoCondition(image=first, frame_index=0),
            LTXVideoCondition(image=last, frame_index=frames - 1),
        ]
        video = pipe(conditions=conditions, **common).frames[0]
    else:
        video = pipe(image=first, last_image=last, **common).frames[0]
    picks = [round(i * (len(video) - 1) / (s.frames - 1)) for i in range(s.frames)]
    middle = [video[i].convert("RGB").resize((width, height)) for i in picks[1:-1]]
    return [first, *middle, last]
