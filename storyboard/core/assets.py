"""The content-addressed store of a bundle: ``assets/<sha256>.png`` and ``assets/<sha256>.<ext>``.

Files are immutable and named by their hash, so the same file is stored once however many
candidates or panels point at it, an undo never needs to restore a file, and a copy of a project
can share files safely. Nothing is deleted automatically: ``clean_up`` runs only when the artist
asks, and only removes files that nothing in the project points at.

Images are the common case and keep the original form: their id is the bare hash and the file is
``<id>.png``. Sounds and video clips (panel audio, the soundtrack, generated transitions) carry
their extension in the id, ``<sha256>.wav``, because a decoder needs it to pick a demuxer and the
id alone must say which file it is. Ids stay content hashes either way.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from storyboard.core.atomic import atomic_write
from storyboard.core.errors import ProjectError
from storyboard.core.model import Project

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AUDIO_EXTENSIONS = frozenset({"wav", "mp3", "m4a", "aac", "ogg", "oga", "opus", "flac"})
VIDEO_EXTENSIONS = frozenset({"mp4", "m4v", "mov", "webm", "mkv"})
MEDIA_EXTENSIONS = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS
_PNG_NAME = re.compile(r"^[0-9a-f]{64}\.png$")
_MEDIA_ID = re.compile(r"^[0-9a-f]{64}\.([a-z0-9]{1,5})$")


def is_media_id(asset: str) -> bool:
    """True for a sound or clip id (``<sha256>.<ext>``), False for an image id (bare hash)."""
    match = _MEDIA_ID.match(asset)
    return match is not None and match.group(1) in MEDIA_EXTENSIONS


class AssetStore:
    def __init__(self, bundle: Path) -> None:
        self.root = Path(bundle) / "assets"

    def path(self, asset: str) -> Path:
        return self.root / (asset if is_media_id(asset) else f"{asset}.png")

    def has(self, asset: str) -> bool:
        return self.path(asset).is_file()

    def put(self, png: bytes) -> str:
        """Store PNG bytes; returns their id. Storing the same image twice is free."""
        if not png.startswith(PNG_SIGNATURE):
            raise ProjectError(self.root, "only PNG images can be stored", "Convert it to PNG")
        return self._write(hashlib.sha256(png).hexdigest(), png)

    def put_media(self, data: bytes, extension: str) -> str:
        """Store a sound or video clip; returns its id ``<sha256>.<extension>``.

        The content is not decoded here (core reads no media): the export reports a file it
        cannot play, naming it.
        """
        ext = extension.lower().lstrip(".")
        if ext not in MEDIA_EXTENSIONS:
            kinds = ", ".join(sorted(MEDIA_EXTENSIONS))
            raise ProjectError(self.root, f".{ext} files cannot be stored", f"Use one of {kinds}")
        return self._write(f"{hashlib.sha256(data).hexdigest()}.{ext}", data)

    def put_file(self, source: Path) -> str:
        """Store a file by its kind: a PNG image, or a sound/clip named by its extension."""
        source = Path(source)
        data = source.read_bytes()
        if source.suffix.lower() == ".png" or data.startswith(PNG_SIGNATURE):
            return self.put(data)
        return self.put_media(data, source.suffix)

    def _write(self, asset: str, data: bytes) -> str:
        target = self.path(asset)
        if target.is_file() and target.stat().st_size == len(data):
            return asset
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)
        return asset

    def copy_from(self, other: AssetStore, asset: str) -> None:
        """Bring one asset over from another bundle (Save As), atomically."""
        if not self.has(asset):
            self._write(asset, other.path(asset).read_bytes())

    def stored(self) -> set[str]:
        if not self.root.is_dir():
            return set()
        found: set[str] = set()
        for file in self.root.iterdir():
            if _PNG_NAME.match(file.name):
                found.add(file.stem)
            elif is_media_id(file.name):
                found.add(file.name)
        return found

    def missing(self, assets: set[str]) -> set[str]:
        return assets - self.stored()

    def unreferenced(self, project: Project) -> set[str]:
        return self.stored() - project.referenced_assets()

    def clean_up(self, project: Project) -> list[str]:
        """Delete the files nothing in ``project`` points at (an explicit user action only)."""
        removed = sorted(self.unreferenced(project))
        for asset in removed:
            self.path(asset).unlink(missing_ok=True)
        log.info("clean up removed %d unreferenced asset file(s)", len(removed))
        return removed
