"""The rebuildable caches inside a project bundle: how big they are, and emptying them.

Identity banks (``cache/identity``) and timeline thumbnails (``cache/thumbs``) are made again
whenever they are missing, so they are not the artist's work, but they are large: an SDXL
character's bank at 1024 px and 30 steps is about 9 GiB. ``clean-up`` reports them and empties
them on request. Nothing else in ``cache/`` is touched (``cache/external`` holds the copies an
external paint program may still be editing). Links are neither followed nor counted: a bundle
from someone else may link a cache folder anywhere.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from storyboard.core.bundle_paths import inside
from storyboard.core.sizes import human_size

log = logging.getLogger(__name__)

REBUILDABLE = {"identity banks": "cache/identity", "thumbnails": "cache/thumbs"}


@dataclass(frozen=True, slots=True)
class CacheUse:
    name: str
    files: int
    bytes: int
    failed: int = 0  # files that could not be deleted

    def describe(self) -> str:
        return f"{self.name} {human_size(self.bytes)} in {self.files} file(s)"


def _files(bundle: Path, folder: Path) -> list[tuple[Path, int]]:
    """The regular files under ``folder`` (a real folder of the bundle), no link followed."""
    try:
        if not stat.S_ISDIR(folder.lstat().st_mode):
            return []  # absent, or a link that may lead out of the bundle
    except OSError:
        return []
    if not inside(bundle, folder):  # cache/ itself a link: the folder is someone else's
        return []
    found: list[tuple[Path, int]] = []
    pending = [folder]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                pending.append(Path(entry.path))
            elif stat.S_ISREG(info.st_mode):
                found.append((Path(entry.path), info.st_size))
    return found


def cache_use(bundle: Path) -> list[CacheUse]:
    """Each rebuildable cache of ``bundle`` with its size on disk."""
    uses = []
    for name, relative in REBUILDABLE.items():
        files = _files(Path(bundle), Path(bundle) / relative)
        uses.append(CacheUse(name, len(files), sum(size for _, size in files)))
    return uses


def empty_caches(bundle: Path) -> list[CacheUse]:
    """Deletes the rebuildable caches' files; returns what went (and what could not)."""
    uses = []
    for name, relative in REBUILDABLE.items():
        removed, size, failed = 0, 0, 0
        for path, length in _files(Path(bundle), Path(bundle) / relative):
            try:
                path.unlink()
            except OSError as exc:
                log.warning("%s: could not be deleted (%s)", path, exc.strerror or exc)
                failed += 1
                continue
            removed, size = removed + 1, size + length
        uses.append(CacheUse(name, removed, size, failed))
    return uses
