"""Storyboarder's ``.storyboarder`` format, as Storyboarder's own code reads and writes it.

Checked against wonderunit/storyboarder 3.0.0 (``package.json``), the functions named beside each
rule. The import (:mod:`storyboard.core.storyboarder`) and the export
(:mod:`storyboard.export.storyboarder_project`) share these, so the two directions cannot drift.

A Storyboarder *scene* is one ``NAME.storyboarder`` JSON file beside an ``images/`` folder (a
script project has one scene folder per scene heading under ``storyboards/``). The file holds
``version``, ``aspectRatio``, ``fps``, ``defaultBoardTiming`` (ms) and ``boards``; each board its
``uid``, ``url`` (``board-N-UID.png``, the name its other files derive from), ``newShot``,
``lastEdited``, ``number``, ``shot`` and ``time`` (recomputed on every load), ``duration`` (ms),
``dialogue``, ``action``, ``notes``, ``layers`` and optionally ``audio``
(``{"filename", "duration"}``, the file in ``images/``). Since Storyboarder 1.6 the drawing is in
the layer files only; a file at ``url`` itself is an old board that Storyboarder migrates into
its ``fill`` layer (``migrateScene``, ``src/js/window/main-window.js``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

# Storyboarder's version whose reader and writer this follows (its package.json): saved as the
# file's "version", which Storyboarder only overwrites with its own on save.
STORYBOARDER_VERSION = "3.0.0"

# The layer stack, bottom to top (``boardOrderedLayerFilenames``, src/js/models/board.js).
LAYER_ORDER: tuple[str, ...] = (
    "shot-generator",
    "reference",
    "fill",
    "tone",
    "pencil",
    "ink",
    "notes",
)
NOTES_LAYER = "notes"
# Layers whose ``opacity`` Storyboarder reads (``loadReferenceOpacity``,
# src/js/window/layers-editor.js); it draws every other layer at full opacity.
OPACITY_LAYERS: dict[str, float] = {
    "reference": 0.75,  # DEFAULT_REFERENCE_LAYER_OPACITY, src/js/exporters/common.js
    "shot-generator": 1.0,
}
DRAWING_LAYERS = ("fill", "pencil", "ink", "tone")  # where drawings made elsewhere can go
DEFAULT_BOARD_MS = 2000  # prefs.defaultBoardTiming

# Keys Storyboarder's reader uses without checking they are there (``load``, ``migrateScene``,
# ``verifyScene``, ``updateSceneTiming``, ``renderThumbnailDrawer`` in
# src/js/window/main-window.js; ``boardOrderedLayerFilenames`` and ``boardDuration`` in
# src/js/models/board.js). A file missing one breaks it.
REQUIRED_KEYS = ("version", "aspectRatio", "fps", "defaultBoardTiming", "boards")
# What ``insertNewBoardDataAtPosition`` and ``updateSceneTiming`` put on every board.
REQUIRED_BOARD_KEYS = (
    "uid",
    "url",
    "newShot",
    "lastEdited",
    "layers",
    "number",
    "shot",
    "time",
    "duration",
    "dialogue",
    "action",
    "notes",
)

_LEADING_NUMBER = re.compile(r"\d+")


def shot_numbers(new_shots: Sequence[bool]) -> list[str]:
    """The shot number Storyboarder shows for each board (``updateSceneTiming``).

    With no ``newShot`` mark in the scene every board is a shot of its own (1A, 2A, 3A);
    otherwise a mark (and the first board) starts shot N and the boards after it are NA, NB, ...
    (after Z: A2, B2, ..., as Storyboarder counts).
    """
    if not any(new_shots):
        return [f"{index}A" for index in range(1, len(new_shots) + 1)]
    numbers: list[str] = []
    shot = sub = 0
    for new_shot in new_shots:
        if new_shot or shot == 0:
            shot, sub = shot + 1, 0
        else:
            sub += 1
        letter = chr(ord("A") + sub % 26)
        if math.ceil(sub / 25) - 1 > 0:
            letter += str(math.ceil(sub / 25))
        numbers.append(f"{shot}{letter}")
    return numbers


def new_shots_for(numbers: Sequence[str]) -> list[bool]:
    """``newShot`` marks under which Storyboarder shows these numbers as closely as it can: a
    board starts a shot where the number's leading digits change (1A, 1B, 2A -> a mark on the
    first and the third). Numbers that are every board its own shot (1A, 2A, 3A) need no mark."""
    if list(numbers) == shot_numbers([False] * len(numbers)):
        return [False] * len(numbers)

    def shot(number: str) -> str:
        match = _LEADING_NUMBER.match(number)
        return match[0] if match else number

    return [index == 0 or shot(n) != shot(numbers[index - 1]) for index, n in enumerate(numbers)]


def board_url(index: int, uid: str) -> str:
    """``board-N-UID.png`` for the board at ``index`` (0-based): ``updateUrlsFromIndex``."""
    return f"board-{index + 1}-{uid}.png"


def layer_url(url: str, layer: str) -> str:
    """``board-N-UID-LAYER.png`` (``boardFilenameForLayer``)."""
    return url.replace(".png", f"-{layer}.png")


def thumbnail_url(url: str) -> str:
    """``board-N-UID-thumbnail.png`` (``boardFilenameForThumbnail``)."""
    return url.replace(".png", "-thumbnail.png")


def posterframe_url(url: str) -> str:
    """``board-N-UID-posterframe.jpg`` (``boardFilenameForPosterFrame``)."""
    return url.replace(".png", "-posterframe.jpg")


def board_image_size(aspect: float) -> tuple[int, int]:
    """The pixel size of a board's layers (``boardFileImageSize``: 900 px on the short side)."""
    if aspect >= 1:
        return round(900 * aspect), 900
    return 900, round(900 / aspect)


def thumbnail_size(aspect: float) -> tuple[int, int]:
    """A thumbnail's pixel size (``getThumbnailSize``: 60 px high at 2x)."""
    return math.floor(60 * aspect) * 2, 120


# -- names: a board's uid and a script project's scene folder --------------------------------------

# A uid Storyboarder could have made (``uidGen`` makes five base-36 characters); only such a uid
# names files, on import (a panel's id) and export (a board's files), so it is a plain name.
BOARD_UID = re.compile(r"[A-Za-z0-9]{1,32}")
# A scene id in a script project's folder name and its ``#N-ID#`` (fountain-scene-id-util.js).
SCENE_ID = re.compile(r"[A-Za-z0-9]{1,16}")
# A script project's scene folder and file: Scene-<number>-<title, dashed>-<scene id>
# (updateSceneFromScript, src/js/window/main-window.js).
SCRIPT_SCENE = re.compile(r"Scene-\d+-(.+)-([A-Za-z0-9]+)")
_NOT_NAME = re.compile(r"[^\w]+")  # a scene folder's title part keeps letters and digits


def scene_folder(number: int, title: str, scene_id: str) -> str:
    """``Scene-N-TITLE-ID``, the name of a script project's scene folder (and of its file)."""
    return f"Scene-{number}-{_slug(title)}-{scene_id}"


def _slug(title: str) -> str:
    """A scene title as Storyboarder puts it in a scene folder's name (``INT-KITCHEN-NIGHT``)."""
    slug = _NOT_NAME.sub("-", title.replace(".", "")).strip("-_")
    return "-".join(part for part in slug.split("-") if part)[:50].strip("-") or "Scene"
