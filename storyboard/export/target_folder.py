"""The folder an export of many files writes into (the Storyboarder project): new or empty, every
path in it built from plain names, and everything written recorded so that a failure or a cancel
removes it again.

Only that folder is written: a path is made with :func:`storyboard.core.bundle_paths.confined`,
so no name can lead out of it (no ``..``, no separator, no link leading elsewhere).
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.core.bundle_paths import confined
from storyboard.export.output import ExportError, export_error, make_folder, write_file

log = logging.getLogger(__name__)


@dataclass(slots=True)
class TargetFolder:
    """``target``, made by :meth:`prepare`; ``created`` when the export made it."""

    target: Path
    created: bool
    written: list[Path] = field(default_factory=list)

    @classmethod
    def prepare(cls, target: Path) -> TargetFolder:
        """Make ``target``, or check that it is an empty folder; :class:`ExportError` else."""
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            raise ExportError(target, "is not a folder", "Give the name of a new folder")
        if target.is_dir():
            if any(target.iterdir()):
                raise ExportError(target, "is not empty", "Give the name of a new or empty folder")
            return cls(target, created=False)
        make_folder(target, exist_ok=False)
        return cls(target, created=True)

    def undo(self) -> None:
        """Remove what this export wrote (the whole folder when it made it)."""
        if self.created:
            shutil.rmtree(self.target, ignore_errors=True)
            return
        for path in reversed(self.written):
            try:
                if path.is_dir() and not path.is_symlink():
                    path.rmdir()
                else:
                    path.unlink(missing_ok=True)
            except OSError:
                log.warning("could not remove %s after a failed export", path)

    def path(self, *parts: str) -> Path:
        return confined(self.target, *parts)

    def folder(self, *parts: str) -> Path:
        path = self.path(*parts)
        if not path.is_dir():
            try:
                path.mkdir()
            except OSError as exc:
                raise export_error(path, exc) from exc
            self.written.append(path)
        return path

    def file(self, data: bytes, *parts: str) -> Path:
        path = self.path(*parts)
        self.written.append(path)
        write_file(path, data)
        return path

    def json_file(self, data: object, *parts: str) -> Path:
        text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
        return self.file(text.encode("utf-8"), *parts)
