"""One ``StoryEngine.generate`` call: the plan (which banks to write, which to reuse, how to batch)
and the denoising of each batch with progress, previews, cancellation and reference images."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import torch
from PIL import Image

from inference.bank.cache import bank_key
from inference.bank.identity_bank import IdentityBank
from inference.csa.config import CSAConfig
from inference.csa.state import PanelSpec
from inference.engine.guided_run import run_guided
from inference.engine.ip_adapter import no_reference_embeds, reference_embeds
from inference.engine.previews import latents_to_rgb
from inference.engine.prompts import encode_prompts
from inference.engine.regional_prompt import RegionPlan, plan_regions
from inference.engine.schedulers import FREEU_PAPER, make_scheduler
from inference.errors import GenerationError
from inference.model_loading import ModelKind
from inference.results import GeneratedImage, Progress, Stop
from storyboard.core.jobs import CharacterJob, PanelJob, StoryRequest

if TYPE_CHECKING:
    from inference.engine.story_engine import StoryEngine


class StoryRun:
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
        assert engine.pipe is not None and engine.story is not None and engine.model is not None
        s = req.sampling
        self.size = engine.image_size(s.width, s.height, s.fit_to_model)
        vsf = engine.pipe.vae_scale_factor
        self.latent = (self.size[1] // vsf, self.size[0] // vsf)
        self.cfg = s.guidance > 1.0
        engine.pipe.scheduler = make_scheduler(s.scheduler, engine.scheduler_config)
        if s.freeu:
            engine.pipe.enable_freeu(**FREEU_PAPER)
        else:
            engine.pipe.disable_freeu()

        wanted = {p.panel_id for p in req.panels}
        banks: dict[str, IdentityBank] = {}
        writes: list[tuple[CharacterJob, CSAConfig]] = []
        for character in req.characters:
            config = _csa_config(character, engine.model.csa)
            ids = {p.panel_id for p in character.identity_panels}
            key = self._key(character, config)
            cached = None
            if not ids <= wanted:
                cached = engine.banks.get(
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
        # A guided panel is made on its own, after the banks (an identity panel also keeps the
        # text-only image its bank was written with).
        guided = [p for p in req.panels if p.guide is not None]
        rest = [p for p in req.panels if p.panel_id not in made and p.guide is None]
        configs = {c.character_id: _csa_config(c, engine.model.csa) for c in req.characters}
        batches = _read_batches(rest, configs, req.batch_size)  # refuses bad panels up front
        alone = [_read_batches([p], configs, 1)[0][1] for p in guided]
        assert engine.guided is not None
        for panel in guided:  # missing guidance weights fail before anything is denoised
            if panel.guide is not None and panel.guide.strength > 0:
                engine.guided.pipeline(panel.guide.method, panel.guide.weights)
        self.images_total = len(made) + len(rest) + len(guided)

        for character, config in writes:
            banks[character.character_id] = self._write(character, config)
        for batch, config in batches:
            self._read(batch, config, banks)
        for panel, config in zip(guided, alone, strict=True):
            run_guided(self, panel, banks, config)

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
        story = self.engine.story
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
        regions = [dict(p.regions).get(character.character_id) for p in character.identity_panels]
        story.begin_write(bank, seed=character.seed, regions=regions)
        try:
            self._denoise(
                character.identity_panels,
                "identity",
                character.character_id,
                character.reference_image,
            )
        finally:
            story.end()
        self.engine.banks.put(character.character_id, bank, self.request.cache_dir)
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
        story = self.engine.story
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

    def references(self, job: PanelJob, device: torch.device) -> dict[str, Any]:
        """IP-Adapter inputs of one panel (its first character's reference image)."""
        return self._references(_reference(job), device)

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
            raise Stop
        engine, s = self.engine, self.request.sampling
        pipe, device = engine.pipe, engine.execution_device
        labels = tuple(j.label for j in jobs)
        cond = encode_prompts(
            pipe, [j.prompt for j in jobs], [j.negative_prompt for j in jobs], device
        )
        generators = [torch.Generator(device="cpu").manual_seed(j.seed) for j in jobs]
        latents = self.noise(jobs)
        sdxl = engine.model is not None and engine.model.kind is ModelKind.SDXL
        done = len(self.results)

        def on_step(_pipe: Any, i: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            if self.stop():
                raise Stop
            step = i + 1
            previews: tuple[Image.Image, ...] = ()
            if step % engine.preview_every == 0 and step < s.steps and "latents" in kwargs:
                previews = tuple(latents_to_rgb(kwargs["latents"], sdxl=sdxl))
            self.report(Progress(phase, labels, step, s.steps, done, self.images_total, previews))
            return kwargs

        self.report(Progress(phase, labels, 0, s.steps, done, self.images_total))
        width, height = self.size
        regional = engine.regional
        if regional is not None:
            regional.begin(self.regions(jobs, device))
        try:
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
        finally:
            if regional is not None:
                regional.end()
        self.finish(jobs, images, identity_of)

    def regions(self, jobs: Sequence[PanelJob], device: torch.device) -> RegionPlan | None:
        """Each boxed character's own prompt, drawn inside its box (``regional_prompt``)."""
        boxed = [
            [(dict(job.regions)[cid], text) for cid, text in job.region_prompts] for job in jobs
        ]
        return plan_regions(self.engine.pipe, boxed, self.latent, self.cfg, device)

    def noise(self, jobs: Sequence[PanelJob]) -> torch.Tensor:
        """The starting latents of ``jobs``, each from its own seed (independent of the batch)."""
        pipe = self.engine.pipe
        channels = pipe.unet.config.in_channels
        generators = [torch.Generator(device="cpu").manual_seed(j.seed) for j in jobs]
        return torch.stack(
            [torch.randn((channels, *self.latent), generator=g) for g in generators]
        ).to(self.engine.execution_device, pipe.unet.dtype)

    def finish(
        self,
        jobs: Sequence[PanelJob],
        images: Sequence[Image.Image],
        identity_of: str | None,
        extra: dict[str, str | int | float | bool | None] | None = None,
    ) -> None:
        """Record and deliver finished images with how they were made."""
        engine, s = self.engine, self.request.sampling
        width, height = self.size
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
                    **(extra or {}),
                },
            )
            self.results.append(result)
            self.deliver(result)


def _csa_config(character: CharacterJob, model: CSAConfig) -> CSAConfig:
    """The character's sampling rates, with the model preset's other CSA settings."""
    return replace(model, rate_low=character.rate_low, rate_high=character.rate_high)


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
