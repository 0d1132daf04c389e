"""docs/canvas-sketch.png: sketching on a panel, with a character box, balloon room and guides.

Run under Xvfb: ``QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x860x24"
.venv/bin/python tools/sketch_screenshot.py``. The strokes go through the canvas's own stroke
methods (as a mouse would draw them), the boxes through the same undoable edits as the box tools.
"""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sample_window import ROOT, close, sample_window

FIGURE = [  # strokes in panel coordinates (0..1): a figure waving on the left, a tree, the ground
    [(0.27 + 0.06 * math.cos(a / 8 * math.tau), 0.33 + 0.07 * math.sin(a / 8 * math.tau))
     for a in range(9)],
    [(0.27, 0.40), (0.27, 0.66)],
    [(0.27, 0.46), (0.36, 0.38), (0.38, 0.26)],
    [(0.27, 0.46), (0.18, 0.55)],
    [(0.27, 0.66), (0.21, 0.84)],
    [(0.27, 0.66), (0.33, 0.84)],
    [(0.0, 0.62), (0.4, 0.61), (1.0, 0.63)],
    [(0.76, 0.62), (0.76, 0.42)],
    [(0.76 + 0.09 * math.cos(a / 10 * math.tau), 0.33 + 0.1 * math.sin(a / 10 * math.tau))
     for a in range(11)],
]  # fmt: skip


def main() -> None:
    from PySide6.QtCore import QPointF, QTimer

    from storyboard.core.commands import EditFields
    from storyboard.core.model import Rect

    app, window, tmp = sample_window(threads=1)
    panel_id = window.timeline_model.panel_ids()[1]  # 1B: "[Mia] waving on the left in the park"
    window.timeline.select_panels([panel_id])
    studio, canvas = window.studio, window.studio.canvas
    panel = window.document.project.panels[panel_id]

    def draw() -> None:
        frame = canvas.frame()
        for points in FIGURE:
            at = [
                QPointF(frame.left() + x * frame.width(), frame.top() + y * frame.height())
                for x, y in points
            ]
            canvas.begin_stroke(at[0], 1.0)
            for point in at[1:]:
                canvas.continue_stroke(point, 1.0)
            canvas.end_stroke()
        regions = {panel.character_ids[0]: Rect(0.1, 0.18, 0.36, 0.72)}
        window.document.push(EditFields("panel", panel_id, {"character_regions": regions}))
        space = [Rect(0.52, 0.04, 0.44, 0.16)]
        window.document.push(EditFields("panel", panel_id, {"balloon_space": space}))
        studio.toggles["thirds"].setChecked(True)
        studio.toggles["safe_area"].setChecked(True)
        QTimer.singleShot(500, shoot)

    def shoot() -> None:
        window.grab().save(str(ROOT / "docs" / "canvas-sketch.png"))
        close(app, window)

    QTimer.singleShot(1500, draw)
    app.exec()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
