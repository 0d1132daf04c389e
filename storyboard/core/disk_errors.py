"""What an OS error during a write means for the artist: the cause in words, and what to do.

One wording for saves, imports and exports, so "No space left on device" with no file name (an
import onto a full disk) or "check the free disk space" for a file name the folder could not hold
(a panel number with a ``/``) never reach the user: every message says which file and the real
cause.
"""

from __future__ import annotations

import errno

_CAUSES: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("the disk is full", "Free some space, or choose a folder on another disk"),
    errno.EDQUOT: ("your disk quota is used up", "Free some space, or choose another disk"),
    errno.EROFS: ("the disk is read-only", "Choose a folder you can write to"),
    errno.EACCES: ("permission denied", "Choose a folder you can write to"),
    errno.EPERM: ("permission denied", "Choose a folder you can write to"),
    errno.EFBIG: ("the file is too large for this disk", "Choose a disk that holds large files"),
    errno.ENAMETOOLONG: ("the file name is too long", "Choose a shorter name or folder"),
    errno.ENOENT: ("it or its folder does not exist", "Check the path"),
    errno.ENOTDIR: ("part of its path is a file, not a folder", "Choose another folder"),
    errno.EIO: ("the disk reported an error", "Check the disk, or choose another"),
}


def describe(exc: OSError) -> tuple[str, str]:
    """(cause, advice) of a write that failed, e.g. ("the disk is full", "Free some space...")."""
    if exc.errno in _CAUSES:
        return _CAUSES[exc.errno]
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"the system refused it ({reason})", "Try another folder"


def tag_file(exc: OSError, path: object) -> OSError:
    """The same error (same class and errno) naming ``path``, for an error that named no file or
    a temporary one: callers that catch OSError keep working, and its message names the file."""
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))
