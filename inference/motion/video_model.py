"""The video model of the paper: SD 1.5 + an AnimateDiff motion module + the motion predictor.

:class:`VideoModel` holds the parts the transition sampler and the training script both use, and
the small operations on them (text, VAE, CLIP, predictor tokens). Loading goes through the usual
sources: the base model through :mod:`inference.model_loading` (preset, hub id, diffusers folder or
one ``.safetensors`` checkpoint), the motion adapter and the CLIP image encoder from a hub id or
folder, the predictor from its folder. Whatever is missing is :class:`ModelUnavailable` with the
fix, raised before anything large is loaded where possible.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from inference.errors import ModelUnavailable
from inference.model_loading import ModelKind, download_command, load_pipeline, resolve
from inference.motion.attention import MotionTokens, install_motion_tokens
from inference.motion.clip_embed import image_embeds, load_image_encoder
from inference.motion.pooled_text import carry_pooled_text
from inference.motion.predictor import SemanticMotionPredictor, load_predictor
from inference.motion.sources import resolve_folder
from inference.motion.video_folder import is_video_folder, read_video_folder

logger = logging.getLogger(__name__)

DEFAULT_BASE = "sd15"
DEFAULT_ADAPTER = "guoyww/animatediff-motion-adapter-v1-5-2"
"""AnimateDiff v2's motion module: the paper initialises its temporal layers from it."""

# AnimateDiff was trained with linear betas; diffusers' AnimateDiff docs set these on DDIM. A motion
# module trained on its base model's own schedule (the built-in one) keeps that schedule instead.
ANIMATEDIFF_SCHEDULE = {
    "beta_schedule": "linear",
    "clip_sample": False,
    "timestep_spacing": "linspace",
    "steps_offset": 1,
}


@dataclass(frozen=True, slots=True)
class VideoModelSources:
    """Where each part comes from (what the settings hold)."""

    predictor: str | None
    base: str = DEFAULT_BASE
    adapter: str = DEFAULT_ADAPTER
    image_encoder: str | None = None  # None: the one the predictor was trained with
    base_config: str | None = None  # diffusers folder for a single-file base checkpoint
    unet_weights: str | None = None  # a checkpoint's unet_trained.safetensors (flag-trained parts)
    base_schedule: bool = False  # the motion module was trained on the base model's own schedule
    motion_tokens: bool = True  # False: a temporal-only model (trained without the predictor)


@dataclass
class VideoModel:
    """A loaded video model; ``tokens`` feeds the motion-token processors of ``unet``."""

    vae: Any
    unet: Any  # UNetMotionModel
    text_encoder: Any
    tokenizer: Any
    image_encoder: Any
    predictor: SemanticMotionPredictor
    tokens: MotionTokens
    scheduler_config: Any
    schedule: dict[str, Any]  # what the sampler and the trainer change in the base's schedule
    use_tokens: bool = True  # False: the predictor's tokens are zeros (a temporal-only model)

    @property
    def device(self) -> torch.device:
        return torch.device(self.unet.device)

    @property
    def dtype(self) -> torch.dtype:
        dtype: torch.dtype = self.unet.dtype
        return dtype

    @property
    def vae_scale_factor(self) -> int:
        return int(2 ** (len(self.vae.config.block_out_channels) - 1))

    @property
    def size_multiple(self) -> int:
        """Image sides must be multiples of this (VAE scale times the UNet's downsamplings)."""
        return self.vae_scale_factor * 2 ** (len(self.unet.config.block_out_channels) - 1)

    def to(self, device: torch.device | str) -> VideoModel:
        for part in (self.vae, self.unet, self.text_encoder, self.image_encoder, self.predictor):
            part.to(device)
        return self

    # ----------------------------------------------------------------------- operations
    def encode_prompts(self, prompts: list[str]) -> torch.Tensor:
        """CLIP text encoder states (n, 77, dim) of ``prompts``."""
        ids = self.tokenizer(
            prompts,
            padding="max_length",
            max_length=self.tokenizer.model_max_length,
            truncation=True,
            return_tensors="pt",
        ).input_ids.to(self.text_encoder.device)
        states: torch.Tensor = self.text_encoder(ids)[0]
        return states.to(self.dtype)

    def encode_images(self, pixels: torch.Tensor) -> torch.Tensor:
        """Scaled VAE latents (N, C, h, w) of pixels (N, 3, H, W) in [-1, 1]; the mean, not a
        sample, so a panel always maps to the same latent."""
        dist = self.vae.encode(pixels.to(self.vae.device, self.vae.dtype)).latent_dist
        return dist.mean * self.vae.config.scaling_factor

    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """Pixels (N, 3, H, W) in [-1, 1] of scaled latents (N, C, h, w)."""
        scaled = latents.to(self.vae.dtype) / self.vae.config.scaling_factor
        return self.vae.decode(scaled).sample.clamp(-1, 1)

    def motion_tokens(self, start: torch.Tensor, end: torch.Tensor, frames: int) -> torch.Tensor:
        """The predictor's tokens (B, L, N, dim) for panels start, end (B, 3, H, W)."""
        if not self.use_tokens:
            config = self.predictor.config
            shape = (start.shape[0], frames, config.tokens_per_frame, config.cross_attention_dim)
            return torch.zeros(shape, device=self.device, dtype=self.dtype)
        with torch.no_grad():
            embeds = image_embeds(self.image_encoder, torch.cat([start, end]))
        first, last = embeds.to(self.dtype).chunk(2)
        return self.predictor(first, last, frames)

    def predict_noise(
        self, latents: torch.Tensor, t: torch.Tensor | int, text: torch.Tensor, tokens: torch.Tensor
    ) -> torch.Tensor:
        """One UNet call: latents (B, C, L, h, w), text (B, 77, dim), tokens (B, L, N, dim)."""
        frames = latents.shape[2]
        self.tokens.tokens = tokens.to(self.dtype)
        try:
            out: torch.Tensor = self.unet(
                latents, t, encoder_hidden_states=text.repeat_interleave(frames, dim=0)
            ).sample
        finally:
            self.tokens.tokens = None
        return out

    def scheduler(self, *, training: bool = False) -> Any:
        """DDIM for sampling (the paper's sampler) or DDPM for training, on the schedule the
        motion module was trained with."""
        from diffusers import DDIMScheduler, DDPMScheduler

        cls = DDPMScheduler if training else DDIMScheduler
        return cls.from_config(self.scheduler_config, **self.schedule)


def assemble(
    pipe: Any,
    adapter: Any,
    image_encoder: Any,
    predictor: SemanticMotionPredictor,
    *,
    base_schedule: bool = False,
) -> VideoModel:
    """A video model from an SD 1.5 pipeline's parts, a motion adapter, an encoder, a predictor.

    The UNet keeps the base model's conditioning (its pooled-text embedding, where it has one:
    :mod:`inference.motion.pooled_text`), so with a zeroed motion module the video model draws
    each frame as the image model would. ``base_schedule``: the adapter was trained on the base
    model's noise schedule (else AnimateDiff's linear one is used, as its adapters were trained).
    """
    from diffusers import UNetMotionModel

    unet = UNetMotionModel.from_unet2d(pipe.unet, adapter)
    carry_pooled_text(unet, pipe.unet)
    width = int(unet.config.cross_attention_dim)
    if predictor.config.cross_attention_dim != width:
        raise ModelUnavailable(
            "motion predictor",
            [
                f"it makes tokens {predictor.config.cross_attention_dim} wide; "
                f"the UNet's cross-attention is {width} wide"
            ],
            "Use a predictor trained for this base model family",
        )
    projection = int(image_encoder.config.projection_dim)
    if predictor.config.clip_dim != projection:
        raise ModelUnavailable(
            "motion predictor",
            [
                f"it takes {predictor.config.clip_dim}-d CLIP embeddings; the encoder gives "
                f"{projection}-d"
            ],
            f"Use the image encoder it was trained with ({predictor.config.image_encoder})",
        )
    tokens = install_motion_tokens(unet)
    for part in (pipe.vae, unet, pipe.text_encoder, image_encoder):
        part.eval().requires_grad_(False)
    return VideoModel(
        vae=pipe.vae,
        unet=unet.to(pipe.unet.dtype),
        text_encoder=pipe.text_encoder,
        tokenizer=pipe.tokenizer,
        image_encoder=image_encoder,
        predictor=predictor,
        tokens=tokens,
        scheduler_config=pipe.scheduler.config,
        schedule={} if base_schedule else dict(ANIMATEDIFF_SCHEDULE),
    )


def load_adapter(source: str, dtype: torch.dtype) -> Any:
    """An AnimateDiff ``MotionAdapter`` from a hub id or diffusers folder (config.json inside)."""
    from diffusers import MotionAdapter

    folder = resolve_folder(source, marker="config.json", what="AnimateDiff motion adapter")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            return MotionAdapter.from_pretrained(
                str(folder), torch_dtype=dtype, local_files_only=True
            )
    except Exception as exc:
        logger.debug("loading the motion adapter %s failed", folder, exc_info=True)
        raise ModelUnavailable(
            source,
            [f"{folder} could not be loaded as a motion adapter: {type(exc).__name__}"],
            f"Download the AnimateDiff v2 adapter with: {download_command(DEFAULT_ADAPTER)}",
        ) from exc


def load_video_model(sources: VideoModelSources, dtype: torch.dtype) -> VideoModel:
    """Every part on the CPU in ``dtype`` (the caller moves it); the small files are checked
    first, so a missing predictor or adapter fails before the base model is read. ``predictor``
    may be a whole video model folder (:mod:`inference.motion.video_folder`), which names the
    other parts itself."""
    if is_video_folder(sources.predictor):
        assert sources.predictor is not None
        sources = folder_sources(Path(sources.predictor), sources.unet_weights)
    if not sources.predictor:
        raise ModelUnavailable(
            "motion predictor",
            ["no trained Semantic Motion Predictor is set (none was ever published)"],
            "Train one with `python -m training.motion.train` in a clone of the editor's "
            "repository, or switch the transition engine to LTX-Video, which works with public "
            "weights",
        )
    predictor = load_predictor(Path(sources.predictor), dtype=dtype)
    encoder_source = sources.image_encoder or predictor.config.image_encoder
    resolve_folder(encoder_source, marker="config.json", what="CLIP image encoder")
    resolve_folder(sources.adapter, marker="config.json", what="AnimateDiff motion adapter")
    base = resolve(sources.base, config=sources.base_config)
    if base.kind is not ModelKind.SD15:
        raise ModelUnavailable(
            sources.base,
            [f"it is an {base.kind.upper()} model"],
            "AnimateDiff motion modules work with Stable Diffusion 1.5 family models; pick one",
        )
    pipe = load_pipeline(base, dtype)
    adapter = load_adapter(sources.adapter, dtype)
    encoder = load_image_encoder(encoder_source, dtype)
    model = assemble(pipe, adapter, encoder, predictor, base_schedule=sources.base_schedule)
    model.use_tokens = sources.motion_tokens
    if sources.unet_weights:
        apply_unet_weights(model, Path(sources.unet_weights))
    return model


def folder_sources(folder: Path, unet_weights: str | None = None) -> VideoModelSources:
    """The sources a video model folder's manifest names."""
    found = read_video_folder(folder)
    return VideoModelSources(
        predictor=str(found.predictor),
        base=found.base,
        adapter=str(found.motion_adapter),
        image_encoder=str(found.image_encoder),
        unet_weights=unet_weights,
        base_schedule=found.base_schedule,
    )


def apply_unet_weights(model: VideoModel, path: Path) -> None:
    """Put the UNet tensors a training run changed (motion module, cross-attention K/V) in place."""
    from safetensors.torch import load_file

    fix = "Pick the unet_trained.safetensors of the checkpoint the predictor came from"
    if not path.is_file():
        raise ModelUnavailable(str(path), [f"no file {path}"], fix)
    tensors = load_file(str(path))
    unknown = sorted(set(tensors) - set(model.unet.state_dict()))
    if unknown:
        raise ModelUnavailable(
            str(path), [f"{len(unknown)} tensors do not fit this UNet, e.g. {unknown[0]}"], fix
        )
    model.unet.load_state_dict(tensors, strict=False)
