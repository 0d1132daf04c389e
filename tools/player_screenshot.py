"""docs/player.png: the Player dock playing the sample's animatic (letterboxed pictures, subtitles).

Run under Xvfb (``tools/screenshots.sh`` does, on the sample with its pictures generated):
``QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x860x24" .venv/bin/python
tools/player_screenshot.py``. The dock is floated at 860x600 and stepped to a frame of panel 1B,
so the picture, its bars and the dialogue line show as the artist sees them while playing.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from layout_screenshot import settle
from sample_window import ROOT, close, sample_window


def main() -> None:
    app, window, tmp = sample_window(threads=1)
    dock = window.docks["Player"]
    dock.setFloating(True)
    dock.resize(860, 600)
    dock.raise_()
    panel_id = window.timeline_model.panel_ids()[1]
    window.timeline.select_panels([panel_id])
    settle(app, window, 80)
    for _ in range(12):  # a few frames into the panel, as a pause during playback shows it
        window.player.step(1)
    settle(app, window, 40)
    dock.grab().save(str(ROOT / "docs" / "player.png"))
    print("wrote docs/player.png")
    close(app, window)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
