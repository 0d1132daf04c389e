"""What a panel's drawing asks of its next generation: the frozen ``Guide`` of a ``PanelJob``.

The editor stores drawings as layer assets (:class:`storyboard.core.model.PanelLayer`); the engine
never sees the Project, so a job carries file paths, opacities, the mask and the boxes instead.
A guide is built only for a panel being generated (never for the identity panels of a character's
bank: the bank stays keyed on prompts and seeds alone), and only when the method needs more than
the prompt. Inputs the artist still has to provide (no sketch drawn, no mask painted) are refused
here with a message, before a job is queued; weights that are not on disk are the engine's error
(``ModelUnavailable``) so the other methods stay available.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.core.model import GuidanceMethod, LayerKind, Panel, Rect

Box = tuple[float, float, float, float]
"""A region of a panel, relative: (left, top, right, bottom), each within [0, 1]."""

SKETCH_METHODS = frozenset(
    {GuidanceMethod.IMG2IMG, GuidanceMethod.CONTROLNET, GuidanceMethod.T2I_ADAPTER}
)


@dataclass(frozen=True, slots=True)
class Guide:
    """A panel's drawing and how it steers the generation (files, so the worker reads no model)."""

    method: GuidanceMethod
    strength: float
    image: str | None = None  # the accepted image (img2img base, inpainting source)
    sketch: tuple[tuple[str, float], ...] = ()  # visible sketch layers (file, opacity), bottom up
    mask: str | None = None  # the mask layer (opaque pixels are regenerated)
    keep_clear: tuple[Box, ...] = ()  # balloon space: flat, line-free in the conditioning images
    weights: str | None = None  # ControlNet / T2I-Adapter folder chosen in the settings


@dataclass(frozen=True, slots=True)
class GuidanceWeights:
    """Where the artist keeps optional guidance models (application settings, not the project)."""

    controlnet: str | None = None
    t2i_adapter: str | None = None


def box_of(rect: Rect) -> Box:
    """A relative rectangle as a clamped (left, top, right, bottom) box; empty ones cover all."""
    left, top = min(max(rect.x, 0.0), 1.0), min(max(rect.y, 0.0), 1.0)
    right, bottom = min(max(rect.x + rect.w, 0.0), 1.0), min(max(rect.y + rect.h, 0.0), 1.0)
    if right <= left or bottom <= top:
        return (0.0, 0.0, 1.0, 1.0)
    return (left, top, right, bottom)


def balloon_space_phrase(space: list[Rect]) -> str:
    """Words asking the model for plain background where balloons will go ("" without any).

    The text-only method has nothing else to steer with; sketch methods also get flat boxes.
    """
    places: list[str] = []
    for rect in space:
        left, top, right, bottom = box_of(rect)
        cx, cy = (left + right) / 2, (top + bottom) / 2
        vertical = "top" if cy < 1 / 3 else "bottom" if cy > 2 / 3 else "middle"
        horizontal = "left" if cx < 1 / 3 else "right" if cx > 2 / 3 else "centre"
        place = (
            "centre"
            if (vertical, horizontal) == ("middle", "centre")
            else (f"{vertical} {horizontal}" if horizontal != "centre" else vertical)
        )
        if place not in places:
            places.append(place)
    if not places:
        return ""
    return "plain empty background at the " + " and ".join(places)


def build_guide(
    panel: Panel,
    label: str,
    store: AssetStore | None,
    weights: GuidanceWeights,
) -> Guide | None:
    """The guide of a panel being generated, or None when the prompt alone drives it.

    Raises ValueError (with the panel number) when the chosen method lacks the artist's input.
    """
    method = panel.guidance.method
    if method is GuidanceMethod.TEXT or store is None:
        return None

    def file(asset: str | None) -> str | None:
        path = store.file(asset)
        return str(path) if path is not None else None

    sketch = tuple(
        (path, min(max(layer.opacity, 0.0), 1.0))
        for layer in panel.layers
        if layer.kind is LayerKind.SKETCH and layer.visible
        if (path := file(layer.asset)) is not None
    )
    image = file(panel.image)
    mask = next((file(layer.asset) for layer in panel.layers if layer.kind is LayerKind.MASK), None)
    if method is GuidanceMethod.INPAINT and (image is None or mask is None):
        missing = "image to repaint" if image is None else "painted mask"
        raise ValueError(f"panel {label} is set to inpaint but has no {missing}")
    if method in SKETCH_METHODS and not sketch and not (method is GuidanceMethod.IMG2IMG and image):
        raise ValueError(f"panel {label} is set to follow its sketch, but nothing is drawn")
    chosen = {
        GuidanceMethod.CONTROLNET: weights.controlnet,
        GuidanceMethod.T2I_ADAPTER: weights.t2i_adapter,
    }.get(method)
    return Guide(
        method=method,
        strength=min(max(panel.guidance.strength, 0.0), 1.0),
        image=image,
        sketch=sketch,
        mask=mask,
        keep_clear=tuple(box_of(rect) for rect in panel.balloon_space),
        weights=str(Path(chosen).expanduser()) if chosen else None,
    )
