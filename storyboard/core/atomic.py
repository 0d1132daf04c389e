"""Crash-safe file replacement, shared by project saves, autosaves and the asset store."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from storyboard.core.disk_errors import tag_file
from storyboard.core.temp_files import temp_path


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, nothing else.

    Temp file in the same folder (same file system, so the rename is atomic), fsync, rename,
    then fsync the folder so the rename itself survives a power cut. The temp file's name says
    which process writes it, so one left by a killed save is removed when the project is next
    opened (:mod:`storyboard.core.temp_files`).
    """
    tmp = temp_path(path)
    try:
        # os.open with 0o666 lets the umask decide: a saved file gets the user's usual permissions
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise tag_file(exc, path) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # os.write's errors name no file: name the one we write
            raise tag_file(exc, path) from exc
        raise
    with contextlib.suppress(OSError):  # not every OS can open a folder for fsync
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
