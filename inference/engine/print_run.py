"""The print-size run of one ``StoryEngine.generate`` call: each panel enlarged to the pixels its
comic frame needs, then refined so the enlargement gains detail instead of blur.

The picture is first resized (Lanczos) to the target size, then refined by img2img at a low
strength, one tile at a time (:mod:`inference.engine.tiles`): every tile is exactly the size the
project generates at, so the memory a tile needs is the memory of one panel, whatever the target
size, and the tile reads its characters' identity banks through the same Consistent
Self-Attention as the panel (a character's region box is carried into each tile it meets; a
tile it does not reach does not read its bank). A bank the session and the cache lack is written
first from the character's identity panels, as a regenerate does, and those images are dropped:
only the enlarged panels are delivered. Tiles overlap and are blended with linear ramps.

Each result is delivered as it is finished, with ``upscaled_from`` naming the image it was made
from, so it becomes a new candidate of its panel and the original stays one.
"""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from PIL import Image

from inference.bank.cache import BankCache
from inference.bank.identity_bank import IdentityBank
from inference.csa.state import PanelSpec, StoryAttention
from inference.engine.generate_call import BeginCSA, GenerateCall, reference_of
from inference.engine.guided_run import first_step
from inference.engine.loaded_model import LoadedModel
from inference.engine.prompts import encode_prompts
from inference.engine.schedulers import FREEU_PAPER, make_scheduler
from inference.engine.story_run import StoryRun, csa_config
from inference.engine.tiles import Blend, Tile, tile_grid
from inference.results import GeneratedImage, Progress
from storyboard.core.jobs import PanelJob, StoryRequest
from storyboard.core.model import GuidanceMethod
from storyboard.core.print_jobs import PRINT_DPI, UPSCALED_FROM, PrintJob, PrintSizeRequest

logger = logging.getLogger(__name__)

PHASE = "print size"


class PrintRun:
    """Enlarge and refine every job of a print-size request, in order."""

    def __init__(
        self, loaded: LoadedModel, banks: BankCache, request: PrintSizeRequest, call: GenerateCall
    ) -> None:
        self.loaded = loaded
        self.banks = banks
        self.request = request
        self.call = call
        steps = request.sampling.steps
        self.skip = first_step(steps, request.strength)
        self.refine = self.skip < steps  # strength 0: a plain (Lanczos) enlargement

    def execute(self) -> None:
        loaded, req, call = self.loaded, self.request, self.call
        call.images_total = len(req.jobs)
        pipe = None
        banks: dict[str, IdentityBank] = {}
        if self.refine:
            pipe = loaded.guided.pipeline(GuidanceMethod.IMG2IMG, None)
            pipe.scheduler = make_scheduler(req.sampling.scheduler, loaded.scheduler_config)
            if req.sampling.freeu:
                pipe.enable_freeu(**FREEU_PAPER)
            else:
                pipe.disable_freeu()
            banks = self._banks()
        for job in req.jobs:
            call.check_stop()
            self._one(job, pipe, banks)

    def _banks(self) -> dict[str, IdentityBank]:
        """The identity banks the panels read, written first where none matches."""
        req, call = self.request, self.call
        shown = {c for job in req.jobs for c in job.panel.characters}
        characters = tuple(c for c in req.characters if c.character_id in shown)
        if not characters:
            return {}

        # the identity panels drawn to write a missing bank are not what was asked for: dropped,
        # and not counted as panels done (the queue's progress is the print jobs')
        def report(progress: Progress) -> None:
            call.report(replace(progress, images_done=0, images_total=call.images_total))

        silent = GenerateCall(self.loaded, req.sampling, report, call.stop, lambda _i: None, 10**6)
        story = StoryRequest(req.model, req.sampling, (), characters, req.cache_dir)
        run = StoryRun(self.loaded, self.banks, story, silent)
        return {c.character_id: run.identity_bank(c) for c in characters}

    # ------------------------------------------------------------------------- one panel
    def _one(self, job: PrintJob, pipe: Any, banks: dict[str, IdentityBank]) -> None:
        call, req = self.call, self.request
        target = (job.width, job.height)
        tile_size = call.size
        # the picture is refined at no less than one tile per side, then brought to the target
        grow = max(1.0, tile_size[0] / job.width, tile_size[1] / job.height)
        work = (
            max(tile_size[0], round(job.width * grow)),
            max(tile_size[1], round(job.height * grow)),
        )
        with Image.open(job.source) as source:
            big = source.convert("RGB").resize(work, Image.Resampling.LANCZOS)
        tiles = tile_grid(work, tile_size, req.overlap) if self.refine else []
        picture = self._refine(job, pipe, banks, big, tiles) if tiles else big
        if picture.size != target:
            picture = picture.resize(target, Image.Resampling.LANCZOS)
        self._deliver(job, picture, len(tiles), bool(banks) and bool(job.panel.characters))

    def _refine(
        self,
        job: PrintJob,
        pipe: Any,
        banks: dict[str, IdentityBank],
        big: Image.Image,
        tiles: list[Tile],
    ) -> Image.Image:
        call, req, s = self.call, self.request, self.request.sampling
        panel = job.panel
        call.use_loras([panel])  # the panel's own LoRAs, before its prompt is encoded
        cond = encode_prompts(
            pipe, [panel.prompt], [panel.negative_prompt], self.loaded.execution_device
        )
        blend = Blend(big.size)
        tile_w, tile_h = call.size
        ramp = (round(tile_w * req.overlap), round(tile_h * req.overlap))
        per_tile = s.steps - self.skip
        total = per_tile * len(tiles)
        done = len(call.results)

        for index, tile in enumerate(tiles):
            call.check_stop()
            tile_job, begin = self._tile_csa(panel, tile, big.size, banks)
            base = index * per_tile

            def on_step(_pipe: Any, i: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
                call.check_stop()
                self._report(panel, base + i + 1, total, done)  # noqa: B023 (called in the loop)
                return kwargs

            self._report(panel, base, total, done)
            crop = big.crop((tile.x, tile.y, tile.x + tile.w, tile.y + tile.h))
            generator = torch.Generator(device="cpu").manual_seed(panel.seed + index)
            with call.attention([tile_job], begin):
                out = pipe(
                    **cond.pipeline_kwargs(),
                    **call.references(reference_of(panel)),  # IP-Adapter, when loaded
                    image=crop,
                    strength=req.strength,
                    num_inference_steps=s.steps,
                    guidance_scale=s.guidance,
                    generator=generator,
                    output_type="np",
                    callback_on_step_end=on_step,
                )
            blend.add(tile, np.asarray(out.images[0], dtype=np.float32), ramp)
        pixels = np.clip(np.rint(blend.result() * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(pixels, "RGB")

    def _tile_csa(
        self,
        panel: PanelJob,
        tile: Tile,
        size: tuple[int, int],
        banks: dict[str, IdentityBank],
    ) -> tuple[PanelJob, BeginCSA | None]:
        """The panel as one tile sees it: the boxed characters whose box meets the tile, their
        boxes (and own prompts) relative to it, and the unboxed ones everywhere."""
        boxes = dict(panel.regions)
        regions = {
            cid: inside
            for cid, box in boxes.items()
            if (inside := tile.relative(box, size)) is not None
        }
        characters = tuple(c for c in panel.characters if c not in boxes or c in regions)
        tile_job = replace(
            panel,
            characters=characters,
            regions=tuple(regions.items()),
            region_prompts=tuple((c, t) for c, t in panel.region_prompts if c in regions),
        )
        if not characters or not banks:
            return tile_job, None
        config = self._config(characters)
        call, steps, skip = self.call, self.request.sampling.steps, self.skip

        def begin(story: StoryAttention) -> None:
            story.config = config
            story.begin_read(
                [PanelSpec(characters, regions)],
                banks,
                num_steps=steps,
                latent_size=call.latent,
                cfg=call.cfg,
            )
            story.start_at(skip)

        return tile_job, begin

    def _config(self, characters: tuple[str, ...]) -> Any:
        jobs = {c.character_id: c for c in self.request.characters}
        return csa_config(jobs[characters[0]], self.loaded.model.csa)

    def _report(self, panel: PanelJob, step: int, total: int, done: int) -> None:
        self.call.report(Progress(PHASE, (panel.label,), step, total, done, self.call.images_total))

    def _deliver(self, job: PrintJob, picture: Image.Image, tiles: int, csa: bool) -> None:
        call, req, s = self.call, self.request, self.request.sampling
        settings: dict[str, str | int | float | bool | None] = {
            UPSCALED_FROM: job.source_asset,
            PRINT_DPI: job.dpi,
            "refine_strength": req.strength if self.refine else 0.0,
            "tiles": tiles,
            "tile_width": call.size[0],
            "tile_height": call.size[1],
            "steps": s.steps,
            "guidance": s.guidance,
            "scheduler": s.scheduler,
            "width": picture.width,
            "height": picture.height,
            "style": job.panel.style,
        }
        if csa:
            settings.update(self._config(job.panel.characters).as_settings())
        out = io.BytesIO()
        picture.save(out, format="PNG")
        result = GeneratedImage(
            job=job.panel,
            png=out.getvalue(),
            width=picture.width,
            height=picture.height,
            model=self.loaded.model.source,
            identity_of=None,
            settings=settings,
        )
        call.results.append(result)
        call.deliver(result)
        logger.info("print size %s: %dx%d in %d tiles", job.panel.label, *picture.size, tiles)
