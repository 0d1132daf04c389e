"""``main.py generate``: headless generation of a project's panels.

Identity panels first, then the others; each image is written to the asset store, added to its
panel as a candidate (accepted where the panel has no image yet) and the project is saved
(atomically) the moment the image exists. So Ctrl-C, a crash or a power cut loses at most the
image being denoised. The first Ctrl-C stops within one denoising step; a second one kills.

While it runs, ``generate`` holds the project's lock (:mod:`storyboard.core.ownership`): it
refuses a project open in the editor, and an editor opening the project meanwhile shows it
read-only. Each save first checks that ``project.json`` is still the one it loaded or last wrote.

torch is imported only inside :func:`run_generate`, so ``main.py --help`` stays instant.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from inference.cluster.connect import INSTALL as RAY_INSTALL
from inference.cluster.connect import ray_available as ray_installed
from storyboard.cli_progress import ProgressLine, RunWords, run_interruptible, run_locked
from storyboard.core.assets import AssetStore
from storyboard.core.disk_errors import describe
from storyboard.core.errors import ProjectSaveError
from storyboard.core.jobs import (
    Overrides,
    build_story_request,
    generated_png,
    new_candidate,
    record_commands,
)
from storyboard.core.model import Project
from storyboard.core.numbering import find_panels
from storyboard.core.ownership import Program, ProjectLock
from storyboard.core.persistence import (
    LoadedProject,
    checked_encode,
    project_file,
    save_project,
)
from storyboard.core.save_guard import check_unchanged, digest_of
from storyboard.core.settings import load_settings

if TYPE_CHECKING:
    from inference.engine.story_engine import GeneratedImage, Progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--scene", type=int, metavar="N", help="only scene N (1 = first)")
    which.add_argument("--panels", metavar="LIST", help="only these panels, e.g. 3A,3B")
    parser.add_argument(
        "--model",
        metavar="SOURCE",
        help="preset key, hub id, diffusers folder or .safetensors file (default: the project's)",
    )
    parser.add_argument(
        "--model-config", metavar="DIR", help="diffusers folder giving a .safetensors its configs"
    )
    parser.add_argument("--steps", type=int, metavar="N")
    parser.add_argument("--size", metavar="WxH", help="exact image size (default: model-native)")
    parser.add_argument("--seed", type=int, metavar="N", help="base seed (locked seeds are kept)")
    parser.add_argument("--batch-size", type=int, default=4, metavar="N")
    parser.add_argument("--device", choices=("cuda", "mps", "cpu"), help="default: the best one")
    parser.add_argument(
        "--low-vram", action="store_true", help="model CPU offload, VAE tiling, bank offload"
    )
    parser.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="generate on a Ray cluster: 'local' (this machine), 'auto' (the running one) or "
        f"its address (docs/cluster.md; needs {RAY_INSTALL})",
    )
    parser.add_argument(
        "--ray-actors", type=int, metavar="N", help="engines on the cluster (default: one per GPU)"
    )


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size must look like 1024x576, not {text!r}") from None
    if width < 8 or height < 8:
        raise ValueError(f"--size {text} is too small")
    return width, height


def selected_panels(project: Project, scene: int | None, panels: str | None) -> list[str] | None:
    """Panel ids chosen by --scene / --panels (None: all)."""
    if panels:
        try:
            return find_panels(project, [p for p in panels.split(",") if p.strip()])
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
    if scene is not None:
        count = len(project.scene_ids)
        if not 1 <= scene <= count:
            raise ValueError(f"--scene {scene} does not exist (the project has {count} scenes)")
        return list(project.scenes[project.scene_ids[scene - 1]].panel_ids)
    return None


class _Bar(ProgressLine):
    """Which phase, which panels, which step, how many images."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out, "loading the model...")

    def __call__(self, p: Progress) -> None:
        if p.phase == "loading":
            self.loading()
            return
        what = "identity" if p.phase == "identity" else "panels"
        note = f"{p.note}; " if p.note else ""
        self.show(
            p.step,
            p.total,
            f"{note}{what} {','.join(p.labels)} step {p.step}/{p.total}, "
            f"{p.images_done}/{p.images_total} images",
        )


def run_generate(args: argparse.Namespace) -> int:
    advice = "Close it in the editor first, or generate from the editor"
    return run_locked(args, Program.GENERATE, advice, _generate)


class ProjectSaver:
    """Saves the project after each image or clip, only while it is ours and unchanged on disk
    (``generate`` and ``transitions``)."""

    def __init__(self, loaded: LoadedProject, lock: ProjectLock) -> None:
        self.project, self.bundle, self.lock = loaded.project, loaded.path, lock
        self.file = project_file(loaded.path)
        self.digest = loaded.digest
        self.check()  # saved by someone between loading and locking
        try:  # a folder that cannot keep what the job makes is said before the job, not after
            AssetStore(self.bundle).check_writable()
        except OSError as exc:
            cause, advice = describe(exc)
            problem = f"new images could not be stored in assets/: {cause}"
            raise ProjectSaveError(
                self.bundle, problem, f"{advice}; nothing was generated"
            ) from exc

    def check(self) -> None:
        self.lock.check()
        check_unchanged(self.file, self.digest)

    def save(self) -> None:
        self.check()
        data = checked_encode(self.project, self.bundle)
        save_project(self.project, self.bundle, data=data)
        self.digest = digest_of(data)


def _generate(args: argparse.Namespace, loaded: LoadedProject, lock: ProjectLock) -> int:
    project, bundle = loaded.project, loaded.path
    saver = ProjectSaver(loaded, lock)
    wanted = selected_panels(project, args.scene, args.panels)
    overrides = Overrides(
        model=args.model,
        steps=args.steps,
        size=parse_size(args.size) if args.size else None,
        seed=args.seed,
        batch_size=args.batch_size,
        lora_folders=tuple(load_settings().lora_folders),  # the editor's LoRA folders
    )
    request = build_story_request(project, wanted, bundle=bundle, overrides=overrides)
    if not request.panels:
        raise ValueError("no panels to generate")

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no torchvision advisories

    store = AssetStore(bundle)
    saved: list[str] = []
    again: list[str] = []  # the same picture as one the panel has (same seed and settings)

    def record(image: GeneratedImage) -> None:
        png = generated_png(image.png, image.job, model=image.model, settings=image.settings)
        asset = store.put(png)
        candidate = new_candidate(asset, image.job, model=image.model, settings=image.settings)
        add, accept = record_commands(project, image.job.panel_id, candidate)
        if not add.apply(project).panels:  # a picture the panel already had: kept once
            again.append(image.job.label)
        if accept is not None:
            accept.apply(project)
        saver.save()
        saved.append(image.job.label)

    def work(stop: threading.Event) -> None:
        engine = _engine(args, request.model)
        try:
            engine.generate(request, progress=bar, cancelled=stop, on_image=record)
        finally:
            if hasattr(engine, "shutdown"):
                engine.shutdown()

    def rerun() -> str:
        left = ",".join(p.label for p in request.panels if p.label not in saved)
        return f"run again with --panels {left}"

    bar = _Bar(sys.stderr)
    words = RunWords("generate", "image(s)", bundle, rerun=rerun)
    failed = run_interruptible(work, bar, words, saved)
    if failed is not None:
        return failed
    sys.stdout.write(f"generated {len(saved)} image(s) ({', '.join(saved)}) in {bundle}\n")
    if again:
        sys.stdout.write(
            f"{len(again)} of them ({', '.join(again)}) repeat a picture the panel already had "
            "(same seed and settings), kept once: give --seed N for new variants\n"
        )
    return 0


def _engine(args: argparse.Namespace, model: str) -> Any:
    """The in-process engine, or with ``--ray`` the cluster's (the driver needs no torch)."""
    if args.ray is not None:
        if not ray_installed():
            raise ValueError(f"--ray needs Ray, which is not installed: {RAY_INSTALL}")
        from inference.cluster.engine import ClusterStoryEngine

        return ClusterStoryEngine(
            args.ray,
            actors=args.ray_actors,
            device=args.device,
            low_vram=args.low_vram,
            model_config=args.model_config,
        )
    from inference.engine.story_engine import StoryEngine

    return StoryEngine(
        model, device=args.device, low_vram=args.low_vram, model_config=args.model_config
    )
