"""One board of a ``.storyboarder`` file as a panel: its texts and duration, its layer images and
their flattening, its sound (what :func:`storyboard.core.storyboarder.import_storyboarder` makes
of each board).

Only files in the ``images/`` folder beside the ``.storyboarder`` file are read, by the last
part of the name the file gives (never a path), and only when they lie inside the Storyboarder
folder once links are followed. An image's header is checked before its pixels are decoded
(``storyboarder_images``), a sound's size before it is read; anything missing, unreadable or too
large is a warning on the board, which still comes over.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.core.assets import AUDIO_EXTENSIONS, PNG_SIGNATURE, AssetStore
from storyboard.core.bundle_paths import inside, is_plain_name
from storyboard.core.errors import ProjectError
from storyboard.core.model import Candidate, LayerKind, Panel, PanelLayer
from storyboard.core.storyboarder_format import (
    LAYER_ORDER,
    NOTES_LAYER,
    OPACITY_LAYERS,
    posterframe_url,
)
from storyboard.core.storyboarder_images import (
    IMPORTED_MODEL,
    MAX_BOARD_PIXELS,
    MAX_BOARD_SIDE,
    BoardImageTooLarge,
    flatten,
    open_board_image,
    png_bytes,
)
from storyboard.core.storyboarder_values import Say, as_str, created, in_range, milliseconds, number
from storyboard.core.timeline import seconds_to_frames

MAX_SOUND_BYTES = 200 * 1024 * 1024  # a board's sound is seconds long: 20 minutes of CD audio


@dataclass(frozen=True, slots=True)
class _Layer:
    name: str
    image: Any  # a PIL image, RGBA
    opacity: float
    file: Path


@dataclass(frozen=True, slots=True)
class BoardReader:
    """Reads the boards of one ``.storyboarder`` file: only files in its folder's ``images/``."""

    folder: Path
    store: AssetStore
    fps: float
    default_ms: float

    @property
    def images(self) -> Path:
        return self.folder / "images"

    def panel(self, board: dict[str, Any], say: Say) -> Panel:
        """The board as a panel, its images and sound put into the store (its number and id
        are the caller's: they depend on the boards around it)."""

        def text(key: str) -> str:
            value = board.get(key)
            return value if isinstance(value, str) else ""

        duration_ms = milliseconds(board.get("duration"), self.default_ms, "duration", say)
        audio = board.get("audio")
        if isinstance(audio, dict):  # a board lasts at least as long as its sound
            sound_ms = milliseconds(audio.get("duration"), 0, "its sound's duration", say)
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
        flat = self._flatten(layers) if layers else self._poster(board, say)
        if flat is not None:
            asset = self.store.put(png_bytes(flat))
            stamp = created(board.get("lastEdited"), say)
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
        main = as_str(board.get("url"))
        for name in LAYER_ORDER:
            layer = layers.get(name)
            url = as_str(layer.get("url")) if isinstance(layer, dict) else None
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
        value = number(layer.get("opacity")) if isinstance(layer, dict) else None
        if value is None:
            return default
        if not in_range(value, 0.0, 1.0):
            say(f"the {name} layer's opacity {value:g} is not between 0 and 1; {default:g} is used")
            return default
        return value

    def _poster(self, board: dict[str, Any], say: Say) -> Any | None:
        """The poster frame of a board without layers (older Storyboarder exports)."""
        main = as_str(board.get("url"))
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
            return open_board_image(file).convert("RGBA")
        except BoardImageTooLarge as exc:
            say(
                f"{file.name} is too large ({exc.width} x {exc.height} pixels; at most "
                f"{MAX_BOARD_SIDE} a side and {MAX_BOARD_PIXELS // 1_000_000} megapixels); "
                "it is left out"
            )
        except Image.DecompressionBombError:
            say(f"{file.name} is too large (a decompression bomb?); it is left out")
        except Exception as exc:  # Pillow raises many kinds of error for a damaged image
            say(f"{file.name}: unreadable image ({exc}); it is left out")
        return None

    @staticmethod
    def _flatten(layers: list[_Layer]) -> Any:
        """The layers composited on white in order, at their opacity: what Storyboarder shows,
        the size of the bottom layer."""
        return flatten([(layer.image, layer.opacity) for layer in layers], layers[0].image.size)

    def _sound(self, audio: dict[str, Any], say: Say) -> str | None:
        """The board's sound in the asset store (Storyboarder keeps it in ``images/``)."""
        name = as_str(audio.get("filename"))
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
    return png_bytes(image)
