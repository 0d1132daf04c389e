"""Writing export files safely: a temp file beside the target, renamed into place at the end.

A cancelled or failed export leaves no partial file, and an unwritable target fails before any
rendering work with an error that names the file, what is wrong and what to do.

Qt reports no write error: on a full disk ``QImage.save`` returned true for 192 empty PNG frames
and ``QPdfWriter`` left an empty PDF. So images and PDFs are encoded in memory and written here
with :func:`write_file`, which sees every OS error and checks the size that landed, and
:func:`staged_file` refuses an empty result: an export never reports success for a file that
is not all there.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage

from storyboard.core.disk_errors import describe
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


def export_error(target: Path, exc: OSError) -> ExportError:
    """The OS error of a write as an ExportError naming ``target`` and the cause in words."""
    cause, advice = describe(exc)
    return ExportError(target, f"could not be written: {cause}", advice)


def make_folder(target: Path, *, exist_ok: bool) -> None:
    """Create the export folder ``target`` (not its parents): an :class:`ExportError` saying
    what to do when its parent is missing or the OS refuses."""
    try:
        target.mkdir(exist_ok=exist_ok)
    except FileNotFoundError as exc:
        raise ExportError(
            target, "its folder does not exist", "Create the folder or pick another"
        ) from exc
    except OSError as exc:
        raise export_error(target, exc) from exc


_CHUNK = 1 << 20


def write_file(
    path: Path, data: bytes | bytearray | memoryview | QByteArray, *, shown: Path | None = None
) -> None:
    """Write ``data`` to ``path`` (created or emptied), checking that all of it landed.

    Errors are :class:`ExportError` naming ``shown`` (the file the user asked for; default
    ``path``) and the cause, e.g. "could not be written: the disk is full".
    """
    shown = Path(shown or path)
    view = memoryview(data).cast("B")  # type: ignore[arg-type]  # (QByteArray is a buffer)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            written = 0
            while written < len(view):
                count = os.write(fd, view[written : written + _CHUNK])
                if count <= 0:
                    break
                written += count
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)  # (a network disk may report a failed write only here)
    except OSError as exc:
        raise export_error(shown, exc) from exc
    if size != len(view):
        raise ExportError(
            shown,
            f"could not be written: only {size} of {len(view)} bytes reached the disk",
            "Check the free space on that disk, or choose another",
        )


def encode_png(image: QImage, target: Path) -> QByteArray:
    """``image`` as PNG bytes in memory (written with :func:`write_file`)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    saved = image.save(buffer, "PNG")  # type: ignore[call-overload]  # stubs say bytes; str works
    if image.isNull() or not saved or data.isEmpty():
        raise ExportError(target, "the image could not be encoded as PNG", "Please report this")
    buffer.close()
    return data


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
        raise export_error(target, exc) from exc
    try:
        yield temp
        if temp.stat().st_size == 0:
            raise ExportError(
                target,
                "could not be written: the file came out empty",
                "Check the free space on that disk, or choose another",
            )
        temp.replace(target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise export_error(target, exc) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
