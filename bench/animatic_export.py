"""Benchmark: export a 100-panel animatic at 1080p to MP4 (goal: at least 4x real time).

Run with ``python -m bench.animatic_export [--panels N] [--size 1080p]``. The project is
generated: a 1024x576 image per panel (gradients and shapes, so x264 has real detail to code),
2 s per panel at 24 fps, a camera move on every third panel, a crossfade or a dip after every
fourth, burned-in dialogue on half of them. Prints video seconds / wall seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from storyboard.core.assets import AssetStore
from storyboard.core.model import CameraMove, Panel, Project, Rect, Scene, Transition
from storyboard.core.model import TransitionKind as Kind
from storyboard.export.animatic import plan_animatic
from storyboard.export.animatic_options import SIZE_PRESETS, AnimaticOptions, CaptionMode
from storyboard.export.video import export_video


def panel_image(index: int) -> bytes:
    rng = np.random.default_rng(index)
    height, width = 576, 1024
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    base = rng.uniform(40, 200, 3)
    image = np.stack([base[c] + 50 * np.sin(6 * x + 4 * y + c + index) for c in range(3)], -1)
    picture = np.clip(image, 0, 255).astype(np.uint8)
    for _ in range(12):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.circle(picture, centre, int(rng.integers(10, 120)), colour, -1, cv2.LINE_AA)
    ok, png = cv2.imencode(".png", picture)
    assert ok
    return png.tobytes()


def generated_project(bundle: Path, panels: int) -> Project:
    store = AssetStore(bundle)
    project = Project()
    project.settings.title = "Benchmark"
    scene = Scene()
    for index in range(panels):
        if index % 10 == 0:
            scene = Scene(title=f"Scene {index // 10 + 1}")
            project.scenes[scene.id] = scene
            project.scene_ids.append(scene.id)
        panel = Panel(prompt=f"shot {index}", duration=48, image=store.put(panel_image(index)))
        if index % 2 == 0:
            panel.dialogue = f"MIRA: This is line {index}, long enough to wrap onto a second line."
        if index % 3 == 0:
            panel.camera = CameraMove(Rect(), Rect(0.2, 0.15, 0.6, 0.6))
        if index % 4 == 0:
            kind = Kind.DIP_TO_BLACK if index % 8 == 0 else Kind.CROSSFADE
            panel.transition = Transition(kind, 12)
        project.panels[panel.id] = panel
        scene.panel_ids.append(panel.id)
    return project


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", type=int, default=100)
    parser.add_argument("--size", choices=sorted(SIZE_PRESETS), default="1080p")
    parser.add_argument("--keep", type=Path, help="also copy the MP4 here")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        bundle = Path(folder) / "Bench.storyboard"
        project = generated_project(bundle, args.panels)
        options = AnimaticOptions(size=SIZE_PRESETS[args.size], captions=CaptionMode.BURN)
        plan = plan_animatic(project, options)
        out = args.keep or Path(folder) / "bench.mp4"
        started = time.perf_counter()
        result = export_video(plan, bundle, out)
        wall = time.perf_counter() - started
    ratio = result.seconds / wall
    print(
        f"{args.panels} panels, {plan.width}x{plan.height} at {float(plan.fps):g} fps: "
        f"{result.frames} frames = {result.seconds:.1f} s of video in {wall:.1f} s wall "
        f"-> {ratio:.2f}x real time (goal >= 4x), {os.cpu_count()} CPU(s)"
    )
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
