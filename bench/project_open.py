"""Benchmark: opening a project is linear in its panels and scenes (goal: flat time per element).

Opening once rebuilt a set per scene (20,000 scenes: 32 s of CPU; 100,000 did not open in two
minutes). This saves generated projects of 10,000 and 100,000 elements, either panels (20 to a
scene) or scenes (one panel each), opens each with ``load_project`` (read, migrate, validate,
look for unknown keys, repair) and prints the time, the time per element and the ratio of the
time per element between the two sizes: about 1 when linear, 10 when quadratic.

Run with ``python -m bench.project_open [--sizes 10000 100000] [--repeats 2]``; from code,
``open_seconds(kind, count)`` gives one (best-of) time.
"""

from __future__ import annotations

import argparse
import gc
import logging
import tempfile
import time
from pathlib import Path

from bench.project_io import generated_project
from storyboard.core.persistence import load_project, save_project

KINDS = {"panels": 20, "scenes": 1}  # panels per scene


def open_seconds(kind: str, count: int, repeats: int = 2) -> tuple[float, float]:
    """Wall and CPU seconds (best of ``repeats``) to open a project of ``count`` panels laid
    out as ``kind`` says (``panels``: 20 to a scene; ``scenes``: one scene each)."""
    project = generated_project(count, per_scene=KINDS[kind])
    with tempfile.TemporaryDirectory() as tmp:
        bundle = save_project(project, Path(tmp) / "big.storyboard")
        del project
        wall = cpu = float("inf")
        for _ in range(repeats):
            gc.collect()
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            load_project(bundle)
            wall = min(wall, time.perf_counter() - start_wall)
            cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the generated images are not on disk: one warning each
    small, large = args.sizes
    open_seconds("panels", 1000, 1)  # warm-up: pydantic builds its validators once
    print(f"{'project':24} {'open (wall)':>12} {'CPU':>8} {'per element':>12}")
    for kind in KINDS:
        per_element = []
        for count in (small, large):
            wall, cpu = open_seconds(kind, count, args.repeats)
            per_element.append(cpu / count)
            label = f"{count:,} {kind}"
            print(f"{label:24} {wall:10.2f} s {cpu:6.2f} s {cpu / count * 1e6:9.1f} µs")
        ratio = per_element[1] / per_element[0]
        print(f"{'':24} CPU per element at {large:,} / at {small:,}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
