"""Panels as layered OpenRaster files (``.ora``) for Krita, GIMP and MyPaint.

One file per panel, named after its panel number (``1A.ora``). Each holds what the OpenRaster
file layout asks for, in its order: ``mimetype`` first and stored uncompressed, ``stack.xml``,
the layers in ``data/``, ``Thumbnails/thumbnail.png`` (at most 256 px a side) and
``mergedimage.png`` (the visible layers composited, full size). The layers are the panel's
accepted image at the bottom ("Image"), then its sketch, notes and mask layers bottom to top with
their opacity and visibility (:mod:`storyboard.core.openraster` names them and reads them back).

Every layer is drawn on one canvas: the largest of the image and the layers (the editor draws
layers at least 1024 px wide over a model's smaller image, so the image is scaled up to them,
with the resampling the import uses to recognise it again). Pixels go through Pillow, so the
CLI needs no display.
"""

from __future__ import annotations

import io
import logging
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.core.assets import AssetStore
from storyboard.core.model import Panel, Project
from storyboard.core.numbering import panel_numbers
from storyboard.core.openraster import IMAGE_LAYER, MIMETYPE, fit, layer_names, png_bytes
from storyboard.export.output import (
    Cancelled,
    ExportError,
    Progress,
    check_cancelled,
    make_folder,
    staged_file,
    write_file,
)

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

log = logging.getLogger(__name__)

SPEC_VERSION = "0.0.6"
THUMBNAIL = 256
MIN_LAYER_EDGE = 1024  # as the canvas draws layers (storyboard.qt.widgets.canvas)
_DATE = (2000, 1, 1, 0, 0, 0)  # fixed: the same panel gives the same bytes
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class OraOptions:
    panel_ids: tuple[str, ...] | None = None  # None: every panel, in story order
    kind: str = "ora"  # or "psd": the same layers as a Photoshop file (storyboard/export/psd.py)


@dataclass(slots=True)
class OraResult:
    paths: list[Path]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Layer:
    name: str
    asset: str | None
    opacity: float
    visible: bool


def file_names(project: Project, panel_ids: Iterable[str], suffix: str = ".ora") -> dict[str, str]:
    """``1A.ora`` for panel 1A: the number with anything but letters, digits, ``.``, ``_``
    and ``-`` replaced (a typed number may hold anything), unique within one export."""
    numbers = panel_numbers(project)
    names: dict[str, str] = {}
    taken: set[str] = set()
    for pid in panel_ids:
        stem = _UNSAFE.sub("_", numbers.get(pid, pid)).strip("._") or "panel"
        name, n = f"{stem}{suffix}", 1
        while name.casefold() in taken:
            n += 1
            name = f"{stem}-{n}{suffix}"
        taken.add(name.casefold())
        names[pid] = name
    return names


def _open(store: AssetStore, asset: str | None, say: list[str], what: str) -> PILImage | None:
    from PIL import Image

    if asset is None:
        return None
    path = store.file(asset)
    try:
        if path is None:
            raise FileNotFoundError(asset)
        with Image.open(path) as image:
            return image.convert("RGBA")
    except Exception as exc:  # a missing or damaged asset is left out, with a warning
        say.append(f"{what}: its file is missing or unreadable ({exc}); left out")
        return None


def _canvas_size(project: Project, images: list[PILImage | None]) -> tuple[int, int]:
    sizes = [image.size for image in images if image is not None]
    if sizes:
        return max(sizes, key=lambda size: size[0] * size[1])
    gen = project.settings.generation
    scale = max(1.0, MIN_LAYER_EDGE / max(gen.width, gen.height, 1))
    return round(gen.width * scale), round(gen.height * scale)


def _stack_xml(size: tuple[int, int], layers: list[tuple[_Layer, str]]) -> bytes:
    root = ET.Element("image", version=SPEC_VERSION, w=str(size[0]), h=str(size[1]))
    stack = ET.SubElement(root, "stack")
    for layer, src in reversed(layers):  # the stack lists the topmost layer first
        ET.SubElement(
            stack,
            "layer",
            {
                "name": layer.name,
                "src": src,
                "x": "0",
                "y": "0",
                "opacity": f"{layer.opacity:.4g}",
                "visibility": "visible" if layer.visible else "hidden",
                "composite-op": "svg:src-over",
            },
        )
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def _with_opacity(pixels: PILImage, opacity: float) -> PILImage:
    if opacity >= 1:
        return pixels
    faded = pixels.copy()
    faded.putalpha(pixels.getchannel("A").point(lambda value: round(value * opacity)))
    return faded


@dataclass(frozen=True, slots=True)
class LayerStack:
    """A panel's layers bottom to top, each drawn on one canvas, and their composite: what both
    layered formats (OpenRaster, PSD) write."""

    size: tuple[int, int]
    layers: list[tuple[_Layer, PILImage]]
    merged: PILImage


def layer_stack(project: Project, panel: Panel, store: AssetStore, say: list[str]) -> LayerStack:
    """The accepted image at the bottom, then the sketch, notes and mask layers, all scaled to
    the largest of them (a 64 px image under 1024 px layers is scaled up)."""
    from PIL import Image

    number = panel_numbers(project).get(panel.id, panel.id)
    stack = []
    if panel.image is not None:
        stack.append(_Layer(IMAGE_LAYER, panel.image, 1.0, True))
    names = layer_names([layer.kind for layer in panel.layers])
    stack += [
        _Layer(name, layer.asset, layer.opacity, layer.visible)
        for name, layer in zip(names, panel.layers, strict=True)
    ]
    pictures = [_open(store, layer.asset, say, f"panel {number}, {layer.name}") for layer in stack]
    if not stack:  # somewhere to draw that comes back as the panel's sketch
        stack, pictures = [_Layer("Sketch", None, 1.0, True)], [None]
    size = _canvas_size(project, pictures)
    merged = Image.new("RGBA", size, (0, 0, 0, 0))
    drawn: list[tuple[_Layer, PILImage]] = []
    for layer, picture in zip(stack, pictures, strict=True):
        pixels = fit(picture, size) if picture is not None else Image.new("RGBA", size)
        drawn.append((layer, pixels))
        if layer.visible:
            merged.alpha_composite(_with_opacity(pixels, layer.opacity))
    return LayerStack(size, drawn, merged)


def panel_ora(project: Project, panel: Panel, store: AssetStore, say: list[str]) -> bytes:
    """One panel as the bytes of an OpenRaster file."""
    from PIL import Image

    stack = layer_stack(project, panel, store, say)
    size, merged = stack.size, stack.merged
    members: list[tuple[str, bytes]] = []
    listed: list[tuple[_Layer, str]] = []
    for index, (layer, pixels) in enumerate(stack.layers):
        src = "data/image.png" if layer.name == IMAGE_LAYER else f"data/layer-{index}.png"
        members.append((src, png_bytes(pixels)))
        listed.append((layer, src))
    thumbnail = merged.copy()
    thumbnail.thumbnail((THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        _add(archive, "mimetype", MIMETYPE, zipfile.ZIP_STORED)  # first, uncompressed
        _add(archive, "stack.xml", _stack_xml(size, listed), zipfile.ZIP_DEFLATED)
        for name, data in members:
            _add(archive, name, data, zipfile.ZIP_STORED)  # PNG is compressed already
        _add(archive, "Thumbnails/thumbnail.png", png_bytes(thumbnail), zipfile.ZIP_STORED)
        _add(archive, "mergedimage.png", png_bytes(merged), zipfile.ZIP_STORED)
    return out.getvalue()


def _add(archive: zipfile.ZipFile, name: str, data: bytes, compression: int) -> None:
    info = zipfile.ZipInfo(name, date_time=_DATE)
    info.compress_type = compression
    archive.writestr(info, data)


def export_ora(
    project: Project,
    bundle: Path,
    out_dir: Path,
    options: OraOptions | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> OraResult:
    """Write one ``.ora`` (or ``.psd``, ``options.kind``) per panel into ``out_dir`` (made if
    missing; its parent must exist).

    Each file is staged and renamed into place: a cancel or a failure leaves the files already
    finished and no partial one.
    """
    options = options or OraOptions()
    order = [p.id for p in project.ordered_panels()]
    wanted = order if options.panel_ids is None else [p for p in order if p in options.panel_ids]
    if not wanted:
        raise ExportError(out_dir, "there are no panels to export", "Add panels first")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(out_dir, "is a file", "Give a folder for the .ora files")
    make_folder(out_dir, exist_ok=True)
    if options.kind not in ("ora", "psd"):
        raise ValueError(f"layered files are .ora or .psd, not {options.kind!r}")
    store = AssetStore(bundle)
    names = file_names(project, wanted, f".{options.kind}")
    result = OraResult([])
    if options.kind == "psd":
        from storyboard.export.psd import panel_psd

        write = panel_psd
    else:
        write = panel_ora
    for index, pid in enumerate(wanted):
        check_cancelled(cancelled)
        data = write(project, project.panels[pid], store, result.warnings)
        target = out_dir / names[pid]
        with staged_file(target) as temp:
            write_file(temp, data, shown=target)
        result.paths.append(target)
        if progress is not None:
            progress(index + 1, len(wanted))
    return result
