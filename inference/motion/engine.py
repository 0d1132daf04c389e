"""TransitionEngine: a transition clip between two panels, as a job the worker can run. No Qt.

Like :class:`inference.engine.story_engine.StoryEngine` it loads its model on the first request and
keeps it, reports :class:`~inference.results.Progress` (phase ``"transition"``), checks
``cancelled`` between steps and raises the engine's typed errors: :class:`ModelUnavailable` (the
editor then offers the model-free transitions), :class:`OutOfMemory`, :class:`Cancelled`.

The backend is a setting: ``smp`` is the paper's Semantic Motion Predictor on SD 1.5 + AnimateDiff
(needs a trained predictor: none was published); ``ltx`` and ``wan`` are diffusers' first-and-last-
frame pipelines, which work with public weights today.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from inference.devices import best_device
from inference.errors import GenerationError
from inference.interrupts import (
    OUT_OF_MEMORY,
    Cancel,
    cancel_check,
    interrupts_as_errors,
    out_of_memory,
)
from inference.model_loading import quiet_libraries
from inference.motion.clip_io import write_mp4, write_png_frames
from inference.motion.keyframe_pipelines import (
    FAMILIES,
    load_keyframe_pipeline,
    run_keyframe_pipeline,
)
from inference.motion.transition import TransitionSettings, generate_transition
from inference.motion.video_model import (
    DEFAULT_ADAPTER,
    DEFAULT_BASE,
    VideoModelSources,
    load_video_model,
)
from inference.results import Progress

logger = logging.getLogger(__name__)

BACKENDS = ("smp", "ltx", "wan")


@dataclass(frozen=True, slots=True)
class MotionSettings:
    """Which transition engine runs, with which weights (a change makes a new engine)."""

    backend: str = "ltx"
    predictor: str | None = None  # smp: a predictor folder from the training script
    base_model: str = DEFAULT_BASE  # smp: SD 1.5 family
    motion_adapter: str = DEFAULT_ADAPTER  # smp
    image_encoder: str | None = None  # smp: None = the predictor's own
    unet_weights: str | None = None  # smp: unet_trained.safetensors of the same checkpoint
    keyframe_model: str | None = None  # ltx/wan: None = the family's public repo
    device: str | None = None
    low_vram: bool = False

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown transition backend {self.backend!r}; one of {BACKENDS}")


@dataclass(frozen=True, eq=False)
class TransitionRequest:
    """A transition between two panels (their images, as files or already open)."""

    start: Path | Image.Image
    end: Path | Image.Image
    settings: TransitionSettings = field(default_factory=TransitionSettings)
    fps: int = 8
    label: str = ""  # shown in the queue, e.g. "3A → 3B"


@dataclass(frozen=True, eq=False)
class TransitionClip:
    """The frames of a finished transition and how they were made."""

    frames: list[Image.Image]
    fps: int
    backend: str
    settings: dict[str, str | int | float | bool | None]

    def write_mp4(self, path: Path) -> Path:
        return write_mp4(self.frames, path, self.fps)

    def write_png_frames(self, folder: Path) -> list[Path]:
        return write_png_frames(self.frames, folder)


class TransitionEngine:
    """Loads the chosen backend once and generates transition requests with it."""

    def __init__(self, settings: MotionSettings) -> None:
        self.settings = settings
        self.device = torch.device(settings.device or best_device())
        # fp16 is the paper's SD 1.5 choice; LTX-Video and Wan are published in bf16
        half = torch.float16 if settings.backend == "smp" else torch.bfloat16
        self.dtype = half if self.device.type in ("cuda", "mps") else torch.float32
        self.model: Any = None  # VideoModel (smp) or a diffusers pipeline

    def load(self) -> None:
        if self.model is not None:
            return
        quiet_libraries()
        s = self.settings
        try:
            if s.backend == "smp":
                sources = VideoModelSources(
                    predictor=s.predictor,
                    base=s.base_model,
                    adapter=s.motion_adapter,
                    image_encoder=s.image_encoder,
                    unet_weights=s.unet_weights,
                )
                self.model = load_video_model(sources, self.dtype).to(self.device)
            else:
                pipe = load_keyframe_pipeline(FAMILIES[s.backend], s.keyframe_model, self.dtype)
                if s.low_vram and self.device.type == "cuda":
                    pipe.enable_model_cpu_offload(device=self.device)
                else:
                    pipe.to(self.device)
                self.model = pipe
        except OUT_OF_MEMORY as exc:
            self.model = None
            raise out_of_memory(
                self.device, "loading the transition model", self._advice()
            ) from exc
        logger.info("loaded the %s transition engine on %s", s.backend, self.device)

    def generate(
        self,
        request: TransitionRequest,
        progress: Callable[[Progress], None] | None = None,
        cancelled: Cancel | None = None,
    ) -> TransitionClip:
        """The clip of ``request``. Raises ModelUnavailable, OutOfMemory, Cancelled or
        GenerationError; the engine stays usable after any of them."""
        report = progress or (lambda _p: None)
        stop = cancel_check(cancelled)
        report(Progress("loading"))
        self.load()
        start, end = _image(request.start), _image(request.end)
        s = request.settings
        try:
            with interrupts_as_errors(
                self.device, "generating the transition", self._advice, lambda: 0
            ):
                if self.settings.backend == "smp":
                    frames = generate_transition(self.model, start, end, s, report, stop)
                else:
                    family = FAMILIES[self.settings.backend]
                    frames = run_keyframe_pipeline(family, self.model, start, end, s, report, stop)
        except RuntimeError as exc:
            raise GenerationError(f"the transition failed: {exc}") from exc
        return TransitionClip(
            frames,
            request.fps,
            self.settings.backend,
            {
                "backend": self.settings.backend,
                "frames": s.frames,
                "steps": s.steps,
                "seed": s.seed,
                "guidance": s.guidance,
                "prompt": s.prompt,
            },
        )

    def _advice(self) -> str:
        """What to try after running out of memory."""
        tips = "Try fewer frames or a smaller size"
        if not self.settings.low_vram and self.device.type != "cpu":  # (a GPU mode)
            tips += ", or turn on low-VRAM mode"
        return tips + "."


def _image(source: Path | Image.Image) -> Image.Image:
    if isinstance(source, Image.Image):
        return source
    with Image.open(source) as image:
        return image.convert("RGB")
