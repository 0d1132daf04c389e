"""The story run of one ``StoryEngine.generate`` call: the plan (:func:`storyboard.core.story_plan.
plan_story`, the one a cluster's driver makes too), which banks to write and which to reuse (in a
``reuse_only`` request a missing bank is :class:`~inference.errors.BankMissing`, never an identity
run), and the denoising of each batch with previews and reference images, through the call's
scaffold (:mod:`inference.engine.generate_call`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from inference.bank.cache import BankCache, bank_file_name, bank_key
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
from inference.errors import BankMissing, GenerationError
from inference.model_loading import ModelKind
from storyboard.core.jobs import CharacterJob, PanelJob, StoryRequest
from storyboard.core.story_plan import PlanError, ReadBatch, plan_story


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

        try:
            plan = plan_story(req)  # refuses bad panels up front
        except PlanError as exc:
            raise GenerationError(str(exc)) from exc
        banks: dict[str, IdentityBank] = {}
        writes: list[tuple[CharacterJob, CSAConfig]] = []
        for task in plan.identity:
            character = task.character
            config = csa_config(character, loaded.model.csa)
            cached = None
            if task.reusable or req.reuse_only:
                cached = self.banks.get(
                    character.character_id,
                    self._key(character, config),
                    req.cache_dir,
                    offload=loaded.low_vram,
                    device=str(loaded.execution_device),
                )
            if cached is not None:
                banks[character.character_id] = cached
            elif req.reuse_only:
                file = bank_file_name(character.character_id, self._key(character, config))
                raise BankMissing(character.name, str(Path(req.cache_dir or ".") / file))
            else:
                writes.append((character, config))
        for character, _ in writes:  # one pipeline call: one LoRA set, checked before denoising
            lora_set(character.identity_panels)
        written = {c.character_id for c, _ in writes}
        # A guided panel is made on its own, after the banks (an identity panel also keeps the
        # text-only image its bank was written with).
        batches = plan.reads(written)
        for batch in batches:  # missing guidance weights fail before anything is denoised
            guide = batch.panels[0].guide
            if batch.guided and guide is not None and guide.strength > 0:
                loaded.guided.pipeline(guide.method, guide.weights)
        call.images_total = plan.images_total(written)

        for character, config in writes:
            banks[character.character_id] = self._write(character, config)
        for batch in batches:
            config = batch_config(batch, loaded.model.csa)
            if batch.guided:
                run_guided(call, batch.panels[0], banks, config)
            else:
                self._read(list(batch.panels), config, banks)

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


def batch_config(batch: ReadBatch, model: CSAConfig) -> CSAConfig:
    """The CSA settings a read batch runs with: its characters' rates with the model preset's
    other settings (plain defaults for a batch without characters, where CSA stays off)."""
    if batch.rates is None:
        return CSAConfig()
    low, high = batch.rates
    return replace(model, rate_low=low, rate_high=high)
