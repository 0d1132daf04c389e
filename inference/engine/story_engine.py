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

The runs of a call (:mod:`inference.engine.story_run`, :mod:`inference.engine.guided_run`) receive
the frozen :class:`~inference.engine.loaded_model.LoadedModel` and the call's scaffold
(:class:`~inference.engine.generate_call.GenerateCall`), never the engine itself.
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
from inference.engine.fast_path import (
    FastOptions,
    FastPath,
    apply_fast_path,
    fast_wanted,
    options_for,
)
from inference.engine.generate_call import GenerateCall
from inference.engine.guided_pipelines import GuidedPipelines
from inference.engine.ip_adapter import DEFAULT_SCALE, load_ip_adapter
from inference.engine.loaded_model import LoadedModel
from inference.engine.loras import LoraAdapters
from inference.engine.print_run import PrintRun
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
from inference.model_loading import ResolvedModel, load_pipeline, resolve
from inference.results import GeneratedImage, Progress
from storyboard.core.jobs import PanelRequest, StoryRequest
from storyboard.core.print_jobs import PrintSizeRequest

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
        fast: bool | FastOptions | None = None,
    ) -> None:
        """``fast``: faster generation (:mod:`inference.engine.fast_path`); None: on CUDA
        without low-VRAM mode, the editor's default; False: never; True or options: here."""
        self.device = torch.device(device or best_device())
        self.dtype = dtype or default_dtype(self.device)
        self.low_vram = low_vram
        self.model_config = model_config
        self.ip_adapter = ip_adapter
        self.ip_adapter_scale = ip_adapter_scale
        self.preview_every = max(1, preview_every)
        self.fast = fast
        self.loaded: LoadedModel | None = None
        self.banks = BankCache()
        self._source = model_source

    # ------------------------------------------------------------------------- loading
    def load(self, source: str | None = None) -> LoadedModel:
        """Load ``source`` (default: the engine's) unless it is already loaded."""
        source = source or self._source
        if source is None:
            raise GenerationError("no model chosen; pick one in the project settings")
        if self.loaded is not None and self.loaded.model.source == source:
            return self.loaded
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
        story = install_consistent_attention(pipe.unet, CSAConfig())
        regional = RegionalPrompting(pipe.unet)
        fast = self._fast_path(pipe)
        self.loaded = LoadedModel(
            model=resolved,
            pipe=pipe,
            story=story,
            regional=regional,
            guided=GuidedPipelines(pipe, resolved.kind, torch.device(pipe._execution_device)),
            scheduler_config=pipe.scheduler.config,
            low_vram=self.low_vram,
            ip_adapter_scale=self.ip_adapter_scale if self.ip_adapter else None,
            loras=LoraAdapters(pipe, fast.unfuse if fast is not None else None),
            fast=fast,
        )
        self._source = source
        logger.info("loaded %s (%s) on %s %s", source, resolved.kind, self.device, self.dtype)
        return self.loaded

    def _place(self, pipe: Any) -> None:
        if self.low_vram:
            pipe.vae.enable_slicing()
            pipe.vae.enable_tiling()
        if self.low_vram and self.device.type == "cuda":
            pipe.enable_model_cpu_offload(device=self.device)
        else:
            pipe.to(self.device)

    def _fast_path(self, pipe: Any) -> FastPath | None:
        """Compile, fp8 and fused projections on the UNet when faster generation is on."""
        options = options_for(self.fast)
        if options is None:
            if self.fast is False or not fast_wanted(None, self.device, self.low_vram):
                return None
            options = FastOptions()
        return apply_fast_path(pipe, options, self.device)

    def unload(self) -> None:
        """Drop the pipeline and the session's banks (frees the device memory)."""
        self.loaded = None
        self.banks.clear()
        free_cached_memory(self.device)

    # What is loaded, or None: for callers that look inside (tests, benchmarks).
    @property
    def model(self) -> ResolvedModel | None:
        return self.loaded.model if self.loaded is not None else None

    @property
    def pipe(self) -> Any:
        return self.loaded.pipe if self.loaded is not None else None

    @property
    def story(self) -> StoryAttention | None:
        return self.loaded.story if self.loaded is not None else None

    @property
    def regional(self) -> RegionalPrompting | None:
        return self.loaded.regional if self.loaded is not None else None

    # ------------------------------------------------------------------------- generating
    def generate(
        self,
        request: StoryRequest | PanelRequest | PrintSizeRequest,
        progress: Callable[[Progress], None] | None = None,
        cancelled: Cancel | None = None,
        on_image: Callable[[GeneratedImage], None] | None = None,
    ) -> list[GeneratedImage]:
        """Every requested panel's image (identity panels first), in the order made; for a
        print-size request, each panel enlarged (:mod:`inference.engine.print_run`).

        Raises ModelUnavailable, OutOfMemory, Cancelled or GenerationError; after any of them the
        engine is ready for the next request.
        """
        story_request = request.as_story() if isinstance(request, PanelRequest) else request
        report = progress or (lambda _p: None)
        stop, deliver = cancel_check(cancelled), on_image or (lambda _i: None)
        report(Progress("loading"))
        loaded = self.load(story_request.model)
        sampling = story_request.sampling
        call = GenerateCall(loaded, sampling, report, stop, deliver, self.preview_every)
        run = (
            PrintRun(loaded, self.banks, story_request, call)
            if isinstance(story_request, PrintSizeRequest)
            else StoryRun(loaded, self.banks, story_request, call)
        )
        try:
            with interrupts_as_errors(
                self.device, "generating", self._advice, lambda: len(call.results), loaded.story.end
            ):
                run.execute()
        except BankMismatchError as exc:
            raise GenerationError(str(exc)) from exc
        finally:
            loaded.story.end()
            self.banks.start()  # a cancelled or failed job does not wait for its banks' files
        self.banks.wait()  # a finished job is done once its banks are saved
        return call.results

    def _advice(self) -> str:
        """What to try after running out of memory."""
        tips = ["lower the image size or the batch size"]
        if not self.low_vram and self.device.type != "cpu":  # (it moves work to the CPU)
            tips.append("turn on low-VRAM mode (model CPU offload, VAE tiling, bank offload)")
        tips.append("use fewer identity panels per character")
        return "Try to " + "; or ".join(tips) + "."
