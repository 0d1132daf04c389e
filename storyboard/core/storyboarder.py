"""Import of Storyboarder projects (``.storyboarder`` JSON + ``images/``), so artists can bring
their existing boards over.

A ``.storyboarder`` file becomes one scene; a folder (a Storyboarder script project with a
``storyboards/`` folder, or any folder of ``.storyboarder`` files) becomes one scene per file. Each
board becomes a panel with its dialogue, action, notes and duration; its drawing layers are
flattened onto white in Storyboarder's z-order and stored as the panel's accepted image (and first
candidate), so the import loses nothing the artist can see.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storyboard.core.assets import AssetStore
from storyboard.core.errors import ImportFailed
from storyboard.core.model import FPS_CHOICES, Candidate, Panel, Project, Scene
from storyboard.core.timeline import seconds_to_frames

log = logging.getLogger(__name__)

# Storyboarder's layer stack, bottom to top (``boardOrderedLayerFilenames``).
LAYER_ORDER = ("shot-generator", "reference", "fill", "tone", "pencil", "ink", "notes")
DEFAULT_BOARD_MS = 2000


def storyboarder_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if source.is_dir():
        files = sorted(source.rglob("*.storyboarder"))
        if files:
            return files
    raise ImportFailed(source, "no .storyboarder file found", "Pick a .storyboarder file or folder")


def import_storyboarder(source: Path, store: AssetStore) -> tuple[Project, list[str]]:
    """Build a project from Storyboarder files, putting the board images into ``store``.

    Returns the project (not yet saved) and warnings (missing images, unsupported fps).
    """
    source = Path(source)
    project = Project()
    project.settings.title = source.stem if source.is_file() else source.name
    warnings: list[str] = []
    for index, file in enumerate(storyboarder_files(source)):
        data = _read(file)
        if index == 0:
            _apply_settings(project, data, file, warnings)
        scene = Scene(title=file.stem)
        project.scenes[scene.id] = scene
        project.scene_ids.append(scene.id)
        default_ms = _number(data.get("defaultBoardTiming"), DEFAULT_BOARD_MS)
        for number, board in enumerate(data.get("boards") or [], start=1):
            if not isinstance(board, dict):
                warnings.append(f"{file.name}: board {number} is not an object and was skipped")
                continue
            panel = _panel(board, file.parent, store, project.settings.fps, default_ms, warnings)
            project.panels[panel.id] = panel
            scene.panel_ids.append(panel.id)
    for warning in warnings:
        log.warning("%s", warning)
    return project, warnings


def _read(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ImportFailed(file, f"could not be read ({exc.strerror})", "Check the file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportFailed(
            file, f"is not valid Storyboarder JSON ({exc})", "Check the file"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("boards", []), list):
        raise ImportFailed(file, "has no list of boards", "Is this a .storyboarder file?")
    return data


def _number(value: Any, default: float) -> float:
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def _apply_settings(
    project: Project, data: dict[str, Any], file: Path, warnings: list[str]
) -> None:
    fps = _number(data.get("fps"), 24.0)
    nearest = min(FPS_CHOICES, key=lambda choice: abs(choice - fps))
    if abs(nearest - fps) > 0.01:
        warnings.append(f"{file.name}: {fps:g} fps is not supported; using {nearest:g} fps")
    project.settings.fps = nearest
    aspect = _number(data.get("aspectRatio"), project.settings.aspect_ratio)
    if aspect > 0:
        project.settings.aspect_ratio = aspect


def _panel(
    board: dict[str, Any],
    folder: Path,
    store: AssetStore,
    fps: float,
    default_ms: float,
    warnings: list[str],
) -> Panel:
    def text(key: str) -> str:
        value = board.get(key)
        return value if isinstance(value, str) else ""

    duration_ms = _number(board.get("duration"), default_ms)
    audio = board.get("audio")
    if isinstance(audio, dict):  # a board lasts at least as long as its sound
        duration_ms = max(duration_ms, _number(audio.get("duration"), 0))
    panel = Panel(
        prompt=text("action"),
        dialogue=text("dialogue"),
        action=text("action"),
        notes=text("notes"),
        duration=seconds_to_frames(max(duration_ms, 1) / 1000, fps),
    )
    png = _flatten(board, folder / "images", warnings)
    if png is not None:
        asset = store.put(png)
        created = _number(board.get("lastEdited"), 0) / 1000
        stamp = datetime.fromtimestamp(created, UTC).isoformat() if created else ""
        panel.candidates.append(Candidate(asset=asset, model="Storyboarder drawing", created=stamp))
        panel.image = asset
    return panel


def _layer_files(board: dict[str, Any], images: Path) -> list[Path]:
    layers = board.get("layers")
    if not isinstance(layers, dict):
        layers = {}
    by_name: dict[str, str] = {
        name: layer["url"]
        for name, layer in layers.items()
        if isinstance(layer, dict) and isinstance(layer.get("url"), str)
    }
    main = board.get("url")
    if isinstance(main, str):
        by_name.setdefault("fill", main)  # the board's own url is its main (fill) layer
    files = [images / Path(by_name[name]).name for name in LAYER_ORDER if name in by_name]
    return [f for f in files if f.is_file()]


def _flatten(board: dict[str, Any], images: Path, warnings: list[str]) -> bytes | None:
    """The board as one PNG: its layers composited on white, or its poster frame."""
    from PIL import Image, UnidentifiedImageError  # Pillow is only needed for imports

    files = _layer_files(board, images)
    if not files:
        main = board.get("url")
        poster = images / (Path(main).stem + "-posterframe.jpg") if isinstance(main, str) else None
        if poster is None or not poster.is_file():
            if isinstance(main, str):
                warnings.append(f"board {main}: no image file found; the panel is empty")
            return None
        files = [poster]
    try:
        layers = [Image.open(f).convert("RGBA") for f in files]
    except (OSError, UnidentifiedImageError) as exc:
        warnings.append(f"board {files[0].name}: unreadable image ({exc}); the panel is empty")
        return None
    canvas = Image.new("RGBA", layers[0].size, "white")
    for layer in layers:
        canvas.alpha_composite(layer if layer.size == canvas.size else layer.resize(canvas.size))
    out = io.BytesIO()
    canvas.convert("RGB").save(out, format="PNG")
    return out.getvalue()
