"""docs/canvas-guided.png: a panel generated from the artist's drawing, with the built-in model.

Run under Xvfb: ``QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x860x24"
.venv/bin/python tools/guided_screenshot.py``. It draws a rough colour sketch on panel 1B of the
sample ("[Mia] waving on the left in the park": blocks of colour for her, the grass and a tree),
generates the panel with img2img from the sketch through the real queue, and saves the canvas
before and after side by side: the drawing fixes the layout, the model draws the rest.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sample_window import ROOT, close, sample_window


def sketch(size: int) -> object:
    """Sky, grass, a tree on the right and Mia waving on the left: red hair, yellow, blue."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QPainter

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    u = size / 64
    p = QPainter(image)
    for colour, rect in (
        ("#8cc8f0", (0, 0, 64, 40)),
        ("#50aa4b", (0, 40, 64, 24)),
        ("#644123", (47, 24, 3, 18)),  # a tree on the right
        ("#1e6e2d", (41, 12, 15, 13)),
        ("#fad2a0", (12, 22, 10, 10)),  # face
        ("#c83219", (11, 19, 12, 5)),  # hair
        ("#c83219", (10, 22, 3, 12)),
        ("#c83219", (21, 22, 3, 12)),
        ("#f5d728", (11, 32, 11, 12)),  # shirt
        ("#f5d728", (22, 24, 3, 9)),  # a raised arm
        ("#3246d2", (10, 44, 13, 7)),  # skirt
        ("#fad2a0", (13, 51, 2, 7)),  # legs
        ("#fad2a0", (18, 51, 2, 7)),
    ):
        x, y, w, h = rect
        p.fillRect(QRectF(x * u, y * u, w * u, h * u), QColor(colour))
    p.end()
    return image


def side_by_side(paths: list[Path]) -> None:
    """The canvas before and after, on the canvas's own grey, as docs/canvas-guided.png."""
    from PIL import Image

    images = [Image.open(p) for p in paths]
    width = sum(i.width for i in images) + 12 * (len(images) - 1)
    sheet = Image.new("RGB", (width, max(i.height for i in images)), "#3a3a3a")
    x = 0
    for image in images:
        sheet.paste(image, (x, 0))
        x += image.width + 12
    sheet.save(ROOT / "docs" / "canvas-guided.png")


def main() -> None:
    from PySide6.QtCore import QTimer

    from storyboard.core.model import GuidanceMethod, LayerKind
    from storyboard.qt.canvas_edits import store_layer

    app, window, tmp = sample_window(threads=2)
    document = window.document
    panel_id = window.timeline_model.panel_ids()[1]  # 1B: "[Mia] waving on the left in the park"
    window.timeline.select_panels([panel_id])
    store_layer(document, panel_id, LayerKind.SKETCH, sketch(64), "Draw sketch")  # type: ignore[arg-type]
    studio = window.studio
    studio.method.setCurrentIndex(studio.method.findData(GuidanceMethod.IMG2IMG))
    studio.strength.setValue(0.6)
    shots: list[Path] = []

    def grab(name: str) -> None:
        path = tmp / f"{name}.png"
        studio.canvas.grab().save(str(path))
        shots.append(path)

    def finished() -> bool:
        return bool(window.controller.jobs) and all(
            j.state.value in ("done", "failed", "cancelled") for j in window.controller.jobs
        )

    def poll() -> None:
        if not finished():
            QTimer.singleShot(500, poll)
            return
        studio.layer.setCurrentIndex(studio.layer.findData(LayerKind.SKETCH))
        studio.visible.setChecked(False)  # the result alone
        QTimer.singleShot(300, lambda: (grab("after"), side_by_side(shots), quit_()))

    def quit_() -> None:
        close(app, window)

    def start() -> None:
        grab("before")
        studio.generate_action.trigger()
        QTimer.singleShot(1000, poll)

    QTimer.singleShot(1500, start)
    app.exec()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
