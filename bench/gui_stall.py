"""Benchmark: does the GUI stay responsive while the worker generates? (issue 7)

Runs a tiny real SDXL pipeline (random weights, CPU) on the worker thread through the editor's
GenerationController, while a 5 ms QTimer probe on the GUI thread records the longest gap between
its ticks (the event loop's longest stall; goal <= 50 ms) and the controller reports the latency
from a step's end on the worker to its progress report on the GUI thread.
Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.gui_stall``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from storyboard.core.model import Project


def _story(model: str, panels: int, steps: int, size: int) -> Project:
    from storyboard.core.script import parse_script

    lines = "\n".join(f"[Ann] scene {n}" for n in range(panels))
    project = parse_script(f"[Ann] a painter in a red coat\n\n{lines}\n").project
    gen = project.settings.generation
    gen.width = gen.height = size
    gen.steps, gen.exact_size, gen.model = steps, True, model
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--panels", type=int, default=6)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()

    import torch
    from PySide6.QtCore import QElapsedTimer, QTimer

    from inference.worker import EngineSettings
    from storyboard.qt.app import application
    from storyboard.qt.controller import FINISHED, GenerationController
    from storyboard.qt.document import Document
    from tests.fixtures.tiny_pipelines import tiny_sdxl

    torch.set_num_threads(1)
    app = application()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "tiny-sdxl"
        tiny_sdxl().save_pretrained(folder)
        document = Document(_story(str(folder), args.panels, args.steps, args.size))
        project = document.project
        controller = GenerationController()
        latencies: list[float] = []
        controller.progress_latency.connect(latencies.append)
        gaps: list[float] = []
        clock = QElapsedTimer()
        clock.start()
        last = [clock.nsecsElapsed()]

        def tick() -> None:
            now = clock.nsecsElapsed()
            gaps.append((now - last[0]) / 1e6)
            last[0] = now

        probe = QTimer(interval=5)
        probe.timeout.connect(tick)
        probe.start()
        from storyboard.core.jobs import build_story_request

        request = build_story_request(project, None, bundle=document.bundle)
        start = time.perf_counter()
        job = controller.enqueue("bench", request, document, EngineSettings(device="cpu"))
        while job.state not in FINISHED:
            app.processEvents()
            time.sleep(0.001)
        wall = time.perf_counter() - start
        probe.stop()
        controller.shutdown()
        document.close_session()
    made = f"{len(job.assets)} images, {args.steps} steps at {args.size}px"
    print(f"{made} in {wall:.1f} s ({job.state})")
    print(f"longest GUI stall: {max(gaps):.1f} ms ({max(gaps) / 50:.2f}x of the 50 ms goal)")
    print(
        f"step -> progress report latency: median {statistics.median(latencies) * 1000:.2f} ms, "
        f"max {max(latencies) * 1000:.2f} ms over {len(latencies)} reports"
    )


if __name__ == "__main__":
    main()
