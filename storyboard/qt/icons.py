"""The interface icons: Lucide line icons (``resources/icons/ui``), drawn in the palette's colour.

The SVGs say ``stroke="currentColor"``; each icon is painted at the moment Qt asks for it, with
the palette's button-text colour (its disabled colour for a disabled action), so the same icon
reads on the light and the dark theme and follows a theme switch without being made again.
``icon(name)`` is cached per name, the rendered SVG per name and colour.
"""

from __future__ import annotations

import functools
import logging

from PySide6.QtCore import QByteArray, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from storyboard.core.resources import UI_ICONS

log = logging.getLogger(__name__)


@functools.cache
def _svg(name: str) -> str:
    try:
        return (UI_ICONS / f"{name}.svg").read_text(encoding="utf-8")
    except OSError:
        log.warning("interface icon %r is missing", name)
        return ""


@functools.lru_cache(maxsize=512)
def _renderer(name: str, colour: str) -> QSvgRenderer:
    return QSvgRenderer(QByteArray(_svg(name).replace("currentColor", colour).encode()))


def _colour(mode: QIcon.Mode) -> str:
    palette = QGuiApplication.palette()
    disabled = mode == QIcon.Mode.Disabled
    group = QPalette.ColorGroup.Disabled if disabled else QPalette.ColorGroup.Normal
    return palette.color(group, QPalette.ColorRole.ButtonText).name()


class _PaletteIconEngine(QIconEngine):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        renderer = _renderer(self.name, _colour(mode))
        if renderer.isValid():
            renderer.render(painter, rect)

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        pixmap = QPixmap(size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.paint(painter, QRect(QPoint(0, 0), size), mode, state)
        painter.end()
        return pixmap

    def clone(self) -> QIconEngine:
        return _PaletteIconEngine(self.name)

    def key(self) -> str:
        return "storyboard-palette-svg"


@functools.cache
def icon(name: str) -> QIcon:
    """The Lucide icon ``name`` (the file's name without ``.svg``), in the palette's colours."""
    return QIcon(_PaletteIconEngine(name))


def svg_exists(name: str) -> bool:
    return bool(_svg(name))
