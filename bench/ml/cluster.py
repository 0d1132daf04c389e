"""How a story scales on a Ray cluster of GPUs (``ClusterStoryEngine``), and what a bank costs to
move through Ray's object store.

``gpus``: random-weight SDXL at 1024 px (``random_sdxl.py``), one character with 4 identity
panels and 64 read panels, on 1, 2, 4 and 8 GPUs of this machine (one actor per GPU, a local
cluster): wall time, panels per minute of the whole story and of the read phase, the read phase's
scaling efficiency against one GPU (goal: >= 85 % at 4 GPUs), and the object-store time of the
bank (put on one actor's node, read into another's folder). ``--tiny`` runs it on the CPU with the
tests' tiny SDXL (actors of one thread instead of GPUs), as the smoke test does.

``sample``: the 12-panel sample project (copied to a temp folder) with the built-in model on this
machine's CPU: in process, then on a local cluster of 1 and 2 actors (``docs/benchmarks.md``).

    python -m bench.ml.cluster gpus --gpus 1 2 4 8 --json gpus.json
    python -m bench.ml.cluster gpus --tiny --gpus 1 2
    python -m bench.ml.cluster sample --steps 8 --actors 1 2
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MIB = 1024**2


@dataclass
class Timeline:
    """When each image of a run arrived, from the call's start."""

    start: float = field(default_factory=time.perf_counter)
    identity: list[float] = field(default_factory=list)
    reads: list[float] = field(default_factory=list)

    def on_image(self, image: Any) -> None:
        now = time.perf_counter() - self.start
        (self.identity if image.identity_of is not None else self.reads).append(now)

    @property
    def wall(self) -> float:
        return max(self.identity + self.reads)

    @property
    def read_phase(self) -> float:
        """From the last identity image to the last image (the banks are saved in between)."""
        return self.wall - (max(self.identity) if self.identity else 0.0)


# ------------------------------------------------------------------------------ the story
def story_request(model: str, size: int, steps: int, identity: int, reads: int, batch: int) -> Any:
    from storyboard.core.jobs import CharacterJob, PanelJob, Sampling, StoryRequest

    poses = ["standing", "running", "sitting", "waving", "jumping", "reading"]

    def job(pid: str, n: int, prompt: str) -> PanelJob:
        return PanelJob(pid, pid.upper(), prompt, "blurry", 1000 + n, "none", ("hero",))

    ids = tuple(job(f"i{n}", n, f"a hero {poses[n % len(poses)]}") for n in range(identity))
    rest = tuple(job(f"r{n}", 100 + n, f"the hero in scene {n}") for n in range(reads))
    hero = CharacterJob("hero", "Hero", 7, ids)
    sampling = Sampling(size, size, steps, 5.0, fit_to_model=False)
    return StoryRequest(model, sampling, (*ids, *rest), (hero,), None, batch)


def warm_up(engine: Any, model: str, size: int, actors: int) -> None:
    """One plain panel per actor, so every actor has loaded the model before the timed run."""
    from storyboard.core.jobs import PanelJob, Sampling, StoryRequest

    panels = tuple(PanelJob(f"w{n}", f"W{n}", "a street", "", n, "none") for n in range(actors))
    engine.generate(StoryRequest(model, Sampling(size, size, 1, 5.0, fit_to_model=False), panels))


def bank_transport(ray: Any, bank: Path) -> dict[str, float]:
    """Put a bank's bytes into the object store and read them on another worker into a file."""

    @ray.remote(num_cpus=0)
    def copy_in(refs: list[Any], folder: str) -> float:
        start = time.perf_counter()
        data = ray.get(refs[0])
        target = Path(folder) / "bank.safetensors"
        target.write_bytes(data)
        return time.perf_counter() - start

    data = bank.read_bytes()
    start = time.perf_counter()
    ref = ray.put(data)
    put = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        get = ray.get(copy_in.remote([ref], folder))
    return {"bank_mib": len(data) / MIB, "put_s": put, "get_and_write_s": get}


def run_gpus(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from bench.ml.random_sdxl import save_model
    from inference.cluster.connect import connect
    from inference.cluster.engine import ClusterStoryEngine

    available = torch.cuda.device_count() if not args.tiny else max(args.gpus)
    counts = [g for g in args.gpus if g <= available]
    if not counts:
        raise SystemExit(f"no GPU count of {args.gpus} fits the {available} GPU(s) here")
    device = torch.device("cpu" if args.tiny else "cuda")
    dtype = torch.float32 if args.tiny else torch.float16
    size = args.size or (64 if args.tiny else 1024)
    steps = args.steps or (2 if args.tiny else 20)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        folder = Path(tmp) / "sdxl"  # node-local storage: every actor of this machine loads it
        gib = save_model(folder, args.tiny, device, dtype)
        if device.type == "cuda":
            torch.cuda.empty_cache()
        ray = connect("local", num_cpus=max(counts) if args.tiny else None)
        request = story_request(str(folder), size, steps, args.identity, args.reads, args.batch)
        transport: dict[str, float] = {}
        for gpus in counts:
            engine = ClusterStoryEngine(
                "local",
                actors=gpus,
                threads=1 if args.tiny else None,
                device=device.type,
                banks="shared",
            )
            engine.start()
            warm_up(engine, str(folder), size, gpus)
            cache = Path(tmp) / f"cache-{gpus}"
            timeline = Timeline()
            engine.generate(_with_cache(request, cache), on_image=timeline.on_image)
            rows.append(_row(gpus, timeline, args.identity, args.reads))
            logger.info("%s", rows[-1])
            if not transport:
                transport = bank_transport(ray, next(cache.iterdir()))
            for worker in engine.workers:
                ray.kill(worker.actor, no_restart=True)
        ray.shutdown()
    base = rows[0]["read_panels_per_min"] / rows[0]["gpus"]
    for row in rows:
        row["read_scaling_efficiency"] = row["read_panels_per_min"] / (row["gpus"] * base)
    env = {
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
        "model_folder_gib": round(gib, 2),
        "size": size,
        "steps": steps,
        "batch": args.batch,
        "identity_panels": args.identity,
        "read_panels": args.reads,
    }
    return {"env": env, "rows": rows, "bank_transport": transport}


def _with_cache(request: Any, cache: Path) -> Any:
    from dataclasses import replace

    return replace(request, cache_dir=str(cache))


def _row(gpus: int, timeline: Timeline, identity: int, reads: int) -> dict[str, Any]:
    return {
        "gpus": gpus,
        "wall_s": round(timeline.wall, 2),
        "identity_s": round(max(timeline.identity), 2),
        "read_s": round(timeline.read_phase, 2),
        "panels_per_min": round((identity + reads) / timeline.wall * 60, 2),
        "read_panels_per_min": round(reads / timeline.read_phase * 60, 2),
    }


# ------------------------------------------------------------------------------ the sample
def run_sample(args: argparse.Namespace) -> dict[str, Any]:
    from inference.cluster.engine import ClusterStoryEngine
    from inference.engine.story_engine import StoryEngine
    from storyboard.core.jobs import Overrides, build_story_request
    from storyboard.core.persistence import load_project

    sample = Path(__file__).resolve().parents[2] / "projects" / "sample.storyboard"
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:

        def request(name: str) -> Any:
            bundle = Path(shutil.copytree(sample, Path(tmp) / name / "sample.storyboard"))
            project = load_project(bundle).project
            return build_story_request(
                project, bundle=bundle, overrides=Overrides(steps=args.steps)
            )

        def timed(name: str, generate: Callable[..., Any]) -> None:
            timeline = Timeline()
            generate(request(name), on_image=timeline.on_image)
            rows.append({"run": name, "wall_s": round(timeline.wall, 2)})
            logger.info("%s", rows[-1])

        engine = StoryEngine()
        engine.load(request("load").model)  # the model is loaded before the timed run
        timed("in process", engine.generate)
        for actors in args.actors:
            cluster = ClusterStoryEngine("local", actors=actors, threads=args.threads)
            start = time.perf_counter()
            cluster.start()
            warm_up(cluster, request(f"warm-{actors}").model, 64, actors)
            started = time.perf_counter() - start
            timed(f"cluster, {actors} actor(s)", cluster.generate)
            rows[-1]["start_and_load_s"] = round(started, 2)
            cluster.banks_mode = "object_store"
            timed(f"cluster, {actors} actor(s), banks through the object store", cluster.generate)
            if actors == args.actors[-1]:
                bank = next((Path(tmp) / "in process").rglob("*.safetensors"))
                cost = bank_transport(cluster.ray, bank)
                rows.append({"run": "bank through the object store", **cost})
            cluster.shutdown()
    return {"env": {"cpus": os.cpu_count(), "steps": args.steps}, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    gpus = sub.add_parser("gpus", help="SDXL story on 1..8 GPUs")
    gpus.add_argument("--tiny", action="store_true", help="tiny SDXL on CPU actors (smoke)")
    gpus.add_argument("--gpus", type=int, nargs="+", default=[1, 2, 4, 8])
    gpus.add_argument("--identity", type=int, default=4)
    gpus.add_argument("--reads", type=int, default=64)
    gpus.add_argument("--batch", type=int, default=4)
    gpus.add_argument("--size", type=int, default=None)
    gpus.add_argument("--steps", type=int, default=None)
    gpus.add_argument("--workdir", type=Path, default=None)
    sample = sub.add_parser("sample", help="the 12-panel sample on this machine's CPU")
    sample.add_argument("--steps", type=int, default=8)
    sample.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    sample.add_argument(
        "--threads", type=int, default=None, help="torch threads per actor (default: cores/actors)"
    )
    for p in (gpus, sample):
        p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = run_gpus(args) if args.what == "gpus" else run_sample(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
