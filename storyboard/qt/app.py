"""Start the editor: Qt application, bundled fonts, logging, the main window.

Importing this module must not import torch or diffusers: the window appears first, the ML stack
loads on the first generation.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from storyboard.core.errors import ProjectError
from storyboard.core.persistence import LoadedProject
from storyboard.core.settings import load_settings
from storyboard.export.fonts import load_fonts, ui_font
from storyboard.qt.document import Document
from storyboard.qt.errors import install_exception_hook, setup_logging, show_error
from storyboard.qt.main_window import MainWindow
from storyboard.qt.theme import apply_theme

log = logging.getLogger(__name__)


def application(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv[:1])
    app.setApplicationName("Storyboard")
    app.setOrganizationName("storyboard-editor")
    load_fonts()
    app.setFont(ui_font(10))
    return app


def open_window(path: Path | None) -> MainWindow:
    """The main window, with ``path`` opened if given (errors shown, never raised)."""
    settings = load_settings()
    apply_theme(settings.theme)
    document: Document | None = None
    loaded: LoadedProject | None = None
    error = ""
    if path is not None:
        try:
            document, loaded = Document.open(path)
        except ProjectError as exc:
            error = str(exc)
    window = MainWindow(settings, document)
    install_exception_hook(window)
    window.show()
    if loaded is not None:
        window.after_open(loaded)
    elif error:
        show_error(window, "Could not open the project", error)
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
