"""Balloon shapes and lettering fitted inside them."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QGuiApplication

from storyboard.core.model import Balloon, BalloonKind
from storyboard.export.balloons import balloon_path, fit_text
from storyboard.export.text import lettering, metrics

BOX = QRectF(0, 0, 120, 60)


def test_text_is_capitals_wrapped_on_words_and_shrinks_when_long(qapp: QGuiApplication) -> None:
    short = fit_text(Balloon(text="Hi there!"), BOX)
    long_text = "Nobody keeps the light now, not since the great glass broke in the storm."
    long = fit_text(Balloon(text=long_text), BOX)
    assert short.size > long.size
    assert not long.overflow
    assert " ".join(long.lines).split() == long_text.upper().split()  # no word split, no hyphen
    fm = metrics(lettering(long.size))
    assert all(fm.horizontalAdvance(line) <= BOX.width() for line in long.lines)
    assert len(long.lines) * long.line_height <= BOX.height()


def test_oval_lettering_is_diamond_shaped(qapp: QGuiApplication) -> None:
    fitted = fit_text(Balloon(text="one two three four five six seven eight nine ten"), BOX)
    fm = metrics(lettering(fitted.size))
    widths = [fm.horizontalAdvance(line) for line in fitted.lines]
    assert len(widths) >= 3
    assert max(widths) not in (widths[0], widths[-1])


def test_text_too_long_for_the_box_is_flagged_not_dropped(qapp: QGuiApplication) -> None:
    fitted = fit_text(Balloon(text="word " * 80), QRectF(0, 0, 40, 20))
    assert fitted.overflow
    assert " ".join(fitted.lines).split() == ["WORD"] * 80


def test_every_kind_has_its_shape_and_tails_reach_their_target(qapp: QGuiApplication) -> None:
    tip = QPointF(60, 150)
    for kind in BalloonKind:
        path = balloon_path(Balloon(kind=kind, text="x"), BOX, tip)
        if kind == BalloonKind.SFX:
            assert path.isEmpty()
            continue
        bounds = path.boundingRect()
        assert bounds.width() > 100
        if kind == BalloonKind.CAPTION:
            assert bounds.bottom() <= BOX.bottom() + 0.01  # captions have no tail
        else:
            assert bounds.bottom() > 120, kind  # a wedge or a bubble trail toward the speaker
    shout = balloon_path(Balloon(kind=BalloonKind.SHOUT, text="x"), BOX, None)
    assert shout.elementCount() >= 24  # a jagged burst, not an oval
