"""The content-addressed image store of a bundle: ``assets/<sha256>.png``.

Files are immutable and named by their hash, so the same image is stored once however many
candidates or panels point at it, an undo never needs to restore a file, and a copy of a project
can share files safely. Nothing is deleted automatically: ``clean_up`` runs only when the artist
asks, and only removes files that nothing in the project points at.
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
_ASSET_NAME = re.compile(r"^[0-9a-f]{64}\.png$")


class AssetStore:
    def __init__(self, bundle: Path) -> None:
        self.root = Path(bundle) / "assets"

    def path(self, asset: str) -> Path:
        return self.root / f"{asset}.png"

    def has(self, asset: str) -> bool:
        return self.path(asset).is_file()

    def put(self, png: bytes) -> str:
        """Store PNG bytes; returns their id. Storing the same image twice is free."""
        if not png.startswith(PNG_SIGNATURE):
            raise ProjectError(self.root, "only PNG images can be stored", "Convert it to PNG")
        asset = hashlib.sha256(png).hexdigest()
        target = self.path(asset)
        if target.is_file() and target.stat().st_size == len(png):
            return asset
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write(target, png)
        return asset

    def put_file(self, source: Path) -> str:
        return self.put(Path(source).read_bytes())

    def copy_from(self, other: AssetStore, asset: str) -> None:
        """Bring one asset over from another bundle (Save As), atomically."""
        if not self.has(asset):
            self.put(other.path(asset).read_bytes())

    def stored(self) -> set[str]:
        if not self.root.is_dir():
            return set()
        return {p.stem for p in self.root.iterdir() if _ASSET_NAME.match(p.name)}

    def missing(self, assets: set[str]) -> set[str]:
        return assets - self.stored()

    def unreferenced(self, project: Project) -> set[str]:
        return self.stored() - project.referenced_assets()

    def clean_up(self, project: Project) -> list[str]:
        """Delete the files nothing in ``project`` points at (an explicit user action only)."""
        removed = sorted(self.unreferenced(project))
        for asset in removed:
            self.path(asset).unlink(missing_ok=True)
        log.info("clean up removed %d unreferenced image(s)", len(removed))
        return removed
