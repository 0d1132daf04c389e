"""A video model in one folder: ``video_model.json`` names the base model and where each part is.

The built-in toy-world video model ships this way (``resources/models/toyworld-motion``), and the
training script's export writes the same layout, so a user points the transition setting at one
folder instead of four. The manifest::

    {"format": 1, "base": "toyworld", "motion_adapter": "motion_adapter",
     "image_encoder": "image_encoder", "predictor": "predictor", "schedule": "base",
     "frames": 16, "size": 64}

``base`` is a model preset id (``resources/models.json``) or a path relative to the folder; the
parts are subfolders. ``schedule``: ``"base"`` when the motion module was trained on the base
model's own noise schedule, ``"animatediff"`` for AnimateDiff's linear one. ``frames`` and
``size`` are what the model was trained for (what a transition job should ask for).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.errors import ModelUnavailable
from inference.model_loading import presets

MANIFEST = "video_model.json"
PARTS = ("motion_adapter", "image_encoder", "predictor")
SCHEDULES = ("base", "animatediff")


@dataclass(frozen=True, slots=True)
class VideoFolder:
    """What a manifest says, with every part as a path (the base: a preset id or a path)."""

    base: str
    motion_adapter: Path
    image_encoder: Path
    predictor: Path
    base_schedule: bool
    frames: int
    size: int


def is_video_folder(path: str | Path | None) -> bool:
    return path is not None and str(path) != "" and (Path(path) / MANIFEST).is_file()


def read_video_folder(folder: Path) -> VideoFolder:
    """The manifest of ``folder``; a damaged one is :class:`ModelUnavailable` saying why."""
    fix = "Pick a video model folder as the training script exports it, or export it again"
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(str(folder), [f"{MANIFEST} could not be read: {exc}"], fix) from exc
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ModelUnavailable(str(folder), [f"{MANIFEST} is not a JSON object"], fix)
    base = _text(data, "base", problems)
    parts = {name: _part(folder, data, name, problems) for name in PARTS}
    schedule = data.get("schedule", "animatediff")
    if schedule not in SCHEDULES:
        problems.append(f'"schedule" is {schedule!r}, not one of {SCHEDULES}')
    frames, size = _count(data, "frames", 16, problems), _count(data, "size", 512, problems)
    if problems:
        raise ModelUnavailable(str(folder), problems, fix)
    return VideoFolder(
        base=base if base in presets() else str(folder / base),
        base_schedule=schedule == "base",
        frames=frames,
        size=size,
        **parts,
    )


def _text(data: dict[str, Any], key: str, problems: list[str]) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f'"{key}" must name a folder or preset')
        return ""
    return value


def _part(folder: Path, data: dict[str, Any], key: str, problems: list[str]) -> Path:
    """A part's subfolder, which must stay inside the video model's folder."""
    name = _text(data, key, problems)
    path = (folder / name).resolve()
    if name and not path.is_relative_to(folder.resolve()):
        problems.append(f'"{key}" leads out of the folder ({name})')
    elif name and not path.is_dir():
        problems.append(f"the {key.replace('_', ' ')} folder {name} is missing")
    return path


def _count(data: dict[str, Any], key: str, default: int, problems: list[str]) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 2 <= value <= 4096:
        problems.append(f'"{key}" must be a whole number from 2 to 4096')
        return default
    return value
