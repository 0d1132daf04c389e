"""OpenRaster (``.ora``): a panel's layers as Krita, GIMP and MyPaint read them, and back.

An OpenRaster file is a zip: ``mimetype`` first and stored (``image/openraster``), ``stack.xml``
(the layer stack, topmost layer first), the layers as PNGs under ``data/``, ``mergedimage.png``
and ``Thumbnails/thumbnail.png``. A panel goes out as its accepted image at the bottom (layer
"Image"), then its layers bottom to top, each named after its kind ("Sketch", "Notes", "Mask";
"Sketch 2" for a second one) with its opacity and visibility (``storyboard.export.openraster``).

Coming back, names say what each layer is: the bottom-most layer called "Image" or "Background"
(Krita's name for a first layer) is the panel's image, "Notes" and "Mask" layers are those, and
any other layer (one the artist added) is a sketch layer. Layers whose pixels did not change keep
their asset, so an unchanged image is not a new candidate; a changed image becomes a candidate
(kept like a generated one) and the accepted image. Everything else is one undoable edit of the
panel (:func:`import_commands`).

An ``.ora`` file may come from anyone, so it is read as hostile: nothing is ever extracted to
disk (members are read into memory by the names ``stack.xml`` gives, which must be plain
relative paths); the zip may not unpack to more than ``MAX_UNPACKED`` bytes, counted as it is
read, whatever its headers claim; an image may not have more than ``MAX_PIXELS`` pixels (its
header is read before its pixels); a stack holds at most ``MAX_LAYERS`` layers; and an XML
document type (where entity bombs live) is refused. Each of these is an :class:`ImportFailed`
naming the file and the limit, reached in time proportional to what was read.
"""

from __future__ import annotations

import io
import math
import warnings as python_warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from storyboard.core.assets import PNG_SIGNATURE, AssetStore
from storyboard.core.commands import AddCandidate, EditFields
from storyboard.core.errors import ImportFailed
from storyboard.core.model import Candidate, LayerKind, Panel, PanelLayer

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

MIMETYPE = b"image/openraster"
IMAGE_LAYER = "Image"
LAYER_NAMES = {LayerKind.SKETCH: "Sketch", LayerKind.NOTES: "Notes", LayerKind.MASK: "Mask"}
IMAGE_NAMES = ("image", "background")
SOURCE = "OpenRaster"  # a candidate imported from an .ora file says so

MAX_PIXELS = 50_000_000  # per image, as the Storyboarder importer allows
MAX_SIDE = 30_000
MAX_LAYERS = 64
MAX_MEMBERS = 1_000
MAX_DEPTH = 32
MAX_STACK_XML = 1 << 20
MAX_UNPACKED = 512 << 20  # bytes read out of one file, all members together
MAX_MEMBER = 256 << 20  # bytes of one member (a 50-megapixel RGBA PNG stored uncompressed fits)
MAX_TOTAL_PIXELS = 4 * MAX_PIXELS  # canvas pixels of all layers together (each is drawn whole)
MAX_OFFSET = 100_000  # a layer's x/y offset, in pixels


@dataclass(frozen=True, slots=True)
class OraLayer:
    """One raster layer of a stack as drawn on the whole canvas, bottom to top."""

    name: str
    pixels: PILImage  # RGBA, the canvas's size
    opacity: float
    visible: bool


@dataclass(slots=True)
class OraImport:
    """What an ``.ora`` file makes of a panel: its new layers and maybe a new image."""

    panel_id: str
    layers: list[PanelLayer]
    image: str | None  # the accepted image after the import (the panel's own if unchanged)
    candidate: Candidate | None  # a changed image, recorded like a generated one
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------- names
def layer_names(kinds: list[LayerKind]) -> list[str]:
    """Layer names for a panel's layer kinds, bottom to top: "Sketch", "Sketch 2", "Notes"."""
    seen: dict[LayerKind, int] = {}
    names = []
    for kind in kinds:
        seen[kind] = seen.get(kind, 0) + 1
        base = LAYER_NAMES[kind]
        names.append(base if seen[kind] == 1 else f"{base} {seen[kind]}")
    return names


def _base(name: str) -> str:
    return name.strip().casefold().rstrip("0123456789").strip()


def kind_of(name: str) -> LayerKind:
    """The panel layer a named layer becomes (one the artist added is a sketch layer)."""
    base = _base(name)
    if base in ("note", "notes"):
        return LayerKind.NOTES
    if base == "mask":
        return LayerKind.MASK
    return LayerKind.SKETCH


def fit(image: PILImage, size: tuple[int, int]) -> PILImage:
    """``image`` as RGBA at ``size``: the one resampling both directions use, so a layer that
    went out and came back unchanged is recognised pixel for pixel."""
    from PIL import Image

    rgba = image.convert("RGBA")
    return rgba if rgba.size == size else rgba.resize(size, Image.Resampling.LANCZOS)


def png_bytes(image: PILImage) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# ---------------------------------------------------------------------------------- reading
class _Archive:
    """The members of an OpenRaster zip, read into memory within the limits."""

    def __init__(self, source: Path) -> None:
        self.source = source
        try:
            self.zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise self.fail(f"not an OpenRaster file ({exc})", "Export it again as .ora") from exc
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise self.fail(f"holds {len(infos)} files; at most {MAX_MEMBERS}")
        self.members = {info.filename: info for info in infos}
        claimed = sum(info.file_size for info in infos)
        if claimed > MAX_UNPACKED:
            raise self.fail(
                f"would unpack to {claimed >> 20} MB; at most {MAX_UNPACKED >> 20} MB",
                "Flatten or shrink the picture",
            )
        self.budget = MAX_UNPACKED
        if not infos or infos[0].filename != "mimetype" or self.read("mimetype") != MIMETYPE:
            raise self.fail(
                "not an OpenRaster file (no image/openraster mimetype)", "Export it again as .ora"
            )

    def fail(self, problem: str, advice: str = "") -> ImportFailed:
        return ImportFailed(self.source, problem, advice)

    def read(self, name: str, limit: int | None = None) -> bytes:
        """A member's bytes (at most ``limit``, default ``MAX_MEMBER``); its size is counted
        as it is read, whatever the zip's headers claim."""
        info = self.members.get(name)
        if info is None:
            raise self.fail(f"{name!r} is named in stack.xml but not in the file")
        allowed = min(MAX_MEMBER if limit is None else limit, self.budget)
        try:
            with self.zip.open(info) as member:
                data = member.read(allowed + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise self.fail(f"{name} is damaged ({exc})") from exc
        if len(data) > allowed:
            raise self.fail(
                f"{name} unpacks to more than {allowed >> 20} MB (a zip bomb?)",
                "Flatten or shrink the picture",
            )
        self.budget -= len(data)
        return data

    def close(self) -> None:
        self.zip.close()


def _member_name(src: str, source: Path) -> str:
    """``src`` as a member name: a plain relative path (never ``..``, absolute or a drive)."""
    path = PurePosixPath(src)
    if (
        not src
        or "\\" in src
        or "\0" in src
        or path.is_absolute()
        or ".." in path.parts
        or ":" in path.parts[0]
    ):
        raise ImportFailed(source, f"stack.xml names a layer file outside the .ora: {src[:80]!r}")
    return str(path)


def _number(value: str | None, default: float, lowest: float, highest: float) -> float:
    try:
        number = float(value) if value is not None else default
    except ValueError:
        return default
    return min(max(number, lowest), highest) if math.isfinite(number) else default


@dataclass(frozen=True, slots=True)
class _Entry:
    src: str
    name: str
    x: int
    y: int
    opacity: float
    visible: bool


def _stack_entries(root: ET.Element, source: Path, say: list[str]) -> list[_Entry]:
    """The raster layers of the stack, bottom to top, with nested groups' offsets, opacity and
    visibility folded into their layers."""
    stack = root.find("stack")
    if stack is None:
        raise ImportFailed(source, "stack.xml has no layer stack")
    # (element, x, y, opacity, visible, depth), walked top to bottom, then reversed
    pending: list[tuple[ET.Element, int, int, float, bool, int]] = [(stack, 0, 0, 1.0, True, 0)]
    order: list[_Entry] = []
    while pending:
        element, x, y, opacity, visible, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ImportFailed(source, f"layer groups nested deeper than {MAX_DEPTH}")
        x += int(_number(element.get("x"), 0, -MAX_OFFSET, MAX_OFFSET))
        y += int(_number(element.get("y"), 0, -MAX_OFFSET, MAX_OFFSET))
        opacity *= _number(element.get("opacity"), 1.0, 0.0, 1.0)
        visible = visible and element.get("visibility", "visible") != "hidden"
        if element.tag == "stack":
            children = list(element)
            pending.extend((c, x, y, opacity, visible, depth + 1) for c in reversed(children))
            continue
        if element.tag != "layer":
            say.append(f"a <{element.tag}> element is not a raster layer; left out")
            continue
        if len(order) >= MAX_LAYERS:
            raise ImportFailed(
                source, f"has more than {MAX_LAYERS} layers", "Merge some layers first"
            )
        src = element.get("src", "")
        name = element.get("name") or PurePosixPath(src).stem
        if not src.lower().endswith(".png"):
            say.append(f"layer {name!r} is not a PNG ({src[:40]!r}); left out")
            continue
        composite = element.get("composite-op", "svg:src-over")
        if composite != "svg:src-over":
            say.append(f"layer {name!r}: blending {composite!r} is read as normal")
        order.append(_Entry(_member_name(src, source), name, x, y, opacity, visible))
    return list(reversed(order))  # the stack lists the topmost layer first


def _decode(data: bytes, what: str, source: Path) -> PILImage:
    """A PNG's pixels as RGBA, its size checked from the header before any pixel is decoded."""
    from PIL import Image

    if not data.startswith(PNG_SIGNATURE):
        raise ImportFailed(source, f"{what} is not a PNG image")
    try:
        with python_warnings.catch_warnings():
            python_warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                raise ImportFailed(
                    source,
                    f"{what} is too large ({width} x {height} pixels; at most "
                    f"{MAX_PIXELS // 1_000_000} megapixels and {MAX_SIDE} a side)",
                    "Shrink the picture",
                )
            return image.convert("RGBA")
    except ImportFailed:
        raise
    except Exception as exc:  # Pillow raises many kinds of error for a damaged image
        raise ImportFailed(source, f"{what} is not a readable PNG ({exc})") from exc


def read_ora(
    source: Path, say: list[str] | None = None
) -> tuple[tuple[int, int], Iterator[OraLayer]]:
    """The canvas size and the raster layers of an ``.ora`` file, bottom to top.

    Layers are decoded one at a time as the iterator is consumed (at most two canvases in
    memory). Raises :class:`ImportFailed` for anything that is not a sound OpenRaster file.
    """
    say = say if say is not None else []
    archive = _Archive(Path(source))
    try:
        text = archive.read("stack.xml", MAX_STACK_XML) if "stack.xml" in archive.members else None
        if text is None:
            raise archive.fail("has no stack.xml", "Export it again as .ora")
        head = text[:4096].upper()
        if b"<!DOCTYPE" in head or b"<!ENTITY" in text.upper():
            raise archive.fail("stack.xml declares a document type or entities; not read")
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            raise archive.fail(f"stack.xml is not valid XML ({exc})") from exc
        if root.tag != "image":
            raise archive.fail("stack.xml does not describe an image")
        width = int(_number(root.get("w"), 0, 0, MAX_SIDE + 1))
        height = int(_number(root.get("h"), 0, 0, MAX_SIDE + 1))
        if width < 1 or height < 1:
            raise archive.fail("stack.xml gives the image no size")
        if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
            raise archive.fail(
                f"the image is too large ({width} x {height} pixels; at most "
                f"{MAX_PIXELS // 1_000_000} megapixels and {MAX_SIDE} a side)",
                "Shrink the picture",
            )
        entries = _stack_entries(root, archive.source, say)
        if len(entries) * width * height > MAX_TOTAL_PIXELS:
            raise archive.fail(
                f"{len(entries)} layers of {width} x {height} pixels are too many to read "
                f"(at most {MAX_TOTAL_PIXELS // 1_000_000} megapixels in all)",
                "Merge some layers or shrink the picture",
            )
    except BaseException:
        archive.close()
        raise
    return (width, height), _layers(archive, entries, (width, height))


def _layers(archive: _Archive, entries: list[_Entry], size: tuple[int, int]) -> Iterator[OraLayer]:
    from PIL import Image

    try:
        for entry in entries:
            pixels = _decode(archive.read(entry.src), entry.src, archive.source)
            if entry.x == 0 and entry.y == 0 and pixels.size == size:
                canvas = pixels
            else:
                canvas = Image.new("RGBA", size, (0, 0, 0, 0))
                canvas.paste(pixels, (entry.x, entry.y))
            yield OraLayer(entry.name, canvas, entry.opacity, entry.visible)
    finally:
        archive.close()


# ---------------------------------------------------------------------------------- importing
def _pixels_of(store: AssetStore, asset: str | None, size: tuple[int, int]) -> bytes | None:
    """An asset's pixels as they would go out at ``size`` (None: no readable file)."""
    from PIL import Image

    path = store.file(asset)
    if path is None:
        return None
    try:
        with Image.open(path) as image:
            return fit(image, size).tobytes()
    except Exception:  # a damaged asset is simply not the same picture
        return None


def _is_empty(pixels: PILImage) -> bool:
    return pixels.getchannel("A").getbbox() is None


def import_ora(source: Path, panel: Panel, store: AssetStore) -> OraImport:
    """Read ``source`` into new layers (and maybe a new image) for ``panel``; the project is not
    changed here: :func:`import_commands` makes the edit. New pixels are stored as assets."""
    say: list[str] = []
    size, layers = read_ora(source, say)
    old_by_kind: dict[LayerKind, list[PanelLayer]] = {}
    for old in panel.layers:
        old_by_kind.setdefault(old.kind, []).append(old)
    taken: dict[LayerKind, int] = {}
    new_layers: list[PanelLayer] = []
    image, candidate, found_image = panel.image, None, False
    for layer in layers:
        if not found_image and _base(layer.name) in IMAGE_NAMES:
            found_image = True
            if not layer.visible or layer.opacity < 1:
                say.append(f"layer {layer.name!r}: a panel's image is always shown at full opacity")
            if layer.pixels.tobytes() != _pixels_of(store, panel.image, size):
                image, candidate = _new_image(layer.pixels, store)
            continue
        kind = kind_of(layer.name)
        index = taken.get(kind, 0)
        taken[kind] = index + 1
        previous = old_by_kind.get(kind, [])
        asset: str | None = None
        if not _is_empty(layer.pixels):
            same = index < len(previous) and previous[index].asset is not None
            if same and layer.pixels.tobytes() == _pixels_of(store, previous[index].asset, size):
                asset = previous[index].asset
            else:
                asset = store.put(png_bytes(layer.pixels))
        new_layers.append(PanelLayer(kind, asset, round(layer.opacity, 4), layer.visible))
    if not found_image:
        say.append('no layer is called "Image": the panel keeps its image')
    return OraImport(panel.id, new_layers, image, candidate, say)


def _new_image(pixels: PILImage, store: AssetStore) -> tuple[str, Candidate]:
    opaque = pixels.getchannel("A").getextrema() == (255, 255)
    asset = store.put(png_bytes(pixels.convert("RGB") if opaque else pixels))
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return asset, Candidate(asset=asset, settings={"source": SOURCE}, created=created)


def import_commands(result: OraImport, panel: Panel) -> tuple[AddCandidate | None, EditFields]:
    """The candidate to record (not undoable, like a generated image) and the one undoable edit
    that gives the panel the file's layers and image."""
    add = None
    if result.candidate is not None and all(
        c.asset != result.candidate.asset for c in panel.candidates
    ):
        add = AddCandidate(result.panel_id, result.candidate, label="Add OpenRaster image")
    changes: dict[str, Any] = {"layers": result.layers}
    if result.image != panel.image:
        changes["image"] = result.image
    return add, EditFields("panel", result.panel_id, changes, label="Import OpenRaster")
