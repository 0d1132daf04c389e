"""Sketch-guided generation and inpainting of one panel, with Consistent Self-Attention.

The panel is drawn by one of the loaded model's guided pipelines
(:mod:`inference.engine.guided_pipelines`), whose UNet carries the CSA processors, so it reads its
characters' identity banks like any other panel.

* img2img: starts from the image with the sketch over it, ``strength`` of the way back to noise;
  strength 0 keeps it as it is. The CSA step counter starts where the pipeline starts, so each
  step reads the bank tokens of its own noise level.
* inpainting: a regular (4-channel) UNet with the masked latent blend; characters without a region
  box get the mask's bounding box, so their identity applies inside the repainted region; the result
  is composited back so pixels outside the mask stay exactly as they were.
* ControlNet (scribble/lineart) and T2I-Adapter (sketch): the drawing's lines steer the panel from
  the first step.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import torch
from PIL import Image

from inference.csa.state import PanelSpec
from inference.engine.guide_images import (
    base_image,
    init_image,
    line_image,
    mask_box,
    mask_image,
    paste_inside,
)
from inference.results import Progress, Stop
from storyboard.core.guides import Guide
from storyboard.core.jobs import PanelJob
from storyboard.core.model import GuidanceMethod

if TYPE_CHECKING:
    from inference.bank.identity_bank import IdentityBank
    from inference.engine.story_run import StoryRun


def first_step(steps: int, strength: float) -> int:
    """The step img2img and inpainting start at (diffusers' ``get_timesteps`` rule)."""
    return steps - min(int(steps * strength), steps)


def run_guided(run: StoryRun, job: PanelJob, banks: dict[str, IdentityBank], config: Any) -> None:
    """Generate one guided panel and deliver it (CSA reads its characters' banks)."""
    guide, guided = job.guide, run.engine.guided
    assert guide is not None and guided is not None
    engine, s = run.engine, run.request.sampling
    size = run.size
    skip = first_step(s.steps, guide.strength)
    noising = guide.method in (GuidanceMethod.IMG2IMG, GuidanceMethod.INPAINT)
    settings: dict[str, str | int | float | bool | None] = {
        "guidance_method": str(guide.method),
        "guidance_strength": guide.strength,
    }
    if run.stop():
        raise Stop
    if noising and skip >= s.steps:  # strength 0: nothing to denoise, the drawing is the result
        run.finish([job], [init_image(guide, size)], None, settings)
        return
    pipe = guided.pipeline(guide.method, guide.weights)
    inputs, mask = _inputs(guide, size, run, job)
    story = engine.story
    assert story is not None
    if job.characters:
        boxes = dict(job.regions)
        inside = mask_box(mask) if mask is not None else None
        if inside is not None:  # identity applies inside the repainted region
            boxes.update({c: inside for c in job.characters if c not in boxes})
        story.config = config
        story.begin_read(
            [PanelSpec(job.characters, boxes)],
            banks,
            num_steps=s.steps,
            latent_size=run.latent,
            cfg=run.cfg,
        )
        story.start_at(skip if noising else 0)
    regional = engine.regional
    try:
        if regional is not None:
            regional.begin(run.regions([job], engine.execution_device))
        image = _call(run, pipe, job, guide, inputs, skip if noising else 0)
    finally:
        story.end()
        if regional is not None:
            regional.end()
    if mask is not None:
        image = paste_inside(image, base_image(guide, size), mask)
    run.finish([job], [image], None, settings)


def _inputs(
    guide: Guide, size: tuple[int, int], run: StoryRun, job: PanelJob
) -> tuple[dict[str, Any], Image.Image | None]:
    width, height = size
    method = guide.method
    if method is GuidanceMethod.IMG2IMG:
        return {"image": init_image(guide, size), "strength": guide.strength}, None
    if method is GuidanceMethod.INPAINT:
        mask = mask_image(guide, size)
        inputs = {
            "image": init_image(guide, size),
            "mask_image": mask,
            "strength": guide.strength,
            "width": width,
            "height": height,
        }
        return inputs, mask
    scale = (
        "controlnet_conditioning_scale"
        if method is GuidanceMethod.CONTROLNET
        else ("adapter_conditioning_scale")
    )
    return {
        "image": line_image(guide, size),
        scale: guide.strength,
        "width": width,
        "height": height,
        "latents": run.noise([job]),
    }, None


def _call(
    run: StoryRun, pipe: Any, job: PanelJob, guide: Guide, inputs: dict[str, Any], skip: int
) -> Image.Image:
    from inference.engine.prompts import encode_prompts

    engine, s = run.engine, run.request.sampling
    device = engine.execution_device
    cond = encode_prompts(pipe, [job.prompt], [job.negative_prompt], device)
    done, labels = len(run.results), (job.label,)

    def report(step: int) -> None:
        if run.stop():
            raise Stop
        run.report(Progress("panels", labels, step, s.steps, done, run.images_total))

    report(skip)
    if guide.method is GuidanceMethod.T2I_ADAPTER:  # these pipelines keep the old callback API
        hooks: dict[str, Any] = {
            "callback": lambda i, _t, _latents: report(skip + i + 1),
            "callback_steps": 1,
        }
    else:

        def on_step(_pipe: Any, i: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            report(skip + i + 1)
            return kwargs

        hooks = {"callback_on_step_end": on_step}
        hooks.update(run.references(job, device))
    generator = torch.Generator(device="cpu").manual_seed(job.seed)
    with warnings.catch_warnings():  # the adapter pipelines decode with a deprecated helper
        warnings.filterwarnings("ignore", message=".*decode_latents.*", category=FutureWarning)
        result = pipe(
            **cond.pipeline_kwargs(),
            **inputs,
            **hooks,
            num_inference_steps=s.steps,
            guidance_scale=s.guidance,
            generator=generator,
            output_type="pil",
        )
    image: Image.Image = result.images[0]
    return image
