"""The content-addressed store of a bundle: ``assets/<sha256>.png`` and ``assets/<sha256>.<ext>``.

Files are immutable and named by their hash, so the same file is stored once however many
candidates or panels point at it, an undo never needs to restore a file, and a copy of a project
can share files safely. Nothing is deleted automatically: ``clean_up`` runs only when the artist
asks, and only removes files that nothing in the project points at.

Images are the common case and keep the original form: their id is the bare hash and the file is
``<id>.png``. Sounds and video clips (panel audio, the soundtrack, generated transitions) carry
their extension in the id, ``<sha256>.wav``, because a decoder needs it to pick a demuxer and the
id alone must say which file it is. Ids stay content hashes either way.

An id comes from ``project.json``, which may come from someone else: :meth:`AssetStore.path`
takes only a content hash (with an extension for media), so ``../x`` or ``/home/x`` never names a
file, and only inside a bundle whose ``assets/`` stays in it; :meth:`AssetStore.file` is the read
side and also refuses a file that a link takes out of the bundle (:mod:`bundle_paths`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

from storyboard.core.atomic import atomic_write
from storyboard.core.bundle_paths import (
    ASSETS,
    OutsideBundle,
    confined,
    inside,
    readable_file,
    remove,
)
from storyboard.core.errors import ProjectError
from storyboard.core.model import Project
from storyboard.core.temp_files import temp_path

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AUDIO_EXTENSIONS = frozenset({"wav", "mp3", "m4a", "aac", "ogg", "oga", "opus", "flac"})
VIDEO_EXTENSIONS = frozenset({"mp4", "m4v", "mov", "webm", "mkv"})
MEDIA_EXTENSIONS = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS
_PNG_NAME = re.compile(r"[0-9a-f]{64}\.png")
_IMAGE_ID = re.compile(r"[0-9a-f]{64}")
_MEDIA_ID = re.compile(r"[0-9a-f]{64}\.([a-z0-9]{1,5})")


def is_media_id(asset: str) -> bool:
    """True for a sound or clip id (``<sha256>.<ext>``), False for an image id (bare hash)."""
    match = _MEDIA_ID.fullmatch(asset)
    return match is not None and match.group(1) in MEDIA_EXTENSIONS


def is_image_id(asset: str) -> bool:
    """True for an image id: a bare sha256 in lower-case hex."""
    return _IMAGE_ID.fullmatch(asset) is not None


class AssetStore:
    def __init__(self, bundle: Path) -> None:
        self.bundle = Path(bundle)
        self.root = self.bundle / ASSETS

    def path(self, asset: str) -> Path:
        """Where ``asset``'s file is written or deleted: ``assets/<hash>.<ext>``.

        Raises :class:`OutsideBundle` for an id that is not a content hash and when ``assets/``
        leads out of the bundle. The entry itself may be a link: read through :meth:`file`.
        """
        return confined(self.bundle, ASSETS, self._name(asset))

    def file(self, asset: str | None) -> Path | None:
        """The file to read for ``asset``: a regular file inside the bundle with every link
        followed, or None (no asset, missing, not a file, a malformed id or outside the bundle;
        the last two logged)."""
        if asset is None:
            return None
        try:
            name = self._name(asset)
        except OutsideBundle as exc:
            log.warning("not reading %s", exc)
            return None
        return readable_file(self.bundle, ASSETS, name)

    def _name(self, asset: str) -> str:
        if is_image_id(asset):
            return f"{asset}.png"
        if is_media_id(asset):
            return asset
        raise OutsideBundle(self.root, f"{asset[:80]!r} is not an asset id (a content hash)")

    def has(self, asset: str) -> bool:
        return self.file(asset) is not None

    def leaves_bundle(self) -> bool:
        """Whether ``assets/`` is a link (or under one) to a folder outside the bundle."""
        return not inside(self.bundle, self.root)

    def put(self, png: bytes) -> str:
        """Store PNG bytes; returns their id. Storing the same image twice is free."""
        if not png.startswith(PNG_SIGNATURE):
            raise ProjectError(self.root, "only PNG images can be stored", "Convert it to PNG")
        return self._write(hashlib.sha256(png).hexdigest(), png)

    def check_writable(self) -> None:
        """Raise the OSError a stored image would meet (a read-only ``assets/``, a full disk),
        now, before a long job makes images it could not keep: a temporary file (named as a
        killed save's would be, so one left by a crash is swept) is written and removed."""
        self.root.mkdir(parents=True, exist_ok=True)
        probe = temp_path(self.path("0" * 64))
        try:
            with probe.open("xb") as handle:
                handle.write(PNG_SIGNATURE)
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            probe.unlink(missing_ok=True)

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
        existing = self.file(asset)
        if existing is not None and existing.stat().st_size == len(data):
            return asset
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)  # replaces the entry (a link too), never writes through it
        return asset

    def copy_from(self, other: AssetStore, asset: str) -> None:
        """Bring one asset over from another bundle (Save As), atomically."""
        source = other.file(asset)
        if source is not None and not self.has(asset):
            self._write(asset, source.read_bytes())

    def stored(self) -> set[str]:
        """The asset ids with a file in ``assets/`` (none when ``assets/`` leads outside)."""
        if self.leaves_bundle():
            log.warning("%s leads outside %s; its files are not used", self.root, self.bundle)
            return set()
        if not self.root.is_dir():
            return set()
        found: set[str] = set()
        with os.scandir(self.root) as entries:
            for entry in entries:
                if _PNG_NAME.fullmatch(entry.name):
                    asset = entry.name[: -len(".png")]
                elif is_media_id(entry.name):
                    asset = entry.name
                else:
                    continue
                # a link is only followed when it is one (no stat per file for the others)
                if not entry.is_symlink() or inside(self.bundle, Path(entry.path)):
                    found.add(asset)
        return found

    def missing(self, assets: set[str]) -> set[str]:
        return assets - self.stored()

    def unreferenced(self, project: Project) -> set[str]:
        """The stored ids nothing in ``project`` points at; :class:`OutsideBundle` when
        ``assets/`` is a link out of the bundle (its files belong to someone else)."""
        if self.leaves_bundle():
            raise OutsideBundle(
                self.root,
                "is a link to a folder outside the project; nothing in it was deleted",
                "Replace the link with a copy of that folder, then clean up again",
            )
        return self.stored() - project.referenced_assets()

    def clean_up(self, project: Project) -> list[str]:
        """Delete the files nothing in ``project`` points at (an explicit user action only).

        A file that is a link is removed as a link: its target is never deleted.
        """
        removed = sorted(self.unreferenced(project))
        for asset in removed:
            remove(self.bundle, self.path(asset))
        log.info("clean up removed %d unreferenced asset file(s)", len(removed))
        return removed
