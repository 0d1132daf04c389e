"""docs/queue.png: the editor generating the sample story with the built-in toy-world model.

Run under Xvfb: ``QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x860x24"
.venv/bin/python tools/queue_screenshot.py``. It shows the queue dock, the live preview and the
timeline filling with the sample's panels, generated on the CPU.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sample_window import ROOT, close, sample_window


def main() -> None:
    from PySide6.QtCore import QTimer

    app, window, tmp = sample_window(threads=1)
    window.docks["Queue"].raise_()
    window.generation.story.trigger()
    window.timeline.set_card_width(150)

    def shoot() -> None:
        window.grab().save(str(ROOT / "docs" / "queue.png"))
        window.controller.busy.connect(lambda busy: busy or close(app, window))
        window.controller.cancel_all()  # closed once the worker has stopped (no question)

    QTimer.singleShot(int(os.environ.get("SHOT_AFTER_MS", "25000")), shoot)
    app.exec()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
