"""A save never silently overwrites a newer ``project.json``.

The lock (:mod:`storyboard.core.ownership`) keeps cooperating programs apart, but a file can still
change under an open project: an older editor without the lock, a sync tool, a copy from a backup,
an artist editing it by hand. So whoever writes ``project.json`` remembers the digest of the bytes
it loaded or last wrote, and checks the file on disk still has it before writing again. The editor
then offers Save As, Reload or Overwrite; ``generate`` stops.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from storyboard.core.errors import ProjectError


class ProjectChangedOnDisk(ProjectError):
    """``project.json`` is not the one this program loaded or last saved."""


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(file: Path) -> str | None:
    """The digest of ``file``, or None when it does not exist (or cannot be read)."""
    try:
        return digest_of(Path(file).read_bytes())
    except OSError:
        return None


def check_unchanged(file: Path, expected: str | None) -> None:
    """Raise :class:`ProjectChangedOnDisk` if ``file`` differs from the version we know.

    ``expected`` None: we never saw a file there. A file that has since vanished is no newer
    version, so writing it again loses nothing.
    """
    current = file_digest(file)
    if current is None or current == expected:
        return
    raise ProjectChangedOnDisk(
        file,
        "it changed on disk after it was opened here (another program or window saved it)",
        "Save As keeps your version beside it; Reload shows the version on disk",
    )
