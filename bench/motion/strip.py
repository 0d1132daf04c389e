"""The README's picture of a generated transition: one held-out pair of the toy world in motion,
the frames the shipped video model (Semantic Motion Predictor) makes between the two panels, the
crossfade of the same pair, and the renderer's true frames, as three labelled rows.

    .venv/bin/python -m bench.motion.strip [--out docs/transition-strip.png] [--steps 25]

The pair comes from the motion benchmark's held-out seed (``bench.motion.quality``), a large move
(> 28 px), so the picture shows what the table measures; ``--clip`` picks another of its clips.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from bench.motion.quality import HELD_OUT_SEED, MOVES, VIDEO_MODEL, crossfade, model_method
from inference.motion.video_model import folder_sources, load_video_model
from training.toyworld.motion import render_clips

logger = logging.getLogger(__name__)

LABEL_WIDTH = 120
SCALE = 2


def row(frames: torch.Tensor, every: int) -> list[Image.Image]:
    """Every ``every``-th frame and the last, as PIL images scaled up for the page."""
    picked = [*range(0, frames.shape[0] - 1, every), frames.shape[0] - 1]
    images = []
    for index in picked:
        pixels = ((frames[index].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0)
        image = Image.fromarray(pixels.numpy())
        images.append(
            image.resize((image.width * SCALE, image.height * SCALE), Image.Resampling.NEAREST)
        )
    return images


def strip(rows: dict[str, list[Image.Image]]) -> Image.Image:
    first = next(iter(rows.values()))
    size, gap = first[0].width, 4
    width = LABEL_WIDTH + len(first) * (size + gap)
    sheet = Image.new("RGB", (width, len(rows) * (size + gap) + gap), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (label, images) in enumerate(rows.items()):
        top = gap + r * (size + gap)
        draw.text((8, top + size // 2 - 6), label, fill="black")
        for c, image in enumerate(images):
            sheet.paste(image, (LABEL_WIDTH + c * (size + gap), top))
    return sheet


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=Path("docs/transition-strip.png"))
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--clip", type=int, default=0, help="which held-out large move")
    p.add_argument("--every", type=int, default=3, help="show every N-th frame")
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    number = list(MOVES).index("large")
    clips = render_clips(args.clip + 1, 16, seed=HELD_OUT_SEED + number, move=MOVES["large"])
    model = load_video_model(folder_sources(VIDEO_MODEL), torch.float32)
    generated = model_method(model, args.steps, 7.5)(clips, args.clip)
    rows = {
        "motion predictor": row(generated, args.every),
        "crossfade": row(crossfade(clips, args.clip), args.every),
        "true motion": row(clips.frames[args.clip].float(), args.every),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    strip(rows).save(args.out, optimize=True)
    logger.info("wrote %s (%s)", args.out, clips.captions[args.clip])
    return 0


if __name__ == "__main__":
    sys.exit(main())
