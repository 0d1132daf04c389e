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
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import warnings as python_warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from storyboard.core.assets import AssetStore
from storyboard.core.bundle_paths import confined
from storyboard.core.model import LayerKind, Panel, PanelLayer, Project, Scene
from storyboard.core.numbering import panel_numbers
from storyboard.core.storyboarder_format import (
    DEFAULT_BOARD_MS,
    DRAWING_LAYERS,
    LAYER_ORDER,
    NOTES_LAYER,
    OPACITY_LAYERS,
    STORYBOARDER_VERSION,
    board_image_size,
    board_url,
    layer_url,
    new_shots_for,
    posterframe_url,
    shot_numbers,
    thumbnail_size,
    thumbnail_url,
)
from storyboard.core.storyboarder_images import IMPORTED_MODEL, MAX_BOARD_PIXELS, MAX_BOARD_SIDE
from storyboard.core.timeline import frames_to_seconds
from storyboard.export.output import (
    Cancelled,
    ExportError,
    Progress,
    check_cancelled,
    export_error,
    write_file,
)

log = logging.getLogger(__name__)

SoundSeconds = Callable[[Path], float | None]
_UID = re.compile(r"[A-Za-z0-9]{1,32}")
_SCENE_ID = re.compile(r"[A-Za-z0-9]{1,16}")
_NOT_NAME = re.compile(r"[^\w]+")  # a scene folder's title part keeps letters and digits
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
    target = Path(target)
    options = options or StoryboarderOptions()
    created = _prepare(target)
    writer = _Writer(project, AssetStore(bundle), target, options)
    try:
        result = writer.write(progress, cancelled)
    except BaseException:
        _undo(target, created, writer.written)
        raise
    for warning in result.warnings:
        log.warning("%s", warning)
    return result


def _prepare(target: Path) -> bool:
    """Make ``target`` (True) or check that it is an empty folder (False)."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ExportError(target, "is not a folder", "Give the name of a new folder")
    if target.is_dir():
        if any(target.iterdir()):
            raise ExportError(target, "is not empty", "Give the name of a new or empty folder")
        return False
    try:
        target.mkdir(parents=False)
    except FileNotFoundError as exc:
        raise ExportError(
            target, "its folder does not exist", "Create the folder or pick another"
        ) from exc
    except OSError as exc:
        raise export_error(target, exc) from exc
    return True


def _undo(target: Path, created: bool, written: list[Path]) -> None:
    """Remove what this export wrote (the whole folder when it made it)."""
    if created:
        shutil.rmtree(target, ignore_errors=True)
        return
    for path in reversed(written):
        try:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove %s after a failed export", path)


def _base36(text: str, length: int) -> str:
    number = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    digits = []
    for _ in range(length):
        number, digit = divmod(number, 36)
        digits.append(_BASE36[digit])
    return "".join(digits)


def _slug(title: str) -> str:
    """A scene title as Storyboarder puts it in a scene folder's name (``INT-KITCHEN-NIGHT``)."""
    slug = _NOT_NAME.sub("-", title.replace(".", "")).strip("-_")
    return "-".join(part for part in slug.split("-") if part)[:50].strip("-") or "Scene"


def _milliseconds(iso: str) -> int | None:
    try:
        return round(datetime.fromisoformat(iso).timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        return None


@dataclass(slots=True)
class _Layer:
    name: str
    image: Any  # PIL RGBA at the board size
    opacity: float | None  # written for reference and shot-generator only
    png: bytes | None = None  # the asset's own file, when it is this layer as it is written


@dataclass(slots=True)
class _Writer:
    project: Project
    store: AssetStore
    target: Path
    options: StoryboarderOptions
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    numbers: dict[str, str] = field(default_factory=dict)
    _now: int = field(default_factory=lambda: round(datetime.now().timestamp() * 1000))

    @property
    def aspect(self) -> float:
        return self.project.settings.aspect_ratio

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

    # -- files ---------------------------------------------------------------------------------

    def _path(self, *parts: str) -> Path:
        return confined(self.target, *parts)

    def _folder(self, *parts: str) -> Path:
        path = self._path(*parts)
        if not path.is_dir():
            try:
                path.mkdir()
            except OSError as exc:
                raise export_error(path, exc) from exc
            self.written.append(path)
        return path

    def _file(self, data: bytes, *parts: str) -> Path:
        path = self._path(*parts)
        self.written.append(path)
        write_file(path, data)
        return path

    def _json(self, data: object, *parts: str) -> Path:
        text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
        return self._file(text.encode("utf-8"), *parts)

    # -- the script project of a project with several scenes -----------------------------------

    def _script_project(self, scenes: list[Scene]) -> list[str]:
        """``NAME.fountain`` and ``storyboards/storyboard.settings``; the scene folders' names."""
        used: set[str] = set()
        folders: list[str] = []
        script = [f"Title: {' '.join(self.project.settings.title.split())}", ""]
        for number, scene in enumerate(scenes, start=1):
            scene_id = scene.id if _SCENE_ID.fullmatch(scene.id) else _base36(scene.id, 5)
            while scene_id.casefold() in used:
                scene_id = _base36(scene_id, 5)
            used.add(scene_id.casefold())
            # one line, no '#' (it marks the scene id) and no leading '.' ('..' is no heading)
            title = " ".join(scene.title.replace("#", " ").split()).lstrip(". ")
            title = title or f"Scene {number}"
            folders.append(f"Scene-{number}-{_slug(title)}-{scene_id}")
            # a forced heading keeps any title a heading; #N-ID# is how Storyboarder finds the
            # scene's folder (fountain-scene-id-util.js, loadScene)
            script += [f".{title} #{number}-{scene_id}#", ""]
            for panel_id in scene.panel_ids:
                text = self.project.panels[panel_id].action.strip()
                if text:  # forced action: no line of it is read as other Fountain syntax
                    script += [*(f"!{line}" for line in text.splitlines()), ""]
        self._folder("storyboards")
        settings = {"lastScene": 0, "aspectRatio": self.aspect}
        self._json(settings, "storyboards", "storyboard.settings")
        self._file("\n".join(script).encode("utf-8"), f"{self.target.name}.fountain")
        return folders

    # -- one scene -----------------------------------------------------------------------------

    def _scene(
        self, scene: Scene, folder: tuple[str, ...], name: str, step: Callable[[], None]
    ) -> Path:
        """``FOLDER/NAME.storyboarder`` and ``FOLDER/images/`` for one scene (Storyboarder names
        the file after its folder)."""
        if folder:
            self._folder(*folder)
        self._folder(*folder, "images")
        panels = [self.project.panels[pid] for pid in scene.panel_ids]
        new_shots = new_shots_for([self.numbers[panel.id] for panel in panels])
        shots = shot_numbers(new_shots)
        uids: set[str] = set()
        boards = []
        time_ms = 0
        for index, panel in enumerate(panels):
            uid = self._uid(panel, uids)
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
        return self._json(data, *folder, f"{name}.storyboarder")

    def _uid(self, panel: Panel, used: set[str]) -> str:
        """The board's uid: the panel's id when it is one Storyboarder could have made (an
        imported board's), else five base-36 characters made from it. Unique ignoring case: it
        names files, and some file systems ignore case."""
        uid = panel.id if _UID.fullmatch(panel.id) else _base36(panel.id, 5)
        while uid.casefold() in used:
            uid = _base36(uid, 5)
        used.add(uid.casefold())
        return uid

    def _board(self, panel: Panel, index: int, uid: str, images: tuple[str, ...]) -> dict[str, Any]:
        url = board_url(index, uid)
        label = self.numbers[panel.id]
        layers = self._layers(panel, label)
        size = board_image_size(self.aspect)
        entries: dict[str, dict[str, Any]] = {}
        for layer in layers:
            name = layer_url(url, layer.name)
            self._file(layer.png or _png(layer.image), *images, name)
            entries[layer.name] = {"url": name}
            if layer.opacity is not None:
                entries[layer.name]["opacity"] = layer.opacity
        flat = _flatten(layers, size)
        self._file(_png(flat.resize(thumbnail_size(self.aspect))), *images, thumbnail_url(url))
        self._file(_jpeg(flat), *images, posterframe_url(url))
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
        audio = self._audio(panel, uid, images, label)
        if audio is not None:
            board["audio"] = audio
        return board

    def _last_edited(self, panel: Panel) -> int:
        shown = next((c for c in panel.candidates if c.asset == panel.image), None)
        stamp = _milliseconds(shown.created) if shown is not None and shown.created else None
        return stamp if stamp is not None else self._now

    # -- layers --------------------------------------------------------------------------------

    def _layers(self, panel: Panel, label: str) -> list[_Layer]:
        """The board's layers, bottom to top in Storyboarder's order."""
        chosen: dict[str, tuple[str | None, float]] = {}  # storyboarder name -> asset, opacity
        left_out: list[str] = []
        unnamed: list[PanelLayer] = []
        for layer in panel.layers:
            if layer.kind is LayerKind.MASK:
                left_out.append("a mask")
            elif not layer.visible:
                left_out.append(f"a hidden {layer.kind.value} layer")
            elif layer.name in LAYER_ORDER and layer.name not in chosen:
                chosen[layer.name] = (layer.asset, layer.opacity)
            else:
                unnamed.append(layer)
        for layer in unnamed:
            free = (NOTES_LAYER,) if layer.kind is LayerKind.NOTES else DRAWING_LAYERS
            name = next((n for n in (*free, *DRAWING_LAYERS) if n not in chosen), None)
            if name is None:
                left_out.append(f"a {layer.kind.value} layer (no Storyboarder layer was free)")
            else:
                chosen[name] = (layer.asset, layer.opacity)
        if panel.image is not None and not self._only_flattened(panel, chosen):
            name = next((n for n in OPACITY_LAYERS if n not in chosen), None)
            if name is None:
                left_out.append("its image (reference and shot-generator layers are taken)")
            else:
                chosen[name] = (panel.image, 1.0)
        if left_out:
            self.warnings.append(
                f"panel {label}: {', '.join(left_out)} left out (Storyboarder has no such layer)"
            )
        layers: list[_Layer] = []
        for name in LAYER_ORDER:
            if name not in chosen:
                continue
            asset, opacity = chosen[name]
            found = self._image(asset, label, name)
            if found is None:
                continue
            image, same = found
            if name in OPACITY_LAYERS:
                written = _Layer(name, image, min(max(opacity, 0.0), 1.0))
            else:
                written = _Layer(name, _faded(image, opacity), None)
                same = same and opacity >= 1
            if same:  # an imported layer going back unchanged: Storyboarder's own bytes
                path = self.store.file(asset)
                written.png = path.read_bytes() if path is not None else None
            layers.append(written)
        return layers

    def _only_flattened(self, panel: Panel, chosen: dict[str, Any]) -> bool:
        """Whether the accepted image is the import's flattening of the layers written anyway."""
        shown = next((c for c in panel.candidates if c.asset == panel.image), None)
        named = any(layer.name in LAYER_ORDER for layer in panel.layers)
        return shown is not None and shown.model == IMPORTED_MODEL and named and bool(chosen)

    def _image(self, asset: str | None, label: str, layer: str) -> tuple[Any, bool] | None:
        """An asset as RGBA at the board size, and whether its file is that already (RGBA at
        that size); None (with a warning) when it is missing, unreadable or too large to decode
        safely."""
        from PIL import Image  # Pillow is only needed for this export

        path = self.store.file(asset)
        if path is None:
            if asset is not None:
                self.warnings.append(f"panel {label}: the {layer} layer's image is missing")
            return None
        try:
            with python_warnings.catch_warnings():
                python_warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                opened = Image.open(path)
            width, height = opened.size
            if width * height > MAX_BOARD_PIXELS or max(width, height) > MAX_BOARD_SIDE:
                self.warnings.append(f"panel {label}: the {layer} image is too large; left out")
                return None
            mode = opened.mode
            image = opened.convert("RGBA")
        except Image.DecompressionBombError:
            self.warnings.append(f"panel {label}: the {layer} image is too large; left out")
            return None
        except Exception as exc:  # Pillow raises many kinds of error for a damaged image
            self.warnings.append(f"panel {label}: the {layer} image is unreadable ({exc})")
            return None
        size = board_image_size(self.aspect)
        if image.size == size:
            return image, mode == "RGBA"
        return image.resize(size, Image.Resampling.LANCZOS), False

    # -- sound ---------------------------------------------------------------------------------

    def _audio(
        self, panel: Panel, uid: str, images: tuple[str, ...], label: str
    ) -> dict[str, Any] | None:
        if panel.audio is None:
            return None
        source = self.store.file(panel.audio)
        if source is None:
            self.warnings.append(f"panel {label}: its sound file is missing; the board is silent")
            return None
        extension = panel.audio.rsplit(".", 1)[-1]  # a checked media id: <sha256>.<ext>
        name = f"{uid}-audio.{extension}"
        try:
            data = source.read_bytes()
        except OSError as exc:
            self.warnings.append(f"panel {label}: its sound could not be read ({exc.strerror})")
            return None
        written = self._file(data, *images, name)
        audio: dict[str, Any] = {"filename": name}
        seconds = self._sound_seconds(written)
        if seconds is not None:
            audio["duration"] = round(seconds * 1000)
        return audio

    def _sound_seconds(self, path: Path) -> float | None:
        measure = self.options.sound_seconds
        if measure is None:
            from storyboard.export.audio import audio_seconds  # PyAV, only when there is sound

            def measure(file: Path) -> float | None:
                try:
                    return audio_seconds(file)
                except ExportError as exc:
                    log.warning("%s; its board gets no sound duration", exc)
                    return None

        return measure(path)


def _faded(image: Any, opacity: float) -> Any:
    """A layer Storyboarder draws at full opacity, with ``opacity`` in its pixels."""
    opacity = min(max(opacity, 0.0), 1.0)
    if opacity >= 1:
        return image
    faded = image.copy()
    faded.putalpha(image.getchannel("A").point(lambda a: round(a * opacity)))
    return faded


def _flatten(layers: list[_Layer], size: tuple[int, int]) -> Any:
    """The board on white, as Storyboarder's poster frames and thumbnails show it."""
    from PIL import Image

    canvas = Image.new("RGBA", size, "white")
    for layer in layers:
        canvas.alpha_composite(_faded(layer.image, 1.0 if layer.opacity is None else layer.opacity))
    return canvas.convert("RGB")


def _png(image: Any) -> bytes:
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _jpeg(image: Any) -> bytes:
    out = BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()
