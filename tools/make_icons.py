"""Renders resources/icons/storyboard-editor.svg to the PNG sizes desktops and Qt pick from.

Run after editing the SVG: ``.venv/bin/python tools/make_icons.py``. PNGs are committed so the
editor needs no SVG image plugin to show its icon.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256)


def main() -> None:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "storyboard-editor.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        out = ICONS / f"storyboard-editor-{size}.png"
        if not image.save(str(out)):
            raise SystemExit(f"could not write {out}")
        logging.getLogger(__name__).info("wrote %s", out)
    del app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
