"""The bundled fonts are really used: no empty boxes on machines without system fonts."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from storyboard.export.fonts import (
    LETTERING_FAMILY,
    UI_FAMILY,
    lettering_font,
    resolved_family,
    ui_font,
)


def test_lettering_and_ui_fonts_resolve_to_the_shipped_families(qapp: QGuiApplication) -> None:
    assert resolved_family(lettering_font(12, bold=True)) == LETTERING_FAMILY
    assert resolved_family(ui_font()) == UI_FAMILY
