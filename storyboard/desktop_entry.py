"""``storyboard install-desktop``: the editor in the desktop's application menu, with its icon.

A wheel cannot put files where desktops look (``~/.local/share/applications`` and the icon
theme), so this writes them for the current user (XDG base directories, Linux and the BSDs).
``Exec`` names the Python that runs this command, so the entry starts the same install (a pipx
venv, or the project's .venv) whichever ``storyboard`` comes first on PATH later.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from storyboard.core.atomic import atomic_write
from storyboard.core.resources import ICONS, RESOURCES

APP_ID = "storyboard-editor"
PNG_SIZES = (16, 32, 48, 64, 128, 256)


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _quote(argument: str) -> str:
    """An Exec argument as the Desktop Entry spec wants it: quoted when it needs to be."""
    if not any(ch in argument for ch in " \t\n\"'\\><~|&;$*?#()`"):
        return argument
    escaped = "".join("\\" + ch if ch in '"`$\\' else ch for ch in argument)
    return f'"{escaped}"'


def desktop_entry(python: str) -> str:
    """The shipped ``.desktop`` file with ``Exec`` pointing at ``python -m storyboard``."""
    template = (RESOURCES / f"{APP_ID}.desktop").read_text(encoding="utf-8")
    command = _quote(python).replace("%", "%%") + " -m storyboard %f"  # %% is a literal %
    return "".join(
        f"Exec={command}\n" if line.startswith("Exec=") else line
        for line in template.splitlines(keepends=True)
    )


def install_desktop_entry(data_home: Path | None = None, python: str | None = None) -> list[Path]:
    """Writes the menu entry and the icons; returns the files written."""
    home = data_home or _data_home()
    written = []
    entry = home / "applications" / f"{APP_ID}.desktop"
    entry.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(entry, desktop_entry(python or sys.executable).encode("utf-8"))
    written.append(entry)
    icons = home / "icons" / "hicolor"
    for size in PNG_SIZES:
        target = icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ICONS / f"{APP_ID}-{size}.png", target)
        written.append(target)
    svg = icons / "scalable" / "apps" / f"{APP_ID}.svg"
    svg.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ICONS / f"{APP_ID}.svg", svg)
    written.append(svg)
    return written
