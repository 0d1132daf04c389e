"""Benchmark: open and save a generated 1,000-panel project (goal: <= 1 s each).

Run with ``make bench`` or ``python -m bench.project_io [--panels N]``. Prints the median of
several runs; a benchmark, not a timed test, because shared CI machines are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from storyboard.core.model import Balloon, Candidate, Character, Panel, Project, Scene
from storyboard.core.persistence import load_project, save_project


def generated_project(panels: int, per_scene: int = 20) -> Project:
    """A realistic large story: dialogue, balloons and three candidates on every panel."""
    project = Project()
    hero, friend = Character(name="Mira", description="red hair"), Character(name="Oto")
    for character in (hero, friend):
        project.characters[character.id] = character
        project.character_ids.append(character.id)
    scene = Scene()
    for index in range(panels):
        if index % per_scene == 0:
            scene = Scene(title=f"Scene {index // per_scene + 1}")
            project.scenes[scene.id] = scene
            project.scene_ids.append(scene.id)
        panel = Panel(
            prompt=f"[Mira] and [Oto] cross the bridge, shot {index}",
            character_ids=[hero.id, friend.id],
            dialogue="MIRA: We should not be here. OTO: We never should.",
            action="They walk in silence while the wind picks up.",
            notes="Keep the bridge cables in frame.",
            balloons=[Balloon(text="We should not be here.", character_id=hero.id)],
            candidates=[
                Candidate(asset=f"{index:060d}{n:04d}", seed=n, model="sdxl", prompt="...")
                for n in range(3)
            ],
        )
        panel.image = panel.candidates[0].asset
        project.panels[panel.id] = panel
        scene.panel_ids.append(panel.id)
    return project


def _median_seconds(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _open_in_fresh_process(bundle: Path) -> None:
    code = "import sys; import storyboard.core.persistence as p; p.load_project(sys.argv[1])"
    subprocess.run([sys.executable, "-c", code, str(bundle)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--panels", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    project = generated_project(args.panels)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "big.storyboard"
        save_project(project, bundle)  # warm-up (pydantic builds its validators once)
        load_project(bundle)
        save = _median_seconds(lambda: save_project(project, bundle), args.repeats)
        load = _median_seconds(lambda: load_project(bundle), args.repeats)
        size = (bundle / "project.json").stat().st_size
        cold = _median_seconds(lambda: _open_in_fresh_process(bundle), 3)
    print(f"{args.panels} panels, project.json {size / 1e6:.2f} MB")
    print(f"save  {save:.3f} s  ({save / 1.0:.2f}x of the 1 s goal)")
    print(f"open  {load:.3f} s  ({load / 1.0:.2f}x of the 1 s goal)")
    print(f"open in a fresh process, with Python start-up and imports  {cold:.3f} s")


if __name__ == "__main__":
    main()
