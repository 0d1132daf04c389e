"""Balloon and caption shapes as vector paths, and lettering fitted inside them.

Shapes follow lettering convention (oval speech, cloud thought with a bubble trail, jagged
shout, dashed whisper, rectangular caption, bare sound effects). Text is set in capitals in the
bundled lettering font at the largest size in a range that fits, wrapped on words only (no
hyphenation) line by line against the inner outline, so an oval's text takes the traditional
diamond shape: the widest line in the middle.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF

from storyboard.core.model import Balloon, BalloonKind
from storyboard.export.text import lettering, metrics, wrap_words

OUTLINE = 0.8  # pt; thinner than the panel border, as letterers do
CAPTION_FILL = QColor(255, 246, 200)
SIZE_RANGE: dict[BalloonKind, tuple[float, float]] = {
    BalloonKind.SFX: (10.0, 40.0),
    BalloonKind.SHOUT: (7.0, 13.0),
}
DEFAULT_RANGE = (6.0, 10.0)
# Share of the box inside which text sits (per side), by shape.
INSET: dict[BalloonKind, float] = {
    BalloonKind.CAPTION: 0.0,
    BalloonKind.SFX: 0.0,
    BalloonKind.THOUGHT: 0.1,
    BalloonKind.SHOUT: 0.12,
}
PADDING = 3.0  # pt of air between lettering and outline


@dataclass(frozen=True, slots=True)
class FittedText:
    size: float
    lines: list[str]
    line_height: float
    ascent: float
    overflow: bool  # even the smallest size did not fit: shown, but flagged to the artist


def _inner(kind: BalloonKind, box: QRectF) -> QRectF:
    share = INSET.get(kind, 0.04)
    dx, dy = box.width() * share + PADDING, box.height() * share + PADDING
    return box.adjusted(dx, dy, -dx, -dy)


def _line_widths(kind: BalloonKind, inner: QRectF, count: int, height: float) -> list[float]:
    if kind in (BalloonKind.CAPTION, BalloonKind.SFX):
        return [inner.width()] * count
    # Chord of the inner ellipse at the line's edge nearer the top or bottom.
    half_w, half_h = inner.width() / 2, inner.height() / 2
    top = -count * height / 2
    widths = []
    for i in range(count):
        edge = max(abs(top + i * height), abs(top + (i + 1) * height))
        ratio = min(1.0, edge / half_h) if half_h > 0 else 1.0
        widths.append(2 * half_w * math.sqrt(1 - ratio * ratio))
    return widths


def fit_text(balloon: Balloon, box: QRectF) -> FittedText:
    """The largest lettering (in 0.5 pt steps) whose word-wrapped lines fit inside ``box``."""
    text = balloon.text.strip().upper()
    low, high = SIZE_RANGE.get(balloon.kind, DEFAULT_RANGE)
    inner = _inner(balloon.kind, box)
    size = high
    while size >= low:
        fm = metrics(lettering(size))
        height = fm.lineSpacing()
        most = int(inner.height() // height)
        for count in range(1, most + 1):
            lines = wrap_words(text, fm, _line_widths(balloon.kind, inner, count, height))
            if lines is not None:
                return FittedText(size, lines, height, fm.ascent(), overflow=False)
        size -= 0.5
    fm = metrics(lettering(low))
    lines = wrap_words(text, fm, [float("inf")] * (text.count("\n") + 1)) or [text]
    return FittedText(low, lines, fm.lineSpacing(), fm.ascent(), overflow=True)


def _rng(balloon: Balloon) -> random.Random:
    """Jitter seeded by the balloon id: the same balloon looks the same on screen and in print."""
    return random.Random(int(hashlib.sha1(balloon.id.encode()).hexdigest()[:8], 16))


def _burst(box: QRectF, rng: random.Random) -> QPainterPath:
    spikes = max(12, int((box.width() + box.height()) / 9))
    centre, rx, ry = box.center(), box.width() / 2, box.height() / 2
    points = []
    for i in range(spikes * 2):
        angle = math.pi * i / spikes
        reach = 1.0 if i % 2 == 0 else 0.72 + 0.08 * rng.random()
        points.append(
            QPointF(
                centre.x() + rx * reach * math.cos(angle), centre.y() + ry * reach * math.sin(angle)
            )
        )
    path = QPainterPath()
    path.addPolygon(QPolygonF(points))
    path.closeSubpath()
    return path


def _cloud(box: QRectF, rng: random.Random) -> QPainterPath:
    path = QPainterPath()
    dx, dy = box.width() * 0.08, box.height() * 0.1
    path.addEllipse(box.adjusted(dx, dy, -dx, -dy))
    puffs = max(8, int((box.width() + box.height()) / 14))
    centre, rx, ry = box.center(), box.width() * 0.4, box.height() * 0.38
    radius = min(box.width(), box.height()) * 0.2
    for i in range(puffs):
        angle = 2 * math.pi * (i + 0.3 * rng.random()) / puffs
        c = QPointF(centre.x() + rx * math.cos(angle), centre.y() + ry * math.sin(angle))
        r = radius * (0.85 + 0.3 * rng.random())
        puff = QPainterPath()
        puff.addEllipse(c, r, r)
        path = path.united(puff)
    return path


def _wedge(box: QRectF, tip: QPointF) -> QPainterPath:
    centre = box.center()
    dx, dy = tip.x() - centre.x(), tip.y() - centre.y()
    length = math.hypot(dx, dy) or 1.0
    half = min(box.width(), box.height()) * 0.17
    nx, ny = -dy / length * half, dx / length * half
    path = QPainterPath()
    path.addPolygon(
        QPolygonF(
            [
                QPointF(centre.x() + nx, centre.y() + ny),
                tip,
                QPointF(centre.x() - nx, centre.y() - ny),
            ]
        )
    )
    path.closeSubpath()
    return path


def _trail(box: QRectF, tip: QPointF) -> QPainterPath:
    """Thought bubbles shrinking from the cloud toward the thinker."""
    centre = box.center()
    path = QPainterPath()
    base = min(box.width(), box.height()) * 0.09
    for share, scale in ((0.55, 1.0), (0.75, 0.7), (0.92, 0.45)):
        at = QPointF(
            centre.x() + (tip.x() - centre.x()) * share, centre.y() + (tip.y() - centre.y()) * share
        )
        path.addEllipse(at, base * scale, base * scale)
    return path


def balloon_path(balloon: Balloon, box: QRectF, tip: QPointF | None) -> QPainterPath:
    """The outline of a balloon in page points, tail included (empty for sound effects)."""
    kind = balloon.kind
    path = QPainterPath()
    if kind == BalloonKind.SFX:
        return path
    if kind == BalloonKind.CAPTION:
        path.addRect(box)
    elif kind == BalloonKind.SHOUT:
        path = _burst(box, _rng(balloon))
    elif kind == BalloonKind.THOUGHT:
        path = _cloud(box, _rng(balloon))
    else:
        path.addEllipse(box)
    if tip is not None and not path.contains(tip):
        if kind == BalloonKind.THOUGHT:
            path.addPath(_trail(box, tip))
        elif kind != BalloonKind.CAPTION:
            path = path.united(_wedge(box, tip))
    return path


def paint_balloon(
    painter: QPainter, balloon: Balloon, box: QRectF, tip: QPointF | None
) -> FittedText:
    """Draw one balloon with its lettering; returns the fit so callers can flag overflow."""
    painter.save()
    pen = QPen(QColor(0, 0, 0), OUTLINE)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if balloon.kind == BalloonKind.WHISPER:
        pen.setDashPattern([4.0, 3.0])
    path = balloon_path(balloon, box, tip)
    if not path.isEmpty():
        painter.setPen(pen)
        painter.setBrush(
            CAPTION_FILL if balloon.kind == BalloonKind.CAPTION else QColor(255, 255, 255)
        )
        painter.drawPath(path)
    fitted = fit_text(balloon, box)
    painter.setPen(QColor(0, 0, 0))
    painter.setFont(lettering(fitted.size))
    fm = metrics(lettering(fitted.size))
    top = box.center().y() - fitted.line_height * len(fitted.lines) / 2
    for i, line in enumerate(fitted.lines):
        x = box.center().x() - fm.horizontalAdvance(line) / 2
        painter.drawText(QPointF(x, top + i * fitted.line_height + fitted.ascent), line)
    painter.restore()
    return fitted
