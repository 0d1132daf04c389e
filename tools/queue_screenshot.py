"""docs/queue.png: the editor generating the sample story with the built-in toy-world model.

Run under Xvfb: ``QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x860x24"
.venv/bin/python tools/queue_screenshot.py``. It shows the queue dock, the live preview and the
timeline filling with the sample's panels, generated on the CPU.
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

    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp())
    os.environ["STORYBOARD_CONFIG_DIR"] = str(tmp / "config")
    bundle = Path(shutil.copytree(ROOT / "projects/sample.storyboard", tmp / "sample.storyboard"))
    app = application()
    document, _ = Document.open(bundle)
    window = MainWindow(AppSettings(device="cpu"), document)
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

    QTimer.singleShot(int(os.environ.get("SHOT_AFTER_MS", "25000")), shoot)
    app.exec()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
