"""Kill every writer of a project at random moments, then check that nothing was lost.

Four writers, each a real process killed with SIGKILL (no handler runs, as in a power cut or
an out-of-memory kill): a save alternating two versions of a project, the autosave writing
``recovery.json``, Save As into new folders, and ``storyboard generate`` writing images with
the built-in model. A kill is survived when, on the next open, the project loads as one of the
versions it had (never a mix, never corrupt), the autosave reads back, every image a panel
names is a whole PNG, no temporary file of a dead save is left, and the project's lock is no
longer held (the next owner can take it).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from storyboard.core.assets import AssetStore
from storyboard.core.autosave import RECOVERY_FILE
from storyboard.core.errors import ProjectError
from storyboard.core.model import Candidate, Panel, Project, Scene
from storyboard.core.ownership import live_holder
from storyboard.core.persistence import decode, load_project, save_project
from storyboard.core.temp_files import leftover_temps

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "sample.storyboard"

# Each writer prints "ready" once it is about to write, then writes until it is killed.
SAVE = """
import sys
from bench.reliability.kills import story
from storyboard.core.persistence import save_project
a, b = story("a"), story("b")
print("ready", flush=True)
while True:
    save_project(a, sys.argv[1])
    save_project(b, sys.argv[1])
"""
AUTOSAVE = """
import sys
from bench.reliability.kills import story
from storyboard.core.autosave import Autosave
autosave, a, b = Autosave(sys.argv[1]), story("a"), story("b")
print("ready", flush=True)
while True:
    autosave.write(a)
    autosave.write(b)
"""
SAVE_AS = """
import sys
from pathlib import Path
from storyboard.core.persistence import load_project, save_project
source = Path(sys.argv[1])
project = load_project(source).project
print("ready", flush=True)
for index in range(10_000):
    save_project(project, Path(sys.argv[2]) / f"copy{index}.storyboard", assets_from=source)
"""


def story(marker: str, panels: int = 400) -> Project:
    """A project of ``panels`` panels titled ``marker``: about 100 KB of JSON to write."""
    project = Project()
    project.settings.title = marker
    scene = Scene(title="Kills")
    for index in range(panels):
        panel = Panel(prompt=f"a shot {index}", dialogue=marker * 200)
        project.panels[panel.id] = panel
        scene.panel_ids.append(panel.id)
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    return project


@dataclass
class Tally:
    """Kills tried and survived for one writer, with what went wrong when one was not."""

    writer: str
    tried: int = 0
    survived: int = 0
    mid_write: int = 0  # kills that left a half-written temporary file: the hard cases
    failures: list[str] = field(default_factory=list)

    def killed(self, *bundles: Path) -> None:
        """Counts a kill that landed inside a write (before the next open cleans up)."""
        if any(leftover_temps(bundle) for bundle in bundles if bundle.is_dir()):
            self.mid_write += 1

    def record(self, problems: list[str]) -> None:
        self.tried += 1
        if problems:
            self.failures.append("; ".join(problems))
        else:
            self.survived += 1


def _start(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def _kill_after_ready(
    child: subprocess.Popen[str], delay: float, watch: Path | None = None
) -> None:
    """SIGKILL after ``delay`` seconds or, with ``watch``, the moment a temporary file shows
    up in that folder (a kill aimed inside the write: between its first byte and the rename)."""
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        child.kill()
        child.wait()
        raise RuntimeError("the writer did not start")
    if watch is None:
        time.sleep(delay)
    else:
        _wait_for_temp(watch, timeout=delay + 2.0)
    child.send_signal(signal.SIGKILL)
    child.wait()


def _wait_for_temp(*folders: Path, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for folder in folders:
            with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
                if any(entry.name.endswith(".tmp") for entry in entries):
                    return
        time.sleep(0.0002)


def _after_open(bundle: Path, titles: set[str]) -> list[str]:
    """What a user would find wrong on opening ``bundle`` after the kill."""
    try:
        loaded = load_project(bundle)  # also removes the dead save's temporary files
    except ProjectError as exc:
        return [f"does not open: {exc}"]
    problems = []
    if loaded.project.settings.title not in titles:
        problems.append(f"opened as an unknown version {loaded.project.settings.title!r}")
    store = AssetStore(bundle)
    for panel in loaded.project.panels.values():
        named = {c.asset for c in panel.candidates} | ({panel.image} if panel.image else set())
        for asset in named:
            try:
                with Image.open(store.path(asset)) as image:
                    image.load()
            except (OSError, ValueError) as exc:
                problems.append(f"image {asset} of a panel is not whole: {exc}")
    left = leftover_temps(bundle)
    if left:
        problems.append(f"{len(left)} temporary file(s) left")
    holder = live_holder(bundle)
    if holder is not None:
        problems.append(f"the lock is still held by {holder}")
    return problems


def _recovery_problems(bundle: Path) -> list[str]:
    recovery = bundle / RECOVERY_FILE
    if not recovery.exists():
        return []
    try:
        project, _ = decode(recovery.read_bytes(), recovery)
    except ProjectError as exc:
        return [f"the autosave does not read back: {exc}"]
    return [] if project.settings.title in {"a", "b"} else ["the autosave is a mix"]


def _kill_rewrites(
    writer: str, code: str, work: Path, count: int, rng: random.Random, titles: set[str]
) -> Tally:
    """Kills ``code`` rewriting one bundle over and over (half the kills aimed at its writes)."""
    tally = Tally(writer)
    bundle = work / f"{writer}.storyboard"
    save_project(story("a"), bundle)
    for _ in range(count):
        aim = bundle if rng.random() < 0.5 else None
        _kill_after_ready(_start(code, str(bundle)), rng.uniform(0.0, 0.4), aim)
        tally.killed(bundle)
        tally.record(_after_open(bundle, titles) + _recovery_problems(bundle))
    return tally


def kill_saves(work: Path, count: int, rng: random.Random) -> Tally:
    """A save alternating versions a and b: the project must open as one of them."""
    return _kill_rewrites("save", SAVE, work, count, rng, {"a", "b"})


def kill_autosaves(work: Path, count: int, rng: random.Random) -> Tally:
    """The autosave writing a and b: the saved project stays a, the autosave reads as either."""
    return _kill_rewrites("autosave", AUTOSAVE, work, count, rng, {"a"})


def kill_saves_as(work: Path, count: int, rng: random.Random) -> Tally:
    """Save As of a project with images into new folders: a copy either is whole or has no
    project.json (the original is never touched)."""
    tally = Tally("save as")
    source = _project_with_images(work / "source.storyboard")
    for index in range(count):
        target = work / f"save-as-{index}"
        target.mkdir()
        _kill_after_ready(_start(SAVE_AS, str(source), str(target)), rng.uniform(0.0, 0.6))
        tally.killed(*target.iterdir())
        problems = _after_open(source, {"Images"})
        for copy in sorted(target.iterdir()):
            if (copy / "project.json").exists():
                problems += [f"{copy.name}: {p}" for p in _after_open(copy, {"Images"})]
        tally.record(problems)
        shutil.rmtree(target)
    return tally


def kill_generates(work: Path, count: int, rng: random.Random) -> Tally:
    """``storyboard generate`` on the sample with the built-in model, killed mid-run: at a
    random moment, or (half the kills) as it writes an image or the project."""
    tally = Tally("generate")
    bundle = work / "generate.storyboard"
    shutil.copytree(SAMPLE, bundle)
    titles = {load_project(bundle).project.settings.title}
    command = [sys.executable, "-m", "storyboard", "generate", str(bundle), "--steps", "3"]
    for _ in range(count):
        child = subprocess.Popen(
            [*command, "--device", "cpu"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if rng.random() < 0.5:
            time.sleep(rng.uniform(2.0, 9.0))  # model load, identity panels, then the others
        else:
            _wait_for_temp(bundle, bundle / "assets", timeout=20.0)
        child.send_signal(signal.SIGKILL)
        child.wait()
        tally.killed(bundle)
        tally.record(_after_open(bundle, titles))
    return tally


def _project_with_images(bundle: Path) -> Path:
    project = Project()
    project.settings.title = "Images"
    store = AssetStore(bundle)
    bundle.mkdir(parents=True, exist_ok=True)
    scene = Scene(title="With images")
    rng = random.Random(1)
    for index in range(12):
        image = Image.frombytes("RGB", (256, 256), rng.randbytes(256 * 256 * 3))
        png = io.BytesIO()
        image.save(png, format="PNG")
        asset = store.put(png.getvalue())
        panel = Panel(prompt=f"shot {index}", image=asset, candidates=[Candidate(asset=asset)])
        project.panels[panel.id] = panel
        scene.panel_ids.append(panel.id)
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    save_project(project, bundle)
    return bundle


WRITERS: dict[str, Callable[[Path, int, random.Random], Tally]] = {
    "save": kill_saves,
    "autosave": kill_autosaves,
    "save as": kill_saves_as,
    "generate": kill_generates,
}
