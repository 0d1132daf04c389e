"""The ids of a loaded project, checked before any of them can become part of a file name.

Ids end up in paths: asset ids name files in ``assets/``, a character's id names its identity
bank in ``cache/identity/``, a panel's id its file for the external editor. A ``project.json``
from someone else could hold ``../../models/v1`` or ``/home/someone/photo`` there, so the loader
checks every id:

- object ids (scenes, panels, characters, pages, balloons, candidates) must be a safe slug:
  letters, digits, ``-`` and ``_``, starting with a letter or digit, at most 64 characters. Any
  other id is replaced by a new one and every reference follows (scene panel lists, the orders,
  a panel's characters and their boxes, balloons, page frames), with a warning: nothing is lost;
- asset ids must be a content hash (a sha256 in hex, with the file's extension for sounds and
  clips). They cannot be repaired (the file's name is the hash), so any other value refuses the
  project with :class:`ProjectCorrupt` naming the JSON path of the first one.

Linear in the size of the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from storyboard.core.assets import is_image_id, is_media_id
from storyboard.core.errors import ProjectCorrupt
from storyboard.core.model import Project, new_id

SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def is_slug(value: str) -> bool:
    """Whether ``value`` is safe as part of a file name (see the module's rule)."""
    return SLUG.fullmatch(value) is not None


def check_ids(project: Project, source: Path) -> list[str]:
    """Refuse malformed asset ids, rename unsafe object ids (returns the warnings)."""
    for where, asset, media in _asset_fields(project):
        if not isinstance(asset, str) or not (is_media_id(asset) if media else is_image_id(asset)):
            kind = "a sound or clip id (<sha256>.<ext>)" if media else "an image id (a sha256)"
            raise ProjectCorrupt(
                source,
                f"{where}: {str(asset)[:80]!r} is not {kind}",
                "The file may come from someone else or be damaged; restore it from a backup",
            )
    return _rename_unsafe(project)


def _asset_fields(project: Project) -> Iterator[tuple[str, Any, bool]]:
    """(JSON path, asset id, whether it is a sound/clip) of every asset reference."""
    for key, panel in project.panels.items():
        where = f"panels.{key}"
        if panel.image is not None:
            yield f"{where}.image", panel.image, False
        if panel.audio is not None:
            yield f"{where}.audio", panel.audio, True
        if panel.transition.clip is not None:
            yield f"{where}.transition.clip", panel.transition.clip, True
        for index, candidate in enumerate(panel.candidates):
            yield f"{where}.candidates[{index}].asset", candidate.asset, False
        for index, layer in enumerate(panel.layers):
            if layer.asset is not None:
                yield f"{where}.layers[{index}].asset", layer.asset, False
    for key, character in project.characters.items():
        for index, asset in enumerate(character.reference_images):
            yield f"characters.{key}.reference_images[{index}]", asset, False
    if project.settings.soundtrack is not None:
        yield "settings.soundtrack", project.settings.soundtrack, True


def _renamed(objects: dict[str, Any], what: str, warnings: list[str]) -> dict[str, str]:
    """Give every object of ``objects`` whose key is not a slug a new id, in place; old -> new."""
    renames: dict[str, str] = {}
    for key in objects:
        if not is_slug(key):
            fresh = new_id()
            while fresh in objects or fresh in renames.values():
                fresh = new_id()
            renames[key] = fresh
    if renames:
        rebuilt = {renames.get(key, key): obj for key, obj in objects.items()}
        objects.clear()
        objects.update(rebuilt)
        for key, obj in objects.items():
            obj.id = key
        shown = ", ".join(repr(old[:40]) for old in list(renames)[:3])
        more = f" and {len(renames) - 3} more" if len(renames) > 3 else ""
        warnings.append(
            f"{len(renames)} {what} id(s) were not plain names ({shown}{more}) and were renamed"
        )
    return renames


def _rename_unsafe(project: Project) -> list[str]:
    warnings: list[str] = []
    scenes = _renamed(project.scenes, "scene", warnings)
    panels = _renamed(project.panels, "panel", warnings)
    characters = _renamed(project.characters, "character", warnings)
    pages = _renamed(project.pages, "page", warnings)
    if scenes:
        project.scene_ids = [scenes.get(i, i) for i in project.scene_ids]
    if characters:
        project.character_ids = [characters.get(i, i) for i in project.character_ids]
    if pages:
        project.page_ids = [pages.get(i, i) for i in project.page_ids]
    if panels:
        for scene in project.scenes.values():
            scene.panel_ids = [panels.get(i, i) for i in scene.panel_ids]
        for page in project.pages.values():
            for frame in page.frames:
                frame.panel_id = panels.get(frame.panel_id, frame.panel_id)
    inner = 0
    for panel in project.panels.values():
        if characters:
            panel.character_ids = [characters.get(i, i) for i in panel.character_ids]
            panel.character_regions = {
                characters.get(k, k): box for k, box in panel.character_regions.items()
            }
        for balloon in panel.balloons:
            if characters and balloon.character_id is not None:
                balloon.character_id = characters.get(balloon.character_id, balloon.character_id)
            if not is_slug(balloon.id):
                balloon.id, inner = new_id(), inner + 1
        for candidate in panel.candidates:
            if not is_slug(candidate.id):
                candidate.id, inner = new_id(), inner + 1
    if inner:
        warnings.append(f"{inner} balloon or candidate id(s) were not plain names and were renamed")
    return warnings
