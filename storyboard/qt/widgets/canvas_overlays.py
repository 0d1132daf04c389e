"""What the panel canvas draws over the picture: region boxes and composition guides.

Kept apart from the canvas's tools so the painting of a frame reads in one place.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from storyboard.core.model import Panel, Rect

SAFE_AREAS = ((0.9, "action safe"), (0.8, "title safe"))


def paint_boxes(
    painter: QPainter,
    frame: QRectF,
    panel: Panel,
    names: dict[str, str],
    drawing: QRectF | None,
) -> None:
    """Character boxes (dashed, named), balloon space (tinted) and the box being drawn."""

    def area(rect: Rect) -> QRectF:
        return QRectF(
            frame.left() + rect.x * frame.width(),
            frame.top() + rect.y * frame.height(),
            rect.w * frame.width(),
            rect.h * frame.height(),
        )

    for character_id, rect in panel.character_regions.items():
        painter.setPen(QPen(QColor("#19a7ce"), 2, Qt.PenStyle.DashLine))
        painter.drawRect(area(rect))
        painter.drawText(area(rect).topLeft() + QPointF(4, 14), names.get(character_id, "?"))
    for rect in panel.balloon_space:
        painter.fillRect(area(rect), QColor(255, 214, 10, 60))
        painter.setPen(QPen(QColor("#e0a800"), 2, Qt.PenStyle.DotLine))
        painter.drawRect(area(rect))
        painter.drawText(area(rect).topLeft() + QPointF(4, 14), "balloon space")
    if drawing is not None:
        painter.setPen(QPen(QColor("#ffffff"), 1, Qt.PenStyle.DashLine))
        painter.drawRect(drawing)


def paint_guides(painter: QPainter, frame: QRectF, *, thirds: bool, safe_area: bool) -> None:
    """Rule-of-thirds lines and the action/title safe areas."""
    if thirds:
        painter.setPen(QPen(QColor(70, 110, 200, 170), 1))
        for n in (1, 2):
            x = frame.left() + frame.width() * n / 3
            y = frame.top() + frame.height() * n / 3
            painter.drawLine(QPointF(x, frame.top()), QPointF(x, frame.bottom()))
            painter.drawLine(QPointF(frame.left(), y), QPointF(frame.right(), y))
    if safe_area:
        painter.setPen(QPen(QColor(120, 230, 120, 170), 1, Qt.PenStyle.DashLine))
        for fraction, name in SAFE_AREAS:
            box = QRectF(0, 0, frame.width() * fraction, frame.height() * fraction)
            box.moveCenter(frame.center())
            painter.drawRect(box)
            painter.drawText(box.topLeft() + QPointF(4, 12), name)
