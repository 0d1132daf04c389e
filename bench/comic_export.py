"""Benchmark: a 24-page comic from 144 panels (1024x576 images, balloons) to a 300 dpi PDF.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.comic_export`` (target: 10 s or less).
"""

from __future__ import annotations

import argparse
import io
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from storyboard.core.assets import AssetStore
from storyboard.core.model import Balloon, BalloonKind, Panel, Point, Project, Rect, Scene
from storyboard.export.comic_pdf import ComicOptions, export_comic_pdf
from storyboard.export.headless import gui_application

log = logging.getLogger("bench.comic_export")


def _image(rng: np.random.Generator) -> bytes:
    """A noisy gradient: as hard to compress as a generated panel."""
    y, x = np.mgrid[0:576, 0:1024]
    base = np.stack([x / 4, y / 2.3, (x + y) / 6], axis=-1) + rng.normal(0, 18, (576, 1024, 3))
    out = io.BytesIO()
    Image.fromarray(np.clip(base, 0, 255).astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()


def build(bundle: Path, panels: int) -> Project:
    rng = np.random.default_rng(0)
    store = AssetStore(bundle)
    images = [store.put(_image(rng)) for _ in range(12)]  # reused: generation is not measured
    project = Project()
    scene = Scene(title="Bench")
    for i in range(panels):
        panel = Panel(prompt=f"panel {i}", image=images[i % len(images)])
        speech = f"Line {i}: where does the light go at night?"
        panel.balloons = [
            Balloon(text=speech, box=Rect(0.05, 0.05, 0.5, 0.3), tail=Point(0.4, 0.7)),
            Balloon(kind=BalloonKind.CAPTION, text="Meanwhile...", box=Rect(0.6, 0.8, 0.35, 0.12)),
        ]
        project.panels[panel.id] = panel
        scene.panel_ids.append(panel.id)
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--panels", type=int, default=144)
    parser.add_argument("--dpi", type=int, choices=(300, 600), default=300)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    gui_application()
    with tempfile.TemporaryDirectory() as folder:
        bundle = Path(folder)
        project = build(bundle, args.panels)
        out = bundle / "bench.pdf"
        start = time.perf_counter()
        result = export_comic_pdf(project, bundle, out, ComicOptions(dpi=args.dpi))
        seconds = time.perf_counter() - start
        size = out.stat().st_size / 1e6
    log.info(
        "%d pages from %d panels at %d dpi: %.2f s, %.1f MB",
        *(result.pages, args.panels, args.dpi, seconds, size),
    )


if __name__ == "__main__":
    main()
