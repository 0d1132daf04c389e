"""Trains the built-in toy-world model on a GPU, in resumable stages.

    python -m training.toyworld.train --out resources/models/toyworld --seconds 1200

Stages, each skipped when ``training.json`` in ``--out`` says it is done: the VAE (render ->
encode -> decode), the attribute reader (with the VAE's round trip as augmentation), then the UNet
and text encoder together, until ``--seconds`` have passed. Pictures are drawn on the GPU for every
batch (no dataset on disk, never the same batch twice). The folder is a complete diffusers pipeline
after every snapshot, holding the EMA weights, so a call cut off by a time limit still leaves a
usable model; ``--state`` (a local file with the raw weights, EMA and optimiser) makes the next
call continue exactly; without it training continues from the folder's EMA weights with a fresh
optimiser (and a short warm-up).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F  # noqa: N812 - the usual name

from training.toyworld.batches import LOOK_ALIKE, TWO_PEOPLE, batch_kind, batch_sources
from training.toyworld.model import (
    IMAGE_SIZE,
    load_pipeline,
    new_pipeline,
    save_pipeline,
)
from training.toyworld.reader import READER_FILE, accuracy, save_reader, train_reader
from training.toyworld.render import render
from training.toyworld.story_batches import install_training_csa, story_timesteps
from training.toyworld.world import sample_world

logger = logging.getLogger(__name__)


@dataclass
class Stats:
    """What has been done so far (``training.json``), carried across calls."""

    vae_steps: int = 0
    vae_loss: float = 0.0
    scaling_factor: float = 1.0
    reader_accuracy: dict[str, float] = field(default_factory=dict)
    reader_accuracy_vae: dict[str, float] = field(default_factory=dict)
    unet_steps: int = 0
    story_steps: int = 0
    position_steps: int = 0
    unet_seconds: float = 0.0
    images_seen: int = 0
    batch: int = 0
    losses: list[tuple[int, float]] = field(default_factory=list)
    device: str = ""

    @classmethod
    def load(cls, folder: Path) -> Stats:
        path = folder / "training.json"
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        data["losses"] = [tuple(x) for x in data.get("losses", [])]
        return cls(**data)

    def save(self, folder: Path) -> None:
        (folder / "training.json").write_text(json.dumps(asdict(self), indent=1), "utf-8")


# ------------------------------------------------------------------------------ VAE
def train_vae(vae: Any, *, steps: int, batch: int, device: torch.device, seed: int) -> float:
    """Fits the VAE to renders; returns the final reconstruction loss."""
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.AdamW(vae.parameters(), lr=1e-3, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, 1e-3, total_steps=steps)
    vae.train()
    loss_value = math.nan
    for step in range(steps):
        x = render(sample_world(batch, generator), device) * 2 - 1
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            posterior = vae.encode(x).latent_dist
            rec = vae.decode(posterior.sample()).sample.float()
        recon = F.mse_loss(rec, x) + 0.5 * F.l1_loss(rec, x)
        loss = recon + 1e-6 * posterior.kl().float().mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        if step % 200 == 0 or step == steps - 1:
            loss_value = float(recon.detach())
            logger.info("vae step %d/%d recon %.5f", step, steps, loss_value)
    vae.eval()
    return loss_value


@torch.no_grad()
def latent_scale(vae: Any, device: torch.device, seed: int) -> float:
    """1 / std of the latents of fresh renders (Stable Diffusion's ``scaling_factor``)."""
    generator = torch.Generator().manual_seed(seed)
    x = render(sample_world(1024, generator), device) * 2 - 1
    return float(1.0 / vae.encode(x).latent_dist.mean.float().std())


def round_trip(vae: Any) -> Any:
    """Encode and decode pictures in [0, 1] (the reader's augmentation)."""

    @torch.no_grad()
    def apply(images: torch.Tensor) -> torch.Tensor:
        latents = vae.encode(images * 2 - 1).latent_dist.mean
        return ((vae.decode(latents).sample + 1) / 2).clamp(0, 1)

    return apply


# ------------------------------------------------------------------------------ UNet
SET_NOISE_FROM = 700
"""Position sets train at noise levels from this one up (of 1,000): below it the noisy picture
already shows where the figure stands, and the shipped model's loss did not depend on the caption
(its position or shirt colour) at all; from about 800 up it does."""


def train_unet(pipe: Any, stats: Stats, args: argparse.Namespace, device: torch.device) -> None:
    unet, text = pipe.unet, pipe.text_encoder
    params = [*unet.parameters(), *text.parameters()]
    optimiser = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.99), weight_decay=0.01)
    ema = _resume(pipe, params, optimiser, stats, args.state, device)
    fresh_start = stats.unet_steps
    alphas = pipe.scheduler.alphas_cumprod.to(device)
    snr = alphas / (1 - alphas)
    weights = torch.clamp(snr, max=5.0) / snr  # min-SNR-5 for epsilon prediction
    sources = batch_sources(pipe.tokenizer, args, stats.unet_steps)
    if args.story_panels:
        story = install_training_csa(unet, args.story_rate, (IMAGE_SIZE // 2, IMAGE_SIZE // 2))
    generator = torch.Generator(device=device).manual_seed(args.seed + stats.unet_steps)
    unet.train()
    text.train()
    started = time.monotonic()
    base_seconds = stats.unet_seconds
    last_snapshot = started
    deadline = started + args.seconds - (time.monotonic() - args.t0)
    while time.monotonic() < deadline:
        step = stats.unet_steps
        kind = batch_kind(step, stats.story_steps, args)
        world, ids = sources[kind].next()
        lr = _learning_rate(args, step - fresh_start, base_seconds + time.monotonic() - started)
        for group in optimiser.param_groups:
            group["lr"] = lr
        # a story: CSA on, its own noise levels; a position set: one noise level and one noise
        panels = {"story": args.story_panels, "sets": 3}.get(kind, 1)
        spread = args.story_spread if kind == "story" else 0.0
        if kind == "story":
            story.on(len(world) // panels, panels, step)
        loss = _loss(
            pipe,
            world,
            ids,
            generator,
            weights,
            stats.scaling_factor,
            panels,
            spread,
            kind == "sets",
        )
        if kind == "story":
            story.off()
            stats.story_steps += 1
        stats.position_steps += kind == "sets"
        _optimise(loss, params, optimiser, ema, step - fresh_start)
        stats.unet_steps += 1
        stats.images_seen += len(world)
        if step % 500 == 0:
            stats.losses.append((step, float(loss.detach())))
            rate = (stats.unet_steps - fresh_start) / max(time.monotonic() - started, 1e-6)
            logger.info("unet step %d loss %.4f lr %.2e %.1f steps/s", *stats.losses[-1], lr, rate)
        if time.monotonic() - last_snapshot > args.snapshot_every:
            _snapshot(
                pipe, params, ema, optimiser, stats, args, base_seconds + time.monotonic() - started
            )
            last_snapshot = time.monotonic()
    for source in sources.values():
        source.stop()
    _snapshot(pipe, params, ema, optimiser, stats, args, base_seconds + time.monotonic() - started)
    unet.eval()
    text.eval()


def _optimise(
    loss: torch.Tensor, params: list[Any], optimiser: Any, ema: list[torch.Tensor], steps: int
) -> None:
    """One clipped AdamW step, then the EMA (its decay ramps up over the call's first steps)."""
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimiser.step()
    beta = min(0.999, (1 + steps) / (10 + steps))
    torch._foreach_lerp_(ema, [p.detach().float() for p in params], 1 - beta)


def _learning_rate(args: argparse.Namespace, steps: int, seconds: float) -> float:
    """Linear warm-up over this call's first steps, cosine decay to 10% over the planned time
    (``seconds`` of UNet training counted from ``--plan-start``: a continued model starts anew)."""
    warm = min(1.0, (steps + 1) / args.warmup)
    done = max(0.0, seconds - args.plan_start) / args.plan_seconds
    decay = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, done)))
    return float(args.lr * warm * decay)


def _resume(
    pipe: Any, params: list[Any], optimiser: Any, stats: Stats, state: str, device: torch.device
) -> list[torch.Tensor]:
    """The EMA of ``params`` to continue with, after loading the exact state when it matches."""
    path = Path(state) if state else None
    if path is None or not path.is_file():
        return [p.detach().clone().float() for p in params]
    saved = torch.load(path, map_location=device, weights_only=False)
    if saved["unet_steps"] != stats.unet_steps:  # older than the folder: start from the folder
        return [p.detach().clone().float() for p in params]
    pipe.unet.load_state_dict(saved["unet"])
    pipe.text_encoder.load_state_dict(saved["text"])
    optimiser.load_state_dict(saved["optimiser"])
    logger.info("resumed exactly from %s at step %d", path, stats.unet_steps)
    return [e.to(device) for e in saved["ema"]]


def _loss(
    pipe: Any,
    world: Any,
    ids: torch.Tensor,
    generator: torch.Generator,
    weights: torch.Tensor,
    scale: float,
    panels: int = 1,
    spread: float = 0.0,
    sets: bool = False,
) -> torch.Tensor:
    """Min-SNR-weighted noise-prediction loss of one batch of freshly drawn pictures (stories of
    ``panels`` pictures get their noise levels from :func:`story_timesteps`; ``sets``: groups of
    ``panels`` pictures that share one noise too, at the levels from :data:`SET_NOISE_FROM` up)."""
    device = pipe.unet.device
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    with torch.no_grad():
        images = render(world, device) * 2 - 1
        with autocast:
            latents = pipe.vae.encode(images).latent_dist.mean.float() * scale
    noise = group_noise(latents.shape, panels if sets else 1, generator)
    low = SET_NOISE_FROM if sets else 0
    t = story_timesteps(latents.shape[0], panels, spread, len(weights), generator, low)
    noisy = pipe.scheduler.add_noise(latents, noise, t)
    with autocast:
        states = pipe.text_encoder(ids.to(device))[0]
        pred = pipe.unet(noisy, t, states).sample.float()
    return ((pred - noise) ** 2).mean(dim=(1, 2, 3)).mul(weights[t]).mean()


def group_noise(
    shape: torch.Size | tuple[int, ...], group: int, generator: torch.Generator
) -> torch.Tensor:
    """Standard normal noise of ``shape``, one draw per ``group`` consecutive rows (``group=1``:
    the plain draw, the same numbers as ever)."""
    if group <= 1:
        return torch.randn(shape, generator=generator, device=generator.device)
    one = torch.randn((shape[0] // group, *shape[1:]), generator=generator, device=generator.device)
    return one.repeat_interleave(group, dim=0)


def _snapshot(
    pipe: Any,
    params: list[Any],
    ema: list[torch.Tensor],
    optimiser: Any,
    stats: Stats,
    args: argparse.Namespace,
    seconds: float,
) -> None:
    """Save the EMA weights as the pipeline folder (and the exact state when ``--state``)."""
    stats.unet_seconds = seconds
    raw = [p.detach().clone() for p in params]
    with torch.no_grad():
        for p, e in zip(params, ema, strict=True):
            p.copy_(e)
    save_pipeline(pipe, Path(args.out))
    with torch.no_grad():
        for p, r in zip(params, raw, strict=True):
            p.copy_(r)
    if args.state:
        state = {"unet": pipe.unet.state_dict(), "text": pipe.text_encoder.state_dict()}
        state |= {"optimiser": optimiser.state_dict(), "ema": ema, "unet_steps": stats.unet_steps}
        torch.save(state, args.state)
    stats.save(Path(args.out))
    logger.info("snapshot at step %d (%.0f s of UNet training)", stats.unet_steps, seconds)


# ------------------------------------------------------------------------------ main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="resources/models/toyworld")
    parser.add_argument("--reader", default=str(READER_FILE))
    parser.add_argument("--state", default="", help="local file for an exact resume")
    parser.add_argument("--seconds", type=float, default=600, help="wall time of this call")
    parser.add_argument(
        "--plan-seconds", type=float, default=1100, help="UNet time of the lr decay"
    )
    parser.add_argument(
        "--plan-start", type=float, default=0.0, help="UNet seconds where the lr plan begins"
    )
    parser.add_argument("--vae-steps", type=int, default=1500)
    parser.add_argument("--reader-steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=6e-4)
    parser.add_argument("--snapshot-every", type=float, default=120)
    parser.add_argument("--warmup", type=int, default=300, help="steps of lr warm-up per call")
    parser.add_argument(
        "--story-panels", type=int, default=0, help="batches of stories of N panels (CSA on)"
    )
    parser.add_argument("--story-rate", type=float, default=0.5, help="CSA rate in stories")
    parser.add_argument("--story-share", type=float, default=0.5, help="share of story batches")
    parser.add_argument(
        "--story-spread", type=float, default=0.5, help="share of stories with mixed noise levels"
    )
    parser.add_argument(
        "--position-share",
        type=float,
        default=0.0,
        help="share of the non-story batches that are position sets (one picture on the left, "
        "in the middle and on the right, captions alike but for the position)",
    )
    parser.add_argument(
        "--position-rate",
        type=float,
        default=None,
        help="probability that a lone person's caption states the position (default: as any "
        "attribute, 0.7 in plain and 0.4 in story captions)",
    )
    parser.add_argument(
        "--swap-people",
        type=float,
        default=0.0,
        help="share of two-person captions that describe the right-hand person first "
        "(default 0: always the left one first)",
    )
    parser.add_argument(
        "--bare-captions",
        type=float,
        default=0.0,
        help="share of captions (of every kind) that leave the look out and give only pose, "
        "position and scene, as story prompts do (docs/toyworld-position.md)",
    )
    parser.add_argument(
        "--two-people",
        type=float,
        default=TWO_PEOPLE,
        help="share of the plain batches' pictures that show two people",
    )
    parser.add_argument(
        "--look-alike",
        type=float,
        default=LOOK_ALIKE,
        help="share of the two-person pictures whose second person looks like the first",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.t0 = time.monotonic()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    out = Path(args.out)
    stats = Stats.load(out)
    pipe = load_pipeline(out) if (out / "model_index.json").is_file() else new_pipeline(args.seed)
    pipe.to(device)
    stats.device = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    stats.batch = args.batch
    if stats.vae_steps == 0:
        stats.vae_loss = train_vae(
            pipe.vae, steps=args.vae_steps, batch=128, device=device, seed=args.seed
        )
        stats.vae_steps = args.vae_steps
        stats.scaling_factor = latent_scale(pipe.vae, device, args.seed + 1)
        pipe.vae.register_to_config(scaling_factor=stats.scaling_factor)
        pipe.vae.requires_grad_(False)
        save_pipeline(pipe, out)
        stats.save(out)
    pipe.vae.requires_grad_(False)
    if not stats.reader_accuracy:
        reader = train_reader(
            steps=args.reader_steps, device=device, seed=args.seed, round_trip=round_trip(pipe.vae)
        )
        stats.reader_accuracy = accuracy(reader, device=device)
        stats.reader_accuracy_vae = accuracy(reader, device=device, transform=round_trip(pipe.vae))
        save_reader(reader, Path(args.reader))
        logger.info(
            "reader accuracy %s / after the VAE %s",
            stats.reader_accuracy,
            stats.reader_accuracy_vae,
        )
        stats.save(out)
    train_unet(pipe, stats, args, device)
    logger.info(
        "done: %d UNet steps, %d images, %.0f s",
        stats.unet_steps,
        stats.images_seen,
        stats.unet_seconds,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = ["IMAGE_SIZE", "Stats", "main"]
