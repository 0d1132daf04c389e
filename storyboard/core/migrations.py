"""Bring an older ``project.json`` up to the current format, one version step at a time.

Each step is a pure function from the dict of version N to the dict of version N + 1, so a file of
any age goes through the same chain and every step is tested on a fixture of its version.

Version history:

1. The first format: scenes held their panels inline, characters were a list, panel durations
   were milliseconds and a panel named its characters by id in ``characters``.
2. Objects kept by id with separate order lists (a panel moves without being copied), durations
   in frames at the project fps, pages, per-character identity settings, generation settings.
3. LoRA files: ``loras`` on characters and in the settings, ``style_loras`` in the settings.
   The step only adds them empty; the version changes so that an older editor refuses the file
   (``ProjectTooNew``) instead of dropping the LoRAs it does not know on its next save.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from storyboard.core.errors import ProjectCorrupt, ProjectTooNew

CURRENT_VERSION = 3
FORMAT = "storyboard-project"

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _v1_to_v2(old: dict[str, Any]) -> dict[str, Any]:
    settings = dict(old.get("settings", {}))
    fps = float(settings.get("fps", 24.0))
    characters = list(old.get("characters", []))
    scenes = list(old.get("scenes", []))
    panels: dict[str, Any] = {}
    new_scenes: dict[str, Any] = {}
    for old_scene in scenes:
        scene = dict(old_scene)
        inline = scene.pop("panels", [])
        scene["panel_ids"] = [panel["id"] for panel in inline]
        new_scenes[scene["id"]] = scene
        for old_panel in inline:
            panel = dict(old_panel)
            duration_ms = panel.pop("duration_ms", 2000)
            panel["duration"] = max(1, round(float(duration_ms) / 1000 * fps))
            panel["character_ids"] = panel.pop("characters", [])
            panels[panel["id"]] = panel
    return {
        "format": FORMAT,
        "format_version": 2,
        "settings": settings,
        "scenes": new_scenes,
        "scene_ids": [scene["id"] for scene in scenes],
        "panels": panels,
        "characters": {c["id"]: c for c in characters},
        "character_ids": [c["id"] for c in characters],
        "pages": {},
        "page_ids": [],
    }


def _v2_to_v3(old: dict[str, Any]) -> dict[str, Any]:
    new = dict(old, format_version=3)
    settings = dict(old.get("settings", {}))
    settings.setdefault("loras", [])
    settings.setdefault("style_loras", {})
    new["settings"] = settings
    new["characters"] = {
        cid: dict(character, loras=character.get("loras", []))
        for cid, character in old.get("characters", {}).items()
    }
    return new


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2, 2: _v2_to_v3}


def migrate(data: dict[str, Any], source: Path) -> dict[str, Any]:
    """Return ``data`` in the current format, or raise a typed error naming ``source``."""
    if data.get("format") != FORMAT:
        raise ProjectCorrupt(
            source,
            f'this is not a storyboard project ("format" is {data.get("format")!r})',
            "Open the project folder that contains project.json",
        )
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProjectCorrupt(
            source,
            f'"format_version" must be a whole number >= 1, not {version!r}',
            "Restore the file from a backup, or open the recovery copy if one is offered",
        )
    if version > CURRENT_VERSION:
        raise ProjectTooNew(
            source,
            f"it was saved by a newer version of the editor (format {version}; "
            f"this one reads up to {CURRENT_VERSION})",
            "Update the editor to open it; the file was not changed",
        )
    while version < CURRENT_VERSION:
        try:
            data = MIGRATIONS[version](data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProjectCorrupt(
                source,
                f"could not upgrade it from format {version}: {exc!r} is malformed",
                "Restore the file from a backup",
            ) from exc
        version += 1
    return data
