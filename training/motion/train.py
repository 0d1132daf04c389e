"""Training the Semantic Motion Predictor: ``python -m training.motion.train --data … --out …``.

The paper trains end to end with the video diffusion loss (the MSE between the UNet's noise
prediction and the noise, over all L frames); no loss on CLIP embeddings. Here the predictor is
always trained; the AnimateDiff motion module and the spatial cross-attention K/V (which see the
motion tokens, per the paper's equation) are frozen unless a flag trains them. Tokens and captions
are dropped at random so classifier-free guidance works at sampling time. Each step draws its
batch, noise and timesteps from a generator seeded with (seed, step), so a resumed run continues
exactly where it stopped. The paper: lr 1e-4, 100k iterations on WebVid-10M, 8 A100s.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

import torch
from torch.nn import functional

from inference.motion.clip_embed import load_image_encoder
from inference.motion.predictor import (
    DEFAULT_IMAGE_ENCODER,
    PredictorConfig,
    SemanticMotionPredictor,
    load_predictor,
)
from inference.motion.video_model import (
    DEFAULT_ADAPTER,
    DEFAULT_BASE,
    VideoModel,
    assemble,
    load_adapter,
)
from training.motion.checkpoint import (
    checkpoint_dir,
    latest_checkpoint,
    load_training_state,
    load_unet_trained,
    save_checkpoint,
)
from training.motion.data import Batch, ClipDataset, find_clips
from training.motion.toy_data import ToyWorldClips
from training.motion.toy_parts import new_motion_adapter

logger = logging.getLogger(__name__)


class Trainer:
    """The trainable parameters, their optimizer and the loss of one batch."""

    def __init__(
        self,
        model: VideoModel,
        *,
        lr: float = 1e-4,
        train_motion_module: bool = False,
        train_cross_attention: bool = False,
        drop_tokens: float = 0.1,
        drop_text: float = 0.1,
        mixed_precision: str = "no",
        max_grad_norm: float = 1.0,
        train_predictor: bool = True,
    ) -> None:
        self.model = model
        self.drop_tokens, self.drop_text = drop_tokens, drop_text
        self.max_grad_norm = max_grad_norm
        self.unet_names = [
            n
            for n, _ in model.unet.named_parameters()
            if (train_motion_module and "motion_modules." in n)
            or (train_cross_attention and _is_cross_kv(n))
        ]
        unet_params = dict(model.unet.named_parameters())
        for name in self.unet_names:
            unet_params[name].requires_grad_(True)
        model.predictor.train().requires_grad_(train_predictor)
        predictor = list(model.predictor.parameters()) if train_predictor else []
        self.params = [*predictor, *(unet_params[n] for n in self.unet_names)]
        self.optimizer = torch.optim.AdamW(self.params, lr=lr, weight_decay=1e-2)
        self.noise_scheduler = model.scheduler(training=True)
        self.autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(mixed_precision)
        self.step = 0
        self._tokens: torch.Tensor | None = None  # the last loss's tokens, for the backward

    def unet_trained(self) -> dict[str, torch.Tensor]:
        params = dict(self.model.unet.named_parameters())
        return {n: params[n] for n in self.unet_names}

    def loss(self, batch: Batch, generator: torch.Generator) -> torch.Tensor:
        """The video diffusion loss of ``batch`` with noise, timesteps and drops from
        ``generator`` (a fixed generator gives a fixed loss for fixed weights)."""
        model, device = self.model, self.model.device
        pixels = batch.pixels.to(device, model.dtype)
        b, frames = pixels.shape[:2]
        with torch.no_grad():
            latents = model.encode_images(pixels.flatten(0, 1))
            latents = latents.unflatten(0, (b, frames)).transpose(1, 2)  # (B, C, L, h, w)
            keep_text = torch.rand(b, generator=generator) >= self.drop_text
            prompts = [p if k else "" for p, k in zip(batch.prompts, keep_text, strict=True)]
            text = model.encode_prompts(prompts)
        keep = (torch.rand(b, generator=generator) >= self.drop_tokens).to(device, model.dtype)
        noise = torch.randn(latents.shape, generator=generator).to(device, latents.dtype)
        steps = self.noise_scheduler.config.num_train_timesteps
        t = torch.randint(0, steps, (b,), generator=generator).to(device)
        noisy = self.noise_scheduler.add_noise(latents, noise, t)
        if self.noise_scheduler.config.prediction_type == "v_prediction":
            target = self.noise_scheduler.get_velocity(latents, noise, t)
        else:
            target = noise
        context = (
            torch.autocast(device.type, dtype=self.autocast_dtype)
            if self.autocast_dtype is not None
            else nullcontext()
        )
        with context:
            tokens = model.motion_tokens(pixels[:, 0], pixels[:, -1], frames)
            tokens = tokens * keep[:, None, None, None]
            self._tokens = tokens.to(model.dtype)
            pred = model.predict_noise(noisy, t, text, tokens)
        return functional.mse_loss(pred.float(), target.float())

    def train_step(self, batch: Batch, generator: torch.Generator) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        try:
            loss = self.loss(batch, generator)
            if not math.isfinite(loss.item()):
                raise FloatingPointError(f"the loss is {loss.item()} at step {self.step}")
            # gradient checkpointing recomputes the spatial cross-attention during the backward,
            # and predict_noise has cleared the motion tokens by then: they must be there again
            self.model.tokens.tokens = self._tokens
            loss.backward()
        finally:
            self.model.tokens.tokens = self._tokens = None
        torch.nn.utils.clip_grad_norm_(self.params, self.max_grad_norm)
        self.optimizer.step()
        self.step += 1
        return float(loss.item())


def _is_cross_kv(name: str) -> bool:
    return ".attentions." in name and (".attn2.to_k." in name or ".attn2.to_v." in name)


def step_generator(seed: int, step: int) -> torch.Generator:
    """The generator of one step: the same (seed, step) always draws the same batch and noise."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


# ---------------------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.motion.train", description=__doc__)
    p.add_argument("--data", type=Path, nargs="+", help="videos, folders, lists")
    p.add_argument(
        "--toyworld",
        action="store_true",
        help="train on toy-world clips rendered on the device (the built-in video model)",
    )
    p.add_argument("--out", type=Path, required=True, help="folder for checkpoints")
    p.add_argument("--base", default=DEFAULT_BASE, help="SD 1.5 preset, hub id, folder or file")
    p.add_argument("--base-config", help="diffusers folder for a single-file base checkpoint")
    p.add_argument(
        "--adapter",
        default=DEFAULT_ADAPTER,
        help="AnimateDiff motion adapter, or 'new': zero-output motion modules for the base UNet",
    )
    p.add_argument(
        "--base-schedule",
        action="store_true",
        help="train on the base model's noise schedule (not AnimateDiff's linear one)",
    )
    p.add_argument(
        "--no-tokens",
        action="store_true",
        help="the temporal-only baseline: motion tokens always dropped, predictor untrained",
    )
    p.add_argument("--image-encoder", default=DEFAULT_IMAGE_ENCODER, help="CLIP image encoder")
    p.add_argument("--init-predictor", type=Path, help="start from this predictor folder")
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--width", type=int, default=1024)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--tokens-per-frame", type=int, default=4)
    p.add_argument("--frames", type=int, default=16, help="L, frames per training clip")
    p.add_argument("--size", type=int, nargs=2, default=(512, 512), metavar=("W", "H"))
    p.add_argument("--max-stride", type=int, default=4, help="largest frame step when sampling")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--steps", type=int, default=100_000, help="total optimizer steps")
    p.add_argument("--seconds", type=float, help="stop (and save) after this long")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--train-motion-module", action="store_true")
    p.add_argument("--train-cross-attention", action="store_true", help="spatial attn2 K/V")
    p.add_argument("--drop-tokens", type=float, default=0.1)
    p.add_argument("--drop-text", type=float, default=0.1)
    p.add_argument("--mixed-precision", choices=("no", "bf16", "fp16"), default="no")
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument("--save-every", type=int, default=1000)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--resume", help="'auto' (latest in --out) or a checkpoint folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args(argv)
    if args.frames < 2:
        p.error("--frames must be at least 2")
    if not args.data and not args.toyworld:
        p.error("give --data, or --toyworld")
    if args.no_tokens:
        args.drop_tokens = 1.0
    return args


def build_model(args: argparse.Namespace) -> VideoModel:
    """Every part in fp32 on the CPU (trainable weights must be fp32; autocast does the rest)."""
    from inference.model_loading import load_pipeline, resolve

    pipe = load_pipeline(resolve(args.base, config=args.base_config), torch.float32)
    if args.adapter == "new":
        torch.manual_seed(args.seed)
        adapter = new_motion_adapter(pipe.unet.config, max_frames=max(32, args.frames))
    else:
        adapter = load_adapter(args.adapter, torch.float32)
    encoder = load_image_encoder(args.image_encoder, torch.float32)
    if args.init_predictor is not None:
        predictor = load_predictor(args.init_predictor)
    else:
        config = PredictorConfig(
            clip_dim=int(encoder.config.projection_dim),
            width=args.width,
            layers=args.layers,
            heads=args.heads,
            max_frames=args.frames,
            tokens_per_frame=args.tokens_per_frame,
            cross_attention_dim=int(pipe.unet.config.cross_attention_dim),
            image_encoder=args.image_encoder,
        )
        torch.manual_seed(args.seed)
        predictor = SemanticMotionPredictor(config)
    return assemble(pipe, adapter, encoder, predictor, base_schedule=args.base_schedule)


def _resume_from(args: argparse.Namespace) -> Path | None:
    if args.resume is None:
        return None
    if args.resume == "auto":
        return latest_checkpoint(args.out)
    return Path(args.resume)


def run(
    args: argparse.Namespace,
    *,
    build: Callable[[argparse.Namespace], VideoModel] = build_model,
    on_step: Callable[[int, float], None] | None = None,
) -> Path:
    """Train until ``args.steps``; returns the last checkpoint folder.

    ``build`` makes the model from ``args`` (a benchmark passes one that builds random weights;
    it must honour ``args.init_predictor``); ``on_step(step, loss)`` is called after each step.
    """
    resume = _resume_from(args)
    if resume is not None:  # the predictor's shapes and weights come from the checkpoint
        args.init_predictor = resume / "predictor"
    model = build(args).to(args.device)
    if args.gradient_checkpointing:
        model.unet.enable_gradient_checkpointing()
    trainer = Trainer(
        model,
        lr=args.lr,
        train_motion_module=args.train_motion_module,
        train_cross_attention=args.train_cross_attention,
        drop_tokens=args.drop_tokens,
        drop_text=args.drop_text,
        mixed_precision=args.mixed_precision,
        train_predictor=not args.no_tokens,
    )
    if resume is not None:
        trained = load_unet_trained(resume)
        model.unet.load_state_dict(trained, strict=False)
        trainer.step = int(load_training_state(resume, trainer.optimizer)["step"])
        logger.info("resumed from %s at step %d", resume, trainer.step)
    data = _data(args)
    logger.info(
        "%d clips; training %d parameters", len(data), sum(p.numel() for p in trainer.params)
    )
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    settings["data"] = [str(d) for d in args.data or []]
    last, start_step = resume, trainer.step

    def save() -> Path:
        folder = save_checkpoint(
            checkpoint_dir(args.out, trainer.step),
            step=trainer.step,
            predictor=model.predictor,
            unet_trained=trainer.unet_trained(),
            optimizer=trainer.optimizer,
            extra={"args": settings, "predictor": asdict(model.predictor.config)},
        )
        logger.info("saved %s", folder)
        return folder

    for loss in _steps(trainer, data, args):
        if on_step is not None:
            on_step(trainer.step, loss)
        if trainer.step % args.log_every == 0:
            logger.info("step %d loss %.5f", trainer.step, loss)
        if trainer.step % args.save_every == 0 or trainer.step == args.steps:
            last = save()
    if trainer.step > start_step and (last is None or last.name != _name(args, trainer)):
        last = save()  # stopped by --seconds between two saves
    if last is None:
        raise ValueError(f"nothing to do: already at step {trainer.step} of {args.steps}")
    return last


def _data(args: argparse.Namespace) -> ClipDataset | ToyWorldClips:
    if args.toyworld:
        return ToyWorldClips(args.frames, args.device)
    width, height = args.size
    return ClipDataset(find_clips(args.data), args.frames, width, height, args.max_stride)


def _name(args: argparse.Namespace, trainer: Trainer) -> str:
    return checkpoint_dir(args.out, trainer.step).name


def _steps(
    trainer: Trainer, data: ClipDataset | ToyWorldClips, args: argparse.Namespace
) -> Iterator[float]:
    """Steps until ``args.steps``, or until ``args.seconds`` have passed (a lent GPU's call)."""
    until = time.monotonic() + args.seconds if args.seconds else math.inf
    while trainer.step < args.steps and time.monotonic() < until:
        generator = step_generator(args.seed, trainer.step)
        yield trainer.train_step(data.sample(args.batch_size, generator), generator)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from inference.errors import GenerationError

    args = parse_args(argv)
    try:
        run(args)
    except (GenerationError, ValueError, FileNotFoundError) as exc:
        logger.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
