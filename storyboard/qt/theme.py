"""The editor's colours: the system's, light, or dark (as most drawing and animation programs are).

Dark uses Qt's Fusion style with a dark palette, because the native Windows and macOS styles do
not follow a palette. Light and a light system go back to the style the platform started with.
Panels, pages and timeline cards keep their own paper colours in both: they show the artwork.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")
_native: dict[str, str] = {}  # the platform's own style, to come back to from dark

_DARK = {
    QPalette.ColorRole.Window: "#353535",
    QPalette.ColorRole.WindowText: "#e8e8e8",
    QPalette.ColorRole.Base: "#262626",
    QPalette.ColorRole.AlternateBase: "#303030",
    QPalette.ColorRole.ToolTipBase: "#202020",
    QPalette.ColorRole.ToolTipText: "#e8e8e8",
    QPalette.ColorRole.PlaceholderText: "#8c8c8c",
    QPalette.ColorRole.Text: "#e8e8e8",
    QPalette.ColorRole.Button: "#3c3c3c",
    QPalette.ColorRole.ButtonText: "#e8e8e8",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Light: "#505050",
    QPalette.ColorRole.Midlight: "#454545",
    QPalette.ColorRole.Mid: "#2e2e2e",
    QPalette.ColorRole.Dark: "#1e1e1e",
    QPalette.ColorRole.Shadow: "#121212",
    QPalette.ColorRole.Link: "#5ea8ff",
    QPalette.ColorRole.Highlight: "#2f7bd8",
    QPalette.ColorRole.HighlightedText: "#ffffff",
}
_DARK_DISABLED = {
    QPalette.ColorRole.WindowText: "#7a7a7a",
    QPalette.ColorRole.Text: "#7a7a7a",
    QPalette.ColorRole.ButtonText: "#7a7a7a",
    QPalette.ColorRole.Highlight: "#4a4a4a",
}


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    for role, colour in _DARK_DISABLED.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return palette


def is_dark(app: QApplication, theme: str) -> bool:
    if theme == "system":
        return app.styleHints().colorScheme() == Qt.ColorScheme.Dark
    return theme == "dark"


def apply_theme(theme: str) -> None:
    """Colour the whole application; an unknown name counts as ``system``."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    style = app.style()
    _native.setdefault("style", style.name() if style is not None else "fusion")
    if is_dark(app, theme if theme in THEMES else "system"):
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
        return
    app.setStyle(_native["style"])
    native = app.style()
    if native is not None:
        app.setPalette(native.standardPalette())
