"""Import of Storyboarder projects (``.storyboarder`` JSON + ``images/``), so artists can bring
their existing boards over.

A ``.storyboarder`` file becomes one scene; a folder (a Storyboarder script project with a
``storyboards/`` folder, or any folder of ``.storyboarder`` files) becomes one scene per file. Each
board becomes a panel with its dialogue, action, notes and duration; its drawing layers are
flattened onto white in Storyboarder's z-order and stored as the panel's accepted image (and first
candidate), so the import loses nothing the artist can see.

The file may come from anyone: a value that makes no sense (an infinite or hour-long duration, an
image header claiming billions of pixels, a date past the year 9999, half an emoji) is a warning
on its board, which still comes over; only a file that cannot be read as Storyboarder JSON at all
is an :class:`ImportFailed` naming it.
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
import warnings as python_warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storyboard.core.assets import AssetStore
from storyboard.core.bundle_paths import inside
from storyboard.core.errors import ImportFailed
from storyboard.core.model import FPS_CHOICES, Candidate, Panel, Project, Scene
from storyboard.core.text_repair import TextRepairError, repair_surrogates
from storyboard.core.timeline import seconds_to_frames

log = logging.getLogger(__name__)

# Storyboarder's layer stack, bottom to top (``boardOrderedLayerFilenames``).
LAYER_ORDER = ("shot-generator", "reference", "fill", "tone", "pencil", "ink", "notes")
DEFAULT_BOARD_MS = 2000
_BOARD_PATH = re.compile(r"boards\[(\d+)\]\.(.*)")  # where text_repair found broken text
MAX_BOARD_SECONDS = 3600  # longer is a broken file, and would make an export run for days
MAX_BOARD_PIXELS = 50_000_000  # an 8K board is 33 MP; a bomb's header claims billions
MAX_BOARD_SIDE = 16_384
ASPECT_RANGE = (0.1, 10.0)
FPS_RANGE = (1.0, 240.0)

Say = Callable[[str], None]


def storyboarder_files(source: Path) -> list[Path]:
    """The file itself, or the ``.storyboarder`` files of a folder that are inside it (a link
    to one elsewhere would read someone else's text into the project)."""
    if source.is_file():
        return [source]
    if source.is_dir():
        files = sorted(f for f in source.rglob("*.storyboarder") if inside(source, f))
        if files:
            return files
    raise ImportFailed(source, "no .storyboarder file found", "Pick a .storyboarder file or folder")


def import_storyboarder(source: Path, store: AssetStore) -> tuple[Project, list[str]]:
    """Build a project from Storyboarder files, putting the board images into ``store``.

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
        scene = Scene(title=_repaired(file.stem))
        project.scenes[scene.id] = scene
        project.scene_ids.append(scene.id)
        default_ms = _default_timing(data.get("defaultBoardTiming"), say)
        for number, board in enumerate(data.get("boards") or [], start=1):

            def on_board(message: str, where: str = f"{file.name}, board {number}") -> None:
                warnings.append(f"{where}: {message}")

            if not isinstance(board, dict):
                on_board("not an object; skipped")
                continue
            panel = _panel(board, file.parent, store, project.settings.fps, default_ms, on_board)
            project.panels[panel.id] = panel
            scene.panel_ids.append(panel.id)
    for warning in warnings:
        log.warning("%s", warning)
    return project, warnings


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


def _panel(
    board: dict[str, Any],
    folder: Path,
    store: AssetStore,
    fps: float,
    default_ms: float,
    say: Say,
) -> Panel:
    def text(key: str) -> str:
        value = board.get(key)
        return value if isinstance(value, str) else ""

    duration_ms = _milliseconds(board.get("duration"), default_ms, "duration", say)
    audio = board.get("audio")
    if isinstance(audio, dict):  # a board lasts at least as long as its sound
        sound_ms = _milliseconds(audio.get("duration"), 0, "its sound's duration", say)
        duration_ms = max(duration_ms, sound_ms)
    panel = Panel(
        prompt=text("action"),
        dialogue=text("dialogue"),
        action=text("action"),
        notes=text("notes"),
        duration=seconds_to_frames(max(duration_ms, 1) / 1000, fps),
    )
    png = _flatten(board, folder / "images", say)
    if png is not None:
        asset = store.put(png)
        stamp = _created(board.get("lastEdited"), say)
        panel.candidates.append(Candidate(asset=asset, model="Storyboarder drawing", created=stamp))
        panel.image = asset
    return panel


def _url(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _layer_files(board: dict[str, Any], images: Path) -> list[Path]:
    layers = board.get("layers")
    if not isinstance(layers, dict):
        layers = {}
    by_name: dict[str, str] = {}
    for name in LAYER_ORDER:
        layer = layers.get(name)
        url = _url(layer.get("url")) if isinstance(layer, dict) else None
        if url is not None:
            by_name[name] = url
    main = _url(board.get("url"))
    if main is not None:
        by_name.setdefault("fill", main)  # the board's own url is its main (fill) layer
    files = [images / Path(by_name[name]).name for name in LAYER_ORDER if name in by_name]
    return [f for f in files if f.is_file()]


def _flatten(board: dict[str, Any], images: Path, say: Say) -> bytes | None:
    """The board as one PNG: its layers composited on white, or its poster frame."""
    files = _layer_files(board, images)
    if not files:
        main = _url(board.get("url"))
        poster = images / (Path(main).stem + "-posterframe.jpg") if main is not None else None
        if poster is None or not poster.is_file():
            if main is not None:
                say(f"{main}: no image file found; the panel is empty")
            return None
        files = [poster]
    from PIL import Image  # Pillow is only needed for imports

    layers = _open_layers(files, images.parent.resolve(), say)
    if layers is None:
        return None
    canvas = Image.new("RGBA", layers[0].size, "white")
    for layer in layers:
        canvas.alpha_composite(layer if layer.size == canvas.size else layer.resize(canvas.size))
    out = io.BytesIO()
    canvas.convert("RGB").save(out, format="PNG")
    return out.getvalue()


def _open_layers(files: list[Path], folder: Path, say: Say) -> list[Any] | None:
    """The layer images as RGBA, or None (with a warning) when one is unreadable, too large or
    a link to a file outside the Storyboarder ``folder``.

    The size in an image's header is checked before its pixels are decoded, so a small file
    claiming billions of pixels (a decompression bomb) costs nothing.
    """
    from PIL import Image  # Pillow is only needed for imports

    layers = []
    for file in files:
        if not file.resolve().is_relative_to(folder):
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
                    "the panel is empty"
                )
                return None
            layers.append(image.convert("RGBA"))
        except Image.DecompressionBombError:
            say(f"{file.name} is too large (a decompression bomb?); the panel is empty")
            return None
        except Exception as exc:  # Pillow raises many kinds of error for a damaged image
            say(f"{file.name}: unreadable image ({exc}); the panel is empty")
            return None
    return layers
