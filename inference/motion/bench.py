"""GPU benchmark of transition generation (issue 10): time and peak memory of a 16-frame 512 clip.

    python -m inference.motion.bench --json motion.json   # full-size models, fp16, CUDA
    python -m inference.motion.bench --tiny               # tiny models on the CPU (smoke test)

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from PIL import Image

from inference.bench import GIB, environment
from inference.motion.attention import is_spatial_cross_attention
from inference.motion.keyframe_pipelines import LTX, run_keyframe_pipeline
from inference.motion.predictor import PredictorConfig, SemanticMotionPredictor
from inference.motion.transition import TransitionSettings, generate_transition
from inference.motion.video_model import VideoModel, assemble
from inference.random_sdxl import CLIP_L, SD_VAE
from inference.results import Progress

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------- configs
SD15_UNET: dict[str, Any] = {  # runwayml/stable-diffusion-v1-5 unet/config.json
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "block_out_channels": [320, 640, 1280, 1280],
    "layers_per_block": 2,
    "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    "attention_head_dim": 8,
    "cross_attention_dim": 768,
    "norm_num_groups": 32,
}
ADAPTER: dict[str, Any] = {  # diffusers' defaults: the layout of animatediff-motion-adapter-v1-5-2
    "block_out_channels": [320, 640, 1280, 1280],
    "motion_layers_per_block": 2,
    "motion_num_attention_heads": 8,
    "motion_max_seq_length": 32,
    "use_motion_mid_block": True,
}
CLIP_H_VISION: dict[str, Any] = {  # OpenCLIP ViT-H/14 as IP-Adapter's image_encoder
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 16,
    "patch_size": 14,
    "image_size": 224,
    "projection_dim": 1024,
    "hidden_act": "gelu",
}
SD15_SCHEDULER: dict[str, Any] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 1,
}
LTX_TRANSFORMER: dict[str, Any] = {  # diffusers' defaults: LTX-Video's 2B transformer
    "in_channels": 128,
    "out_channels": 128,
    "num_attention_heads": 32,
    "attention_head_dim": 64,
    "cross_attention_dim": 2048,
    "num_layers": 28,
    "caption_channels": 4096,
}
LTX_VAE: dict[str, Any] = {}  # diffusers' default LTX VAE (0.9.0/0.9.1 layout, 32x8 compression)
T5_XXL: dict[str, Any] = {  # google/t5-v1_1-xxl, the encoder LTX-Video uses
    "vocab_size": 32128,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "feed_forward_proj": "gated-gelu",
}


@dataclass(frozen=True)
class Sizes:
    """Every part's config, and the clip asked for: full size, or tiny for the CPU smoke run."""

    unet: dict[str, Any]
    adapter: dict[str, Any]
    vae: dict[str, Any]
    text: dict[str, Any]
    vision: dict[str, Any]
    predictor: PredictorConfig
    ltx_transformer: dict[str, Any]
    ltx_vae: dict[str, Any]
    t5: dict[str, Any]
    frames: int
    size: int
    steps: int
    warm_up_steps: int


FULL = Sizes(
    SD15_UNET,
    ADAPTER,
    SD_VAE,
    CLIP_L,
    CLIP_H_VISION,
    PredictorConfig(),
    LTX_TRANSFORMER,
    LTX_VAE,
    T5_XXL,
    frames=16,
    size=512,
    steps=25,
    warm_up_steps=2,
)
TINY = Sizes(  # the sizes of tests/inference/motion/tiny_motion.py
    {
        "sample_size": 32,
        "block_out_channels": [16, 32, 64],
        "layers_per_block": 1,
        "norm_num_groups": 8,
        "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
        "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
        "attention_head_dim": 8,
        "cross_attention_dim": 32,
    },
    {
        "block_out_channels": [16, 32, 64],
        "motion_layers_per_block": 1,
        "motion_num_attention_heads": 2,
        "motion_norm_num_groups": 8,
        "motion_max_seq_length": 16,
    },
    {
        "block_out_channels": [8, 16],
        "latent_channels": 4,
        "sample_size": 64,
        "norm_num_groups": 4,
        "down_block_types": ["DownEncoderBlock2D"] * 2,
        "up_block_types": ["UpDecoderBlock2D"] * 2,
    },
    {
        "vocab_size": 1000,
        "hidden_size": 32,
        "intermediate_size": 37,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "projection_dim": 32,
        "max_position_embeddings": 77,
    },
    {
        "image_size": 32,
        "patch_size": 8,
        "hidden_size": 32,
        "intermediate_size": 37,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "projection_dim": 16,
    },
    PredictorConfig(
        clip_dim=16,
        width=32,
        layers=2,
        heads=4,
        max_frames=8,
        tokens_per_frame=2,
        cross_attention_dim=32,
        ff_mult=2,
    ),
    {
        "in_channels": 8,
        "out_channels": 8,
        "num_attention_heads": 4,
        "attention_head_dim": 8,
        "cross_attention_dim": 32,
        "num_layers": 1,
        "caption_channels": 32,
    },
    {
        "latent_channels": 8,
        "block_out_channels": (8, 8, 8, 8),
        "decoder_block_out_channels": (8, 8, 8, 8),
        "layers_per_block": (1, 1, 1, 1, 1),
        "decoder_layers_per_block": (1, 1, 1, 1, 1),
        "spatio_temporal_scaling": (True, True, False, False),
        "decoder_spatio_temporal_scaling": (True, True, False, False),
        "decoder_inject_noise": (False,) * 5,
        "upsample_residual": (False,) * 4,
        "upsample_factor": (1,) * 4,
        "patch_size": 1,
        "patch_size_t": 1,
    },
    {"vocab_size": 64, "d_model": 32, "d_kv": 8, "d_ff": 37, "num_layers": 1, "num_heads": 4},
    frames=4,
    size=64,
    steps=2,
    warm_up_steps=1,
)


# ---------------------------------------------------------------------------------- models
def build_video_model(sizes: Sizes, device: torch.device, dtype: torch.dtype) -> VideoModel:
    """The editor's video model at ``sizes``, random weights, built directly on ``device``.

    Speed does not depend on the vocabulary, so the byte-level tokenizer of the tests stands in
    for CLIP's (the embedding table keeps its real 49408 rows at full size).
    """
    from diffusers import AutoencoderKL, DDIMScheduler, MotionAdapter, UNet2DConditionModel
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    from tests.inference.tiny_pipelines import tokenizer_with_ids

    tok, ids = tokenizer_with_ids()
    torch.manual_seed(0)
    with torch.device(device):  # random init on the GPU: seconds instead of minutes on the CPU
        parts = SimpleNamespace(
            unet=UNet2DConditionModel(**sizes.unet),
            vae=AutoencoderKL(**sizes.vae),
            text_encoder=CLIPTextModel(CLIPTextConfig(**sizes.text, **ids)),
            tokenizer=tok,
            scheduler=DDIMScheduler(**SD15_SCHEDULER),
        )
        adapter = MotionAdapter(**sizes.adapter)
        encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(**sizes.vision))
        predictor = SemanticMotionPredictor(sizes.predictor)
        model = assemble(parts, adapter, encoder, predictor)
    del parts, adapter  # the 2D UNet and the adapter were copied into the motion UNet
    model.predictor.eval().requires_grad_(False)
    for part in (model.vae, model.unet, model.text_encoder, model.image_encoder, model.predictor):
        part.to(device=device, dtype=dtype)
    return model


class PlainAnimateDiff(VideoModel):
    """The same video model without the paper's addition: no CLIP image encoding, no predictor.

    Its tokens are zero per frame, and :func:`stock_cross_attention` puts diffusers' processor
    back, so the UNet attends to the text tokens only, as published AnimateDiff does.
    """

    def motion_tokens(self, start: torch.Tensor, end: torch.Tensor, frames: int) -> torch.Tensor:
        width = int(self.unet.config.cross_attention_dim)
        return start.new_zeros((start.shape[0], frames, 0, width), dtype=self.dtype)


def plain_of(model: VideoModel) -> PlainAnimateDiff:
    """``model``'s parts (shared, not copied) as a :class:`PlainAnimateDiff`."""
    return PlainAnimateDiff(**{f.name: getattr(model, f.name) for f in dataclasses.fields(model)})


@contextmanager
def stock_cross_attention(unet: Any) -> Iterator[None]:
    """diffusers' own SDPA processor on the spatial cross-attention layers while inside."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    installed = dict(unet.attn_processors)
    plain = AttnProcessor2_0()
    unet.set_attn_processor(
        {n: plain if is_spatial_cross_attention(n) else p for n, p in installed.items()}
    )
    try:
        yield
    finally:
        unet.set_attn_processor(installed)


def build_ltx(sizes: Sizes, device: torch.device, dtype: torch.dtype) -> Any:
    """An LTX-Video condition pipeline at ``sizes``, random weights, built on ``device``.

    A 30-piece unigram tokenizer stands in for T5's (the embedding table keeps 32128 rows).
    """
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import (
        T5Config,
        T5EncoderModel,
        T5Tokenizer,  # transformers 5: the fast (tokenizers) one
    )

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -1.0)]
    pieces += [(chr(c), -1.0) for c in range(97, 123)]
    tokenizer = T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=128)
    torch.manual_seed(0)
    with torch.device(device):
        pipe: Any = LTXConditionPipeline(
            scheduler=FlowMatchEulerDiscreteScheduler(),
            vae=AutoencoderKLLTXVideo(**sizes.ltx_vae),
            text_encoder=T5EncoderModel(T5Config(**sizes.t5)),
            tokenizer=tokenizer,
            transformer=LTXVideoTransformer3DModel(**sizes.ltx_transformer),
        )
    pipe.set_progress_bar_config(disable=True)
    for part in (pipe.vae, pipe.text_encoder, pipe.transformer):
        part.eval().requires_grad_(False).to(device=device, dtype=dtype)
    return pipe


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
