"""Panel thumbnails, loaded off the GUI thread and cached, so a 1,000-panel timeline scrolls freely.

Only thumbnails that a view asks for are made (the delegate asks while painting visible cards).
Each is decoded and scaled on a QThreadPool worker, kept in memory (bounded), and written to the
bundle's ``cache/thumbs`` folder so reopening a project does not decode full-size images again.
Both sides stay in the bundle: an image or a cached thumbnail that a link takes out of it is
neither read nor written (:mod:`storyboard.core.bundle_paths`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage

from storyboard.core.assets import AssetStore, is_image_id
from storyboard.core.bundle_paths import CACHE, OutsideBundle, confined

log = logging.getLogger(__name__)

THUMB_HEIGHT = 180  # cached size; views scale down from it
MEMORY_LIMIT = 2000


class _Signals(QObject):
    loaded = Signal(str, QImage)


def _thumb_file(bundle: Path, asset: str) -> Path | None:
    """``cache/thumbs/<asset>.png`` when it stays inside the bundle, else None (not cached)."""
    if not is_image_id(asset):
        return None
    try:
        return confined(bundle, CACHE, "thumbs", f"{asset}.png")
    except OutsideBundle as exc:
        log.info("thumbnail not cached: %s", exc)
        return None


class _Load(QRunnable):
    def __init__(self, asset: str, store: AssetStore, signals: _Signals) -> None:
        super().__init__()
        self.asset, self.store, self.signals = asset, store, signals

    def run(self) -> None:
        cache = _thumb_file(self.store.bundle, self.asset)
        image = QImage(str(cache)) if cache is not None and cache.is_file() else QImage()
        if image.isNull():
            source = self.store.file(self.asset)
            image = QImage(str(source)) if source is not None else QImage()
            if image.isNull():
                log.warning("image %s is missing or unreadable", source or self.asset)
                self.signals.loaded.emit(self.asset, QImage())
                return
            image = image.scaledToHeight(THUMB_HEIGHT, Qt.TransformationMode.SmoothTransformation)
            if cache is not None:
                try:
                    cache.parent.mkdir(parents=True, exist_ok=True)
                    image.save(str(cache))  # PNG, from the suffix
                except OSError as exc:  # a read-only project still shows its thumbnails
                    log.info("thumbnail cache not written: %s", exc)
        self.signals.loaded.emit(self.asset, image)


class ThumbnailCache(QObject):
    ready = Signal(str)  # asset id whose thumbnail (or missing marker) is now available

    def __init__(self, bundle: Path) -> None:
        super().__init__()
        self.store = AssetStore(bundle)
        self._images: OrderedDict[str, QImage] = OrderedDict()
        self._pending: set[str] = set()
        self._signals = _Signals()
        self._signals.loaded.connect(self._loaded)
        self.pool = QThreadPool.globalInstance()

    def set_bundle(self, bundle: Path) -> None:
        self.store = AssetStore(bundle)

    def get(self, asset: str) -> QImage | None:
        """The thumbnail if loaded (a null QImage means missing); None while it loads."""
        image = self._images.get(asset)
        if image is not None:
            self._images.move_to_end(asset)
            return image
        if asset not in self._pending:
            self._pending.add(asset)
            self.pool.start(_Load(asset, self.store, self._signals))
        return None

    def size_hint(self) -> QSize:
        return QSize(THUMB_HEIGHT * 16 // 9, THUMB_HEIGHT)

    def wait(self) -> None:
        """Block until queued loads finish (tests and shutdown)."""
        self.pool.waitForDone()

    def _loaded(self, asset: str, image: QImage) -> None:
        self._pending.discard(asset)
        self._images[asset] = image
        while len(self._images) > MEMORY_LIMIT:
            self._images.popitem(last=False)
        self.ready.emit(asset)
