"""A panel without a picture shows its prompt on a sketch card in the timeline: a long prompt is
cut to the lines the card holds, its start whole and "…" at the end, never clipped mid-line at
the card's top and bottom."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QApplication

from storyboard.qt.widgets.timeline import fit_lines

LONG = (
    "a tall person with long blond hair wearing an orange shirt and gray trousers walking in "
    "the middle in the park on a sunny morning with a red hat"
)


def test_a_long_prompt_keeps_its_start_and_ends_in_an_ellipsis(qapp: QApplication) -> None:
    font = QFont()
    metrics = QFontMetrics(font)
    lines = fit_lines(font, LONG, 140, 3)
    assert len(lines) == 3
    assert LONG.startswith(lines[0]) and lines[0].startswith("a tall person")
    assert lines[-1].endswith("…")
    assert all(metrics.horizontalAdvance(line) <= 140 for line in lines)


def test_a_short_prompt_is_shown_whole(qapp: QApplication) -> None:
    assert fit_lines(QFont(), "a person in the park", 400, 3) == ["a person in the park"]
    assert " ".join(fit_lines(QFont(), LONG, 4000, 1)) == LONG
