"""Stage 1 of the built-in video model: a CLIP-style image encoder for the toy world.

The paper's predictor reads panels through OpenCLIP ViT-H/14; the toy world needs an encoder of
its own that has seen its pictures. This one is trained as CLIP is, contrastively against the
frames' captions (the shipped toy text encoder, frozen, with a learned projection), plus two
small heads that read the person's x position and pose from the embedding: the captions say
"on the left" at best, and the predictor can only move a person whose position the embedding
holds. Before the embedding is used it is checked: a linear probe fitted on held-out frames must
read x within ``MAX_X_ERROR`` px and the pose with ``MIN_POSE_ACCURACY``.

``python -m training.motion.image_encoder --out FOLDER [--steps N --batch B --device cuda]``
writes the encoder as a ``CLIPVisionModelWithProjection`` folder plus ``probe.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from inference.motion.clip_embed import image_embeds
from training.motion.toy_parts import ENCODER_PROJECTION, new_image_encoder
from training.toyworld.model import MODEL_DIR
from training.toyworld.motion import render_clips
from training.toyworld.world import PERSON_ATTRIBUTES

logger = logging.getLogger(__name__)

PEAK_LR = 1e-3
MAX_X_ERROR = 2.0  # px, mean absolute error of the linear probe
MIN_POSE_ACCURACY = 0.9
POSES = len(PERSON_ATTRIBUTES["pose"])


@dataclass(frozen=True, slots=True)
class Probe:
    """What a linear probe reads back from the embeddings of fresh frames."""

    x_error_px: float
    pose_accuracy: float
    frames: int

    @property
    def passed(self) -> bool:
        return self.x_error_px <= MAX_X_ERROR and self.pose_accuracy >= MIN_POSE_ACCURACY


class EncoderTraining(nn.Module):
    """The encoder and what trains it: text projection, temperature, x and pose heads."""

    def __init__(self, encoder: Any, text_width: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.text_projection = nn.Linear(text_width, ENCODER_PROJECTION, bias=False)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.x_head = nn.Linear(ENCODER_PROJECTION, 1)
        self.pose_head = nn.Linear(ENCODER_PROJECTION, POSES)


def frames_and_labels(
    batch: int, seed: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[str]]:
    """``batch`` single frames (each from its own short clip) with x (px), pose and caption."""
    clips = render_clips(batch, 2, seed=seed, device=device)
    pick = torch.arange(batch)
    which = torch.randint(0, 2, (batch,), generator=torch.Generator().manual_seed(seed))
    frames = clips.frames[pick.to(device), which.to(device)]
    x, pose = clips.x[pick, which].float().to(device), clips.pose[pick, which].long().to(device)
    return frames, x, pose, clips.captions


def train_encoder(
    steps: int,
    batch: int,
    device: torch.device,
    seed: int = 0,
    log_every: int = 100,
    seconds: float = math.inf,
) -> tuple[Any, list[tuple[int, float]]]:
    """The trained encoder (eval mode) and the loss every ``log_every`` steps; training ends
    after ``steps`` or ``seconds``, whichever comes first, with the learning rate warmed up
    and then annealed over that span (a cosine over the larger of the two fractions done)."""
    from transformers import CLIPTextModel, CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(str(MODEL_DIR / "tokenizer"))
    text_encoder: Any = CLIPTextModel.from_pretrained(str(MODEL_DIR / "text_encoder"))
    text_encoder = text_encoder.to(device, torch.float32).eval().requires_grad_(False)
    parts = EncoderTraining(new_image_encoder(seed=seed), text_encoder.config.hidden_size)
    parts.to(device)
    optimizer = torch.optim.AdamW(parts.parameters(), lr=PEAK_LR, weight_decay=0.05)
    losses: list[tuple[int, float]] = []
    start, step = time.monotonic(), 0
    while (done := max(step / steps, (time.monotonic() - start) / seconds)) < 1:
        for group in optimizer.param_groups:
            group["lr"] = PEAK_LR * min(1.0, done / 0.05) * (1 + math.cos(math.pi * done)) / 2
        frames, x, pose, captions = frames_and_labels(batch, seed * 1_000_003 + step, device)
        ids = tokenizer(captions, padding="max_length", truncation=True, return_tensors="pt")
        with torch.no_grad():
            text = text_encoder(ids.input_ids.to(device)).pooler_output
        numbers = {c: i for i, c in enumerate(dict.fromkeys(captions))}
        caption_ids = torch.tensor([numbers[c] for c in captions], device=device)
        loss = _loss(parts, frames, x, pose, text, caption_ids)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parts.parameters(), 1.0)
        optimizer.step()
        if step % log_every == 0:
            losses.append((step, float(loss.detach())))
            logger.info("step %d loss %.4f", step, float(loss.detach()))
        step += 1
    losses.append((step, float(loss.detach())))
    return parts.encoder.eval().requires_grad_(False), losses


def _loss(
    parts: EncoderTraining,
    frames: torch.Tensor,
    x: torch.Tensor,
    pose: torch.Tensor,
    text: torch.Tensor,
    caption_ids: torch.Tensor,
) -> torch.Tensor:
    embeds = image_embeds(parts.encoder, frames).float()
    image = functional.normalize(embeds, dim=-1)
    words = functional.normalize(parts.text_projection(text), dim=-1)
    logits = parts.log_scale.clamp(max=math.log(100)).exp() * image @ words.T
    # frames with the same caption are positives of each other, not negatives
    same = (caption_ids[:, None] == caption_ids[None, :]).float()
    target = same / same.sum(dim=1, keepdim=True)
    contrastive = (
        functional.cross_entropy(logits, target) + functional.cross_entropy(logits.T, target)
    ) / 2
    x_loss = functional.mse_loss(parts.x_head(embeds).squeeze(-1), x / 64.0)
    pose_loss = functional.cross_entropy(parts.pose_head(embeds), pose)
    return contrastive + 10.0 * x_loss + pose_loss


@torch.no_grad()
def probe(encoder: Any, device: torch.device, frames: int = 2048, seed: int = 10**9) -> Probe:
    """Fit linear maps from embeddings to x and to pose on half of fresh frames; score the
    other half. Least squares with a small ridge, so the probe is the embedding's, not a model's."""
    pixels, x, pose, _ = frames_and_labels(frames, seed, device)
    embeds = torch.cat([image_embeds(encoder, chunk).float() for chunk in pixels.split(256)])
    features = torch.cat([embeds, torch.ones(len(embeds), 1, device=embeds.device)], dim=1)
    half = frames // 2
    fit, test = features[:half], features[half:]
    ridge = 1e-3 * torch.eye(features.shape[1], device=features.device)
    gram = fit.T @ fit + ridge
    x_weights = torch.linalg.solve(gram, fit.T @ x[:half, None])
    x_error = (test @ x_weights).squeeze(-1).sub(x[half:]).abs().mean()
    onehot = functional.one_hot(pose[:half], POSES).float()
    pose_weights = torch.linalg.solve(gram, fit.T @ onehot)
    accuracy = ((test @ pose_weights).argmax(-1) == pose[half:]).float().mean()
    return Probe(float(x_error), float(accuracy), frames - half)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    p = argparse.ArgumentParser(prog="python -m training.motion.image_encoder", description=__doc__)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--seconds", type=float, default=math.inf, help="stop after this long")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--probe-frames", type=int, default=2048, help="fresh frames for the check")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    start = time.perf_counter()
    encoder, losses = train_encoder(args.steps, args.batch, device, args.seed, seconds=args.seconds)
    seconds = time.perf_counter() - start
    result = probe(encoder, device, frames=args.probe_frames)
    encoder.save_pretrained(args.out)
    report = {**asdict(result), "passed": result.passed, "steps": losses[-1][0]}
    report |= {"batch": args.batch, "seconds": round(seconds, 1), "losses": losses}
    (args.out / "probe.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    logger.info("probe: x error %.2f px, pose %.3f", result.x_error_px, result.pose_accuracy)
    if not result.passed:
        logger.error(
            "the embedding does not hold x and pose well enough (need ≤ %.1f px, ≥ %.2f)",
            MAX_X_ERROR,
            MIN_POSE_ACCURACY,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
