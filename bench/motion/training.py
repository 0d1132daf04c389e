"""GPU benchmark of Semantic Motion Predictor training (issue 10): a few full-size steps.

    python -m bench.motion.training --json train.json   # full size, CUDA
    python -m bench.motion.training --tiny              # tiny models on the CPU (smoke)

The model is the one :mod:`bench.motion.random_models` builds for the transition benchmark
(SD 1.5 UNet + AnimateDiff ``MotionAdapter`` as a ``UNetMotionModel``, SD VAE, CLIP ViT-L/14
text, ViT-H/14-sized CLIP image encoder, the default predictor), with random weights, built on
the device by that module's
:func:`~bench.motion.random_models.build_video_model`; here every part is fp32, as
:func:`training.motion.train.build_model` loads them (autocast does the rest). No weights can be
downloaded, and speed and memory do not depend on their values.

The data are synthetic clips made on the fly: frame folders of shapes moving over a gradient,
with a caption each, in a temporary folder, so :func:`training.motion.train.run` reads them
through its real data path (``find_clips``, ``ClipDataset``, random stride and start). The run is
that function itself, with the paper's settings as far as one GPU goes: 16 frames at 512x512,
batch 1, lr 1e-4, bf16 autocast, gradient checkpointing. Phase one trains ``--steps`` steps and
writes a checkpoint; phase two is a new ``run`` with ``--resume auto`` for one more step.

Each step's time runs from the end of the step before (the loss's ``.item()`` waits for the
GPU) and includes reading and resizing the clip's frames; the first step, which also pays for
cuDNN choices and the optimizer's allocation, is reported apart and left out of s/step.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib.metadata
import itertools
import json
import logging
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from bench.ml.csa import GIB, environment
from bench.motion.random_models import FULL, TINY, Sizes, build_video_model
from inference.motion.predictor import load_predictor
from inference.motion.video_model import VideoModel
from training.motion import train

logger = logging.getLogger(__name__)

CAPTIONS = ("a red ball rolls to the right", "a blue square slides down past a yellow disc")


# ---------------------------------------------------------------------------------- data
def write_clips(folder: Path, clips: int, frames: int, size: int) -> list[Path]:
    """``clips`` frame folders of ``frames`` JPEGs (size x size): shapes moving over a gradient,
    each with a ``caption.txt``; the real data path reads them back."""
    ramp = np.linspace(40, 200, size, dtype=np.float32)
    made = []
    for c in range(clips):
        clip = folder / f"clip{c:02d}"
        clip.mkdir(parents=True)
        (clip / "caption.txt").write_text(CAPTIONS[c % len(CAPTIONS)] + "\n", encoding="utf-8")
        background = np.stack(
            [
                ramp[None, :].repeat(size, 0),
                ramp[:, None].repeat(size, 1),
                np.full((size, size), 90),
            ]
        ).transpose(1, 2, 0)
        r = size // 8
        for i in range(frames):
            image = Image.fromarray(np.roll(background, 2 * c, axis=1).astype(np.uint8))
            draw = ImageDraw.Draw(image)
            t = i / max(1, frames - 1)
            x, y = int(r + t * (size - 3 * r)), size // 3 + c * r
            draw.ellipse((x, y, x + 2 * r, y + 2 * r), fill=(220, 40, 40))
            sx, sy = size // 2 + (c - 1) * r, int(r + t * (size - 3 * r))
            draw.rectangle((sx, sy, sx + r, sy + r), fill=(40, 60, 220))
            image.save(clip / f"{i:04d}.jpg", quality=92)
        made.append(clip)
    return made


# ---------------------------------------------------------------------------------- model
@dataclass
class Built:
    """What the builder saw: build seconds, weights on the device, parameter counts."""

    seconds: float = 0.0
    weights_gib: float = 0.0
    parameters_m: float = 0.0
    trained_m: float = 0.0
    predictor_from: str = "random"
    ended: float = 0.0


def builder(sizes: Sizes, device: torch.device, record: Built) -> Any:
    """A ``build`` for :func:`train.run`: the benchmark's random full-size model, fp32, on
    ``device``; the predictor from ``args.init_predictor`` when ``run`` resumes."""

    def build(args: argparse.Namespace) -> VideoModel:
        start = time.perf_counter()
        predictor = dataclasses.replace(
            sizes.predictor,
            width=args.width,
            layers=args.layers,
            heads=args.heads,
            tokens_per_frame=args.tokens_per_frame,
            max_frames=args.frames,
        )
        model = build_video_model(
            dataclasses.replace(sizes, predictor=predictor), device, torch.float32
        )
        if args.init_predictor is not None:
            model.predictor = load_predictor(args.init_predictor, device=device)
            record.predictor_from = str(Path(args.init_predictor).parent.name)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            record.weights_gib = torch.cuda.memory_allocated(device) / GIB
        parts = (model.vae, model.unet, model.text_encoder, model.image_encoder, model.predictor)
        record.parameters_m = sum(p.numel() for m in parts for p in m.parameters()) / 1e6
        trained = sum(p.numel() for p in model.predictor.parameters())
        if args.train_motion_module:
            names = model.unet.named_parameters()
            trained += sum(p.numel() for n, p in names if "motion_modules." in n)
        record.trained_m = trained / 1e6
        record.ended = time.perf_counter()
        record.seconds = record.ended - start
        return model

    return build


# ---------------------------------------------------------------------------------- phases
@dataclass
class Phase:
    """One :func:`train.run` call, timed."""

    name: str
    first_step: int
    last_step: int
    losses: list[float]
    first_step_s: float  # build end to the first step's end: trainer, data index, warm-up step
    step_s: list[float]  # every later step
    s_per_step: float  # mean of step_s (0 if only one step)
    checkpoint_s: float  # last step's end to run's return: the checkpoint write
    checkpoint: str
    checkpoint_mib: float
    build_s: float
    weights_gib: float
    peak_gib: float
    reserved_gib: float
    seconds: float
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def finite(self) -> bool:
        return all(math.isfinite(x) for x in self.losses)


def run_phase(
    name: str, args: argparse.Namespace, sizes: Sizes, device: torch.device
) -> tuple[Phase, Built]:
    """``train.run(args)`` with the benchmark's builder, its steps timed."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    record = Built()
    ends: list[float] = []
    steps: list[int] = []
    losses: list[float] = []

    def on_step(step: int, loss: float) -> None:
        ends.append(time.perf_counter())  # .item() in train_step has waited for the GPU
        steps.append(step)
        losses.append(loss)
        logger.info("%s: step %d loss %.5f", name, step, loss)

    start = time.perf_counter()
    last = train.run(args, build=builder(sizes, device, record), on_step=on_step)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    end = time.perf_counter()
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else 0
    reserved = torch.cuda.max_memory_reserved(device) if device.type == "cuda" else 0
    if not ends:
        raise RuntimeError(f"{name}: no step ran")
    later = [b - a for a, b in itertools.pairwise(ends)]
    size = sum(f.stat().st_size for f in last.rglob("*") if f.is_file())
    phase = Phase(
        name=name,
        first_step=steps[0],
        last_step=steps[-1],
        losses=losses,
        first_step_s=ends[0] - record.ended,
        step_s=later,
        s_per_step=sum(later) / len(later) if later else 0.0,
        checkpoint_s=end - ends[-1],
        checkpoint=last.name,
        checkpoint_mib=size / 2**20,
        build_s=record.seconds,
        weights_gib=record.weights_gib,
        peak_gib=peak / GIB,
        reserved_gib=reserved / GIB,
        seconds=end - start,
    )
    return phase, record


# ---------------------------------------------------------------------------------- report
def format_table(phases: list[Phase], config: dict[str, Any]) -> str:
    lines = [
        "| phase | steps | frames | size | precision | s/step | first step s | checkpoint s "
        "| checkpoint MiB | weights GiB | peak GiB | losses |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in phases:
        losses = ", ".join(f"{x:.4f}" for x in p.losses)
        per_step = f"{p.s_per_step:.3f}" if p.step_s else "(one step)"
        lines.append(
            f"| {p.name} | {p.first_step}-{p.last_step} | {config['frames']} | {config['size']} "
            f"| {config['mixed_precision']} | {per_step} | {p.first_step_s:.2f} "
            f"| {p.checkpoint_s:.2f} | {p.checkpoint_mib:.1f} | {p.weights_gib:.2f} "
            f"| {p.peak_gib:.2f} | {losses} |"
        )
    return "\n".join(lines)


def write_report(path: Path | None, data: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def train_args(
    data: Path, out: Path, sizes: Sizes, device: torch.device, options: argparse.Namespace
) -> list[str]:
    """train.py's command line for this benchmark (phase one)."""
    p = sizes.predictor
    argv = [
        "--data", str(data), "--out", str(out),
        "--layers", str(p.layers), "--width", str(p.width), "--heads", str(p.heads),
        "--tokens-per-frame", str(p.tokens_per_frame),
        "--frames", str(options.frames), "--size", str(options.size), str(options.size),
        "--batch-size", str(options.batch_size), "--steps", str(options.steps),
        "--save-every", str(options.steps), "--log-every", str(options.steps),
        "--mixed-precision", options.mixed_precision, "--device", str(device),
    ]  # fmt: skip
    if not options.no_gradient_checkpointing:
        argv.append("--gradient-checkpointing")
    if options.train_motion_module:
        argv.append("--train-motion-module")
    return argv


def main(argv: list[str] | None = None) -> int:
    """Entry point; prints the table and optionally writes JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny models on the CPU (smoke)")
    parser.add_argument("--steps", type=int, default=None, help="phase one's steps (default 6)")
    parser.add_argument("--frames", type=int, default=None, help="default 16 (tiny: 4)")
    parser.add_argument("--size", type=int, default=None, help="default 512 (tiny: 64)")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--mixed-precision", choices=("no", "bf16", "fp16"), default="bf16")
    parser.add_argument("--no-gradient-checkpointing", action="store_true")
    parser.add_argument("--train-motion-module", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="data and checkpoints here")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if options.tiny:
        torch.set_num_threads(1)  # tiny models only slow down with more threads
        sizes, device = TINY, torch.device("cpu")
    else:
        if not torch.cuda.is_available():
            print("no CUDA device; use --tiny for a CPU smoke run", file=sys.stderr)
            return 2
        sizes, device = FULL, torch.device("cuda")
    options.steps = options.steps or (3 if options.tiny else 6)
    options.frames = options.frames or sizes.frames
    options.size = options.size or sizes.size
    if options.steps < 2:
        parser.error("--steps must be at least 2: the first step is the warm-up")

    env = environment(device)
    env["transformers"] = importlib.metadata.version("transformers")
    print(json.dumps(env), flush=True)
    data = measure(options, sizes, device, env)
    print(format_table([Phase(**p) for p in data["phases"]], data["config"]), flush=True)
    print(json.dumps(data["checks"]), flush=True)
    return 0 if not data["errors"] and all(data["checks"].values()) else 1


def measure(
    options: argparse.Namespace, sizes: Sizes, device: torch.device, env: dict[str, str]
) -> dict[str, Any]:
    """Make the clips, train, resume; writes the JSON after each phase."""
    config = {
        k: v if not isinstance(v, Path) else str(v) for k, v in vars(options).items() if k != "json"
    }
    data: dict[str, Any] = {"env": env, "config": config, "phases": [], "errors": {}}
    with tempfile.TemporaryDirectory(prefix="bench_train_") as tmp:
        root = options.keep or Path(tmp)
        clips = root / "clips"
        start = time.perf_counter()
        write_clips(clips, clips=2, frames=2 * options.frames, size=options.size)
        config["data_s"] = round(time.perf_counter() - start, 2)
        config["data"] = f"2 frame folders of {2 * options.frames} JPEGs, {options.size}px"
        out = root / "run"
        first = train.parse_args(train_args(clips, out, sizes, device, options))
        config["train_argv"] = train_args(Path("CLIPS"), Path("OUT"), sizes, device, options)
        phases: list[Phase] = []
        try:
            phase, built = run_phase("train", first, sizes, device)
            config["parameters_m"] = round(built.parameters_m, 1)
            config["trained_parameters_m"] = round(built.trained_m, 1)
            phases.append(phase)
            data["phases"] = [asdict(p) for p in phases]
            write_report(options.json, data)
            resumed = train.parse_args(
                [*train_args(clips, out, sizes, device, options), "--resume", "auto"]
            )
            resumed.steps = options.steps + 1
            phase, built = run_phase("resume", resumed, sizes, device)
            phase.notes["predictor_from"] = built.predictor_from
            phases.append(phase)
        except Exception as exc:  # what was measured is kept; the failure is recorded
            logger.exception("training failed")
            data["errors"]["train"] = f"{type(exc).__name__}: {str(exc)[:500]}"
        data["phases"] = [asdict(p) for p in phases]
        checks = check(phases, options.steps)
        data["checks"] = checks
        write_report(options.json, data)
    return data


def check(phases: list[Phase], steps: int) -> dict[str, bool]:
    """What the run must show: finite losses, a checkpoint, a resume that carried on from it."""
    trained = phases[0] if phases else None
    resumed = phases[1] if len(phases) > 1 else None
    return {
        "losses_finite": bool(phases) and all(p.finite for p in phases),
        "checkpoint_written": trained is not None
        and trained.checkpoint == f"checkpoint-{steps:06d}"
        and trained.checkpoint_mib > 0,
        "resumed_from_checkpoint": resumed is not None
        and resumed.first_step == steps + 1
        and resumed.notes.get("predictor_from") == f"checkpoint-{steps:06d}"
        and resumed.checkpoint == f"checkpoint-{steps + 1:06d}",
    }


if __name__ == "__main__":
    raise SystemExit(main())
