"""What an install gives the user beside the editor: its version, its files, its menu entry.

The wheel itself is built and run from a clean venv and from pipx by ``tools/wheel_smoke.sh``
(``make smoke``, run by CI); these check the parts that need no build.
"""

from __future__ import annotations

import configparser
import json
import shlex
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from storyboard.core.resources import FONTS, ICONS, MODELS, RESOURCES, model_presets
from storyboard.desktop_entry import install_desktop_entry

ROOT = Path(__file__).resolve().parents[2]


def test_version_comes_from_the_package_metadata() -> None:
    for command in ([sys.executable, "main.py"], [sys.executable, "-m", "storyboard"]):
        result = subprocess.run(
            [*command, "--version"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split()[-1] == version("storyboard-editor")


def test_every_file_the_editor_reads_at_run_time_is_in_the_resources() -> None:
    assert sorted(p.name for p in FONTS.glob("*.[ot]tf")) == [
        "ComicNeue-Bold.otf",
        "ComicNeue-Italic.otf",
        "ComicNeue-Regular.otf",
        "NotoSans-Bold.ttf",
        "NotoSans-Regular.ttf",
    ]
    json.loads((RESOURCES / "styles.json").read_text(encoding="utf-8"))
    built_in = [p for p in model_presets().values() if p.builtin]
    assert built_in and all((RESOURCES / p.repo / "model_index.json").is_file() for p in built_in)
    assert MODELS.is_file() and (ICONS / "storyboard-editor.svg").is_file()


def test_install_desktop_writes_a_menu_entry_that_starts_this_python(tmp_path: Path) -> None:
    python = "/opt/my apps/venv/bin/python"  # a space: the Exec line must quote it
    written = install_desktop_entry(tmp_path, python)
    entry = tmp_path / "applications" / "storyboard-editor.desktop"
    assert written[0] == entry
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(entry, encoding="utf-8")
    desktop = parser["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Icon"] == "storyboard-editor"
    assert shlex.split(desktop["Exec"]) == [python, "-m", "storyboard", "%f"]
    for size in (16, 48, 256):
        icon = tmp_path / f"icons/hicolor/{size}x{size}/apps/storyboard-editor.png"
        assert icon.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "icons/hicolor/scalable/apps/storyboard-editor.svg").is_file()
