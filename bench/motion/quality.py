"""The motion benchmark: do generated transitions move the person where the world would?

    python -m bench.motion.quality --pairs 24 --steps 25 --json motion-quality.json

On held-out clips of the toy world in motion (seeds no training run draws), the first and last
frames are the panels; each method makes the frames in between, and two readers judge them
against the renderer's ground truth: the motion reader (:mod:`training.toyworld.motion_reader`,
trained on frames at every x, unlike the image model's attribute reader) reads the person's x
position, the look (every appearance attribute) and the scene. Per middle frame: x error in
pixels, look intact, scene intact; frame accuracy is the share of middle frames within
``X_TOLERANCE`` px with the look intact. The paper's four metrics (LPIPS-first/-frames,
CLIPSIM-first/-frames) use the toy image encoder in place of CLIP. Moves are split into small
(< 12 px) and large (> 28 px).

Rows: ``smp`` (the shipped video model), ``temporal-only`` (the same motion module trained with the
tokens always dropped), ``interpolation-only`` (SMP with the predictor's transformer zeroed: the
embeddings interpolated linearly), ``crossfade`` and ``flow-morph`` (the editor's model-free
transitions), and ``renderer`` (the true middle frames: the readers' own floor).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inference.motion.clip_embed import image_embeds
from inference.motion.transition import TransitionSettings, generate_transition, to_images
from inference.motion.video_model import VideoModel, folder_sources, load_video_model
from storyboard.core.resources import RESOURCES
from training.motion.metrics import ClipScores, clip_feature_distance, mean_scores, score_clip
from training.toyworld.motion import ClipBatch, render_clips
from training.toyworld.motion_reader import load_motion_reader
from training.toyworld.world import APPEARANCE

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
VIDEO_MODEL = RESOURCES / "models" / "toyworld-motion"
TEMPORAL_ONLY = HERE / "weights" / "temporal-only" / "motion_adapter"
MOTION_READER = HERE / "weights" / "motion-reader.safetensors"
MOVES = {"small": (2.0, 12.0), "large": (28.5, 44.0)}
X_TOLERANCE = 3.0  # px
HELD_OUT_SEED = 9_000_000_007  # training draws its seeds from step generators, never this one
MODEL_ROWS = ("smp", "temporal-only", "interpolation-only")
ROWS = (*MODEL_ROWS, "crossfade", "flow-morph", "renderer")

Method = Callable[[ClipBatch, int], torch.Tensor]  # (clips, index) -> (L, 3, 64, 64) in [-1, 1]


@dataclass(frozen=True, slots=True)
class Row:
    """One method on one kind of move, averaged over its clips' middle frames."""

    method: str
    move: str
    clips: int
    x_error_px: float
    look_intact: float
    scene_intact: float
    frame_accuracy: float
    scores: ClipScores
    seconds_per_clip: float


def load_models(device: str = "cpu") -> dict[str, VideoModel]:
    """The three model rows, in fp32 on ``device``."""
    sources = folder_sources(VIDEO_MODEL)
    smp = load_video_model(sources, torch.float32)
    temporal = load_video_model(
        type(sources)(
            predictor=sources.predictor,
            base=sources.base,
            adapter=str(TEMPORAL_ONLY),
            image_encoder=sources.image_encoder,
            base_schedule=True,
            motion_tokens=False,
        ),
        torch.float32,
    )
    interpolation = load_video_model(sources, torch.float32)
    zero_transformer(interpolation)
    models = {"smp": smp, "temporal-only": temporal, "interpolation-only": interpolation}
    return {name: model.to(device) for name, model in models.items()}


def zero_transformer(model: VideoModel) -> None:
    """The predictor without its transformer: every residual branch's output projection zeroed,
    so the pre-norm stack is the identity and the tokens are the interpolation projected."""
    with torch.no_grad():
        for layer in model.predictor.transformer.layers:
            for linear in (layer.self_attn.out_proj, layer.linear2):
                linear.weight.zero_()
                linear.bias.zero_()


def model_method(model: VideoModel, steps: int, guidance: float) -> Method:
    def run(clips: ClipBatch, index: int) -> torch.Tensor:
        first, last = to_images(clips.frames[index, [0, -1]])
        frames = clips.frames.shape[1]
        settings = TransitionSettings(
            frames=frames,
            width=64,
            height=64,
            steps=steps,
            seed=index,
            guidance=guidance,
            prompt=clips.captions[index],
        )
        images = generate_transition(model, first, last, settings)
        return torch.stack([_tensor(im) for im in images])

    return run


def crossfade(clips: ClipBatch, index: int) -> torch.Tensor:
    first, last = clips.frames[index, 0].cpu(), clips.frames[index, -1].cpu()
    t = torch.linspace(0, 1, clips.frames.shape[1])[:, None, None, None]
    return first * (1 - t) + last * t


def flow_morph(clips: ClipBatch, index: int) -> torch.Tensor:
    from storyboard.export.transitions import FlowMorph

    first, last = (_rgba(clips.frames[index, i]) for i in (0, -1))
    morph = FlowMorph(first, last)
    count = clips.frames.shape[1]
    out = np.empty_like(first)
    frames = []
    for f in range(count):
        morph.blend(first, last, f / (count - 1), out)
        frames.append(torch.from_numpy(out[..., :3].copy()).permute(2, 0, 1).float() / 127.5 - 1)
    return torch.stack(frames)


def renderer(clips: ClipBatch, index: int) -> torch.Tensor:
    return clips.frames[index].cpu().float()


def _tensor(image: object) -> torch.Tensor:
    array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1)


def _rgba(frame: torch.Tensor) -> np.ndarray:
    rgb = ((frame.cpu().float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0)
    alpha = torch.full((*rgb.shape[:2], 1), 255, dtype=torch.uint8)
    return np.ascontiguousarray(torch.cat([rgb, alpha], dim=-1).numpy())


@dataclass(frozen=True, slots=True)
class Judged:
    """One clip's middle frames as the readers saw them, and its clip scores."""

    x_error: torch.Tensor  # px, per middle frame
    look: torch.Tensor  # bool: every appearance attribute read as the start panel's
    scene: torch.Tensor  # bool
    scores: ClipScores


class Judge:
    """The readers and the paper's metrics, with the toy image encoder standing in for CLIP."""

    def __init__(self, encoder: Any, motion_reader: Path = MOTION_READER) -> None:
        self.reader = load_motion_reader(motion_reader, encoder.device)
        self.encoder = encoder
        self.distance = clip_feature_distance(encoder)

    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        embeds: torch.Tensor = image_embeds(self.encoder, pixels)
        return embeds

    def judge(self, frames: torch.Tensor, clips: ClipBatch, index: int) -> Judged:
        middle = frames[1:-1]
        read = self.reader.read_all(middle)
        x_error = (read["x"].float() - clips.x[index, 1:-1].float()).abs()
        look = torch.ones(len(middle), dtype=torch.bool)
        for name in APPEARANCE:
            look &= read[name] == clips.people[name][index]
        scene = read["scene"] == clips.scene[index]
        return Judged(x_error, look, scene, score_clip(frames, self.distance, self.embed))


def run_row(name: str, method: Method, clips: ClipBatch, move: str, judge: Judge) -> Row:
    judged: list[Judged] = []
    start = time.perf_counter()
    for index in range(len(clips)):
        with torch.no_grad():
            judged.append(judge.judge(method(clips, index), clips, index))
    seconds = (time.perf_counter() - start) / len(clips)
    x_error = torch.cat([j.x_error for j in judged])
    look = torch.cat([j.look for j in judged])
    return Row(
        method=name,
        move=move,
        clips=len(clips),
        x_error_px=float(x_error.mean()),
        look_intact=float(look.float().mean()),
        scene_intact=float(torch.cat([j.scene for j in judged]).float().mean()),
        frame_accuracy=float(((x_error <= X_TOLERANCE) & look).float().mean()),
        scores=mean_scores([j.scores for j in judged]),
        seconds_per_clip=seconds,
    )


def run(
    pairs: int,
    steps: int,
    guidance: float = 7.5,
    frames: int = 16,
    rows: tuple[str, ...] = ROWS,
    models: dict[str, VideoModel] | None = None,
    motion_reader: Path = MOTION_READER,
    device: str = "cpu",
) -> list[Row]:
    """Every row on ``pairs`` held-out clips of each move size (drawn on the CPU, so the same
    clips on every machine; the models and readers run on ``device``)."""
    models = models if models is not None else load_models(device)
    encoder = next(iter(models.values())).image_encoder
    judge = Judge(encoder, motion_reader)
    methods: dict[str, Method] = {
        "crossfade": crossfade,
        "flow-morph": flow_morph,
        "renderer": renderer,
    }
    methods |= {name: model_method(m, steps, guidance) for name, m in models.items()}
    results = []
    for number, (move, span) in enumerate(MOVES.items()):
        clips = render_clips(pairs, frames, seed=HELD_OUT_SEED + number, move=span)
        for name in rows:
            if name in methods:
                results.append(run_row(name, methods[name], clips, move, judge))
                logger.info("%s", table([results[-1]]).splitlines()[-1])
    return results


def table(rows: list[Row]) -> str:
    """A markdown table of the rows."""
    head = (
        "| method | move | clips | x error px | look intact | scene intact | frame accuracy "
        "| LPIPS-first | LPIPS-frames | CLIPSIM-first | CLIPSIM-frames | s/clip |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    lines = [head]
    for r in rows:
        s = r.scores
        lines.append(
            f"| {r.method} | {r.move} | {r.clips} | {r.x_error_px:.2f} | {r.look_intact:.1%} "
            f"| {r.scene_intact:.1%} | {r.frame_accuracy:.1%} | {s.lpips_first:.3f} "
            f"| {s.lpips_frames:.3f} | {s.clipsim_first:.3f} | {s.clipsim_frames:.3f} "
            f"| {r.seconds_per_clip:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    p = argparse.ArgumentParser(prog="python -m bench.motion.quality", description=__doc__)
    p.add_argument("--pairs", type=int, default=24, help="held-out clips per move size")
    p.add_argument("--steps", type=int, default=25, help="DDIM steps of the model rows")
    p.add_argument("--guidance", type=float, default=7.5)
    p.add_argument("--rows", nargs="+", choices=ROWS, default=list(ROWS))
    p.add_argument("--json", type=Path, help="write the rows here")
    p.add_argument("--device", default="cpu", help="where the models run: cpu, cuda")
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    rows = run(args.pairs, args.steps, args.guidance, rows=tuple(args.rows), device=args.device)
    print(table(rows))
    if args.json:
        data = {"pairs": args.pairs, "steps": args.steps, "guidance": args.guidance}
        data["device"] = args.device
        data["rows"] = [asdict(r) for r in rows]
        args.json.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
