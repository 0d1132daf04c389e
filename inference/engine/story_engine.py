"""StoryEngine: turns a story request into images on the artist's machine. No Qt.

One engine holds one loaded pipeline (loading takes seconds to minutes, so it happens once and is
reused by every request for the same model) with Consistent Self-Attention installed, and the
identity banks of the session (:mod:`inference.bank.cache`).

``generate`` runs the StoryDiffusion order: for each character whose bank is missing (or whose
identity panels are all requested, so a full rerun reproduces the first run), its identity panels
as one batch in write mode; then every other requested panel in read mode, in batches. Every image
goes to ``on_image`` the moment it is decoded, so a cancel, an error or a crash later on loses
nothing already made. Each panel's starting noise comes from its own seed, so an image does not
depend on which other panels shared its batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch

from inference.bank.cache import BankCache
from inference.bank.key import BankMismatchError
from inference.csa.config import CSAConfig
from inference.csa.processor import install_consistent_attention
from inference.csa.state import StoryAttention
from inference.devices import best_device, default_dtype
from inference.engine.guided_pipelines import GuidedPipelines
from inference.engine.ip_adapter import DEFAULT_SCALE, load_ip_adapter
from inference.engine.regional_prompt import RegionalPrompting
from inference.engine.story_run import StoryRun
from inference.errors import GenerationError
from inference.interrupts import (
    OUT_OF_MEMORY,
    Cancel,
    cancel_check,
    free_cached_memory,
    interrupts_as_errors,
    out_of_memory,
)
from inference.model_loading import ResolvedModel, load_pipeline, native_size, resolve
from inference.model_loading import round_size as _round_size
from inference.results import GeneratedImage, Progress
from storyboard.core.jobs import PanelRequest, StoryRequest

__all__ = ["Cancel", "GeneratedImage", "Progress", "StoryEngine"]

logger = logging.getLogger(__name__)


class StoryEngine:
    """Loads a model once and generates story requests with it (one request at a time)."""

    def __init__(
        self,
        model_source: str | None = None,
        *,
        device: str | None = None,
        dtype: torch.dtype | None = None,
        low_vram: bool = False,
        model_config: str | None = None,
        ip_adapter: str | None = None,
        ip_adapter_scale: float = DEFAULT_SCALE,
        preview_every: int = 5,
    ) -> None:
        self.device = torch.device(device or best_device())
        self.dtype = dtype or default_dtype(self.device)
        self.low_vram = low_vram
        self.model_config = model_config
        self.ip_adapter = ip_adapter
        self.ip_adapter_scale = ip_adapter_scale
        self.preview_every = max(1, preview_every)
        self.model: ResolvedModel | None = None
        self.pipe: Any = None
        self.story: StoryAttention | None = None
        self.regional: RegionalPrompting | None = None  # boxed characters' own prompts
        self.guided: GuidedPipelines | None = None  # img2img, inpainting, ControlNet, adapter
        self.scheduler_config: Any = None
        self.banks = BankCache()
        self._source = model_source

    # ------------------------------------------------------------------------- loading
    def load(self, source: str | None = None) -> None:
        """Load ``source`` (default: the engine's) unless it is already loaded."""
        source = source or self._source
        if source is None:
            raise GenerationError("no model chosen; pick one in the project settings")
        if self.model is not None and self.model.source == source:
            return
        resolved = resolve(source, config=self.model_config)
        self.unload()
        try:
            pipe = load_pipeline(resolved, self.dtype)
            if self.ip_adapter:  # before CSA: loading it resets every attention processor
                load_ip_adapter(pipe, self.ip_adapter, resolved.kind)
            self._place(pipe)
        except OUT_OF_MEMORY as exc:
            self.unload()
            raise out_of_memory(self.device, "loading the model", self._advice()) from exc
        pipe.set_progress_bar_config(disable=True)
        self.scheduler_config = pipe.scheduler.config
        self.story = install_consistent_attention(pipe.unet, CSAConfig())
        self.regional = RegionalPrompting(pipe.unet)
        self.pipe, self.model, self._source = pipe, resolved, source
        self.guided = GuidedPipelines(pipe, resolved.kind, self.execution_device)
        logger.info("loaded %s (%s) on %s %s", source, resolved.kind, self.device, self.dtype)

    def _place(self, pipe: Any) -> None:
        if self.low_vram:
            pipe.vae.enable_slicing()
            pipe.vae.enable_tiling()
        if self.low_vram and self.device.type == "cuda":
            pipe.enable_model_cpu_offload(device=self.device)
        else:
            pipe.to(self.device)

    def unload(self) -> None:
        """Drop the pipeline and the session's banks (frees the device memory)."""
        self.pipe = self.model = self.story = self.guided = self.regional = None
        self.banks.clear()
        free_cached_memory(self.device)

    @property
    def execution_device(self) -> torch.device:
        return torch.device(self.pipe._execution_device) if self.pipe is not None else self.device

    # ------------------------------------------------------------------------- generating
    def generate(
        self,
        request: StoryRequest | PanelRequest,
        progress: Callable[[Progress], None] | None = None,
        cancelled: Cancel | None = None,
        on_image: Callable[[GeneratedImage], None] | None = None,
    ) -> list[GeneratedImage]:
        """Every requested panel's image (identity panels first), in the order made.

        Raises ModelUnavailable, OutOfMemory, Cancelled or GenerationError; after any of them the
        engine is ready for the next request.
        """
        run = StoryRun(
            self,
            request.as_story() if isinstance(request, PanelRequest) else request,
            progress or (lambda _p: None),
            cancel_check(cancelled),
            on_image or (lambda _i: None),
        )
        run.report(Progress("loading"))
        self.load(run.request.model)
        try:
            with interrupts_as_errors(
                self.device, "generating", self._advice, lambda: len(run.results), self._end_csa
            ):
                run.execute()
        except BankMismatchError as exc:
            raise GenerationError(str(exc)) from exc
        finally:
            self._end_csa()
            self.banks.start()  # a cancelled or failed job does not wait for its banks' files
        self.banks.wait()  # a finished job is done once its banks are saved
        return run.results

    def _end_csa(self) -> None:
        if self.story is not None:
            self.story.end()

    def _advice(self) -> str:
        """What to try after running out of memory."""
        tips = ["lower the image size or the batch size"]
        if not self.low_vram:
            tips.append("turn on low-VRAM mode (model CPU offload, VAE tiling, bank offload)")
        tips.append("use fewer identity panels per character")
        return "Try to " + "; or ".join(tips) + "."

    def image_size(self, width: int, height: int, fit: bool) -> tuple[int, int]:
        """The size actually generated for a requested one on the loaded model."""
        assert self.model is not None and self.pipe is not None
        if fit:
            edge = int(self.pipe.unet.config.sample_size) * int(self.pipe.vae_scale_factor)
            return native_size(self.model.kind, width, height, edge)
        levels = len(self.pipe.unet.config.block_out_channels) - 1
        return _round_size(width, height, self.pipe.vae_scale_factor * 2**levels)
