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
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
import warnings as python_warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storyboard.core.assets import AUDIO_EXTENSIONS, PNG_SIGNATURE, AssetStore
from storyboard.core.bundle_paths import inside, is_plain_name
from storyboard.core.errors import ImportFailed, ProjectError
from storyboard.core.model import (
    FPS_CHOICES,
    Candidate,
    LayerKind,
    Panel,
    PanelLayer,
    Project,
    Scene,
)
from storyboard.core.numbering import letters
from storyboard.core.storyboarder_format import (
    DEFAULT_BOARD_MS,
    LAYER_ORDER,
    NOTES_LAYER,
    OPACITY_LAYERS,
    posterframe_url,
    shot_numbers,
)
from storyboard.core.text_repair import TextRepairError, repair_surrogates
from storyboard.core.timeline import seconds_to_frames

log = logging.getLogger(__name__)

IMPORTED_MODEL = "Storyboarder drawing"  # the candidate's model: the board's layers, flattened
_BOARD_PATH = re.compile(r"boards\[(\d+)\]\.(.*)")  # where text_repair found broken text
_UID = re.compile(r"[A-Za-z0-9]{1,32}")
_DIGITS = re.compile(r"(\d+)")
# A script project's scene folder and file: Scene-<number>-<title, dashed>-<scene id>
# (updateSceneFromScript, src/js/window/main-window.js).
_SCRIPT_SCENE = re.compile(r"Scene-\d+-(.+)-([A-Za-z0-9]+)")
MAX_BOARD_SECONDS = 3600  # longer is a broken file, and would make an export run for days
MAX_BOARD_PIXELS = 50_000_000  # an 8K board is 33 MP; a bomb's header claims billions
MAX_BOARD_SIDE = 16_384
MAX_SOUND_BYTES = 200 * 1024 * 1024  # a board's sound is seconds long: 20 minutes of CD audio
ASPECT_RANGE = (0.1, 10.0)
FPS_RANGE = (1.0, 240.0)

Say = Callable[[str], None]


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
            _apply_settings(project, data, say)
        scene = _scene(_repaired(file.stem), project)
        project.scenes[scene.id] = scene
        project.scene_ids.append(scene.id)
        reader = _BoardReader(
            folder=file.parent,
            store=store,
            fps=project.settings.fps,
            default_ms=_default_timing(data.get("defaultBoardTiming"), say),
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
            if isinstance(uid, str) and _UID.fullmatch(uid) and uid not in project.panels:
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
    match = _SCRIPT_SCENE.fullmatch(stem)
    if match is None:
        return Scene(title=stem)
    scene = Scene(title=match[1].replace("-", " "))
    if match[2] not in project.scenes and len(match[2]) <= 16:
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


def _number(value: Any) -> float | None:
    """A JSON number as a float (maybe infinite or NaN: Python's json reads both); else None."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _in_range(value: float | None, low: float, high: float) -> bool:
    return value is not None and math.isfinite(value) and low <= value <= high


def _apply_settings(project: Project, data: dict[str, Any], say: Say) -> None:
    fps = _number(data.get("fps"))
    if fps is not None and not _in_range(fps, *FPS_RANGE):
        say(f"fps {fps:g} is not a frame rate; 24 fps is used")
        fps = None
    fps = 24.0 if fps is None else fps
    nearest = min(FPS_CHOICES, key=lambda choice: abs(choice - fps))
    if abs(nearest - fps) > 0.01:
        say(f"{fps:g} fps is not supported; using {nearest:g} fps")
    project.settings.fps = nearest
    aspect = _number(data.get("aspectRatio"))
    if _in_range(aspect, *ASPECT_RANGE):
        project.settings.aspect_ratio = float(aspect or 0)
    elif aspect is not None:
        say(f"aspect ratio {aspect:g} is out of range; 16:9 is used")


def _default_timing(value: Any, say: Say) -> float:
    timing = _number(value)
    if timing is None:
        return DEFAULT_BOARD_MS
    if not _in_range(timing, 1, MAX_BOARD_SECONDS * 1000):
        say(f"default board timing {timing:g} ms makes no sense; 2 s is used")
        return DEFAULT_BOARD_MS
    return timing


def _milliseconds(value: Any, default: float, what: str, say: Say) -> float:
    """A duration from the file, at most an hour; a broken one is the default, with a warning."""
    duration = _number(value)
    if duration is None:
        return default
    if not math.isfinite(duration):
        say(f"{what} {duration:g} is not a duration; {default / 1000:g} s is used")
        return default
    if duration > MAX_BOARD_SECONDS * 1000:
        say(f"{what} of {duration:g} ms is longer than an hour; an hour is used")
        return MAX_BOARD_SECONDS * 1000
    return duration


def _created(value: Any, say: Say) -> str:
    milliseconds = _number(value)
    if not milliseconds:
        return ""
    try:
        return datetime.fromtimestamp(milliseconds / 1000, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        say(f"last edited time {milliseconds:g} is not a date; it was left out")
        return ""


def _url(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class _Layer:
    name: str
    image: Any  # a PIL image, RGBA
    opacity: float
    file: Path


@dataclass(frozen=True, slots=True)
class _BoardReader:
    """Reads the boards of one ``.storyboarder`` file: only files in its folder's ``images/``."""

    folder: Path
    store: AssetStore
    fps: float
    default_ms: float

    @property
    def images(self) -> Path:
        return self.folder / "images"

    def panel(self, board: dict[str, Any], say: Say) -> Panel:
        def text(key: str) -> str:
            value = board.get(key)
            return value if isinstance(value, str) else ""

        duration_ms = _milliseconds(board.get("duration"), self.default_ms, "duration", say)
        audio = board.get("audio")
        if isinstance(audio, dict):  # a board lasts at least as long as its sound
            sound_ms = _milliseconds(audio.get("duration"), 0, "its sound's duration", say)
            duration_ms = max(duration_ms, sound_ms)
        panel = Panel(
            prompt=text("action"),
            dialogue=text("dialogue"),
            action=text("action"),
            notes=text("notes"),
            duration=seconds_to_frames(max(duration_ms, 1) / 1000, self.fps),
        )
        if isinstance(audio, dict):
            panel.audio = self._sound(audio, say)
        layers = self._layers(board, say)
        flat = _flatten(layers) if layers else self._poster(board, say)
        if flat is not None:
            asset = self.store.put(_png(flat))
            stamp = _created(board.get("lastEdited"), say)
            panel.candidates.append(Candidate(asset=asset, model=IMPORTED_MODEL, created=stamp))
            panel.image = asset
        for layer in layers:
            kind = LayerKind.NOTES if layer.name == NOTES_LAYER else LayerKind.SKETCH
            asset = self.store.put(_layer_png(layer, flat.size if flat is not None else None))
            panel.layers.append(PanelLayer(kind, asset, layer.opacity, name=layer.name))
        return panel

    def _file(self, url: str) -> Path | None:
        """``images/NAME`` for a url (its last part only: never a path), when it is a file."""
        name = Path(url.replace("\\", "/")).name
        if not is_plain_name(name):
            return None
        file = self.images / name
        return file if file.is_file() else None

    def _layers(self, board: dict[str, Any], say: Say) -> list[_Layer]:
        layers = board.get("layers")
        if not isinstance(layers, dict):
            layers = {}
        found: list[_Layer] = []
        main = _url(board.get("url"))
        for name in LAYER_ORDER:
            layer = layers.get(name)
            url = _url(layer.get("url")) if isinstance(layer, dict) else None
            if url is None and name == "fill" and main is not None:
                url = main  # a board older than Storyboarder 1.6: its main image is its fill
                if self._file(url) is None:
                    continue
            if url is None:
                continue
            file = self._file(url)
            if file is None:
                say(f"{url}: the {name} layer's image file is missing; that layer is left out")
                continue
            image = self._open(file, say)
            if image is not None:
                opacity = self._opacity(name, layer, say)
                found.append(_Layer(name, image, opacity, file))
        return found

    def _opacity(self, name: str, layer: Any, say: Say) -> float:
        default = OPACITY_LAYERS.get(name)
        if default is None:
            return 1.0  # Storyboarder draws this layer at full opacity, whatever the file says
        value = _number(layer.get("opacity")) if isinstance(layer, dict) else None
        if value is None:
            return default
        if not _in_range(value, 0.0, 1.0):
            say(f"the {name} layer's opacity {value:g} is not between 0 and 1; {default:g} is used")
            return default
        return value

    def _poster(self, board: dict[str, Any], say: Say) -> Any | None:
        """The poster frame of a board without layers (older Storyboarder exports)."""
        main = _url(board.get("url"))
        if main is None:
            return None
        poster = self._file(posterframe_url(Path(main.replace("\\", "/")).name))
        if poster is None:
            say(f"{main}: no image file found; the panel is empty")
            return None
        image = self._open(poster, say)
        return image.convert("RGB") if image is not None else None

    def _open(self, file: Path, say: Say) -> Any | None:
        """The image as RGBA, or None (with a warning) when it is unreadable, too large or a
        link to a file outside the Storyboarder folder.

        The size in an image's header is checked before its pixels are decoded, so a small file
        claiming billions of pixels (a decompression bomb) costs nothing.
        """
        from PIL import Image  # Pillow is only needed for imports

        if not inside(self.folder, file):
            say(f"{file.name} links to a file outside the Storyboarder folder; not read")
            return None
        try:
            with python_warnings.catch_warnings():
                python_warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(file)
            width, height = image.size
            if width * height > MAX_BOARD_PIXELS or max(width, height) > MAX_BOARD_SIDE:
                say(
                    f"{file.name} is too large ({width} x {height} pixels; at most "
                    f"{MAX_BOARD_SIDE} a side and {MAX_BOARD_PIXELS // 1_000_000} megapixels); "
                    "it is left out"
                )
                return None
            return image.convert("RGBA")
        except Image.DecompressionBombError:
            say(f"{file.name} is too large (a decompression bomb?); it is left out")
        except Exception as exc:  # Pillow raises many kinds of error for a damaged image
            say(f"{file.name}: unreadable image ({exc}); it is left out")
        return None

    def _sound(self, audio: dict[str, Any], say: Say) -> str | None:
        """The board's sound in the asset store (Storyboarder keeps it in ``images/``)."""
        name = _url(audio.get("filename"))
        if not name:
            return None
        file = self._file(name)
        if file is None:
            say(f"{name}: the sound file is missing; the panel is silent")
            return None
        extension = file.suffix.lower().lstrip(".")
        if extension not in AUDIO_EXTENSIONS:
            say(f"{file.name}: .{extension} sounds cannot be stored; the panel is silent")
            return None
        if not inside(self.folder, file):
            say(f"{file.name} links to a file outside the Storyboarder folder; not read")
            return None
        try:
            size = file.stat().st_size
            if size > MAX_SOUND_BYTES:
                say(
                    f"{file.name} is {size // 2**20} MiB, too large for a board's sound (at most "
                    f"{MAX_SOUND_BYTES // 2**20} MiB); the panel is silent"
                )
                return None
            return self.store.put_media(file.read_bytes(), extension)
        except OSError as exc:
            say(f"{file.name} could not be read ({exc.strerror}); the panel is silent")
        except ProjectError as exc:
            say(f"{file.name}: {exc.problem}; the panel is silent")
        return None


def _flatten(layers: list[_Layer]) -> Any:
    """The layers composited on white in order, at their opacity: what Storyboarder shows
    (``flattenBoardToCanvas``, src/js/exporters/common.js), the size of the bottom layer."""
    from PIL import Image  # Pillow is only needed for imports

    canvas = Image.new("RGBA", layers[0].image.size, "white")
    for layer in layers:
        image = layer.image if layer.image.size == canvas.size else layer.image.resize(canvas.size)
        if layer.opacity < 1:
            alpha = image.getchannel("A").point(lambda a, o=layer.opacity: round(a * o))
            image = image.copy()
            image.putalpha(alpha)
        canvas.alpha_composite(image)
    return canvas.convert("RGB")


def _layer_png(layer: _Layer, size: tuple[int, int] | None) -> bytes:
    """The layer as a PNG the size of the panel's image: Storyboarder's own file when it is one
    (byte for byte, and no time spent encoding it again), else the pixels read from it."""
    if size is None or layer.image.size == size:
        try:
            data = layer.file.read_bytes()
        except OSError:
            data = b""
        if data.startswith(PNG_SIGNATURE):
            return data
    image = layer.image if size is None else layer.image.resize(size)
    return _png(image)


def _png(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
