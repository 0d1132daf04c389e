"""What regional prompts cost: a panel of two people drawn with a box and its own prompt per
person, against the same panel with one prompt (``inference/engine/regional_prompt.py``).

    python -m bench.ml.regional --res 1024 --steps 30 --repeat 5   # full SDXL, random
    python -m bench.ml.regional --tiny --res 64 --steps 2 --repeat 1   # a CPU smoke run

The two are drawn in turn, ``--repeat`` times, and the ratio is between their medians. Speed
does not depend on the weight values, so the model is SDXL with random weights.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from bench.ml.random_sdxl import save_model
from inference.devices import best_device, default_dtype
from inference.engine.story_engine import StoryEngine
from storyboard.core.jobs import PanelJob, Sampling, StoryRequest

logger = logging.getLogger(__name__)

MIA = "a girl with long red hair in a yellow raincoat"
LEO = "a tall man with short black hair in a green suit"
BOXED = PanelJob(
    "pair", "1A", f"{MIA} and {LEO} on a bridge in the rain", "blurry", 7, "none",
    regions=(("mia", (0.0, 0.0, 0.5, 1.0)), ("leo", (0.5, 0.0, 1.0, 1.0))),
    region_prompts=(("mia", f"{MIA} on a bridge in the rain"),
                    ("leo", f"{LEO} on a bridge in the rain")),
)  # fmt: skip
ONE_PROMPT = replace(BOXED, regions=(), region_prompts=())


def run(args: argparse.Namespace) -> dict[str, float]:
    device = torch.device(args.device or best_device())
    dtype = default_dtype(device)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "model"
        save_model(folder, args.tiny, device, dtype)
        engine = StoryEngine(str(folder), device=str(device), dtype=dtype)
        sampling = Sampling(args.res, args.res, args.steps, 5.0, "ddim", fit_to_model=False)
        requests = {
            name: StoryRequest(str(folder), sampling, (panel,))
            for name, panel in (("one prompt", ONE_PROMPT), ("each box its own prompt", BOXED))
        }
        for request in requests.values():  # load, kernels, allocator
            engine.generate(replace(request, sampling=replace(sampling, steps=min(2, args.steps))))
        times: dict[str, list[float]] = {name: [] for name in requests}
        for _ in range(args.repeat):
            for name, request in requests.items():
                if device.type == "cuda":
                    torch.cuda.synchronize()
                started = time.perf_counter()
                engine.generate(request)
                times[name].append(time.perf_counter() - started)
    result = {name: statistics.median(runs) for name, runs in times.items()}
    result["ratio"] = result["each box its own prompt"] / result["one prompt"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--res", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--device", default=None)
    parser.add_argument("--tiny", action="store_true", help="the tiny test SDXL (CPU smoke run)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = run(args)
    logger.info(
        "| two-person panel, %d px, %d steps | one prompt %.2f s | each box its own prompt "
        "%.2f s | ratio %.3f |",
        args.res, args.steps, result["one prompt"], result["each box its own prompt"],
        result["ratio"],
    )  # fmt: skip
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
