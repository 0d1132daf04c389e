"""Which Storyboarder layers a panel's board gets, and their pixels at Storyboarder's board size.

A layer that came from Storyboarder goes back under its name, a sketch drawn here on the first
free drawing layer (``fill``, ``pencil``, ``ink``, ``tone``), the notes layer on ``notes``; the
accepted image (unless it is only the import's flattening of those layers) on ``reference`` at
full opacity, or ``shot-generator`` when the board has a reference layer already. Storyboarder
keeps an opacity for those two only: any other layer's opacity is multiplied into its pixels.
Hidden layers and masks have no Storyboarder equivalent and are left out, with a warning.

Images are read from the asset store only, their header checked against the board limits
(:mod:`storyboard.core.storyboarder_images`) before their pixels are decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storyboard.core.assets import AssetStore
from storyboard.core.model import LayerKind, Panel, PanelLayer
from storyboard.core.storyboarder_format import (
    DRAWING_LAYERS,
    LAYER_ORDER,
    NOTES_LAYER,
    OPACITY_LAYERS,
    board_image_size,
)
from storyboard.core.storyboarder_images import (
    IMPORTED_MODEL,
    BoardImageTooLarge,
    faded,
    open_board_image,
)


@dataclass(slots=True)
class BoardLayer:
    name: str
    image: Any  # PIL RGBA at the board size
    opacity: float | None  # written for reference and shot-generator only
    png: bytes | None = None  # the asset's own file, when it is this layer as it is written


@dataclass(frozen=True, slots=True)
class BoardLayers:
    """Reads the layers of panels from ``store`` for boards of ``aspect``, adding what it
    leaves out or cannot read to ``warnings``."""

    store: AssetStore
    aspect: float
    warnings: list[str]

    def layers(self, panel: Panel, label: str) -> list[BoardLayer]:
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
        layers: list[BoardLayer] = []
        for name in LAYER_ORDER:
            if name not in chosen:
                continue
            asset, opacity = chosen[name]
            found = self._image(asset, label, name)
            if found is None:
                continue
            image, same = found
            if name in OPACITY_LAYERS:
                written = BoardLayer(name, image, min(max(opacity, 0.0), 1.0))
            else:
                written = BoardLayer(name, faded(image, opacity), None)
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
            opened = open_board_image(path)
            mode = opened.mode
            image = opened.convert("RGBA")
        except (BoardImageTooLarge, Image.DecompressionBombError):
            self.warnings.append(f"panel {label}: the {layer} image is too large; left out")
            return None
        except Exception as exc:  # Pillow raises many kinds of error for a damaged image
            self.warnings.append(f"panel {label}: the {layer} image is unreadable ({exc})")
            return None
        size = board_image_size(self.aspect)
        if image.size == size:
            return image, mode == "RGBA"
        return image.resize(size, Image.Resampling.LANCZOS), False
