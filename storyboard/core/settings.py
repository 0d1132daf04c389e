"""The user's application settings (not the project's): a JSON file in their config folder.

Model source and the folders scanned for checkpoints, device, defaults for new generations and
exports, autosave interval, recent projects. A damaged settings file never stops the editor: it
is set aside and defaults are used. Window geometry and dock layout are the window's business
(`window.ini` beside this file), not stored here.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from storyboard.core.atomic import atomic_write

log = logging.getLogger(__name__)

APP_NAME = "storyboard-editor"
MAX_RECENT = 10


def config_dir() -> Path:
    """``$STORYBOARD_CONFIG_DIR`` (used by tests) or the platform's user config folder."""
    override = os.environ.get("STORYBOARD_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    """``$STORYBOARD_CONFIG_DIR/data`` (tests) or the platform's user data folder: work that has
    no project folder yet (untitled projects)."""
    override = os.environ.get("STORYBOARD_CONFIG_DIR")
    if override:
        return Path(override) / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def cache_dir() -> Path:
    """``$STORYBOARD_CONFIG_DIR/cache`` (tests) or the platform's user cache folder: what can be
    made again but is slow to make (the GPU's compiled code for faster generation)."""
    override = os.environ.get("STORYBOARD_CONFIG_DIR")
    if override:
        return Path(override) / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME))


def log_dir() -> Path:
    override = os.environ.get("STORYBOARD_CONFIG_DIR")
    if override:
        return Path(override) / "logs"
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME))


@dataclass(slots=True)
class ExportDefaults:
    page_preset: str = "us-comic"
    dpi: int = 300
    video_size: str = "1080p"
    captions: str = "burn"


@dataclass(slots=True)
class AppSettings:
    model_source: str = ""  # empty: the project's model
    model_folders: list[str] = field(default_factory=list)  # scanned for checkpoints (model_scan)
    device: str = "auto"  # auto, cuda, mps, cpu
    low_vram: bool = False
    # compiled UNet blocks, fp8 and fused projections where they help: CUDA without low-VRAM
    # mode (inference/engine/fast_path.py); off, generation runs exactly as diffusers does
    fast_generation: bool = True
    cluster: str = ""  # generate on a Ray cluster: "local", "auto" or its address; empty: here
    controlnet: str = ""  # folder of a scribble/lineart ControlNet (sketch-guided generation)
    t2i_adapter: str = ""  # folder of a sketch T2I-Adapter
    lora_folders: list[str] = field(default_factory=list)  # where LoRAs are found (models/loras)
    image_editor: str = ""  # "Edit in external editor" program (empty: the system's default)
    transition_backend: str = "ltx"  # generated transitions: ltx, wan or smp
    transition_model: str = ""  # its weights (folder or hub id; smp: a predictor folder)
    default_width: int = 1024
    default_height: int = 576
    default_steps: int = 30
    default_style: str = "comic-book"
    default_scheduler: str = "ddim"
    autosave_seconds: int = 60
    theme: str = "system"  # the editor's colours: system, light or dark
    export: ExportDefaults = field(default_factory=ExportDefaults)
    recent_projects: list[str] = field(default_factory=list)

    def add_recent(self, path: Path) -> None:
        entry = str(Path(path).resolve())
        self.recent_projects = [entry, *(p for p in self.recent_projects if p != entry)]
        del self.recent_projects[MAX_RECENT:]


@functools.cache
def _adapter() -> TypeAdapter[AppSettings]:
    return TypeAdapter(AppSettings)


def settings_file() -> Path:
    return config_dir() / "settings.json"


def load_settings(path: Path | None = None) -> AppSettings:
    path = path or settings_file()
    try:
        return _adapter().validate_json(path.read_bytes())
    except FileNotFoundError:
        return AppSettings()
    except (OSError, ValidationError, ValueError) as exc:
        aside = path.with_suffix(".damaged.json")
        log.warning(
            "settings %s unusable (%s); defaults used, old file kept as %s", path, exc, aside
        )
        with contextlib.suppress(OSError):
            path.replace(aside)
        return AppSettings()


def save_settings(settings: AppSettings, path: Path | None = None) -> None:
    path = path or settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _adapter().dump_python(settings, mode="json")
    atomic_write(path, json.dumps(data, indent=1).encode("utf-8"))
