"""Import of Storyboarder projects (``.storyboarder`` JSON + ``images/``), so artists can bring
their existing boards over with everything Storyboarder keeps.

A ``.storyboarder`` file is a Storyboarder scene and becomes one scene, named after the file; a
folder (a Storyboarder script project with a ``storyboards/`` folder, or any folder of
``.storyboarder`` files) becomes one scene per file, in the order of their names read as people do
(``Scene-2`` before ``Scene-10``); a script project's ``Scene-3-INT-KITCHEN-NIGHT-AB12C`` is the
scene "INT KITCHEN NIGHT".
Each board becomes a panel with:

* its shot number as Storyboarder shows it (``1A, 1B, 2A`` from the ``newShot`` marks), kept as the
  panel's number override wherever our own numbering would say something else;
* its layers (``reference``, ``fill``, ``tone``, ``pencil``, ``ink``, ``shot-generator`` as sketch
  layers, ``notes`` as the notes layer), each named after its Storyboarder layer, with the opacity
  the file gives (Storyboarder keeps one for ``reference`` and ``shot-generator`` only);
* the layers composited on white in Storyboarder's order as its accepted image (and first
  candidate), which is what the timeline, the animatic and the PDFs show;
* its sound (copied from ``images/`` into the asset store), dialogue, action, notes and duration
  (a board lasts at least as long as its sound, as in Storyboarder's playback);
* its ``uid`` as the panel's id when that is free, so an export writes the same file names.

The first file's ``aspectRatio`` and ``fps`` become the project's.

The file may come from anyone: a value that makes no sense (an infinite or hour-long duration, an
opacity of 5, an image header claiming billions of pixels, a date past the year 9999, half an
emoji) is a warning on its board, which still comes over; only files inside the Storyboarder
folder are read (links followed); only a file that cannot be read as Storyboarder JSON at all
is an :class:`ImportFailed` naming it. Everything is linear in the size of the file.

This module finds the files, reads their JSON and makes the scenes; a board becomes a panel in
:mod:`~storyboard.core.storyboarder_boards`, the file's numbers are checked in
:mod:`~storyboard.core.storyboarder_values`, and the image limits and flattening the export shares
are in :mod:`~storyboard.core.storyboarder_images`.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from storyboard.core.assets import AssetStore
from storyboard.core.bundle_paths import inside
from storyboard.core.errors import ImportFailed
from storyboard.core.model import Project, Scene
from storyboard.core.numbering import letters
from storyboard.core.storyboarder_boards import BoardReader
from storyboard.core.storyboarder_format import BOARD_UID, SCENE_ID, SCRIPT_SCENE, shot_numbers
from storyboard.core.storyboarder_values import apply_settings, default_timing
from storyboard.core.text_repair import TextRepairError, repair_surrogates

log = logging.getLogger(__name__)

_BOARD_PATH = re.compile(r"boards\[(\d+)\]\.(.*)")  # where text_repair found broken text
_DIGITS = re.compile(r"(\d+)")


def _natural(path: Path) -> list[Any]:
    """Sort key reading runs of digits as numbers: ``Scene-2`` before ``Scene-10``."""
    parts = _DIGITS.split(str(path).casefold())
    return [int(part) if part.isdigit() else part for part in parts]


def storyboarder_files(source: Path) -> list[Path]:
    """The file itself, or the ``.storyboarder`` files of a folder that are inside it (a link
    to one elsewhere would read someone else's text into the project), in natural order."""
    if source.is_file():
        return [source]
    if source.is_dir():
        files = sorted(
            (f for f in source.rglob("*.storyboarder") if inside(source, f)), key=_natural
        )
        if files:
            return files
    raise ImportFailed(source, "no .storyboarder file found", "Pick a .storyboarder file or folder")


def import_storyboarder(source: Path, store: AssetStore) -> tuple[Project, list[str]]:
    """Build a project from Storyboarder files, putting the board images and sounds into
    ``store``.

    Returns the project (not yet saved) and warnings (missing images, unsupported fps, values
    that made no sense), each naming its file and board.
    """
    source = Path(source)
    project = Project()
    project.settings.title = _repaired(source.stem if source.is_file() else source.name)
    warnings: list[str] = []
    for index, file in enumerate(storyboarder_files(source)):
        data, broken = _read(file)

        def say(message: str, where: str = file.name) -> None:
            warnings.append(f"{where}: {message}")

        for path in broken:
            match = _BOARD_PATH.fullmatch(path)
            where = f"{file.name}, board {int(match[1]) + 1}" if match else file.name
            field = match[2] if match else path
            say(f"{field} held broken characters (half an emoji?), shown as \ufffd", where)

        if index == 0:
            apply_settings(project, data, say)
        scene = _scene(_repaired(file.stem), project)
        project.scenes[scene.id] = scene
        project.scene_ids.append(scene.id)
        reader = BoardReader(
            folder=file.parent,
            store=store,
            fps=project.settings.fps,
            default_ms=default_timing(data.get("defaultBoardTiming"), say),
        )
        boards: list[tuple[int, dict[str, Any]]] = []
        for number, board in enumerate(data.get("boards") or [], start=1):
            if isinstance(board, dict):
                boards.append((number, board))
            else:
                say("not an object; skipped", f"{file.name}, board {number}")
        shots = shot_numbers([board.get("newShot") is True for _, board in boards])
        for position, ((number, board), shot) in enumerate(zip(boards, shots, strict=True)):

            def on_board(message: str, where: str = f"{file.name}, board {number}") -> None:
                warnings.append(f"{where}: {message}")

            panel = reader.panel(board, on_board)
            uid = board.get("uid")
            if isinstance(uid, str) and BOARD_UID.fullmatch(uid) and uid not in project.panels:
                panel.id = uid  # an export writes the board's files under the same names
            if shot != f"{len(project.scene_ids)}{letters(position)}":
                panel.number_override = shot
            project.panels[panel.id] = panel
            scene.panel_ids.append(panel.id)
    for warning in warnings:
        log.warning("%s", warning)
    return project, warnings


def _scene(stem: str, project: Project) -> Scene:
    """A scene named after its file: ``Scene-3-INT-KITCHEN-NIGHT-AB12C`` (a script project's)
    is "INT KITCHEN NIGHT", with its scene id kept for an export; any other name as it is."""
    match = SCRIPT_SCENE.fullmatch(stem)
    if match is None:
        return Scene(title=stem)
    scene = Scene(title=match[1].replace("-", " "))
    if match[2] not in project.scenes and SCENE_ID.fullmatch(match[2]):
        scene.id = match[2]
    return scene


def _repaired(text: str) -> str:
    """A file name that is not UTF-8 reaches Python with lone surrogates: U+FFFD instead."""
    return str(repair_surrogates(text)[0])


def _read(file: Path) -> tuple[dict[str, Any], list[str]]:
    """The file's JSON, with lone surrogates (half an emoji) repaired, and where they were
    (``board 3 dialogue``)."""
    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
        data, paths = repair_surrogates(data)
    except OSError as exc:
        raise ImportFailed(file, f"could not be read ({exc.strerror})", "Check the file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportFailed(
            file, f"is not valid Storyboarder JSON ({exc})", "Check the file"
        ) from exc
    except RecursionError as exc:
        raise ImportFailed(
            file, "is nested too deeply to be a Storyboarder file", "Check the file"
        ) from exc
    except TextRepairError as exc:
        raise ImportFailed(file, f"is damaged ({exc})", "Check the file") from exc
    if not isinstance(data, dict) or not isinstance(data.get("boards", []), list):
        raise ImportFailed(file, "has no list of boards", "Is this a .storyboarder file?")
    return data, paths
