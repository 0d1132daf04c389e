"""``main.py print-size``: bring the panels on comic pages to the pixels their frames need.

The plan comes from the comic the export makes with the same options (page preset, bleed, the
panels on no page on automatic pages unless ``--placed-only``): each panel printing under
``--dpi`` is enlarged and refined by the engine (:mod:`inference.engine.print_run`), and each
result is stored, added to its panel as a candidate, accepted, and the project saved the moment
it exists, as ``generate`` does (same lock, same save guard, same Ctrl-C). ``--dry-run`` only
says what would be done.

torch is imported only when something is to be enlarged.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from storyboard.cli_generate import ProjectSaver
from storyboard.cli_progress import ProgressLine, RunWords, run_interruptible, run_locked
from storyboard.core.assets import AssetStore
from storyboard.core.jobs import Overrides, generated_png, new_candidate
from storyboard.core.ownership import Program, ProjectLock
from storyboard.core.persistence import LoadedProject
from storyboard.core.print_jobs import (
    DEFAULT_STRENGTH,
    MAX_SCALE,
    build_print_request,
    print_record_commands,
)

if TYPE_CHECKING:
    from inference.results import GeneratedImage, Progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path)
    parser.add_argument(
        "--dpi", type=int, default=300, metavar="N", help="the print resolution to reach (300)"
    )
    parser.add_argument(
        "--pages", metavar="LIST", help="only these comic pages, e.g. 1,3-5,cover (default: all)"
    )
    parser.add_argument("--preset", help="page preset, as export-pdf (default: the project's)")
    parser.add_argument("--no-bleed", action="store_true", help="trim size only, as export-pdf")
    parser.add_argument(
        "--placed-only", action="store_true", help="only the panels on your pages, as export-pdf"
    )
    parser.add_argument(
        "--strength",
        type=float,
        default=DEFAULT_STRENGTH,
        metavar="F",
        help=f"refine strength, 0 (plain enlargement) to 1 ({DEFAULT_STRENGTH:g})",
    )
    parser.add_argument(
        "--max-scale",
        type=float,
        default=MAX_SCALE,
        metavar="F",
        help=f"enlarge a picture at most this much per side in one run ({MAX_SCALE:g})",
    )
    parser.add_argument("--dry-run", action="store_true", help="only list what would be done")
    parser.add_argument(
        "--model-config", metavar="DIR", help="diffusers folder giving a .safetensors its configs"
    )
    parser.add_argument("--device", choices=("cuda", "mps", "cpu"), help="default: the best one")
    parser.add_argument(
        "--low-vram", action="store_true", help="model CPU offload, VAE tiling, bank offload"
    )


class _Bar(ProgressLine):
    """Which panel, which step of its tiles, how many panels."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out, "loading the model...")

    def __call__(self, p: Progress) -> None:
        if p.phase == "loading":
            self.loading()
            return
        if p.phase != "print size":  # a missing identity bank being written first
            self.show(p.step, p.total, f"identity bank step {p.step}/{p.total}")
            return
        self.show(
            p.step,
            p.total,
            f"print size {','.join(p.labels)} step {p.step}/{p.total}, "
            f"{p.images_done}/{p.images_total} panels",
        )


def run_print_size(args: argparse.Namespace) -> int:
    advice = "Close it in the editor first, or use Generate > Print size there"
    return run_locked(args, Program.PRINT_SIZE, advice, _print_size)


def _print_size(args: argparse.Namespace, loaded: LoadedProject, lock: ProjectLock) -> int:
    from storyboard.export.comic_pdf import ComicOptions
    from storyboard.export.headless import gui_application
    from storyboard.export.print_size import parse_pages, plan_print_size

    project, bundle = loaded.project, loaded.path
    if not 0.0 <= args.strength <= 1.0:  # said before the plan, not after it
        raise ValueError(f"--strength must be within 0..1, not {args.strength:g}")
    gui_application()
    options = ComicOptions(
        preset=args.preset, bleed=not args.no_bleed, all_panels=not args.placed_only
    )
    pages = parse_pages(args.pages) if args.pages else None
    plan = plan_print_size(project, bundle, args.dpi, options, pages, args.max_scale)
    for line in plan.describe():
        sys.stdout.write(line + "\n")
    if args.dry_run or not plan.targets:
        return 0
    saver = ProjectSaver(loaded, lock)
    request = build_print_request(
        project, list(plan.targets), bundle=bundle, strength=args.strength, overrides=Overrides()
    )

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from inference.engine.story_engine import StoryEngine

    store = AssetStore(bundle)
    saved: list[str] = []

    def record(image: GeneratedImage) -> None:
        png = generated_png(image.png, image.job, model=image.model, settings=image.settings)
        asset = store.put(png)
        candidate = new_candidate(asset, image.job, model=image.model, settings=image.settings)
        for command in print_record_commands(image.job.panel_id, candidate):
            command.apply(project)
        saver.save()
        saved.append(f"{image.job.label} {image.width}x{image.height}")

    def work(stop: threading.Event) -> None:
        engine = StoryEngine(
            request.model,
            device=args.device,
            low_vram=args.low_vram,
            model_config=args.model_config,
        )
        engine.generate(request, progress=bar, cancelled=stop, on_image=record)

    bar = _Bar(sys.stderr)
    # the panels enlarged before a full disk stopped the run are sharp enough now: planned again,
    # a second run skips them
    words = RunWords(
        "print-size", "enlarged panel(s)", bundle, rerun=lambda: "run print-size again"
    )
    failed = run_interruptible(work, bar, words, saved)
    if failed is not None:
        return failed
    sys.stdout.write(f"enlarged {len(saved)} panel(s) ({', '.join(saved)}) in {bundle}\n")
    return 0
