"""The checkpoints in the artist's model folders (ComfyUI ``models/checkpoints``, A1111
``models/Stable-diffusion``, any folder), each with its family and size.

The editor runs this on a background thread (``storyboard/qt/model_folders.py``); it only lists
directories and reads headers (``checkpoint_files.py``), so a folder of thousands of files takes
seconds, not minutes. It is bounded against what a folder may hold: subfolders at most
:attr:`ScanLimits.depth` deep, at most :attr:`ScanLimits.entries` directory entries looked at and
:attr:`ScanLimits.models` files listed in all; a linked folder is not entered (links can loop or
lead across the whole disk) while a linked file is read like any file; FIFOs, devices, unreadable
and damaged files are listed with the reason they cannot be used, never read to the end. The
``cancelled`` callable stops a scan between two files.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.core.checkpoint_files import UnreadableCheckpoint, read_index
from storyboard.core.model_family import Detection, detect

log = logging.getLogger(__name__)

SUFFIXES = (".safetensors", ".ckpt")


@dataclass(frozen=True, slots=True)
class ScanLimits:
    depth: int = 4  # subfolder levels below each model folder
    entries: int = 20_000  # directory entries looked at, all folders together
    models: int = 2_000  # checkpoint files listed


@dataclass(frozen=True, slots=True)
class FoundModel:
    """One checkpoint file: ``detection`` None when the file could not be read (``problem``)."""

    path: str
    size: int  # bytes
    detection: Detection | None
    problem: str = ""

    @property
    def name(self) -> str:
        return Path(self.path).stem

    @property
    def usable(self) -> bool:
        return self.detection is not None and self.detection.supported

    @property
    def family(self) -> str:
        return self.detection.label if self.detection is not None else "unreadable"

    @property
    def why_not(self) -> str:
        """Why it cannot be used ('' when it can)."""
        if self.detection is None:
            return self.problem
        return self.detection.reason


@dataclass(slots=True)
class ScanResult:
    models: list[FoundModel] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # folders missing, limits reached


def human_size(size: int) -> str:
    """``6.9 GB``, ``512 MB``: what a file manager shows (decimal units)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover (the loop returns)


def describe(path: Path) -> FoundModel:
    """One file's family and size (its header only), or why it cannot be read."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return FoundModel(str(path), 0, None, "missing (a link to a file that is gone)")
    except OSError as exc:
        return FoundModel(str(path), 0, None, f"cannot be read ({exc.strerror or exc})")
    if not stat.S_ISREG(info.st_mode):
        return FoundModel(str(path), 0, None, "not a regular file")
    try:
        detection = detect(read_index(path))
    except UnreadableCheckpoint as exc:
        return FoundModel(str(path), info.st_size, None, str(exc))
    return FoundModel(str(path), info.st_size, detection)


def scan_folders(
    folders: Iterable[str | Path],
    cancelled: Callable[[], bool] = lambda: False,
    limits: ScanLimits = ScanLimits(),
) -> ScanResult:
    """Every ``.safetensors`` / ``.ckpt`` under ``folders``, sorted by name, duplicates once."""
    result = ScanResult()
    seen: set[str] = set()
    budget = [limits.entries]
    for folder in folders:
        root = Path(folder).expanduser()
        if not root.is_dir():
            result.notes.append(f"{root}: no such folder")
            continue
        for path in _files(root, limits.depth, budget, cancelled, result.notes):
            key = os.path.normcase(os.path.realpath(path))
            if key in seen:
                continue
            seen.add(key)
            if len(result.models) >= limits.models:
                result.notes.append(f"stopped after {limits.models} checkpoint files")
                return _sorted(result)
            result.models.append(describe(path))
            if cancelled():
                return _sorted(result)
    return _sorted(result)


def _sorted(result: ScanResult) -> ScanResult:
    result.models.sort(key=lambda m: (m.name.casefold(), m.path))
    return result


def _files(
    root: Path,
    depth: int,
    budget: list[int],
    cancelled: Callable[[], bool],
    notes: list[str],
) -> Iterable[Path]:
    """Checkpoint files under ``root``, breadth first, linked folders not entered."""
    pending = [(root, 0)]
    while pending and not cancelled():
        folder, level = pending.pop(0)
        try:
            with os.scandir(folder) as entries:
                listed = []
                for entry in entries:
                    budget[0] -= 1
                    if budget[0] < 0:
                        notes.append(f"{root}: stopped after looking at too many files")
                        return
                    listed.append(entry)
        except OSError as exc:
            notes.append(f"{folder}: cannot be listed ({exc.strerror or exc})")
            continue
        for entry in sorted(listed, key=lambda e: e.name):
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if level < depth and not entry.name.startswith("."):
                    pending.append((Path(entry.path), level + 1))
            elif entry.name.lower().endswith(SUFFIXES):
                yield Path(entry.path)
