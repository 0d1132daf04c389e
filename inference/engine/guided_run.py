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
from typing import Any

import torch
from PIL import Image

from inference.bank.identity_bank import IdentityBank
from inference.csa.config import CSAConfig
from inference.csa.state import PanelSpec, StoryAttention
from inference.engine.generate_call import BeginCSA, GenerateCall, reference_of
from inference.engine.guide_images import (
    base_image,
    init_image,
    line_image,
    mask_box,
    mask_image,
    paste_inside,
)
from storyboard.core.guides import Guide
from storyboard.core.jobs import PanelJob
from storyboard.core.model import GuidanceMethod


def first_step(steps: int, strength: float) -> int:
    """The step img2img and inpainting start at (diffusers' ``get_timesteps`` rule)."""
    return steps - min(int(steps * strength), steps)


def run_guided(
    call: GenerateCall, job: PanelJob, banks: dict[str, IdentityBank], config: CSAConfig
) -> None:
    """Generate one guided panel and deliver it (CSA reads its characters' banks)."""
    guide = job.guide
    assert guide is not None
    s, size = call.sampling, call.size
    skip = first_step(s.steps, guide.strength)
    noising = guide.method in (GuidanceMethod.IMG2IMG, GuidanceMethod.INPAINT)
    start = skip if noising else 0
    settings: dict[str, str | int | float | bool | None] = {
        "guidance_method": str(guide.method),
        "guidance_strength": guide.strength,
    }
    call.check_stop()
    if noising and skip >= s.steps:  # strength 0: nothing to denoise, the drawing is the result
        call.finish([job], [init_image(guide, size)], None, settings)  # nothing denoised
        return
    pipe = call.loaded.guided.pipeline(guide.method, guide.weights)
    inputs, mask = _inputs(guide, size, call, job)
    begin: BeginCSA | None = None
    if job.characters:
        boxes = dict(job.regions)
        inside = mask_box(mask) if mask is not None else None
        if inside is not None:  # identity applies inside the repainted region
            boxes.update({c: inside for c in job.characters if c not in boxes})

        def begin(story: StoryAttention) -> None:
            story.config = config
            story.begin_read(
                [PanelSpec(job.characters, boxes)],
                banks,
                num_steps=s.steps,
                latent_size=call.latent,
                cfg=call.cfg,
            )
            story.start_at(start)

    with call.attention([job], begin):
        image = _call(call, pipe, job, guide, inputs, start)
    if mask is not None:
        image = paste_inside(image, base_image(guide, size), mask)
    call.finish([job], [image], None, settings, csa=config if begin is not None else None)


def _inputs(
    guide: Guide, size: tuple[int, int], call: GenerateCall, job: PanelJob
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
        "latents": call.noise([job]),
    }, None


def _call(
    call: GenerateCall, pipe: Any, job: PanelJob, guide: Guide, inputs: dict[str, Any], skip: int
) -> Image.Image:
    from inference.engine.prompts import encode_prompts

    s = call.sampling
    call.use_loras([job])
    cond = encode_prompts(pipe, [job.prompt], [job.negative_prompt], call.loaded.execution_device)
    labels = (job.label,)

    def report(step: int) -> None:
        call.check_stop()
        call.progress("panels", labels, step)

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
        hooks.update(call.references(reference_of(job)))
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
