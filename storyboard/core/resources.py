"""Where the files shipped with the editor live (fonts, styles, model presets, scripts, icons)."""

from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from storyboard.core.model_scan import SUFFIXES, describe, human_size
from storyboard.core.vocabulary import Vocabulary

log = logging.getLogger(__name__)


def _resources() -> Path:
    """The package data ``storyboard/resources`` of an installed wheel, else the checkout's folder.

    The repository keeps the files in its top-level ``resources/``; ``setup.py`` maps that folder
    into the wheel as ``storyboard.resources``. A source checkout (and an editable install) has
    no such package folder and reads the top-level one beside ``storyboard/``.
    """
    packaged = Path(str(files("storyboard") / "resources"))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "resources"


RESOURCES = _resources()
FONTS = RESOURCES / "fonts"
SCRIPTS = RESOURCES / "scripts"
ICONS = RESOURCES / "icons"
UI_ICONS = ICONS / "ui"  # the interface icons (Lucide, ISC), drawn by storyboard/qt/icons.py
MODELS = RESOURCES / "models.json"
SINGLE_FILE = RESOURCES / "single_file"
"""What a single-file checkpoint needs beside its weights: the SD 1.5 and SDXL configs (sd15/,
sdxl/) and CLIP's BPE merges (clip_merges.txt.gz), read by inference/single_file.py."""


@dataclass(frozen=True, slots=True)
class TransitionPreset:
    """The video model that makes transitions between a preset's panels (its ``"transition"``
    entry): the built-in toy world's panels are 64 px pictures of one synthetic world, which only
    a video model trained on that world can join."""

    model: str  # a built-in preset's: the folder's full path; else a hub id or folder
    backend: str  # smp, ltx or wan
    size: int  # width and height of the clip
    frames: int
    steps: int
    fps: int


@dataclass(frozen=True, slots=True)
class ModelPreset:
    key: str
    label: str
    repo: str  # hub id, or for a built-in model its folder under RESOURCES
    notes: str
    builtin: bool
    transition: TransitionPreset | None = None
    native_size: tuple[int, int] | None = None  # a model that draws one shape only (the toy: 64x64)
    closed_vocabulary: bool = False  # its tokenizer knows whole words only (the toy world)


@dataclass(frozen=True, slots=True)
class ModelStatus:
    ready: bool  # loads on this machine without the network
    text: str  # says which, and how to get it when not


_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+", re.ASCII)  # what the hub accepts, in short


def model_presets() -> dict[str, ModelPreset]:
    """The models the engine knows by name (``resources/models.json``), by key.

    Read here, without the engine, so a settings field can offer them without importing torch.
    """
    try:
        data = json.loads(MODELS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {
        key: ModelPreset(
            key,
            str(entry.get("label", key)),
            str(entry.get("repo", key)),
            str(entry.get("notes", "")),
            bool(entry.get("builtin", False)),
            _transition(key, entry),
            _native_size(entry),
            bool(entry.get("closed_vocabulary", False)),
        )
        for key, entry in data.items()
    }


def _native_size(entry: dict[str, Any]) -> tuple[int, int] | None:
    """``"native_size": [w, h]`` of a model that draws that shape whatever size is asked."""
    found = entry.get("native_size")
    if not isinstance(found, list) or len(found) != 2:
        return None
    try:
        width, height = int(found[0]), int(found[1])
    except (TypeError, ValueError):
        return None
    return (width, height) if width > 0 and height > 0 else None


def _transition(key: str, entry: dict[str, Any]) -> TransitionPreset | None:
    """A preset's transition entry; a malformed one is logged and left out (the transitions then
    use the settings), never an error that would hide the image model too."""
    found = entry.get("transition")
    if found is None:
        return None
    try:
        model = str(found["model"])
        numbers = {name: int(found[name]) for name in ("size", "frames", "steps", "fps")}
        if min(numbers.values()) < 1 or not model:
            raise ValueError(f"empty or non-positive values in {found}")
        builtin = bool(entry.get("builtin", False))
        return TransitionPreset(
            str(RESOURCES / model) if builtin else model, str(found["backend"]), **numbers
        )
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("models.json: preset %r has an unusable transition entry: %s", key, exc)
        return None


@functools.cache
def model_vocabulary(source: str) -> Vocabulary | None:
    """The words a built-in model with a closed vocabulary knows; None for any other model.

    Read from its tokenizer file (no tokenizer library): the word-level tokens are the vocabulary
    entries that end a word (``</w>``) and are longer than one character (shorter ones are the
    byte pieces every word can fall back to).
    """
    preset = model_presets().get(source.strip())
    if preset is None or not preset.builtin or not preset.closed_vocabulary:
        return None
    path = RESOURCES / preset.repo / "tokenizer" / "tokenizer.json"
    try:
        tokens = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("the vocabulary of %s could not be read from %s: %s", source, path, exc)
        return None
    words = frozenset(
        word for token in tokens if token.endswith("</w>") and len(word := token[:-4]) > 1
    )
    return Vocabulary(preset.label.split(" (")[0], words)


def model_status(source: str) -> ModelStatus:
    """Whether the engine will find ``source`` on this machine, checked without loading it.

    The same places :func:`inference.model_loading.resolve` looks (a preset, a folder, a checkpoint
    file, the hub cache), so a picker can say "not downloaded" with the command before a job
    fails on it.
    """
    text = source.strip()
    preset = model_presets().get(text)
    if preset is not None and preset.builtin:
        folder = RESOURCES / preset.repo
        if (folder / "model_index.json").is_file():
            return ModelStatus(True, f"{preset.label}: ready, it ships with the editor")
        return ModelStatus(False, f"{preset.label}: its folder {folder} is missing")
    path = Path(text).expanduser()
    if preset is None and path.suffix.lower() in SUFFIXES:
        if not path.exists():
            return ModelStatus(False, f"no such file: {path}")
        found = describe(path)
        what = f"{found.family} checkpoint, {human_size(found.size)}"
        if found.usable:
            return ModelStatus(True, f"{what}: ready (its configs ship with the editor)")
        return ModelStatus(False, f"{what}: {found.why_not}" if found.detection else found.problem)
    if preset is None and path.is_dir():
        if (path / "model_index.json").is_file():
            return ModelStatus(True, "diffusers model folder")
        return ModelStatus(False, "not a diffusers model folder (no model_index.json in it)")
    repo = preset.repo if preset is not None else text
    name = preset.label if preset is not None else repo
    if not _HUB_ID.fullmatch(repo) or path.is_absolute():
        return ModelStatus(False, "not a preset, a hub id (owner/name), a folder or a file")
    if _in_hub_cache(repo):
        return ModelStatus(True, f"{name}: downloaded")
    return ModelStatus(False, f"{name}: not downloaded. To get it: hf download {repo}")


def _in_hub_cache(repo: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo, "model_index.json"), str)
    except ValueError:  # a name the hub refuses ("a--b/c"): not in its cache either
        return False


def sample_project() -> Path | None:
    """The sample project ("The Lost Hat", ``tools/make_sample.py``), where this copy has it: a
    source checkout keeps it in ``projects/``; a wheel does not ship it."""
    sample = RESOURCES.parent / "projects" / "sample.storyboard"
    return sample if (sample / "project.json").is_file() else None
