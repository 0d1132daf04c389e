"""Writing export files safely: a temp file beside the target, renamed into place at the end.

A cancelled or failed export leaves no partial file, and an unwritable target fails before any
rendering work with an error that names the file, what is wrong and what to do.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

from storyboard.core.errors import ProjectError

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


class ExportError(ProjectError):
    """An export file could not be written."""


class ExportCancelled(Exception):
    """The user cancelled; nothing was written."""


def check_cancelled(cancelled: Cancelled | None) -> None:
    if cancelled is not None and cancelled():
        raise ExportCancelled


@contextlib.contextmanager
def staged_file(target: Path) -> Iterator[Path]:
    """A writable temp path beside ``target``, renamed over it only if the block succeeds."""
    target = Path(target)
    if target.is_dir():
        raise ExportError(target, "is a folder", "Give a file name for the export")
    folder = target.parent
    if not folder.is_dir():
        raise ExportError(target, "its folder does not exist", "Create the folder or pick another")
    temp = folder / f".{target.name}.{secrets.token_hex(4)}.part"
    try:
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise ExportError(
            target, f"cannot write there ({exc.strerror})", "Choose a folder you can write to"
        ) from exc
    try:
        yield temp
        temp.replace(target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ExportError(
            target, f"could not be written ({exc.strerror})", "Check the free disk space"
        ) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
