"""The animatic's :class:`~storyboard.export.animatic_options.Media` over a bundle's asset store.

Sound lengths are decoded (exact even for files without a length in their header) and cached by
file, size and modification time: the player re-plans the animatic after every edit, and
decoding a minute of dialogue each time would stall the editor.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.export.audio import audio_seconds
from storyboard.export.output import ExportError

log = logging.getLogger(__name__)


class BundleMedia:
    """Asset ids of a bundle -> files; missing files are skipped with a warning."""

    def __init__(self, bundle: Path) -> None:
        self.store = AssetStore(bundle)

    def file(self, asset: str) -> Path | None:
        path = self.store.file(asset)
        if path is None:
            log.warning(
                "asset %s is missing from %s; the animatic goes without it", asset, self.store.root
            )
        return path

    def seconds(self, path: Path) -> float | None:
        try:
            stat = path.stat()
        except OSError as exc:
            log.warning("sound %s: %s", path, exc)
            return None
        return _measured(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=512)
def _measured(path: Path, size: int, mtime_ns: int) -> float | None:
    """``size`` and ``mtime_ns`` are only cache keys: a replaced file is measured again."""
    try:
        return audio_seconds(path)
    except ExportError as exc:
        log.warning("%s; the panel keeps its duration", exc)
        return None
