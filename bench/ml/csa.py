"""GPU benchmark of Consistent Self-Attention against plain SDPA, all ratios from one run.

    python -m bench.ml.csa                 # full SDXL UNet, fp16, 30 steps, 768 and 1024 px
    python -m bench.ml.csa --tiny          # tiny UNet on the CPU: checks the script itself

The UNet is built from SDXL's config with random weights (speed does not depend on the weight
values). Only the denoising loop is timed (DDIM, classifier-free guidance, batch = 2 x panels), as
in ``research/perf-anchor.md``, so the numbers compare with the official code's measured there.

Rows, per resolution: plain SDPA with 4 and 8 panels (the baselines), CSA write of 4 identity panels
with the bank on the GPU and offloaded to pinned CPU memory, CSA read of 8 panels (batched) from
either bank (and from the GPU bank once more with the bank's K/V copied per panel, the path used
when no split kernel is available), a mixed read (two characters, region boxes, a panel without
characters), and a full story (write 4 + read 8, offloaded) whose peak includes the UNet weights.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from inference.bank.identity_bank import IdentityBank
from inference.csa.config import CSAConfig
from inference.csa.processor import (
    install_consistent_attention,
    uninstall_consistent_attention,
)
from inference.csa.state import PanelSpec, StoryAttention
from inference.engine.schedulers import sdxl_ddim

logger = logging.getLogger(__name__)
GIB = 1024**3

SDXL_UNET: dict[str, Any] = {
    "sample_size": 128,
    "in_channels": 4,
    "out_channels": 4,
    "block_out_channels": [320, 640, 1280],
    "layers_per_block": 2,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "attention_head_dim": [5, 10, 20],
    "transformer_layers_per_block": [1, 2, 10],
    "cross_attention_dim": 2048,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
}
TINY_UNET: dict[str, Any] = {
    "sample_size": 16,
    "block_out_channels": [16, 32, 64],
    "layers_per_block": 1,
    "norm_num_groups": 8,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "attention_head_dim": [2, 4, 8],
    "transformer_layers_per_block": [1, 1, 2],
    "cross_attention_dim": 64,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 8,
    "projection_class_embeddings_input_dim": 6 * 8 + 32,
}


@dataclass
class Row:
    """One measured configuration."""

    mode: str
    res: int
    panels: int
    seconds: float
    peak_over_weights_gib: float
    peak_total_gib: float
    baseline: str = ""
    ratio: float = 0.0
    notes: dict[str, float] = field(default_factory=dict)


class Bench:
    """A UNet, its fake conditioning and a DDIM loop; each method runs one configuration."""

    def __init__(self, unet: Any, device: torch.device, dtype: torch.dtype, steps: int) -> None:

        self.unet: Any = unet
        self.device = device
        self.dtype = dtype
        self.steps = steps
        self.scheduler: Any = sdxl_ddim()
        cfg = unet.config
        self.context_dim = cfg.cross_attention_dim
        self.text_embed_dim = cfg.projection_class_embeddings_input_dim - 6 * (
            cfg.addition_time_embed_dim
        )

    def denoise(self, panels: int, res: int, steps: int, seed: int = 0) -> torch.Tensor:
        """The SDXL pipeline's UNet loop, with random prompt embeddings."""
        dev, dt = self.device, self.dtype
        gen = torch.Generator(device=dev).manual_seed(seed)
        lat = res // 8
        latents = torch.randn((panels, 4, lat, lat), generator=gen, device=dev, dtype=dt)
        batch = 2 * panels
        context = torch.randn((batch, 77, self.context_dim), generator=gen, device=dev, dtype=dt)
        pooled = torch.randn((batch, self.text_embed_dim), generator=gen, device=dev, dtype=dt)
        time_ids = torch.tensor([res, res, 0, 0, res, res], device=dev, dtype=dt).repeat(batch, 1)
        added = {"text_embeds": pooled, "time_ids": time_ids}
        self.scheduler.set_timesteps(steps, device=dev)
        with torch.inference_mode():
            for t in self.scheduler.timesteps:
                model_in = self.scheduler.scale_model_input(torch.cat([latents] * 2), t)
                noise = self.unet(
                    model_in, t, encoder_hidden_states=context, added_cond_kwargs=added
                ).sample
                uncond, cond = noise.chunk(2)
                noise = uncond + 5.0 * (cond - uncond)
                latents = self.scheduler.step(noise, t, latents).prev_sample
        return latents


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(
    device: torch.device, fn: Callable[[], object], base_bytes: int | None = None
) -> tuple[float, float, float]:
    """Seconds, peak GiB over ``base_bytes`` (default: what was allocated before: the weights,
    and a bank on the GPU when reading from one) and peak GiB in total."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device) if base_bytes is None else base_bytes
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    seconds = time.perf_counter() - start
    if device.type != "cuda":
        return seconds, 0.0, 0.0
    peak = torch.cuda.max_memory_allocated(device)
    return seconds, (peak - before) / GIB, peak / GIB


class Resolution:
    """The measurements at one resolution; each method adds rows with ratios to a baseline."""

    def __init__(self, bench: Bench, config: CSAConfig, res: int, args: argparse.Namespace) -> None:
        self.bench, self.config, self.res = bench, config, res
        self.steps, self.n_id, self.n_read = bench.steps, args.write_panels, args.read_panels
        self.latent = (res // 8, res // 8)
        self.rows: list[Row] = []
        self.backends: list[tuple[str, ...]] = [
            tuple(b for b in spec.split("+") if b and b != "default") for spec in args.backends
        ]

    def add(
        self,
        mode: str,
        panels: int,
        fn: Callable[[], object],
        baseline: Row | None = None,
        base_bytes: int | None = None,
    ) -> Row:
        seconds, over, total = measure(self.bench.device, fn, base_bytes)
        row = Row(mode, self.res, panels, seconds, over, total)
        if baseline is not None:
            row.baseline, row.ratio = baseline.mode, seconds / baseline.seconds
        self.rows.append(row)
        logger.info("%s %d: %.2f s, +%.2f GiB (%.2f total)", mode, self.res, seconds, over, total)
        return row

    def write(self, story: StoryAttention, offload: bool, seed: int = 1) -> IdentityBank:
        bank = story.new_bank(
            "hero",
            num_images=self.n_id,
            num_steps=self.steps,
            latent_size=self.latent,
            offload=offload,
        )
        story.begin_write(bank, seed=seed)
        self.bench.denoise(self.n_id, self.res, self.steps, seed=seed)
        story.end()
        return bank

    def read(self, story: StoryAttention, panels: list[PanelSpec], banks: dict[str, Any]) -> None:
        story.begin_read(panels, banks, num_steps=self.steps, latent_size=self.latent)
        self.bench.denoise(len(panels), self.res, self.steps, seed=2)
        story.end()

    def warm_up(self) -> None:
        """Kernel selection and allocator growth for every path, with a few steps."""
        bench, steps = self.bench, self.steps
        self.steps = min(3, steps)
        story = install_consistent_attention(bench.unet, self.config)
        for offload in (False, True):
            bank = self.write(story, offload)
            self.read(story, mixed_panels(self.n_read), {"a": bank, "b": bank})
            for split in (True, False):
                story.split_read = split
                self.read(story, [PanelSpec(("a",))] * self.n_read, {"a": bank})
            story.split_read = True
        uninstall_consistent_attention(bench.unet, story)
        bench.denoise(self.n_id, self.res, self.steps)
        bench.denoise(self.n_read, self.res, self.steps)
        self.steps = steps

    def run(self) -> list[Row]:
        bench, res, steps, n_id, n_read = self.bench, self.res, self.steps, self.n_id, self.n_read
        self.warm_up()
        plain_id = self.add(
            f"plain SDPA, {n_id} panels", n_id, lambda: bench.denoise(n_id, res, steps)
        )
        plain_read = self.add(
            f"plain SDPA, {n_read} panels", n_read, lambda: bench.denoise(n_read, res, steps)
        )
        story = install_consistent_attention(bench.unet, self.config)
        one = [PanelSpec(("hero",))] * n_read
        for backends in self.backends:
            story.cuda_backends = backends
            label = "+".join(backends) if backends else "torch default"
            holder: list[IdentityBank] = []

            def write(holder: list[IdentityBank] = holder) -> None:
                holder.append(self.write(story, offload=False))

            def read(holder: list[IdentityBank] = holder) -> None:
                self.read(story, one, {"hero": holder[0]})

            row = self.add(
                f"CSA write, {n_id} id panels, bank on GPU, SDPA {label}", n_id, write, plain_id
            )
            row.notes["bank_gib"] = holder[0].nbytes / GIB
            row.notes["bank_entries"] = len(holder[0])
            self.add(
                f"CSA read, {n_read} panels batched, bank on GPU, SDPA {label}",
                n_read,
                read,
                plain_read,
            )
            if backends == self.backends[0]:  # the path before the split read, for comparison
                story.split_read = False
                self.add(
                    f"CSA read, {n_read} panels batched, bank on GPU, bank K/V copied per panel",
                    n_read,
                    read,
                    plain_read,
                )
                story.split_read = True
            holder.clear()
        # offloaded bank: pinned buffers made now, cold (torch's pinned cache emptied too)
        if hasattr(torch._C, "_host_emptyCache"):
            torch._C._host_emptyCache()
        banks: list[IdentityBank] = []
        row = self.add(
            f"CSA write, {n_id} id panels, bank offloaded (pinned CPU, cold)",
            n_id,
            lambda: banks.append(self.write(story, offload=True)),
            plain_id,
        )
        row.notes["bank_gib"] = banks[0].nbytes / GIB
        row.notes["pin_thread_s"], row.notes["pin_wait_s"] = banks[0].pinning_seconds
        self.add(
            f"CSA read, {n_read} panels batched, bank offloaded",
            n_read,
            lambda: self.read(story, one, {"hero": banks[0]}),
            plain_read,
        )
        two = {"a": banks[0], "b": banks[0]}
        self.add(
            f"CSA read, {n_read} panels, 2 characters + boxes + empty, offloaded",
            n_read,
            lambda: self.read(story, mixed_panels(n_read), two),
            plain_read,
        )
        banks.clear()
        two.clear()

        def full_story() -> None:
            bank = self.write(story, offload=True)
            self.read(story, one, {"hero": bank})

        row = self.add(
            f"full story: write {n_id} + read {n_read}, offloaded",
            n_id + n_read,
            full_story,
            base_bytes=0,
        )
        row.notes["unet_weights_gib"] = (
            sum(p.numel() * p.element_size() for p in bench.unet.parameters()) / GIB
        )
        uninstall_consistent_attention(bench.unet, story)
        self.add(
            f"plain SDPA, {n_id} panels (again)",
            n_id,
            lambda: bench.denoise(n_id, res, steps),
            plain_id,
        )
        return self.rows


def mixed_panels(count: int) -> list[PanelSpec]:
    """Read panels mixing two characters with boxes, one character, and none."""
    kinds = [
        PanelSpec(("a", "b"), {"a": (0.0, 0.0, 0.55, 1.0), "b": (0.45, 0.0, 1.0, 1.0)}),
        PanelSpec(("a",)),
        PanelSpec(("b",), {"b": (0.2, 0.1, 0.8, 1.0)}),
        PanelSpec(()),
    ]
    return [kinds[i % len(kinds)] for i in range(count)]


def format_table(rows: list[Row]) -> str:
    """Markdown table of the rows."""
    lines = [
        "| mode | res | seconds | s/step | ratio | peak GiB over allocated before | peak GiB total "
        "| notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        notes = ", ".join(f"{k} {v:.2f}" for k, v in r.notes.items())
        ratio = f"{r.ratio:.3f}x" if r.ratio else ""
        lines.append(
            f"| {r.mode} | {r.res} | {r.seconds:.2f} | {r.seconds / STEPS_FOR_TABLE[0]:.3f} | "
            f"{ratio} | {r.peak_over_weights_gib:.2f} | {r.peak_total_gib:.2f} | {notes} |"
        )
    return "\n".join(lines)


STEPS_FOR_TABLE = [30]


def environment(device: torch.device) -> dict[str, str]:
    """Card and versions, for the record."""
    import diffusers

    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "device": str(device),
    }
    if device.type == "cuda":
        env["card"] = torch.cuda.get_device_name(device)
        env["cuda"] = str(torch.version.cuda)
        env["sdpa_flash"] = str(torch.backends.cuda.flash_sdp_enabled())
    return env


def main(argv: list[str] | None = None) -> int:
    """Entry point; prints the table and optionally writes JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny UNet on the CPU (smoke test)")
    parser.add_argument("--res", type=int, nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--write-panels", type=int, default=4)
    parser.add_argument("--read-panels", type=int, default=8)
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["default"],
        help="SDPA kernel orders to compare for the CSA calls ('default' = torch's choice); "
        "the offloaded and full-story rows use the last",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    from diffusers import UNet2DConditionModel

    if args.tiny:
        torch.set_num_threads(1)  # a tiny model only slows down with more threads
        device, dtype = torch.device("cpu"), torch.float32
        resolutions, steps = args.res or [128], args.steps or 4
        torch.manual_seed(0)
        unet: Any = UNet2DConditionModel(**TINY_UNET)
        unet.eval()
    else:
        if not torch.cuda.is_available():
            print("no CUDA device; use --tiny for a CPU smoke run", file=sys.stderr)
            return 2
        device, dtype = torch.device("cuda"), torch.float16
        resolutions, steps = args.res or [768, 1024], args.steps or 30
        torch.manual_seed(0)
        start = time.perf_counter()
        with torch.device(device):
            unet = UNet2DConditionModel(**SDXL_UNET)
        unet = unet.to(dtype).eval()
        torch.cuda.empty_cache()
        logger.info("built SDXL UNet in %.1f s", time.perf_counter() - start)
    STEPS_FOR_TABLE[0] = steps
    bench = Bench(unet, device, dtype, steps)
    rows: list[Row] = []
    for res in resolutions:
        rows.extend(Resolution(bench, CSAConfig(), res, args).run())
    env = environment(device)
    print(json.dumps(env))
    print(format_table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps({"env": env, "rows": [asdict(r) for r in rows]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
