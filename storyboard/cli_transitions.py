"""``main.py transitions``: generated clips between neighbouring panels, without the window.

The second stage of the paper's long video (``generate`` makes the panels, this the motion
between them): one clip per neighbouring pair of panels with images, made on the transition
engine and model the editor would use (``storyboard.core.transition_setup``: the settings'
choice, else the image model preset's own video model). Each clip is stored as its panel's
generated transition and the project is saved (atomically) the moment it exists, so Ctrl-C, a
crash or a full disk loses at most the clip being made; a second run skips what is done.

Pairs: the whole story's pairs inside each scene, ``--scene N``'s, or those between the panels of
``--panels`` (``storyboard.core.transition_jobs`` says why scene cuts are left out unless both
panels are listed). Pairs that already play a generated clip are kept unless ``--regenerate``.

The project lock, the save checks and Ctrl-C are ``generate``'s (:mod:`storyboard.cli_generate`).
torch is imported only once there is a clip to make.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from storyboard.cli_generate import ProjectSaver, parse_size
from storyboard.cli_progress import ProgressLine, RunWords, run_interruptible, run_locked
from storyboard.core.assets import AssetStore
from storyboard.core.jobs import MAX_STEPS
from storyboard.core.model import Project
from storyboard.core.numbering import find_panels
from storyboard.core.ownership import Program, ProjectLock
from storyboard.core.persistence import LoadedProject
from storyboard.core.settings import load_settings
from storyboard.core.transition_clips import generated_transition, store_clip
from storyboard.core.transition_jobs import (
    TransitionJob,
    listed_pairs,
    plan_transitions,
    scene_pairs,
    story_pairs,
)
from storyboard.core.transition_setup import TransitionSetup, transition_setup

if TYPE_CHECKING:
    from inference.results import Progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path)
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--scene", type=int, metavar="N", help="only the pairs inside scene N (1 = first)"
    )
    which.add_argument(
        "--panels",
        metavar="LIST",
        help="only the transitions between these neighbouring panels: 1A,1B is one clip, "
        "1A,1B,1C two; 1D,2A crosses a scene cut",
    )
    parser.add_argument("--steps", type=int, metavar="N", help="denoising steps per clip")
    parser.add_argument("--frames", type=int, metavar="N", help="frames per clip")
    parser.add_argument("--size", metavar="WxH", help="clip size (default: the model's)")
    parser.add_argument(
        "--regenerate",
        action="store_true",
        help="also make again the transitions that already have a generated clip",
    )
    parser.add_argument("--device", choices=("cuda", "mps", "cpu"), help="default: the best one")
    parser.add_argument("--low-vram", action="store_true", help="model CPU offload")


def chosen_pairs(project: Project, scene: int | None, panels: str | None) -> tuple[list[str], str]:
    """The first panel of each pair chosen by --scene / --panels (else the story's), and what to
    say when there is none."""
    if panels:
        try:
            listed = find_panels(project, [p for p in panels.split(",") if p.strip()])
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        if not listed:
            raise ValueError("--panels lists no panel; e.g. --panels 1A,1B")
        return listed_pairs(project, listed), ""
    if scene is not None:
        count = len(project.scene_ids)
        if not 1 <= scene <= count:
            raise ValueError(f"--scene {scene} does not exist (the project has {count} scenes)")
        scene_id = project.scene_ids[scene - 1]
        why = f"scene {scene} has fewer than two panels: a transition joins two neighbours"
        return scene_pairs(project, scene_id), why
    why = (
        "no scene has two panels; a clip across a scene cut is made with --panels, "
        "e.g. --panels 1A,2A"
    )
    return story_pairs(project), why


def _setup(args: argparse.Namespace, project: Project) -> TransitionSetup:
    setup = transition_setup(load_settings(), project)
    if args.steps is not None and not 1 <= args.steps <= MAX_STEPS:
        raise ValueError(f"--steps must be within 1..{MAX_STEPS}, not {args.steps}")
    if args.frames is not None and args.frames < 2:
        raise ValueError(f"--frames must be at least 2 (the two panels), not {args.frames}")
    return dataclasses.replace(
        setup,
        steps=args.steps or setup.steps,
        frames=args.frames or setup.frames,
        size=parse_size(args.size) if args.size else setup.size,
    )


class _PairBar(ProgressLine):
    """Which pair of how many, and its step."""

    def __init__(self, out: TextIO, pairs: int) -> None:
        super().__init__(out, "loading the transition model...")
        self.pairs = pairs
        self.index = 0
        self.label = ""

    def start(self, index: int, label: str) -> None:
        self.index, self.label = index, label

    def __call__(self, p: Progress) -> None:
        if p.phase == "loading":  # reported before every clip; the model loads once
            self.loading()
            return
        text = f"transition {self.index + 1}/{self.pairs} {self.label} step {p.step}/{p.total}"
        self.show(p.step, p.total, text)


def run_transitions(args: argparse.Namespace) -> int:
    advice = "Close it in the editor first, or make the transitions from the editor's Generate menu"
    return run_locked(args, Program.TRANSITIONS, advice, _transitions)


def _jobs(args: argparse.Namespace, project: Project, bundle: Path) -> list[TransitionJob]:
    """The clips to make, in story order; says on stderr what is skipped, and raises ValueError
    when nothing can be made."""
    first_panels, none_why = chosen_pairs(project, args.scene, args.panels)
    plan = plan_transitions(project, first_panels, bundle, _setup(args, project))
    jobs = plan.jobs + (plan.existing if args.regenerate else [])
    jobs.sort(key=lambda job: first_panels.index(job.panel_id))
    if not jobs and not plan.existing:
        raise ValueError(plan.imageless_message() if plan.imageless else none_why)
    if plan.imageless:
        sys.stderr.write(f"warning: {plan.imageless_message()}\n")
    if plan.existing and not args.regenerate:
        names = ", ".join(job.label for job in plan.existing)
        sys.stderr.write(
            f"kept {len(plan.existing)} transition(s) that already have a generated clip "
            f"({names}); --regenerate makes them again\n"
        )
    return jobs


def _transitions(args: argparse.Namespace, loaded: LoadedProject, lock: ProjectLock) -> int:
    project, bundle = loaded.project, loaded.path
    saver = ProjectSaver(loaded, lock)
    jobs = _jobs(args, project, bundle)
    if not jobs:
        sys.stdout.write(f"nothing to do: every transition asked for has its clip in {bundle}\n")
        return 0

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no torchvision advisories
    from inference.errors import Cancelled
    from inference.motion.jobs import JobEngine

    store = AssetStore(bundle)
    made: list[str] = []
    bar = _PairBar(sys.stderr, len(jobs))

    def work(stop: threading.Event) -> None:
        engine = JobEngine(jobs[0], args.device, args.low_vram)
        for index, job in enumerate(jobs):
            if stop.is_set():  # Ctrl-C while the last clip was being saved
                raise Cancelled(len(made))
            bar.start(index, job.label)
            clip = engine.generate(job, progress=bar, cancelled=stop)
            edit = generated_transition(project, job.panel_id, store_clip(store, clip), clip)
            assert edit is not None  # the project is ours: no panel went away meanwhile
            edit.apply(project)
            saver.save()
            made.append(job.label)

    words = RunWords(
        "transitions",
        "transition(s)",
        bundle,
        after_cancel="; run again to make the rest (those made are skipped)",
        kept_on_error=True,
        rerun=lambda: "run again (those made are skipped)",
    )
    failed = run_interruptible(work, bar, words, made)
    if failed is not None:
        return failed
    sys.stdout.write(f"made {len(made)} transition(s) ({', '.join(made)}) in {bundle}\n")
    return 0
