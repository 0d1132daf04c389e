"""GPU benchmark of transition generation (issue 10): time and peak memory of a 16-frame 512 clip.

    python -m bench.motion.transition --json motion.json   # full-size models, fp16, CUDA
    python -m bench.motion.transition --tiny               # tiny models on the CPU (smoke test)

Every model is built from its published config with random weights: no predictor was ever
published, and speed and memory do not depend on the weight values. The video model is the one
:func:`inference.motion.video_model.assemble` makes for the editor: an SD 1.5 UNet turned into a
``UNetMotionModel`` with the default AnimateDiff ``MotionAdapter`` (v1-5-2's layout), the SD VAE,
SD 1.5's CLIP ViT-L/14 text encoder, a ViT-H/14-sized CLIP image encoder (IP-Adapter's) and the
default Semantic Motion Predictor (8 layers, width 1024), all fp16, as the engine loads them.

Each row is one ``generate_transition`` call (prompt and CLIP encoding, predictor, DDIM loop with
classifier-free guidance, panels enforced on the end frames, VAE decode of the frames between),
timed end to end, with its seconds per step taken from the progress reports (each report waits for
the GPU, so the step times are the GPU's). The baseline is plain AnimateDiff in the same process,
on the same weights: no CLIP image encoding, no predictor and the stock cross-attention processors
(text tokens only). The SMP run is timed again at the end to show the noise.

The LTX-Video first-and-last-frame backend is measured too, unless ``--no-ltx``: its 2B
transformer and T5-XXL text encoder built from configs, bf16 as the engine loads it, run through
the engine's own :func:`run_keyframe_pipeline` (16 frames are 17 for LTX, resampled to 16).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib.metadata
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from PIL import Image

from bench.ml.csa import GIB, environment
from bench.motion.random_models import (
    FULL,
    TINY,
    Sizes,
    build_ltx,
    build_video_model,
    plain_of,
    stock_cross_attention,
)
from inference.motion.keyframe_pipelines import LTX, run_keyframe_pipeline
from inference.motion.transition import TransitionSettings, generate_transition
from inference.motion.video_model import VideoModel
from inference.results import Progress

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------- timing
@dataclass
class Row:
    """One timed transition."""

    mode: str
    frames: int
    size: int
    steps: int
    dtype: str
    seconds: float
    s_per_step: float
    setup_s: float  # call start to the first step's start: prompt, panels, CLIP, predictor
    decode_s: float  # last step's end to the return: VAE decode and PIL conversion
    weights_gib: float
    peak_over_weights_gib: float
    peak_total_gib: float
    baseline: str = ""
    ratio: float = 0.0
    notes: dict[str, str] = field(default_factory=dict)


class StepClock:
    """The moments each denoising step ended, waiting for the device so they are its times."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.ends: list[float] = []

    def __call__(self, progress: Progress) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.ends.append(time.perf_counter())


def panels(size: int) -> tuple[Image.Image, Image.Image]:
    """Two different panels (gradients), so the VAE and CLIP see real images."""
    start = Image.linear_gradient("L").resize((size, size)).convert("RGB")
    end = start.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return start, end


def timed(
    mode: str,
    run: Callable[[TransitionSettings, StepClock], list[Image.Image]],
    settings: TransitionSettings,
    device: torch.device,
    dtype: torch.dtype,
) -> Row:
    """One call of ``run``, with its step times and peak memory; checks it made every frame."""
    gc.collect()
    weights = 0
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        weights = torch.cuda.memory_allocated(device)
    clock = StepClock(device)
    start = time.perf_counter()
    frames = run(settings, clock)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    end = time.perf_counter()
    if len(frames) != settings.frames or len(clock.ends) != settings.steps:
        raise RuntimeError(
            f"{mode}: {len(frames)} frames in {len(clock.ends)} steps, "
            f"asked {settings.frames} in {settings.steps}"
        )
    ends = clock.ends
    per_step = (ends[-1] - ends[0]) / max(1, len(ends) - 1)
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else 0
    row = Row(
        mode,
        settings.frames,
        settings.width,
        settings.steps,
        str(dtype).removeprefix("torch."),
        end - start,
        per_step,
        ends[0] - per_step - start,
        end - ends[-1],
        weights / GIB,
        (peak - weights) / GIB,
        peak / GIB,
    )
    logger.info(
        "%s: %.2f s, %.3f s/step, peak %.2f GiB", mode, row.seconds, per_step, row.peak_total_gib
    )
    return row


def video_rows(
    sizes: Sizes, device: torch.device, dtype: torch.dtype, settings: TransitionSettings
) -> list[Row]:
    """SMP, plain AnimateDiff and SMP again, in one process on one set of weights."""
    start_build = time.perf_counter()
    model = build_video_model(sizes, device, dtype)
    built = time.perf_counter() - start_build
    plain = plain_of(model)
    start, end = panels(sizes.size)

    def smp(s: TransitionSettings, clock: StepClock) -> list[Image.Image]:
        return generate_transition(model, start, end, s, clock)

    def animatediff(s: TransitionSettings, clock: StepClock) -> list[Image.Image]:
        with stock_cross_attention(model.unet):
            return generate_transition(plain, start, end, s, clock)

    warm = dataclasses.replace(settings, steps=sizes.warm_up_steps)
    for run in (smp, animatediff):  # kernels, cuDNN choices, allocator growth
        run(warm, StepClock(device))
    rows = [
        timed("AnimateDiff + motion predictor (SMP)", smp, settings, device, dtype),
        timed("plain AnimateDiff (no predictor tokens)", animatediff, settings, device, dtype),
        timed("AnimateDiff + motion predictor (SMP, again)", smp, settings, device, dtype),
    ]
    base = rows[1]
    for row in (rows[0], rows[2]):
        row.baseline, row.ratio = base.mode, row.seconds / base.seconds
        row.notes["s_per_step_ratio"] = f"{row.s_per_step / base.s_per_step:.3f}"
    rows[0].notes["build_s"] = f"{built:.1f}"
    rows[0].notes["parameters_m"] = f"{parameters(model) / 1e6:.0f}"
    return rows  # the model is freed on return: the closures are the last holders


def parameters(model: VideoModel) -> int:
    """Parameters of every network of the video model."""
    parts = (model.vae, model.unet, model.text_encoder, model.image_encoder, model.predictor)
    return sum(p.numel() for part in parts for p in part.parameters())


def ltx_row(
    sizes: Sizes, device: torch.device, dtype: torch.dtype, settings: TransitionSettings
) -> Row:
    """The LTX-Video backend through the engine's own keyframe call."""
    start_build = time.perf_counter()
    pipe = build_ltx(sizes, device, dtype)
    built = time.perf_counter() - start_build
    start, end = panels(sizes.size)

    def ltx(s: TransitionSettings, clock: StepClock) -> list[Image.Image]:
        return run_keyframe_pipeline(LTX, pipe, start, end, s, clock, lambda: False)

    ltx(dataclasses.replace(settings, steps=sizes.warm_up_steps), StepClock(device))
    row = timed("LTX-Video first-last-frame (keyframe backend)", ltx, settings, device, dtype)
    row.notes["build_s"] = f"{built:.1f}"
    row.notes["frames_generated"] = str(-(-(settings.frames - 1) // LTX.frame_step) * 8 + 1)
    params = sum(
        p.numel() for m in (pipe.vae, pipe.text_encoder, pipe.transformer) for p in m.parameters()
    )
    row.notes["parameters_m"] = f"{params / 1e6:.0f}"
    return row


# ---------------------------------------------------------------------------------- report
def format_table(rows: list[Row]) -> str:
    """Markdown table of the rows."""
    lines = [
        "| mode | frames | size | steps | dtype | seconds | s/step | ratio to plain | setup s "
        "| decode s | weights GiB | peak GiB over weights | peak GiB total | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r.ratio:.3f}x" if r.ratio else ""
        notes = ", ".join(f"{k} {v}" for k, v in r.notes.items())
        lines.append(
            f"| {r.mode} | {r.frames} | {r.size} | {r.steps} | {r.dtype} | {r.seconds:.2f} "
            f"| {r.s_per_step:.3f} | {ratio} | {r.setup_s:.2f} | {r.decode_s:.2f} "
            f"| {r.weights_gib:.2f} | {r.peak_over_weights_gib:.2f} | {r.peak_total_gib:.2f} "
            f"| {notes} |"
        )
    return "\n".join(lines)


def write_report(
    path: Path | None, env: dict[str, str], rows: list[Row], errors: dict[str, str]
) -> None:
    """Print the table and write the JSON (after each part, so a timeout keeps what was done)."""
    print(format_table(rows), flush=True)
    if path is not None:
        data = {"env": env, "rows": [asdict(r) for r in rows], "errors": errors}
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Entry point; prints the table and optionally writes JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny models on the CPU (smoke)")
    parser.add_argument("--steps", type=int, default=None, help="default 25 (tiny: 3)")
    parser.add_argument("--no-ltx", action="store_true", help="skip the LTX-Video backend")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    if args.tiny:
        torch.set_num_threads(1)  # tiny models only slow down with more threads
        sizes, device = TINY, torch.device("cpu")
        video_dtype = ltx_dtype = torch.float32
    else:
        if not torch.cuda.is_available():
            print("no CUDA device; use --tiny for a CPU smoke run", file=sys.stderr)
            return 2
        sizes, device = FULL, torch.device("cuda")
        video_dtype, ltx_dtype = torch.float16, torch.bfloat16  # as the engine loads them
    steps = args.steps or sizes.steps
    if steps < 2:
        parser.error("--steps must be at least 2: seconds per step need two step ends")
    settings = TransitionSettings(
        frames=sizes.frames,
        width=sizes.size,
        height=sizes.size,
        steps=steps,
        seed=0,
        guidance=7.5,
        prompt="a hero walks to the sea",
        negative_prompt="blurry",
    )
    env = environment(device)
    env["transformers"] = importlib.metadata.version("transformers")
    print(json.dumps(env), flush=True)
    rows: list[Row] = []
    errors: dict[str, str] = {}
    rows += video_rows(sizes, device, video_dtype, settings)
    write_report(args.json, env, rows, errors)
    if args.no_ltx:
        errors["ltx"] = "not run (--no-ltx)"
    else:
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
        try:
            row = ltx_row(sizes, device, ltx_dtype, settings)
            row.baseline, row.ratio = rows[1].mode, row.seconds / rows[1].seconds
            rows.append(row)
        except Exception as exc:  # the video-model rows are kept; the failure is recorded
            traceback.print_exc()
            errors["ltx"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    write_report(args.json, env, rows, errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
