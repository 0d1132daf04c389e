"""The story run of one ``StoryEngine.generate`` call: the plan (which banks to write, which to
reuse, how to batch the other panels) and the denoising of each batch with previews and reference
images, through the call's scaffold (:mod:`inference.engine.generate_call`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch
from PIL import Image

from inference.bank.cache import BankCache, bank_key
from inference.bank.identity_bank import IdentityBank
from inference.csa.config import CSAConfig
from inference.csa.state import PanelSpec, StoryAttention
from inference.engine.generate_call import BeginCSA, GenerateCall, reference_of
from inference.engine.guided_run import run_guided
from inference.engine.loaded_model import LoadedModel
from inference.engine.loras import lora_set
from inference.engine.previews import latents_to_rgb
from inference.engine.prompts import encode_prompts
from inference.engine.schedulers import FREEU_PAPER, make_scheduler
from inference.errors import GenerationError
from inference.model_loading import ModelKind
from storyboard.core.jobs import CharacterJob, PanelJob, StoryRequest


class StoryRun:
    """The identity phase and the read batches of one request."""

    def __init__(
        self, loaded: LoadedModel, banks: BankCache, request: StoryRequest, call: GenerateCall
    ) -> None:
        self.loaded = loaded
        self.banks = banks
        self.request = request
        self.call = call

    # ------------------------------------------------------------------------- plan
    def execute(self) -> None:
        loaded, req, call = self.loaded, self.request, self.call
        s = req.sampling
        loaded.pipe.scheduler = make_scheduler(s.scheduler, loaded.scheduler_config)
        if s.freeu:
            loaded.pipe.enable_freeu(**FREEU_PAPER)
        else:
            loaded.pipe.disable_freeu()

        wanted = {p.panel_id for p in req.panels}
        banks: dict[str, IdentityBank] = {}
        writes: list[tuple[CharacterJob, CSAConfig]] = []
        for character in req.characters:
            config = csa_config(character, loaded.model.csa)
            ids = {p.panel_id for p in character.identity_panels}
            key = self._key(character, config)
            cached = None
            if not ids <= wanted:
                cached = self.banks.get(
                    character.character_id,
                    key,
                    req.cache_dir,
                    offload=loaded.low_vram,
                    device=str(loaded.execution_device),
                )
            if cached is None:
                writes.append((character, config))
            else:
                banks[character.character_id] = cached
        for character, _ in writes:  # one pipeline call: one LoRA set, checked before denoising
            lora_set(character.identity_panels)
        made = {p.panel_id for c, _ in writes for p in c.identity_panels}
        # A guided panel is made on its own, after the banks (an identity panel also keeps the
        # text-only image its bank was written with).
        guided = [p for p in req.panels if p.guide is not None]
        rest = [p for p in req.panels if p.panel_id not in made and p.guide is None]
        configs = {c.character_id: csa_config(c, loaded.model.csa) for c in req.characters}
        batches = _read_batches(rest, configs, req.batch_size)  # refuses bad panels up front
        alone = [_read_batches([p], configs, 1)[0][1] for p in guided]
        for panel in guided:  # missing guidance weights fail before anything is denoised
            if panel.guide is not None and panel.guide.strength > 0:
                loaded.guided.pipeline(panel.guide.method, panel.guide.weights)
        call.images_total = len(made) + len(rest) + len(guided)

        for character, config in writes:
            banks[character.character_id] = self._write(character, config)
        for batch, config in batches:
            self._read(batch, config, banks)
        for panel, config in zip(guided, alone, strict=True):
            run_guided(call, panel, banks, config)

    def identity_bank(self, character: CharacterJob) -> IdentityBank:
        """The character's bank under this request's settings: the session's or the cached
        file when it matches, else written now from its identity panels (through the call, so
        whoever runs this decides what becomes of those images)."""
        loaded = self.loaded
        config = csa_config(character, loaded.model.csa)
        cached = self.banks.get(
            character.character_id,
            self._key(character, config),
            self.request.cache_dir,
            offload=loaded.low_vram,
            device=str(loaded.execution_device),
        )
        return cached if cached is not None else self._write(character, config)

    def _key(self, character: CharacterJob, config: CSAConfig) -> Any:
        return bank_key(
            character,
            model=self.loaded.model.fingerprint,
            sampling=self.request.sampling,
            size=self.call.size,
            csa=config.fingerprint(),
            cfg=self.call.cfg,
        )

    # ------------------------------------------------------------------------- phases
    def _write(self, character: CharacterJob, config: CSAConfig) -> IdentityBank:
        story, call = self.loaded.story, self.call
        story.config = config
        bank = story.new_bank(
            character.character_id,
            num_images=len(character.identity_panels),
            num_steps=self.request.sampling.steps,
            latent_size=call.latent,
            cfg=call.cfg,
            key=self._key(character, config),
            offload=self.loaded.low_vram,
        )
        regions = [dict(p.regions).get(character.character_id) for p in character.identity_panels]

        def begin(story: StoryAttention) -> None:
            story.begin_write(bank, seed=character.seed, regions=regions)

        self._denoise(
            character.identity_panels,
            "identity",
            character.character_id,
            character.reference_image,
            begin,
            config,
        )
        self.banks.put(character.character_id, bank, self.request.cache_dir)
        return bank

    def _read(
        self, batch: list[PanelJob], config: CSAConfig, banks: dict[str, IdentityBank]
    ) -> None:
        if self.loaded.ip_adapter_scale is not None:  # one reference image per pipeline call
            groups: dict[str | None, list[PanelJob]] = {}
            for panel in batch:
                groups.setdefault(reference_of(panel), []).append(panel)
            if len(groups) > 1:
                for group in groups.values():
                    self._read(group, config, banks)
                return
        begin: BeginCSA | None = None
        if any(p.characters for p in batch):
            specs = [PanelSpec(p.characters, dict(p.regions)) for p in batch]

            def begin(story: StoryAttention) -> None:
                story.config = config
                story.begin_read(
                    specs,
                    banks,
                    num_steps=self.request.sampling.steps,
                    latent_size=self.call.latent,
                    cfg=self.call.cfg,
                )

        csa = config if begin is not None else None
        self._denoise(batch, "panels", None, reference_of(batch[0]), begin, csa)

    # ------------------------------------------------------------------------- one batch
    def _denoise(
        self,
        jobs: Sequence[PanelJob],
        phase: str,
        identity_of: str | None,
        reference: str | None,
        begin_csa: BeginCSA | None,
        csa: CSAConfig | None,
    ) -> None:
        call, loaded, s = self.call, self.loaded, self.request.sampling
        call.check_stop()
        pipe, device = loaded.pipe, loaded.execution_device
        labels = tuple(j.label for j in jobs)
        call.use_loras(jobs)
        cond = encode_prompts(
            pipe, [j.prompt for j in jobs], [j.negative_prompt for j in jobs], device
        )
        generators = [torch.Generator(device="cpu").manual_seed(j.seed) for j in jobs]
        latents = call.noise(jobs)
        sdxl = loaded.model.kind is ModelKind.SDXL

        def on_step(_pipe: Any, i: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            call.check_stop()
            step = i + 1
            previews: tuple[Image.Image, ...] = ()
            if step % call.preview_every == 0 and step < s.steps and "latents" in kwargs:
                previews = tuple(latents_to_rgb(kwargs["latents"], sdxl=sdxl))
            call.progress(phase, labels, step, previews)
            return kwargs

        call.progress(phase, labels, 0)
        width, height = call.size
        with call.attention(jobs, begin_csa):
            images = pipe(
                **cond.pipeline_kwargs(),
                **call.references(reference),
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
        call.finish(jobs, images, identity_of, csa=csa)


def csa_config(character: CharacterJob, model: CSAConfig) -> CSAConfig:
    """The character's sampling rates, with the model preset's other CSA settings."""
    return replace(model, rate_low=character.rate_low, rate_high=character.rate_high)


def _read_batches(
    panels: list[PanelJob], configs: dict[str, CSAConfig], size: int
) -> list[tuple[list[PanelJob], CSAConfig]]:
    """Panels in story order, cut into batches whose characters share one CSA configuration
    and whose panels share one LoRA set (a LoRA applies to the whole pipeline call)."""
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
        fits = last is not None and len(last[0]) < size and last[0][0].loras == panel.loras
        if fits and last is not None and (config is None or config == last[1]):
            last[0].append(panel)
        elif fits and last is not None and not any(p.characters for p in last[0]):
            batches[-1] = ([*last[0], panel], config or last[1])
        else:
            batches.append(([panel], config or CSAConfig()))
    return batches
