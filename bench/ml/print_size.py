"""What Print size costs: one 1024 px panel brought to 2048 px and to 3072 px, tiled, on SDXL.

    python -m bench.ml.print_size                     # full SDXL, random weights, on the GPU
    python -m bench.ml.print_size --vae-tiling        # ... decoding each tile in 512 px VAE tiles
    python -m bench.ml.print_size --vae-tiling both   # ... without, then with, on one warm engine
    python -m bench.ml.print_size --low-vram          # ... the engine's low-VRAM mode (CPU
                                                      # offload, VAE tiling, bank in pinned memory)
    python -m bench.ml.print_size --tiny --res 64 --sizes 128,192 --steps 4 --device cpu  # smoke

The panel shows a consistent character, so each tile reads its identity bank through CSA as in
the editor; the bank is written (and the img2img pipeline made) by a warm-up run that is not
timed. Each size is then timed once, end to end (``StoryEngine.generate`` on a
``PrintSizeRequest``: the Lanczos enlargement, every tile's low-strength img2img with the bank
read, the blend, the PNG), with the peak CUDA memory allocated and reserved during it (the
peak counters are reset before each), and what stays resident: the model and the character's
bank (``bank_gib``; its size depends on the identity panels and steps, not on the target size:
one identity panel here). The issue's goal: at most 12 GiB at 3072 px. Speed and
memory do not depend on the weight values, so the model is SDXL with random weights
(``random_sdxl.py``).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from bench.ml.csa import GIB
from bench.ml.live_tensors import census
from bench.ml.random_sdxl import save_model
from inference.devices import best_device, default_dtype
from inference.engine.story_engine import StoryEngine
from storyboard.core.jobs import CharacterJob, PanelJob, Sampling
from storyboard.core.print_jobs import PrintJob, PrintSizeRequest

logger = logging.getLogger(__name__)

GOAL_GIB = 12.0
HERO = PanelJob(
    "p1", "1A", "a girl in a yellow raincoat on a bridge", "blurry", 7, "none", ("mia",)
)
IDENTITY = PanelJob(
    "i1", "1B", "a girl in a yellow raincoat, portrait", "blurry", 3, "none", ("mia",)
)
MIA = CharacterJob("mia", "Mia", seed=5, identity_panels=(IDENTITY,))


def panel_file(folder: Path, res: int) -> Path:
    """A ``res`` px square panel (noise: the cost does not depend on what it shows)."""
    rng = np.random.default_rng(0)
    path = folder / "panel.png"
    Image.fromarray(rng.integers(0, 255, (res, res, 3), dtype=np.uint8)).save(path)
    return path


def request(
    model: str, sampling: Sampling, source: Path, size: int, strength: float
) -> PrintSizeRequest:
    job = PrintJob(HERO, str(source), "panel", size, size, 300)
    return PrintSizeRequest(model, sampling, (job,), (MIA,), None, strength=strength)


def run(args: argparse.Namespace) -> dict[str, Any]:
    device = torch.device(args.device or best_device())
    dtype = default_dtype(device)
    cuda = device.type == "cuda"
    results: dict[str, Any] = {
        "device": torch.cuda.get_device_name(device) if cuda else str(device),
        "tile": args.res,
        "steps": args.steps,
        "strength": args.strength,
        "vae_tiling": args.vae_tiling,
        "low_vram": args.low_vram,
        "goal_gib": GOAL_GIB,
        "sizes": {},
    }
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "model"
        save_model(folder, args.tiny, device, dtype)
        source = panel_file(Path(work), args.res)
        engine = StoryEngine(
            str(folder), device=str(device), dtype=dtype, low_vram=args.low_vram, fast=args.fast
        )
        sampling = Sampling(args.res, args.res, args.steps, 5.0, "ddim", fit_to_model=False)
        warm = request(str(folder), sampling, source, args.res, args.strength)
        engine.generate(warm)  # load, write the bank, make the img2img pipeline: not timed
        bank = engine.banks.get_loaded(MIA.character_id)
        results["bank_gib"] = bank.nbytes / GIB if bank is not None else None
        results["resident_gib"] = torch.cuda.memory_allocated(device) / GIB if cuda else None
        # what the resident memory is: the pipeline's modules, the bank, and anything else
        banked = {"bank": list(bank._entries.values())} if bank is not None else {}
        results["resident"] = census(device, engine.pipe.components, banked)
        logger.info("resident after the warm-up: %s", results["resident"])
        passes = {"off": ["sizes"], "on": ["vae_tiled_sizes"], "both": ["sizes", "vae_tiled_sizes"]}
        for key in passes[args.vae_tiling]:
            if key == "vae_tiled_sizes":
                tile_vae(engine.pipe)
                results[key] = {}
            for size in args.sizes:
                row = timed(engine, request(str(folder), sampling, source, size, args.strength))
                results[key][str(size)] = row
                logger.info("%d px%s: %s", size, " (VAE tiles)" if key != "sizes" else "", row)
    return results


def tile_vae(pipe: Any) -> None:
    """Decode (and encode) in 512 px VAE tiles from now on."""
    vae = pipe.vae
    vae.enable_tiling()
    vae.tile_sample_min_size = 512
    vae.tile_latent_min_size = 512 // pipe.vae_scale_factor


def timed(engine: StoryEngine, print_request: PrintSizeRequest) -> dict[str, Any]:
    """One print-size request, end to end: seconds, tiles and the peak CUDA memory during it."""
    device = engine.device
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    started = time.perf_counter()
    (image,) = engine.generate(print_request)
    if cuda:
        torch.cuda.synchronize(device)
    (job,) = print_request.jobs
    assert (image.width, image.height) == (job.width, job.height)
    return {
        "seconds": time.perf_counter() - started,
        "tiles": image.settings["tiles"],
        "peak_allocated_gib": torch.cuda.max_memory_allocated(device) / GIB if cuda else None,
        "peak_reserved_gib": torch.cuda.max_memory_reserved(device) / GIB if cuda else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--res", type=int, default=1024, help="the panel's size, and the tile's")
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[2048, 3072],
        help="target sizes, comma-separated",
    )
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--strength", type=float, default=0.3)
    parser.add_argument(
        "--vae-tiling",
        nargs="?",
        choices=("off", "on", "both"),
        default="off",
        const="on",
        help="decode in 512 px VAE tiles (both: the sizes without, then with, on one engine)",
    )
    parser.add_argument("--low-vram", action="store_true", help="the engine's low-VRAM mode")
    parser.add_argument(
        "--fast", action="store_true", help="with Faster generation (compiled blocks, fp8)"
    )
    parser.add_argument("--device", default=None)
    parser.add_argument("--tiny", action="store_true", help="the tiny test SDXL (CPU smoke run)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = run(args)
    text = json.dumps(result, indent=1)
    logger.info("%s", text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
