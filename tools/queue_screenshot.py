"""docs/queue.png: the editor generating the sample story with a tiny random-weight SDXL.

Run under Xvfb: ``QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x860x24"
.venv/bin/python tools/queue_screenshot.py``. The images are noise (random weights: no real
model can be downloaded here); the point is the queue dock, the previews and the timeline filling.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import torch
    from PySide6.QtCore import QTimer

    from storyboard.core.settings import AppSettings
    from storyboard.qt.app import application
    from storyboard.qt.document import Document
    from storyboard.qt.main_window import MainWindow
    from tests.inference.tiny_pipelines import tiny_sdxl

    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp())
    os.environ["STORYBOARD_CONFIG_DIR"] = str(tmp / "config")
    model = tmp / "tiny-sdxl"
    tiny_sdxl().save_pretrained(model)
    bundle = Path(shutil.copytree(ROOT / "projects/sample.storyboard", tmp / "sample.storyboard"))
    app = application()
    document, _ = Document.open(bundle)
    gen = document.project.settings.generation
    gen.width, gen.height, gen.steps, gen.exact_size = 128, 128, 12, True
    window = MainWindow(AppSettings(model_source=str(model), device="cpu"), document)
    window.resize(1400, 860)
    window.show()
    window.docks["Queue"].raise_()
    window.generation.story.trigger()
    window.timeline.set_card_width(150)

    def shoot() -> None:
        window.grab().save(str(ROOT / "docs" / "queue.png"))
        window.controller.cancel_all()
        window.document.undo_stack.setClean()
        window.document._unsaved_results = False
        window.close()
        app.quit()

    QTimer.singleShot(int(os.environ.get("SHOT_AFTER_MS", "9000")), shoot)
    app.exec()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
