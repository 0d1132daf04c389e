"""Where the files shipped with the editor live (fonts, styles, model presets, scripts)."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
FONTS = RESOURCES / "fonts"
SCRIPTS = RESOURCES / "scripts"
