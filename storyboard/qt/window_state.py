"""Where the editor's window is and how its docks lie: its first size on this screen, then the
size and layout the artist left, kept in ``window.ini`` beside settings.json (so a test or a
screenshot run with its own ``STORYBOARD_CONFIG_DIR`` never changes the artist's layout)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from storyboard.core.settings import config_dir

LARGEST = QSize(1920, 1200)  # the first window fills a 1080p screen (less its title bar)
FRAME = QSize(16, 40)  # the window manager's title bar and borders


def fit_screen(
    window: QMainWindow,
    left: QDockWidget,
    right: QDockWidget,
    right_min: int,
    free: QSize | None = None,
    left_min: int = 180,
) -> None:
    """The first window fills at most the screen's free area (``free``: a screen of that size,
    for tests and screenshots; a 1366x768 laptop shows all of it); the left docks get room for
    their lists and ``left_min`` at least, the right ones ``right_min`` at least."""
    wanted = LARGEST
    screen = window.screen()
    if free is not None:
        wanted = wanted.boundedTo(free - FRAME)
    elif screen is not None:
        area = screen.availableGeometry()
        wanted = wanted.boundedTo(area.size() - FRAME)
        window.move(area.topLeft())
    window.resize(wanted)
    widths = [max(left_min, 180, wanted.width() // 7), max(right_min, wanted.width() * 3 // 10)]
    window.resizeDocks([left, right], widths, Qt.Orientation.Horizontal)


def restore(window: QMainWindow) -> None:
    """The size and dock layout the window had when it last closed, if any."""
    stored = _store()
    geometry, state = stored.value("geometry"), stored.value("state")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    if isinstance(state, QByteArray):
        window.restoreState(state)


def save(window: QMainWindow) -> None:
    stored = _store()
    stored.setValue("geometry", window.saveGeometry())
    stored.setValue("state", window.saveState())


def _store() -> QSettings:
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)
