"""A panel as a layered Photoshop file (``.psd``: Photoshop, Krita, Clip Studio, GIMP, Affinity).

The same layer stack the OpenRaster export writes (:func:`storyboard.export.openraster.
layer_stack`: the accepted image at the bottom, then the sketch, notes and mask layers with their
opacity and visibility), written by psd-tools, a maintained PSD library; its composite is the
flattened preview other programs show before they read the layers.
"""

from __future__ import annotations

import io

from storyboard.core.assets import AssetStore
from storyboard.core.model import Panel, Project
from storyboard.export.openraster import layer_stack


def panel_psd(project: Project, panel: Panel, store: AssetStore, say: list[str]) -> bytes:
    """One panel as the bytes of an 8-bit RGBA PSD."""
    from psd_tools import PSDImage
    from psd_tools.api.layers import PixelLayer

    stack = layer_stack(project, panel, store, say)
    psd = PSDImage.new("RGBA", stack.size)
    for layer, pixels in stack.layers:  # appended bottom first
        drawn = PixelLayer.frompil(pixels, psd, layer.name)
        drawn.opacity = round(255 * max(0.0, min(1.0, layer.opacity)))
        drawn.visible = layer.visible
        psd.append(drawn)
    psd.composite(force=True)
    out = io.BytesIO()
    psd.save(out)
    return out.getvalue()
