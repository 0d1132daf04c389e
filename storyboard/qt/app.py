"""Start the editor: Qt application, bundled fonts, logging, the main window.

Importing this module must not import torch or diffusers: the window appears first, the ML stack
loads on the first generation.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from storyboard.core.resources import ICONS
from storyboard.core.settings import load_settings
from storyboard.export.fonts import load_fonts, ui_font
from storyboard.qt.errors import install_exception_hook, setup_logging
from storyboard.qt.main_window import MainWindow
from storyboard.qt.theme import apply_theme
from storyboard.version import app_version

log = logging.getLogger(__name__)


def application(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv[:1])
    app.setApplicationName("Storyboard")
    app.setOrganizationName("storyboard-editor")
    app.setApplicationVersion(app_version())
    app.setWindowIcon(app_icon())
    # Wayland docks and task bars match the window to `storyboard install-desktop`'s entry by this
    app.setDesktopFileName("storyboard-editor")
    load_fonts()
    app.setFont(ui_font(10))
    return app


def app_icon() -> QIcon:
    """The icon in the title bar, the task bar and the app switcher, at each shipped size."""
    icon = QIcon()
    for file in sorted(ICONS.glob("storyboard-editor-*.png")):
        icon.addFile(str(file))
    return icon


def open_window(path: Path | None) -> MainWindow:
    """The main window, with ``path`` opened if given (errors shown, never raised); without one,
    untitled work a crash left behind is offered back."""
    settings = load_settings()
    apply_theme(settings.theme)
    window = MainWindow(settings)
    install_exception_hook(window)
    window.show()
    if path is not None:
        window.files.open_path(path)
    else:
        window.files.offer_untitled_work()
    return window


def run_editor(path: Path | None) -> int:
    started = time.perf_counter()
    log_file = setup_logging()
    app = application()
    window = open_window(path)
    log.info("window shown in %.2f s (log: %s)", time.perf_counter() - started, log_file)
    code = app.exec()
    del window
    return code
