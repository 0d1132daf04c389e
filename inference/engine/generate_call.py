"""One ``StoryEngine.generate`` call as both of its runs see it: the scaffold around each pipeline
call of the story batches (:mod:`inference.engine.story_run`) and of the guided panels
(:mod:`inference.engine.guided_run`).

It holds what the runs share: the loaded model, the request's sampling and the image size it
gives on that model, the progress reports, the cancel check, the images delivered so far, and
around each pipeline call the Consistent Self-Attention mode and the regional prompts, begun
before and ended after however the call ends (a cancel, an error), so the next call starts with
plain attention.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from PIL import Image

from inference.csa.config import CSAConfig
from inference.csa.state import StoryAttention
from inference.engine.fast_path import PREPARING
from inference.engine.ip_adapter import no_reference_embeds, reference_embeds
from inference.engine.loaded_model import LoadedModel
from inference.engine.loras import lora_set
from inference.engine.regional_prompt import RegionPlan, plan_regions
from inference.results import GeneratedImage, Progress, Stop
from storyboard.core.jobs import PanelJob, Sampling

BeginCSA = Callable[[StoryAttention], None]
"""Puts the CSA state into write or read mode for the next pipeline call."""


class GenerateCall:
    """The state of one ``generate`` call that its story and guided runs share."""

    def __init__(
        self,
        loaded: LoadedModel,
        sampling: Sampling,
        report: Callable[[Progress], None],
        stop: Callable[[], bool],
        deliver: Callable[[GeneratedImage], None],
        preview_every: int,
    ) -> None:
        self.loaded = loaded
        self.sampling = sampling
        self.report = report
        self.stop = stop
        self.deliver = deliver
        self.preview_every = preview_every
        self.results: list[GeneratedImage] = []
        self.images_total = 0
        self.size = loaded.image_size(sampling.width, sampling.height, sampling.fit_to_model)
        vsf = loaded.pipe.vae_scale_factor
        self.latent = (self.size[1] // vsf, self.size[0] // vsf)
        self.cfg = sampling.guidance > 1.0

    # ------------------------------------------------------------------------- progress
    def check_stop(self) -> None:
        """Raise :class:`Stop` (the pipeline call ends at once) when the artist cancelled."""
        if self.stop():
            raise Stop

    def progress(
        self,
        phase: str,
        labels: tuple[str, ...],
        step: int,
        previews: tuple[Image.Image, ...] = (),
    ) -> None:
        """Report ``step`` of the batch ``labels`` being denoised."""
        s = self.sampling
        done = len(self.results)
        fast = self.loaded.fast
        note = PREPARING if fast is not None and fast.preparing(phase, step) else ""
        self.report(Progress(phase, labels, step, s.steps, done, self.images_total, previews, note))

    # ------------------------------------------------------------------------- one pipeline call
    def use_loras(self, jobs: Sequence[PanelJob]) -> None:
        """Activate the LoRAs ``jobs`` share, before their prompts are encoded (a LoRA may change
        the text encoders): :mod:`inference.engine.loras`."""
        self.loaded.loras.use(lora_set(jobs))

    @contextmanager
    def attention(self, jobs: Sequence[PanelJob], begin_csa: BeginCSA | None) -> Iterator[None]:
        """CSA and regional prompts around one pipeline call that draws ``jobs``.

        ``begin_csa`` sets the CSA state's write or read (None: plain self-attention); each
        boxed character's own prompt is drawn inside its box. Both end when the call does.
        """
        story, regional = self.loaded.story, self.loaded.regional
        try:
            if begin_csa is not None:
                begin_csa(story)
            regional.begin(self.regions(jobs))
            yield
        finally:
            story.end()
            regional.end()

    def regions(self, jobs: Sequence[PanelJob]) -> RegionPlan | None:
        """Each boxed character's own prompt, drawn inside its box (``regional_prompt``)."""
        boxed = [
            [(dict(job.regions)[cid], text) for cid, text in job.region_prompts] for job in jobs
        ]
        device = self.loaded.execution_device
        return plan_regions(self.loaded.pipe, boxed, self.latent, self.cfg, device)

    def noise(self, jobs: Sequence[PanelJob]) -> torch.Tensor:
        """The starting latents of ``jobs``, each from its own seed (independent of the batch)."""
        pipe = self.loaded.pipe
        channels = pipe.unet.config.in_channels
        generators = [torch.Generator(device="cpu").manual_seed(j.seed) for j in jobs]
        return torch.stack(
            [torch.randn((channels, *self.latent), generator=g) for g in generators]
        ).to(self.loaded.execution_device, pipe.unet.dtype)

    def references(self, reference: str | None) -> dict[str, Any]:
        """IP-Adapter inputs of a batch (nothing when no adapter is loaded).

        Without a reference the adapter's scale is 0, so those panels are exactly what the plain
        model draws.
        """
        loaded = self.loaded
        if loaded.ip_adapter_scale is None:
            return {}
        pipe, device = loaded.pipe, loaded.execution_device
        if reference is None:
            pipe.set_ip_adapter_scale(0.0)
            return {"ip_adapter_image_embeds": no_reference_embeds(pipe, device, self.cfg)}
        pipe.set_ip_adapter_scale(loaded.ip_adapter_scale)
        return {"ip_adapter_image_embeds": reference_embeds(pipe, reference, device, self.cfg)}

    # ------------------------------------------------------------------------- results
    def finish(
        self,
        jobs: Sequence[PanelJob],
        images: Sequence[Image.Image],
        identity_of: str | None,
        extra: dict[str, str | int | float | bool | None] | None = None,
        csa: CSAConfig | None = None,
    ) -> None:
        """Record and deliver finished images with how they were made (``csa``: the
        Consistent Self-Attention settings of the call, recorded for the images that show a
        consistent character, the only ones it changes)."""
        s = self.sampling
        width, height = self.size
        for job, image in zip(jobs, images, strict=True):
            shared = csa.as_settings() if csa is not None and job.characters else {}
            loras = {"loras": ", ".join(f.shown() for f in job.loras)} if job.loras else {}
            result = GeneratedImage(
                job=job,
                png=_png(image),
                width=width,
                height=height,
                model=self.loaded.model.source,
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
                    **shared,
                    **loras,
                },
            )
            self.results.append(result)
            self.deliver(result)


def reference_of(panel: PanelJob) -> str | None:
    """The reference image a panel is conditioned on: its first character's."""
    return panel.reference_images[0] if panel.reference_images else None


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
