"""A disk that is really full: a tiny tmpfs, filled up (root only; skipped where it cannot be
mounted). Tests that must run anywhere make ``os.write`` fail instead (see ``no_space``)."""

from __future__ import annotations

import errno
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def mount_full_disk(folder: Path, size: str = "64k") -> Iterator[Path]:
    folder.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        with (folder / "filler").open("wb", buffering=0) as filler:  # to the last byte
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def no_space(*args: object) -> int:
    """Stands in for ``os.write`` on a full disk."""
    raise OSError(errno.ENOSPC, "No space left on device")
