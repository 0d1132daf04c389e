"""StoryEngine: turns a story request into images on the artist's machine. No Qt.

One engine holds one loaded pipeline (loading takes seconds to minutes, so it happens once and is
reused by every request for the same model) with Consistent Self-Attention installed, and the
identity banks of the session (:mod:`inference.bank_cache`).

``generate`` runs the StoryDiffusion order: for each character whose bank is missing (or whose
identity panels are all requested, so a full rerun reproduces the first run), its identity panels
as one batch in write mode; then every other requested panel in read mode, in batches. Every image
goes to ``on_image`` the moment it is decoded, so a cancel, an error or a crash later on loses
nothing already made. Each panel's starting noise comes from its own seed, so an image does not
depend on which other panels shared its batch.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from inference.bank_cache import BankCache, bank_key
from inference.consistent_attention import install_consistent_attention
from inference.csa_schedule import CSAConfig
from inference.errors import Cancelled, GenerationError, OutOfMemory
from inference.identity_bank import BankMismatchError, IdentityBank
from inference.ip_adapter import (
    DEFAULT_SCALE,
    load_ip_adapter,
    no_reference_embeds,
    reference_embeds,
)
from inference.models import ModelKind, ResolvedModel, load_pipeline, native_size, resolve
from inference.models import round_size as _round_size
from inference.preview import latents_to_rgb
from inference.prompts import encode_prompts
from inference.schedulers import FREEU_PAPER, make_scheduler
from inference.story_attention import PanelSpec, StoryAttention
from storyboard.core.jobs import CharacterJob, PanelJob, PanelRequest, StoryRequest

logger = logging.getLogger(__name__)

Cancel = Callable[[], bool] | threading.Event


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


class _Stop(Exception):
    """Raised inside the step callback to abandon the pipeline call at once (no decode)."""


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
        self.device = torch.device(device or _best_device())
        self.dtype = dtype or _default_dtype(self.device)
        self.low_vram = low_vram
        self.model_config = model_config
        self.ip_adapter = ip_adapter
        self.ip_adapter_scale = ip_adapter_scale
        self.preview_every = max(1, preview_every)
        self.model: ResolvedModel | None = None
        self.pipe: Any = None
        self._story: StoryAttention | None = None
        self._scheduler_config: Any = None
        self._banks = BankCache()
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
        except (torch.OutOfMemoryError, MemoryError) as exc:
            self.unload()
            raise self._oom("loading the model") from exc
        pipe.set_progress_bar_config(disable=True)
        self._scheduler_config = pipe.scheduler.config
        self._story = install_consistent_attention(pipe.unet, CSAConfig())
        self.pipe, self.model, self._source = pipe, resolved, source
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
        self.pipe = self.model = self._story = None
        self._banks.clear()
        _empty_cache(self.device)

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
        run = _Run(
            self,
            request.as_story() if isinstance(request, PanelRequest) else request,
            progress or (lambda _p: None),
            _cancel_check(cancelled),
            on_image or (lambda _i: None),
        )
        run.report(Progress("loading"))
        self.load(run.request.model)
        try:
            run.execute()
        except _Stop:
            raise Cancelled(len(run.results)) from None
        except (torch.OutOfMemoryError, MemoryError) as exc:
            raise self._oom("generating") from exc
        except RuntimeError as exc:
            if "out of memory" in str(exc).lower():
                raise self._oom("generating") from exc
            raise
        except BankMismatchError as exc:
            raise GenerationError(str(exc)) from exc
        finally:
            if self._story is not None:
                self._story.end()
        return run.results

    def _oom(self, doing: str) -> OutOfMemory:
        if self._story is not None:
            self._story.end()
        _empty_cache(self.device)
        tips = ["lower the image size or the batch size"]
        if not self.low_vram:
            tips.append("turn on low-VRAM mode (model CPU offload, VAE tiling, bank offload)")
        tips.append("use fewer identity panels per character")
        return OutOfMemory(f"{self.device} while {doing}", "Try to " + "; or ".join(tips) + ".")

    def image_size(self, width: int, height: int, fit: bool) -> tuple[int, int]:
        """The size actually generated for a requested one on the loaded model."""
        assert self.model is not None and self.pipe is not None
        if fit:
            return native_size(self.model.kind, width, height)
        levels = len(self.pipe.unet.config.block_out_channels) - 1
        return _round_size(width, height, self.pipe.vae_scale_factor * 2**levels)


class _Run:
    """One request being generated (state of a single ``generate`` call)."""

    def __init__(
        self,
        engine: StoryEngine,
        request: StoryRequest,
        report: Callable[[Progress], None],
        stop: Callable[[], bool],
        deliver: Callable[[GeneratedImage], None],
    ) -> None:
        self.engine = engine
        self.request = request
        self.report = report
        self.stop = stop
        self.deliver = deliver
        self.results: list[GeneratedImage] = []
        self.images_total = 0

    # ------------------------------------------------------------------------- plan
    def execute(self) -> None:
        engine, req = self.engine, self.request
        assert engine.pipe is not None and engine._story is not None and engine.model is not None
        s = req.sampling
        self.size = engine.image_size(s.width, s.height, s.fit_to_model)
        vsf = engine.pipe.vae_scale_factor
        self.latent = (self.size[1] // vsf, self.size[0] // vsf)
        self.cfg = s.guidance > 1.0
        engine.pipe.scheduler = make_scheduler(s.scheduler, engine._scheduler_config)
        if s.freeu:
            engine.pipe.enable_freeu(**FREEU_PAPER)
        else:
            engine.pipe.disable_freeu()

        wanted = {p.panel_id for p in req.panels}
        banks: dict[str, IdentityBank] = {}
        writes: list[tuple[CharacterJob, CSAConfig]] = []
        for character in req.characters:
            config = _csa_config(character)
            ids = {p.panel_id for p in character.identity_panels}
            key = self._key(character, config)
            cached = None
            if not ids <= wanted:
                cached = engine._banks.get(
                    character.character_id,
                    key,
                    req.cache_dir,
                    offload=engine.low_vram,
                    device=str(engine.execution_device),
                )
            if cached is None:
                writes.append((character, config))
            else:
                banks[character.character_id] = cached
        made = {p.panel_id for c, _ in writes for p in c.identity_panels}
        rest = [p for p in req.panels if p.panel_id not in made]
        configs = {c.character_id: _csa_config(c) for c in req.characters}
        batches = _read_batches(rest, configs, req.batch_size)  # refuses bad panels up front
        self.images_total = len(made) + len(rest)

        for character, config in writes:
            banks[character.character_id] = self._write(character, config)
        for batch, config in batches:
            self._read(batch, config, banks)

    def _key(self, character: CharacterJob, config: CSAConfig) -> Any:
        engine = self.engine
        assert engine.model is not None
        return bank_key(
            character,
            model=engine.model.fingerprint,
            sampling=self.request.sampling,
            size=self.size,
            csa=config.fingerprint(),
            cfg=self.cfg,
        )

    # ------------------------------------------------------------------------- phases
    def _write(self, character: CharacterJob, config: CSAConfig) -> IdentityBank:
        story = self.engine._story
        assert story is not None
        story.config = config
        bank = story.new_bank(
            character.character_id,
            num_images=len(character.identity_panels),
            num_steps=self.request.sampling.steps,
            latent_size=self.latent,
            cfg=self.cfg,
            key=self._key(character, config),
            offload=self.engine.low_vram,
        )
        story.begin_write(bank, seed=character.seed)
        try:
            self._denoise(
                character.identity_panels,
                "identity",
                character.character_id,
                character.reference_image,
            )
        finally:
            story.end()
        self.engine._banks.put(character.character_id, bank, self.request.cache_dir)
        return bank

    def _read(
        self, batch: list[PanelJob], config: CSAConfig, banks: dict[str, IdentityBank]
    ) -> None:
        if self.engine.ip_adapter:  # diffusers takes one reference image per pipeline call
            groups: dict[str | None, list[PanelJob]] = {}
            for panel in batch:
                groups.setdefault(_reference(panel), []).append(panel)
            if len(groups) > 1:
                for group in groups.values():
                    self._read(group, config, banks)
                return
        story = self.engine._story
        assert story is not None
        if any(p.characters for p in batch):
            story.config = config
            specs = [PanelSpec(p.characters, dict(p.regions)) for p in batch]
            story.begin_read(
                specs,
                banks,
                num_steps=self.request.sampling.steps,
                latent_size=self.latent,
                cfg=self.cfg,
            )
        try:
            self._denoise(batch, "panels", None, _reference(batch[0]))
        finally:
            story.end()

    def _references(self, reference: str | None, device: torch.device) -> dict[str, Any]:
        """IP-Adapter inputs of a batch (nothing when no adapter is loaded).

        Without a reference the adapter's scale is 0, so those panels are exactly what the plain
        model draws.
        """
        engine = self.engine
        if not engine.ip_adapter:
            return {}
        pipe = engine.pipe
        if reference is None:
            pipe.set_ip_adapter_scale(0.0)
            return {"ip_adapter_image_embeds": no_reference_embeds(pipe, device, self.cfg)}
        pipe.set_ip_adapter_scale(engine.ip_adapter_scale)
        return {"ip_adapter_image_embeds": reference_embeds(pipe, reference, device, self.cfg)}

    # ------------------------------------------------------------------------- one batch
    def _denoise(
        self,
        jobs: Sequence[PanelJob],
        phase: str,
        identity_of: str | None,
        reference: str | None,
    ) -> None:
        if self.stop():
            raise _Stop
        engine, s = self.engine, self.request.sampling
        pipe, device = engine.pipe, engine.execution_device
        labels = tuple(j.label for j in jobs)
        cond = encode_prompts(
            pipe, [j.prompt for j in jobs], [j.negative_prompt for j in jobs], device
        )
        generators = [torch.Generator(device="cpu").manual_seed(j.seed) for j in jobs]
        channels = pipe.unet.config.in_channels
        latents = torch.stack(
            [torch.randn((channels, *self.latent), generator=g) for g in generators]
        ).to(device, pipe.unet.dtype)
        sdxl = engine.model is not None and engine.model.kind is ModelKind.SDXL
        done = len(self.results)

        def on_step(_pipe: Any, i: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            if self.stop():
                raise _Stop
            step = i + 1
            previews: tuple[Image.Image, ...] = ()
            if step % engine.preview_every == 0 and step < s.steps and "latents" in kwargs:
                previews = tuple(latents_to_rgb(kwargs["latents"], sdxl=sdxl))
            self.report(Progress(phase, labels, step, s.steps, done, self.images_total, previews))
            return kwargs

        self.report(Progress(phase, labels, 0, s.steps, done, self.images_total))
        width, height = self.size
        images = pipe(
            **cond.pipeline_kwargs(),
            **self._references(reference, device),
            num_inference_steps=s.steps,
            guidance_scale=s.guidance,
            width=width,
            height=height,
            latents=latents,
            generator=generators,
            output_type="pil",
            callback_on_step_end=on_step,
            callback_on_step_end_tensor_inputs=["latents"],
        ).images
        for job, image in zip(jobs, images, strict=True):
            result = GeneratedImage(
                job=job,
                png=_png(image),
                width=width,
                height=height,
                model=engine.model.source if engine.model else "",
                identity_of=identity_of,
                settings={
                    "steps": s.steps,
                    "guidance": s.guidance,
                    "scheduler": s.scheduler,
                    "freeu": s.freeu,
                    "width": width,
                    "height": height,
                    "style": job.style,
                    "identity_panel": identity_of is not None,
                },
            )
            self.results.append(result)
            self.deliver(result)


# ----------------------------------------------------------------------------- helpers
def _csa_config(character: CharacterJob) -> CSAConfig:
    return CSAConfig(rate_low=character.rate_low, rate_high=character.rate_high)


def _read_batches(
    panels: list[PanelJob], configs: dict[str, CSAConfig], size: int
) -> list[tuple[list[PanelJob], CSAConfig]]:
    """Panels in story order, cut into batches whose characters share one CSA configuration."""
    batches: list[tuple[list[PanelJob], CSAConfig]] = []
    for panel in panels:
        own = {configs[c].fingerprint(): configs[c] for c in panel.characters if c in configs}
        if len(own) > 1:
            raise GenerationError(
                f"panel {panel.label} shows characters with different identity sampling rates; "
                "give them the same rates to show them together"
            )
        config = next(iter(own.values()), None)
        last = batches[-1] if batches else None
        fits = last is not None and len(last[0]) < size
        if fits and last is not None and (config is None or config == last[1]):
            last[0].append(panel)
        elif fits and last is not None and not any(p.characters for p in last[0]):
            batches[-1] = ([*last[0], panel], config or last[1])
        else:
            batches.append(([panel], config or CSAConfig()))
    return batches


def _reference(panel: PanelJob) -> str | None:
    """The reference image a read panel is conditioned on: its first character's."""
    return panel.reference_images[0] if panel.reference_images else None


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _cancel_check(cancelled: Cancel | None) -> Callable[[], bool]:
    if cancelled is None:
        return lambda: False
    if isinstance(cancelled, threading.Event):
        return cancelled.is_set
    return cancelled


def _best_device() -> str:
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _default_dtype(device: torch.device) -> torch.dtype:
    """fp16 on GPUs (half the memory, the paper's choice), fp32 on the CPU (fp16 is slow there)."""
    return torch.float16 if device.type in ("cuda", "mps") else torch.float32


def _empty_cache(device: torch.device) -> None:
    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()
