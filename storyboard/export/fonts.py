"""The fonts shipped in ``resources/fonts`` (OFL, licences beside them), loaded into Qt.

Without system fonts Qt silently draws empty boxes, so the editor and every export register
these files and ask for them by family name; tests assert the family actually resolved.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from PySide6.QtGui import QFont, QFontDatabase, QFontInfo

from storyboard.core.resources import FONTS

log = logging.getLogger(__name__)

LETTERING_FAMILY = "Comic Neue"
UI_FAMILY = "Noto Sans"


class FontsMissing(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Fonts:
    lettering: str
    ui: str


@functools.cache
def load_fonts() -> Fonts:
    """Register the bundled fonts once per process (needs a QGuiApplication)."""
    families: set[str] = set()
    for file in sorted(FONTS.glob("*.[ot]tf")):
        font_id = QFontDatabase.addApplicationFont(str(file))
        if font_id < 0:
            log.warning("could not load font %s", file)
            continue
        families.update(QFontDatabase.applicationFontFamilies(font_id))
    missing = {LETTERING_FAMILY, UI_FAMILY} - families
    if missing:
        raise FontsMissing(f"fonts {sorted(missing)} not found in {FONTS}; reinstall the editor")
    return Fonts(lettering=LETTERING_FAMILY, ui=UI_FAMILY)


def lettering_font(point_size: float, *, bold: bool = False) -> QFont:
    font = QFont(load_fonts().lettering)
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


def ui_font(point_size: float = 10) -> QFont:
    font = QFont(load_fonts().ui)
    font.setPointSizeF(point_size)
    return font


def resolved_family(font: QFont) -> str:
    """The family Qt really uses for ``font`` (what tests should assert on)."""
    return QFontInfo(font).family()
