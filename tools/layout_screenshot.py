"""The editor's default layout at a laptop's and a desktop's screen size, for docs/.

Opens the sample (a throw-away copy) as the first window on a screen of each size would
(``MainWindow.default_layout``) and saves ``docs/editor-1366x768.png`` and
``docs/editor-1920x1080.png``; then the start page of a new project at 1366x768
(``docs/start-page.png``). Run under Xvfb (``tools/screenshots.sh`` does):
``QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python
tools/layout_screenshot.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.sample_window import close, sample_window  # noqa: E402

SIZES = ((1366, 768), (1920, 1080))


def settle(app: object, window: object, rounds: int = 40) -> None:
    from PySide6.QtCore import QThread

    for _ in range(rounds):
        app.processEvents()  # type: ignore[attr-defined]
        QThread.msleep(25)


def main() -> None:
    from PySide6.QtCore import QSize

    from storyboard.qt.document import Document
    from storyboard.qt.project_files import empty_project

    app, window, _ = sample_window(threads=1)
    for width, height in SIZES:
        window.default_layout(QSize(width, height))
        settle(app, window)
        out = ROOT / "docs" / f"editor-{width}x{height}.png"
        window.grab().save(str(out))
        print(f"wrote {out.relative_to(ROOT)} ({window.width()}x{window.height()})")
    window.files.replace_document(Document(empty_project()))
    window.default_layout(QSize(*SIZES[0]))
    settle(app, window)
    out = ROOT / "docs" / "start-page.png"
    window.grab().save(str(out))
    print(f"wrote {out.relative_to(ROOT)}")
    close(app, window)


if __name__ == "__main__":
    main()
