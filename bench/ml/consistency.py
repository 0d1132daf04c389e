"""Does Consistent Self-Attention keep a character the same? Measured offline on the toy world.

    python -m bench.ml.consistency [--stories 24] [--device cuda] [--json]

Each story is ``--panels`` panels whose prompts never describe the character ("a person waving on
the left in the park") and change only the scene, position and pose. Without CSA the character's
unstated look is drawn anew in every panel; with CSA it should agree across the story. The
attribute reader (:mod:`training.toyworld.reader`) reads every generated picture back, so the
benchmark prints, per setting:

* agreement: for each appearance attribute, the share of panel pairs of a story that agree, averaged
  over stories (``colour`` = mean over hair, shirt, trousers/skirt colour and hat, whose chance
  levels are 17%, 12.5%, 25% and 25%; ``all`` = every appearance attribute);
* scene, position, pose: the share of panels whose scene (position, pose) reads as prompted (CSA
  must not drag backgrounds, or the figure's place and pose, along from other panels);
* and, once, the prompt adherence of the plain model: pictures whose prompt states every attribute
  and the scene, read back attribute by attribute and as a whole.

The first ``--identity`` panels of a story are its identity panels (one write batch), the rest are
read from the bank in one batch, as the engine does. ``region`` settings give the character a box
around the prompted position: only tokens inside it are shared and only tokens inside it look at
the bank, which keeps the backgrounds apart.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from inference.bank.identity_bank import IdentityBank
from inference.csa.config import CSAConfig
from inference.csa.processor import install_consistent_attention
from inference.csa.state import Box, PanelSpec, StoryAttention
from inference.engine.regional_prompt import RegionalPrompting, plan_regions
from training.toyworld.model import MODEL_DIR, load_pipeline
from training.toyworld.reader import READER_FILE, AttributeReader, load_reader
from training.toyworld.render import position_box
from training.toyworld.two_people import (
    left_and_right,
    two_person_adherence,
    two_person_prompt,
    two_person_regions,
)
from training.toyworld.world import (
    APPEARANCE,
    PERSON_ATTRIBUTES,
    POSE_WORDS,
    POSITION_PHRASES,
    SCENE_PHRASES,
    SCENES,
    describe_person,
    sample_world,
)

logger = logging.getLogger(__name__)

COLOURS = ("hair", "shirt", "bottom_colour", "hat")
STATED = ("scene", "position", "pose")
"""What a story's prompts state: read back as prompted in every panel, whatever CSA shares."""
STRONG = CSAConfig(rate_low=1.0, rate_high=1.0, p_early=1.0, p_late=1.0)


@dataclass(frozen=True)
class Setting:
    name: str
    csa: CSAConfig | None  # None: plain attention
    regions: bool = False


READ_AHEAD = 0.3


def settings(read_ahead: float = READ_AHEAD) -> tuple[Setting, ...]:
    """The settings compared; ``+ahead`` ones read the bank ``read_ahead`` of the steps ahead."""
    paper, strong = CSAConfig(), STRONG
    return (
        Setting("plain", None),
        Setting("paper", paper),
        Setting("paper+region", paper, regions=True),
        Setting("paper+ahead", replace(paper, read_ahead=read_ahead)),
        Setting("strong", strong),
        Setting("strong+region", strong, regions=True),
        Setting("strong+ahead", replace(strong, read_ahead=read_ahead)),
    )


@dataclass(frozen=True)
class Panel:
    prompt: str
    scene: int
    box: Box
    seed: int
    position: int
    pose: int


def make_stories(count: int, panels: int, seed: int) -> list[list[Panel]]:
    """Stories whose prompts state scene, position and pose only; one scene per panel."""
    generator = torch.Generator().manual_seed(seed)
    stories = []
    positions = PERSON_ATTRIBUTES["position"]
    poses = PERSON_ATTRIBUTES["pose"]
    for s in range(count):
        order = torch.randperm(len(SCENES), generator=generator).tolist()
        story = []
        for p in range(panels):
            scene = order[p % len(SCENES)]
            position = positions[int(torch.randint(3, (1,), generator=generator))]
            pose = poses[int(torch.randint(3, (1,), generator=generator))]
            prompt = (
                f"a person {POSE_WORDS[pose]} {POSITION_PHRASES[position]} "
                f"{SCENE_PHRASES[SCENES[scene]]}"
            )
            box, seed_p = position_box(position), seed * 1000 + s * 16 + p
            story.append(
                Panel(prompt, scene, box, seed_p, positions.index(position), poses.index(pose))
            )
        stories.append(story)
    return stories


class Generator:
    """The toy-world pipeline with CSA installed, generating batches of panels."""

    def __init__(self, model: Path, device: torch.device, steps: int, guidance: float) -> None:
        self.device = device
        self.pipe = load_pipeline(model).to(device)
        self.pipe.set_progress_bar_config(disable=True)
        self.story: StoryAttention = install_consistent_attention(self.pipe.unet, CSAConfig())
        self.regional = RegionalPrompting(self.pipe.unet)
        self.steps, self.guidance = steps, guidance
        vsf = self.pipe.vae_scale_factor
        size = self.pipe.unet.config.sample_size * vsf
        self.size = size
        self.latent = (size // vsf, size // vsf)

    def images(self, prompts: list[str], seeds: list[int]) -> torch.Tensor:
        generators = [torch.Generator(self.device).manual_seed(s) for s in seeds]
        out = self.pipe(
            prompt=prompts,
            negative_prompt=[""] * len(prompts),
            num_inference_steps=self.steps,
            guidance_scale=self.guidance,
            generator=generators,
            height=self.size,
            width=self.size,
            output_type="pt",
        )
        return out.images.float().cpu()

    def many_regional(
        self, prompts: list[str], regions: list[list[tuple[Box, str]]], seed: int, batch: int = 32
    ) -> torch.Tensor:
        """Like :meth:`many`, each picture's boxes drawn from their own prompts."""
        parts = []
        for i in range(0, len(prompts), batch):
            chunk = regions[i : i + batch]
            cfg = self.guidance > 1.0
            self.regional.begin(plan_regions(self.pipe, chunk, self.latent, cfg, self.device))
            try:
                parts.append(self.many(prompts[i : i + batch], seed + i, batch))
            finally:
                self.regional.end()
        return torch.cat(parts)

    def many(self, prompts: list[str], seed: int, batch: int = 32) -> torch.Tensor:
        """Pictures of ``prompts`` in batches, picture ``i`` from seed ``seed + i``."""
        parts = []
        for i in range(0, len(prompts), batch):
            chunk = prompts[i : i + batch]
            parts.append(self.images(chunk, [seed + i + j for j in range(len(chunk))]))
        return torch.cat(parts)

    def story_images(self, story: list[Panel], setting: Setting, identity: int) -> torch.Tensor:
        prompts, seeds = [p.prompt for p in story], [p.seed for p in story]
        if setting.csa is None:
            return self.images(prompts, seeds)
        st = self.story
        st.config = setting.csa
        cfg = self.guidance > 1.0
        bank = st.new_bank(
            "hero", num_images=identity, num_steps=self.steps, latent_size=self.latent, cfg=cfg
        )
        regions = [p.box for p in story[:identity]] if setting.regions else None
        st.begin_write(bank, seed=seeds[0], regions=regions)
        try:
            first = self.images(prompts[:identity], seeds[:identity])
        finally:
            st.end()
        if identity == len(story):
            return first
        specs = [
            PanelSpec(("hero",), {"hero": p.box} if setting.regions else {})
            for p in story[identity:]
        ]
        st.begin_read(specs, {"hero": bank}, num_steps=self.steps, latent_size=self.latent, cfg=cfg)
        try:
            rest = self.images(prompts[identity:], seeds[identity:])
        finally:
            st.end()
        return torch.cat([first, rest])


def agreement(read: dict[str, torch.Tensor], stories: int, panels: int) -> dict[str, float]:
    """Share of agreeing panel pairs per appearance attribute, averaged over stories."""
    pairs = list(itertools.combinations(range(panels), 2))
    out = {}
    for name in APPEARANCE:
        values = read[name].view(stories, panels)
        same = [(values[:, i] == values[:, j]).float() for i, j in pairs]
        out[name] = float(torch.stack(same).mean())
    out["colour"] = sum(out[k] for k in COLOURS) / len(COLOURS)
    out["all"] = sum(out[k] for k in APPEARANCE) / len(APPEARANCE)
    return out


def prompt_adherence(
    gen: Generator, reader: AttributeReader, count: int, seed: int
) -> dict[str, float]:
    """Pictures whose prompt states everything: per-attribute and whole-picture accuracy."""
    world = sample_world(count, torch.Generator().manual_seed(seed), two_people=0.0)
    every = set(PERSON_ATTRIBUTES)
    prompts = [
        f"{describe_person(world.person(i), every)} {SCENE_PHRASES[world.scene_name(i)]}"
        for i in range(count)
    ]
    images = gen.many(prompts, seed)
    read = reader.read(images)
    correct = {"scene": read["scene"] == world.scene}
    for name in (*APPEARANCE, "position", "pose"):
        correct[name] = read[name] == world.people[name][:, 0]
    out = {k: float(v.float().mean()) for k, v in correct.items()}
    out["whole picture"] = float(torch.stack(list(correct.values())).all(0).float().mean())
    return out


def engine_story_seconds(model: str, device: str, steps: int, guidance: float) -> dict[str, float]:
    """Wall time of a 4-panel story (2 identity panels, 2 more) through the editor's engine."""
    from inference.engine.story_engine import StoryEngine
    from storyboard.core.jobs import CharacterJob, PanelJob, Sampling, StoryRequest

    def panel(i: int, where: str) -> PanelJob:
        prompt = f"a person waving {where} {SCENE_PHRASES[SCENES[i]]}"
        return PanelJob(f"p{i}", str(i + 1), prompt, "", 100 + i, "none", ("hero",))

    panels = tuple(panel(i, w) for i, w in enumerate(POSITION_PHRASES.values()))
    panels += (panel(3, "on the left"),)
    hero = CharacterJob("hero", "Hero", 7, panels[:2], rate_low=1.0, rate_high=1.0)  # the sample's
    request = StoryRequest(model, Sampling(64, 64, steps, guidance), panels, (hero,))
    engine = StoryEngine(device=device)
    started = time.perf_counter()
    engine.load(model)
    loaded = time.perf_counter()
    engine.generate(request)
    first = time.perf_counter()
    engine.banks.clear()
    engine.generate(request)
    again = time.perf_counter()
    return {"load": loaded - started, "first story": first - loaded, "story": again - first}


def run(args: argparse.Namespace) -> dict[str, Any]:
    device = torch.device(args.device)
    encode_on = frozenset({"cpu", "cuda"}) if args.fp8_bank else IdentityBank.encode_on
    gen = Generator(Path(args.model), device, args.steps, args.guidance)
    reader = load_reader(Path(args.reader)).to(device)
    stories = make_stories(args.stories, args.panels, args.seed)
    result: dict[str, Any] = {
        "stories": args.stories,
        "panels": args.panels,
        "identity": args.identity,
        "steps": args.steps,
        "guidance": args.guidance,
        "device": str(device),
        "bank": "fp8" if device.type in encode_on else "model dtype",
        "settings": {},
    }
    for setting in settings(args.read_ahead):
        if args.only and setting.name not in args.only:
            continue
        started = time.perf_counter()
        with IdentityBank.encoded_on(encode_on):
            images = torch.cat([gen.story_images(s, setting, args.identity) for s in stories])
        read = reader.read(images.to(device))
        row = agreement(read, args.stories, args.panels)
        for name in STATED:
            prompted = torch.tensor([getattr(p, name) for s in stories for p in s])
            row[name] = float((read[name].cpu() == prompted).float().mean())
        row["seconds per story"] = (time.perf_counter() - started) / args.stories
        result["settings"][setting.name] = row
        logger.info("%s: %s", setting.name, row)
        if args.save_images:
            _save_grid(images, args.panels, Path(args.save_images) / f"{setting.name}.png")
    if args.engine:
        result["engine seconds"] = engine_story_seconds(
            args.model, args.device, args.steps, args.guidance
        )
    if args.adherence:
        result["prompt adherence"] = prompt_adherence(gen, reader, args.adherence, args.seed + 7)
    if args.two_people:
        world = left_and_right(args.two_people, torch.Generator().manual_seed(args.seed + 11))
        prompts = [two_person_prompt(world, i) for i in range(len(world))]
        images = gen.many(prompts, args.seed + 11)
        result["two people"] = two_person_adherence(images, world, reader)
        regions = [two_person_regions(world, i) for i in range(len(world))]
        boxed = gen.many_regional(prompts, regions, args.seed + 11)
        result["two people, boxed"] = two_person_adherence(boxed, world, reader)
    return result


def _save_grid(images: torch.Tensor, panels: int, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rows = min(8, images.shape[0] // panels)
    grid = images[: rows * panels].view(rows, panels, 3, 64, 64).permute(2, 0, 3, 1, 4)
    grid = grid.reshape(3, rows * 64, panels * 64).permute(1, 2, 0)
    Image.fromarray((grid.clamp(0, 1) * 255).byte().numpy()).save(path)


def format_table(result: dict[str, Any]) -> str:
    cols = ["colour", "all", *APPEARANCE, *STATED, "seconds per story"]
    lines = [
        f"{result['stories']} stories x {result['panels']} panels ({result['identity']} identity), "
        f"{result['steps']} steps, guidance {result['guidance']:g}, {result['device']}, "
        f"{result['bank']} bank",
        "setting".ljust(14) + "".join(c[:9].rjust(10) for c in cols),
    ]
    for name, row in result["settings"].items():
        lines.append(name.ljust(14) + "".join(f"{row[c]:10.3f}" for c in cols))
    if "engine seconds" in result:
        timing = result["engine seconds"]
        lines.append(
            "engine, 4-panel story: " + ", ".join(f"{k} {v:.2f} s" for k, v in timing.items())
        )
    if "prompt adherence" in result:
        lines.append("prompt adherence (plain, everything stated):")
        lines += [f"  {k:16s} {v:.3f}" for k, v in result["prompt adherence"].items()]
    if "two people" in result:
        lines.append("two people, both described whole (plain), read one at a time:")
        lines += [f"  {k:28s} {v:.3f}" for k, v in result["two people"].items()]
        lines.append("two people, each in a box with its own prompt (regional prompts):")
        lines += [f"  {k:28s} {v:.3f}" for k, v in result["two people, boxed"].items()]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(MODEL_DIR))
    parser.add_argument("--reader", default=str(READER_FILE))
    parser.add_argument("--stories", type=int, default=24)
    parser.add_argument("--panels", type=int, default=6)
    parser.add_argument("--identity", type=int, default=3)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--guidance", type=float, default=4.0)
    parser.add_argument("--adherence", type=int, default=200, help="pictures; 0 skips")
    parser.add_argument(
        "--two-people", type=int, default=0, help="two-person pictures (left and right); 0 skips"
    )
    parser.add_argument("--only", nargs="*", help="setting names to run")
    parser.add_argument(
        "--read-ahead",
        type=float,
        default=READ_AHEAD,
        help="share of steps, +ahead settings",
    )
    parser.add_argument("--engine", action="store_true", help="time a 4-panel story in the engine")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--save-images", default="", help="folder for one grid per setting")
    parser.add_argument(
        "--fp8-bank",
        action="store_true",
        help="encode banks on the CPU too (on a GPU they always are)",
    )
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = run(args)
    print(json.dumps(result) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
