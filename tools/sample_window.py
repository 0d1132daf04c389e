"""The editor window on a throw-away copy of the sample project, for the screenshot tools.

Run them under Xvfb (``QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x860x24"``); the copy
and the settings live in a temporary folder, so the repository's sample stays untouched.
``SAMPLE_PROJECT``: another project to copy instead (``tools/screenshots.sh`` passes the sample
with its pictures generated, since the repository's sample ships without them).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def sample_window(threads: int) -> tuple[Any, Any, Path]:
    """(application, shown 1400x860 main window on the sample's copy, temporary folder)."""
    import torch

    from storyboard.core.settings import AppSettings
    from storyboard.qt.app import application
    from storyboard.qt.document import Document
    from storyboard.qt.main_window import MainWindow

    torch.set_num_threads(threads)
    tmp = Path(tempfile.mkdtemp())
    os.environ["STORYBOARD_CONFIG_DIR"] = str(tmp / "config")
    source = Path(os.environ.get("SAMPLE_PROJECT", ROOT / "projects/sample.storyboard"))
    bundle = Path(shutil.copytree(source, tmp / "sample.storyboard"))
    app = application()
    document, _ = Document.open(bundle)
    window = MainWindow(AppSettings(device="cpu"), document)
    window.resize(1400, 860)
    window.show()
    return app, window, tmp


def close(app: Any, window: Any) -> None:
    """Close without the unsaved-work prompt (the copy is thrown away)."""
    window.document.undo_stack.setClean()
    window.document._unsaved_results = False
    window.close()
    app.quit()
