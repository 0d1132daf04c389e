"""A Storyboarder board's pixels, as the import (:mod:`storyboard.core.storyboarder_boards`) and
the export (:mod:`storyboard.export.storyboarder_layers`) both handle them: the size limit an
image's header is checked against before its pixels are decoded, and the layers flattened on
white as Storyboarder shows them.

The images may come from anyone: a small file whose header claims billions of pixels (a
decompression bomb) is refused from its header, before it costs memory or time. Pillow is
imported only when a board is read or written.
"""

from __future__ import annotations

import io
import warnings as python_warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The candidate's model of an imported board: its layers, flattened. The export recognises it and
# does not write that flattening again as a layer of its own.
IMPORTED_MODEL = "Storyboarder drawing"
MAX_BOARD_PIXELS = 50_000_000  # an 8K board is 33 MP; a bomb's header claims billions
MAX_BOARD_SIDE = 16_384


class BoardImageTooLarge(Exception):
    """An image whose header claims more pixels than a board may have."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width} x {height} pixels")
        self.width = width
        self.height = height


def open_board_image(file: Path) -> Any:
    """``file`` opened by Pillow with only its header read (a PIL image, not decoded yet).

    Raises :class:`BoardImageTooLarge` when the header claims more than ``MAX_BOARD_PIXELS``
    pixels or ``MAX_BOARD_SIDE`` a side; Pillow's own errors (a damaged file, its
    ``DecompressionBombError``) pass through. Pillow's bomb warning is silenced: this limit is
    lower than the one it warns about.
    """
    from PIL import Image

    with python_warnings.catch_warnings():
        python_warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(file)
    width, height = image.size
    if width * height > MAX_BOARD_PIXELS or max(width, height) > MAX_BOARD_SIDE:
        raise BoardImageTooLarge(width, height)
    return image


def faded(image: Any, opacity: float) -> Any:
    """An RGBA image with ``opacity`` (clamped to 0..1) multiplied into its alpha."""
    opacity = min(max(opacity, 0.0), 1.0)
    if opacity >= 1:
        return image
    result = image.copy()
    result.putalpha(image.getchannel("A").point(lambda a: round(a * opacity)))
    return result


def flatten(layers: Sequence[tuple[Any, float]], size: tuple[int, int]) -> Any:
    """RGBA ``(image, opacity)`` layers composited on white in order, each at its opacity and
    stretched to ``size``: what Storyboarder shows (``flattenBoardToCanvas``,
    src/js/exporters/common.js) and puts in its thumbnails and poster frames. RGB."""
    from PIL import Image

    canvas = Image.new("RGBA", size, "white")
    for image, opacity in layers:
        canvas.alpha_composite(faded(image if image.size == size else image.resize(size), opacity))
    return canvas.convert("RGB")


def png_bytes(image: Any) -> bytes:
    """A PIL image as PNG file bytes."""
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
