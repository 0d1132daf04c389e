"""The built-in image model becomes a video model that starts exactly as the image model:
same conditioning (its pooled-text embedding), same noise schedule, motion modules adding nothing
until they are trained."""

from __future__ import annotations

import pytest
import torch

from inference.model_loading import load_pipeline, resolve
from inference.motion.video_model import VideoModel, assemble
from training.motion.toy_parts import (
    new_image_encoder,
    new_motion_adapter,
    new_predictor,
    zero_motion_outputs,
)


@pytest.fixture(scope="module")
def pipe() -> object:
    return load_pipeline(resolve("toyworld"), torch.float32)


def video_model(pipe: object, **kwargs: bool) -> VideoModel:
    unet = pipe.unet  # type: ignore[attr-defined]
    return assemble(
        pipe,
        new_motion_adapter(unet.config),
        new_image_encoder(),
        new_predictor(int(unet.config.cross_attention_dim)),
        **kwargs,
    )


def per_frame_and_clip(model: VideoModel, pipe: object, t: int) -> tuple[torch.Tensor, ...]:
    torch.manual_seed(3)
    frames = 4
    latents = torch.randn(1, 4, frames, 32, 32)
    text = model.encode_prompts(["a woman with red hair walking in the park"])
    with torch.no_grad():  # no motion tokens: the UNet alone
        per_frame = text.repeat_interleave(frames, dim=0)
        clip = model.unet(latents, t, encoder_hidden_states=per_frame).sample[0].transpose(0, 1)
        images = latents[0].transpose(0, 1)  # (L, C, h, w)
        alone = pipe.unet(  # type: ignore[attr-defined]
            images, t, encoder_hidden_states=text.expand(frames, -1, -1)
        ).sample
    return clip, alone


@pytest.mark.parametrize("t", [200, 500])
def test_the_new_video_model_predicts_each_frame_as_the_image_model_does(
    pipe: object, t: int
) -> None:
    model = video_model(pipe, base_schedule=True)
    clip, alone = per_frame_and_clip(model, pipe, t)
    torch.testing.assert_close(clip, alone, atol=2e-5, rtol=1e-4)


def test_without_the_pooled_text_the_video_model_would_differ(pipe: object) -> None:
    model = video_model(pipe, base_schedule=True)
    del model.unet.add_embedding  # what diffusers' from_unet2d alone leaves
    model.unet._forward_pre_hooks.clear()
    model.unet.time_embedding._forward_hooks.clear()
    clip, alone = per_frame_and_clip(model, pipe, 500)
    assert (clip - alone).abs().max() > 1e-2


def test_the_motion_modules_start_at_zero_and_would_change_frames_otherwise(
    pipe: object,
) -> None:
    unet = pipe.unet  # type: ignore[attr-defined]
    adapter = new_motion_adapter(unet.config)
    assert zero_motion_outputs(adapter) == 10  # 3 down, 4 mid-and-up levels' worth, 1 mid
    with torch.no_grad():
        for name, p in adapter.named_parameters():
            if name.endswith("proj_out.weight"):
                p.normal_(std=0.02)
    model = assemble(pipe, adapter, new_image_encoder(), new_predictor(256), base_schedule=True)
    clip, alone = per_frame_and_clip(model, pipe, 500)
    assert (clip - alone).abs().max() > 1e-3


def test_the_schedule_is_the_base_models_unless_the_adapter_is_animatediffs(pipe: object) -> None:
    base = pipe.scheduler.config  # type: ignore[attr-defined]
    own = video_model(pipe, base_schedule=True)
    animatediff = video_model(pipe)
    for training in (True, False):
        assert own.scheduler(training=training).config.beta_schedule == base.beta_schedule
        assert animatediff.scheduler(training=training).config.beta_schedule == "linear"
    torch.testing.assert_close(
        own.scheduler(training=True).alphas_cumprod,
        type(own.scheduler(training=True)).from_config(base).alphas_cumprod,
    )
