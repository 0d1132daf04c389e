"""Measuring and wrapping text in points, the same on screen, in PDFs and in PNGs.

Every page is painted with one user unit = one point, on devices that report 72 dpi (PDF writer
at resolution 72, images tagged 72 dpi and scaled by the painter), so a font's point size is
also its size in user units and metrics taken here match what any device draws.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from PySide6.QtGui import QFont, QFontMetricsF, QImage

from storyboard.export.fonts import lettering_font, ui_font

POINTS_PER_METRE = round(72 / 0.0254)


@functools.cache
def _measuring_device() -> QImage:
    image = QImage(1, 1, QImage.Format.Format_ARGB32)
    tag_72_dpi(image)
    return image


def tag_72_dpi(image: QImage) -> None:
    """Make ``image`` report 72 dpi, so fonts measured here are the size they draw at."""
    image.setDotsPerMeterX(POINTS_PER_METRE)
    image.setDotsPerMeterY(POINTS_PER_METRE)


def metrics(font: QFont) -> QFontMetricsF:
    return QFontMetricsF(font, _measuring_device())


def lettering(size: float, *, bold: bool = True) -> QFont:
    font = lettering_font(size, bold=bold)
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return font


def body(size: float, *, bold: bool = False) -> QFont:
    font = ui_font(size)
    font.setBold(bold)
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return font


def wrap_words(text: str, fm: QFontMetricsF, widths: Sequence[float]) -> list[str] | None:
    """Greedy word wrap into lines of the given widths, one width per line; None if it can't.

    Words are never split (lettering has no hyphenation), so a word wider than its line fails
    and the caller tries a smaller size. Explicit line breaks in ``text`` are kept.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if len(lines) < len(widths) and fm.horizontalAdvance(candidate) <= widths[len(lines)]:
                current = candidate
                continue
            if not current:
                return None
            lines.append(current)
            current = word
            if len(lines) >= len(widths) or fm.horizontalAdvance(word) > widths[len(lines)]:
                return None
        if len(lines) >= len(widths):
            return None
        lines.append(current)
    return lines


def wrap_breaking(text: str, fm: QFontMetricsF, width: float) -> list[str]:
    """Wrap at a fixed width, splitting words too long for a line: all text always shows."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if fm.horizontalAdvance(candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            rest = word
            while fm.horizontalAdvance(rest) > width and len(rest) > 1:
                cut = _longest_prefix(rest, fm, width)
                lines.append(rest[:cut])
                rest = rest[cut:]
            current = rest
        lines.append(current)
    return lines


def _longest_prefix(word: str, fm: QFontMetricsF, width: float) -> int:
    low, high = 1, len(word) - 1
    while low < high:
        mid = (low + high + 1) // 2
        if fm.horizontalAdvance(word[:mid]) <= width:
            low = mid
        else:
            high = mid - 1
    return low
