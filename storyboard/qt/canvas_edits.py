"""Edits the panel canvas makes: layer pixels stored as PNG assets, imported images as candidates.

A stroke never changes a file: the layer's new pixels go to the asset store as a new PNG and the
panel's ``layers`` field is edited to point at it, so Undo is an ordinary field edit and every
earlier state of a layer stays on disk until the artist cleans up assets.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage

from storyboard.core.commands import AddCandidate, EditFields, accept_image
from storyboard.core.model import Candidate, LayerKind, Panel, PanelLayer
from storyboard.qt.document import Document


def png_of(image: QImage) -> bytes:
    """``image`` as PNG bytes (QImage's own encoder: no Pillow in the GUI thread)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; only str works
    buffer.close()
    return bytes(data.data())


def layer_of(panel: Panel, kind: LayerKind) -> PanelLayer | None:
    return next((layer for layer in panel.layers if layer.kind is kind), None)


def with_layer(panel: Panel, kind: LayerKind, **changes: object) -> list[PanelLayer]:
    """The panel's layers with the ``kind`` layer changed (added on top when it is missing)."""
    layers = copy.deepcopy(panel.layers)
    layer = next((item for item in layers if item.kind is kind), None)
    if layer is None:
        layer = PanelLayer(kind)
        layers.append(layer)
    for name, value in changes.items():
        setattr(layer, name, value)
    return layers


def store_layer(
    document: Document, panel_id: str, kind: LayerKind, image: QImage, label: str
) -> None:
    """Store a layer's pixels and make it the panel's (one undo step)."""
    asset = document.assets.put(png_of(image))
    panel = document.project.panels[panel_id]
    document.push(
        EditFields("panel", panel_id, {"layers": with_layer(panel, kind, asset=asset)}, label=label)
    )


def import_image(document: Document, panel_id: str, image: QImage, source: str) -> str:
    """An image from outside (drop, paste, external editor) as a candidate, accepted at once.

    The candidate is kept like a generated one (not undoable); accepting it is an undoable edit,
    so Undo brings the previous image back and the imported one stays among the candidates.
    """
    asset = document.assets.put(png_of(image.convertToFormat(QImage.Format.Format_ARGB32)))
    candidate = Candidate(
        asset=asset,
        model="",
        settings={"source": source},
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    panel = document.project.panels[panel_id]
    if all(c.asset != asset for c in panel.candidates):
        document.record_result(AddCandidate(panel_id, candidate))
    if panel.image != asset:
        command = accept_image(panel_id, asset)
        command.label = f"Use {source} image"
        document.push(command)
    return asset
