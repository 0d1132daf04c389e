"""Export a project as a Storyboarder project, so colleagues who board in Storyboarder can open it.

What Storyboarder's reader needs (``storyboard.core.storyboarder_format`` names the functions of
Storyboarder 3.0.0 each rule comes from):

* a project of one scene is a folder ``NAME/`` holding ``NAME.storyboarder`` and ``images/``;
  a project of several scenes is a Storyboarder *script project*: ``NAME.fountain`` (a forced scene
  heading per scene, with the scene id Storyboarder uses to find its folder), and
  ``storyboards/storyboard.settings`` plus one ``Scene-N-TITLE-ID/`` folder per scene, each a
  scene as above (``findOrCreateProjectFolder`` in src/js/main.js, ``loadScene`` in
  src/js/window/main-window.js);
* each panel is a board with every key the reader uses (``REQUIRED_BOARD_KEYS``); its number is
  kept as Storyboarder's ``newShot`` marks (a new shot where the number's leading digits change,
  so 1A, 1B, 2A stay 1A, 1B, 2A; Storyboarder numbers each scene from 1 and cannot show other
  numbers);
* its layers are PNG files at Storyboarder's board size (``boardFileImageSize``): a layer that
  came from Storyboarder goes back under its name, a sketch drawn here on the first free drawing
  layer (``fill``, ``pencil``, ``ink``, ``tone``), the notes layer on ``notes``; the accepted
  image (unless it is only the flattened import of those layers) on ``reference`` at full
  opacity, as Storyboarder's own image import puts it, or ``shot-generator`` when the board has a
  reference layer already. Storyboarder keeps an opacity for those two only: any other layer's
  opacity is multiplied into its pixels. Hidden layers and masks have no Storyboarder equivalent
  and are left out (a warning says so);
* the thumbnail and poster frame Storyboarder would otherwise make on first open (with a warning
  about missing files), its sound in ``images/`` as ``UID-audio.EXT`` with its duration.

Only the chosen folder is written, and only when it is new or empty: every name comes from the
folder's own name, Storyboarder's fixed patterns, board uids checked to be letters and digits,
asset ids checked to be content hashes, and scene titles reduced to letters, digits and dashes.
A failure or a cancel removes what was written.

This module writes the scenes and their ``.storyboarder`` documents; the layers are chosen and
read in :mod:`~storyboard.export.storyboarder_layers`, the sounds copied in
:mod:`~storyboard.export.storyboarder_sound`, the folder kept to itself by
:mod:`~storyboard.export.target_folder`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from storyboard.core.assets import AssetStore
from storyboard.core.model import Panel, Project, Scene
from storyboard.core.numbering import panel_numbers
from storyboard.core.storyboarder_format import (
    BOARD_UID,
    DEFAULT_BOARD_MS,
    SCENE_ID,
    STORYBOARDER_VERSION,
    board_image_size,
    board_url,
    layer_url,
    new_shots_for,
    posterframe_url,
    scene_folder,
    shot_numbers,
    thumbnail_size,
    thumbnail_url,
)
from storyboard.core.storyboarder_images import flatten, png_bytes
from storyboard.core.timeline import frames_to_seconds
from storyboard.export.output import Cancelled, Progress, check_cancelled
from storyboard.export.storyboarder_layers import BoardLayers
from storyboard.export.storyboarder_sound import BoardSounds, SoundSeconds
from storyboard.export.target_folder import TargetFolder

log = logging.getLogger(__name__)

_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class StoryboarderOptions:
    """``sound_seconds``: a sound file's length (None: unknown); by default decoded with PyAV.
    Storyboarder measures its sounds again when it opens the scene."""

    sound_seconds: SoundSeconds | None = None


@dataclass(slots=True)
class StoryboarderResult:
    folder: Path
    files: list[Path]  # the .storyboarder files written, one per scene
    boards: int
    warnings: list[str] = field(default_factory=list)


def export_storyboarder(
    project: Project,
    bundle: Path,
    target: Path,
    options: StoryboarderOptions | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> StoryboarderResult:
    """Write ``project`` as a Storyboarder project in the new (or empty) folder ``target``.

    Raises :class:`ExportError` (nothing left behind) when the folder is not empty or cannot be
    written, :class:`ExportCancelled` when ``cancelled`` says so.
    """
    options = options or StoryboarderOptions()
    folder = TargetFolder.prepare(Path(target))
    writer = _Writer(project, AssetStore(bundle), folder, options)
    try:
        result = writer.write(progress, cancelled)
    except BaseException:
        folder.undo()
        raise
    for warning in result.warnings:
        log.warning("%s", warning)
    return result


def _base36(text: str, length: int) -> str:
    number = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    digits = []
    for _ in range(length):
        number, digit = divmod(number, 36)
        digits.append(_BASE36[digit])
    return "".join(digits)


def _unique_id(text: str, pattern: re.Pattern[str], used: set[str]) -> str:
    """``text`` when it is an id Storyboarder could have made (``pattern``: an imported board's
    uid or scene id), else five base-36 characters made from it. Unique in ``used`` ignoring
    case: it names files and folders, and some file systems ignore case."""
    unique = text if pattern.fullmatch(text) else _base36(text, 5)
    while unique.casefold() in used:
        unique = _base36(unique, 5)
    used.add(unique.casefold())
    return unique


def _milliseconds(iso: str) -> int | None:
    try:
        return round(datetime.fromisoformat(iso).timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        return None


@dataclass(slots=True)
class _Writer:
    project: Project
    store: AssetStore
    folder: TargetFolder
    options: StoryboarderOptions
    warnings: list[str] = field(default_factory=list)
    numbers: dict[str, str] = field(default_factory=dict)
    _now: int = field(default_factory=lambda: round(datetime.now().timestamp() * 1000))
    layers: BoardLayers = field(init=False)
    sounds: BoardSounds = field(init=False)

    def __post_init__(self) -> None:
        self.layers = BoardLayers(self.store, self.aspect, self.warnings)
        self.sounds = BoardSounds(
            self.store, self.folder, self.options.sound_seconds, self.warnings
        )

    @property
    def aspect(self) -> float:
        return self.project.settings.aspect_ratio

    @property
    def target(self) -> Path:
        return self.folder.target

    def write(self, progress: Progress | None, cancelled: Cancelled | None) -> StoryboarderResult:
        scenes = self.project.ordered_scenes()
        self.numbers = panel_numbers(self.project)
        total = max(1, len(self.project.panels))
        done = 0

        def step() -> None:
            nonlocal done
            check_cancelled(cancelled)
            done += 1
            if progress is not None:
                progress(done, total)

        files: list[Path] = []
        if len(scenes) <= 1:
            scene = scenes[0] if scenes else Scene()
            files.append(self._scene(scene, (), self.target.name, step))
        else:
            folders = self._script_project(scenes)
            for scene, folder in zip(scenes, folders, strict=True):
                files.append(self._scene(scene, ("storyboards", folder), folder, step))
        boards = sum(len(scene.panel_ids) for scene in scenes)
        return StoryboarderResult(self.target, files, boards, self.warnings)

    # -- the script project of a project with several scenes -----------------------------------

    def _script_project(self, scenes: list[Scene]) -> list[str]:
        """``NAME.fountain`` and ``storyboards/storyboard.settings``; the scene folders' names."""
        used: set[str] = set()
        folders: list[str] = []
        script = [f"Title: {' '.join(self.project.settings.title.split())}", ""]
        for number, scene in enumerate(scenes, start=1):
            scene_id = _unique_id(scene.id, SCENE_ID, used)
            # one line, no '#' (it marks the scene id) and no leading '.' ('..' is no heading)
            title = " ".join(scene.title.replace("#", " ").split()).lstrip(". ")
            title = title or f"Scene {number}"
            folders.append(scene_folder(number, title, scene_id))
            # a forced heading keeps any title a heading; #N-ID# is how Storyboarder finds the
            # scene's folder (fountain-scene-id-util.js, loadScene)
            script += [f".{title} #{number}-{scene_id}#", ""]
            for panel_id in scene.panel_ids:
                text = self.project.panels[panel_id].action.strip()
                if text:  # forced action: no line of it is read as other Fountain syntax
                    script += [*(f"!{line}" for line in text.splitlines()), ""]
        self.folder.folder("storyboards")
        settings = {"lastScene": 0, "aspectRatio": self.aspect}
        self.folder.json_file(settings, "storyboards", "storyboard.settings")
        self.folder.file("\n".join(script).encode("utf-8"), f"{self.target.name}.fountain")
        return folders

    # -- one scene -----------------------------------------------------------------------------

    def _scene(
        self, scene: Scene, folder: tuple[str, ...], name: str, step: Callable[[], None]
    ) -> Path:
        """``FOLDER/NAME.storyboarder`` and ``FOLDER/images/`` for one scene (Storyboarder names
        the file after its folder)."""
        if folder:
            self.folder.folder(*folder)
        self.folder.folder(*folder, "images")
        panels = [self.project.panels[pid] for pid in scene.panel_ids]
        new_shots = new_shots_for([self.numbers[panel.id] for panel in panels])
        shots = shot_numbers(new_shots)
        uids: set[str] = set()
        boards = []
        time_ms = 0
        for index, panel in enumerate(panels):
            uid = _unique_id(panel.id, BOARD_UID, uids)  # an imported board's uid stays
            board = self._board(panel, index, uid, (*folder, "images"))
            board.update(newShot=new_shots[index], number=index + 1, shot=shots[index])
            board["time"] = time_ms
            time_ms += board["duration"]
            boards.append(board)
            step()
        data = {
            "version": STORYBOARDER_VERSION,
            "aspectRatio": self.aspect,
            "fps": self.project.settings.fps,
            "defaultBoardTiming": DEFAULT_BOARD_MS,
            "boards": boards,
        }
        return self.folder.json_file(data, *folder, f"{name}.storyboarder")

    def _board(self, panel: Panel, index: int, uid: str, images: tuple[str, ...]) -> dict[str, Any]:
        url = board_url(index, uid)
        label = self.numbers[panel.id]
        layers = self.layers.layers(panel, label)
        size = board_image_size(self.aspect)
        entries: dict[str, dict[str, Any]] = {}
        for layer in layers:
            name = layer_url(url, layer.name)
            self.folder.file(layer.png or png_bytes(layer.image), *images, name)
            entries[layer.name] = {"url": name}
            if layer.opacity is not None:
                entries[layer.name]["opacity"] = layer.opacity
        # the other layers' opacity is in their pixels already (None: Storyboarder draws them whole)
        shown = [(layer.image, 1.0 if layer.opacity is None else layer.opacity) for layer in layers]
        flat = flatten(shown, size)
        thumbnail = png_bytes(flat.resize(thumbnail_size(self.aspect)))
        self.folder.file(thumbnail, *images, thumbnail_url(url))
        self.folder.file(_jpeg(flat), *images, posterframe_url(url))
        fps = self.project.settings.fps
        board: dict[str, Any] = {
            "uid": uid,
            "url": url,
            "newShot": False,
            "lastEdited": self._last_edited(panel),
            "layers": entries,
            "number": index + 1,
            "shot": "",
            "time": 0,
            "duration": round(frames_to_seconds(panel.duration, fps) * 1000),
            "dialogue": panel.dialogue,
            "action": panel.action,
            "notes": panel.notes,
        }
        audio = self.sounds.audio(panel, uid, images, label)
        if audio is not None:
            board["audio"] = audio
        return board

    def _last_edited(self, panel: Panel) -> int:
        shown = next((c for c in panel.candidates if c.asset == panel.image), None)
        stamp = _milliseconds(shown.created) if shown is not None and shown.created else None
        return stamp if stamp is not None else self._now


def _jpeg(image: Any) -> bytes:
    out = BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()
