"""The paper's transition metrics: ``python -m training.motion.metrics FOLDER``.

StoryDiffusion's Table 2 (research/motion.md section 1.3): "-first" compares the first frame with
every other frame, "-frames" compares adjacent frames; each is the mean over those pairs, then
over clips. LPIPS is lower-is-better, CLIPSIM (cosine of CLIP image embeddings) higher.

LPIPS uses the AlexNet network when its weights are given (comparable with the paper), otherwise
the same formula over the CLIP encoder's hidden layers, reported as ``lpips_backbone:
clip-substitute``; see :mod:`training.motion.lpips`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional

from inference.motion.clip_embed import hidden_states, image_embeds, load_image_encoder
from inference.motion.clip_io import read_clip
from inference.motion.predictor import DEFAULT_IMAGE_ENCODER
from inference.motion.transition import to_pixels
from training.motion.data import find_clips
from training.motion.lpips import feature_distance, load_alexnet_lpips

logger = logging.getLogger(__name__)

Distance = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Embed = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True, slots=True)
class ClipScores:
    lpips_first: float
    lpips_frames: float
    clipsim_first: float
    clipsim_frames: float


def pair_means(values_first: torch.Tensor, values_adjacent: torch.Tensor) -> tuple[float, float]:
    return float(values_first.mean()), float(values_adjacent.mean())


def score_clip(pixels: torch.Tensor, distance: Distance, embed: Embed) -> ClipScores:
    """Scores of one clip, pixels (L, 3, H, W) in [-1, 1], L >= 2."""
    if pixels.shape[0] < 2:
        raise ValueError("a clip needs at least 2 frames to be scored")
    first = pixels[:1].expand_as(pixels[1:])
    with torch.no_grad():
        lp_first, lp_frames = pair_means(
            distance(first, pixels[1:]), distance(pixels[:-1], pixels[1:])
        )
        e = functional.normalize(embed(pixels).float(), dim=-1)
    cs_first, cs_frames = pair_means(e[1:] @ e[0], (e[:-1] * e[1:]).sum(-1))
    return ClipScores(lp_first, lp_frames, cs_first, cs_frames)


def clip_feature_distance(encoder: Any) -> Distance:
    """LPIPS formula over four evenly spread CLIP hidden layers (the documented substitute)."""
    count = int(encoder.config.num_hidden_layers)
    layers = sorted({max(1, round(count * k / 4)) for k in (1, 2, 3, 4)})

    def maps(images: torch.Tensor) -> list[torch.Tensor]:
        return hidden_states(encoder, images, layers)

    def distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return feature_distance(maps, a, b)

    return distance


def evaluate(
    clips: list[Path], encoder: Any, distance: Distance, size: int
) -> dict[str, ClipScores]:
    def embed(images: torch.Tensor) -> torch.Tensor:
        return image_embeds(encoder, images)

    results = {}
    for clip in clips:
        frames = read_clip(clip)
        pixels = torch.cat([to_pixels(f, size, size) for f in frames])
        results[str(clip)] = score_clip(pixels, distance, embed)
        logger.info("%s: %s", clip, results[str(clip)])
    return results


def mean_scores(scores: list[ClipScores]) -> ClipScores:
    columns = zip(*(asdict(s).values() for s in scores), strict=True)
    return ClipScores(*(sum(c) / len(scores) for c in columns))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    from inference.errors import GenerationError

    p = argparse.ArgumentParser(prog="python -m training.motion.metrics", description=__doc__)
    p.add_argument("folder", type=Path, help="clips: videos and/or folders of frames")
    p.add_argument("--clip", default=DEFAULT_IMAGE_ENCODER, help="CLIP image encoder")
    p.add_argument("--lpips-alexnet", type=Path, help="torchvision alexnet-owt-*.pth")
    p.add_argument("--lpips-linear", type=Path, help="lpips' weights/v0.1/alex.pth")
    p.add_argument("--size", type=int, default=256, help="frames are scored at size x size")
    p.add_argument("--json", type=Path, help="write per-clip and mean scores here")
    args = p.parse_args(argv)
    try:
        encoder = load_image_encoder(args.clip, torch.float32)
        if args.lpips_alexnet is not None:
            distance: Distance = load_alexnet_lpips(args.lpips_alexnet, args.lpips_linear)
            backbone = "alexnet" + ("" if args.lpips_linear else "-baseline")
        else:
            distance, backbone = clip_feature_distance(encoder), "clip-substitute"
        clips = find_clips([args.folder])
        if not clips:
            raise ValueError(f"no clips in {args.folder}")
        per_clip = evaluate(clips, encoder, distance, args.size)
    except (GenerationError, ValueError, FileNotFoundError) as exc:
        logger.error("%s", exc)
        return 1
    mean = mean_scores(list(per_clip.values()))
    report = {
        "lpips_backbone": backbone,
        "clips": len(per_clip),
        "mean": asdict(mean),
        "per_clip": {k: asdict(v) for k, v in per_clip.items()},
    }
    for name, value in asdict(mean).items():
        sys.stdout.write(f"{name:16s} {value:.4f}\n")
    sys.stdout.write(f"({len(per_clip)} clips, LPIPS on {backbone})\n")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
