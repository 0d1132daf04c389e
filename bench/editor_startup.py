"""Benchmark: how fast the editor window appears, and opens a 1,000-panel project.

Goals (issue 6): window shown <= 1.5 s after process start with ``QT_QPA_PLATFORM=offscreen``,
torch never imported at start-up, a generated 1,000-panel project open in the window <= 1 s.
Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.editor_startup``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import sys, time
from pathlib import Path
from storyboard.qt.app import application, open_window
app = application()
window = open_window(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
app.processEvents()
shown = time.time()
heavy = [m for m in ("torch", "diffusers", "transformers") if m in sys.modules]
print(shown, ",".join(heavy) or "-")
window.close()
"""


def window_shown_seconds(project: Path | None, config: Path) -> tuple[float, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STORYBOARD_CONFIG_DIR": str(config)}
    args = [sys.executable, "-c", CHILD] + ([str(project)] if project else [])
    start = time.time()
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout
    shown, heavy = out.split()
    return float(shown) - start, heavy


def open_large_project_seconds(bundle: Path) -> float:
    from storyboard.core.settings import AppSettings
    from storyboard.qt.app import application
    from storyboard.qt.document import Document
    from storyboard.qt.main_window import MainWindow

    app = application()
    start = time.perf_counter()
    document, _ = Document.open(bundle)
    window = MainWindow(AppSettings(), document)
    window.show()
    app.processEvents()
    elapsed = time.perf_counter() - start
    window.document.close_session()
    window.hide()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bench.project_io import generated_project
    from storyboard.core.persistence import save_project

    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STORYBOARD_CONFIG_DIR"] = tmp
        runs = [window_shown_seconds(root / "projects/sample.storyboard", Path(tmp))
                for _ in range(args.repeats)]  # fmt: skip
        shown = statistics.median(t for t, _ in runs)
        heavy = {h for _, h in runs}
        bundle = save_project(generated_project(1000), Path(tmp) / "big.storyboard")
        opened = statistics.median(open_large_project_seconds(bundle) for _ in range(args.repeats))
    print(f"window shown after process start: {shown:.2f} s ({shown / 1.5:.2f}x of the 1.5 s goal)")
    print(f"heavy modules imported at start-up: {', '.join(sorted(heavy))}")
    print(f"1,000-panel project opened into the window: {opened:.2f} s ({opened:.2f}x of 1 s)")


if __name__ == "__main__":
    main()
