"""Snapshots of a folder tree, to see what a run created, deleted or changed outside its bundle.

The hostile runs (``bench/hostile_runs.py``) and the editor's hostile tests
(``tests/qt/test_hostile_editor.py``) take one of the whole sandbox root before and after, leaving
out the run's own bundle and output folder: any difference is a file of the victim touched.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

Entry = tuple[str, int, int, str]  # kind (f, d, l, other), size, mtime_ns, link target


def snapshot(root: Path, skip: Iterable[Path] = ()) -> dict[str, Entry]:
    """Every entry under ``root`` (links not followed) but those in ``skip`` and below them.

    Folders are recorded without their times: entries appearing or going show by name.
    """
    root = Path(root).absolute()
    skipped = {Path(p).absolute() for p in skip}
    found: dict[str, Entry] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder) / d not in skipped]
        for name in (*dirs, *files):
            path = Path(folder) / name
            if path in skipped:
                continue
            info = path.lstat()
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                found[rel] = ("l", 0, info.st_mtime_ns, str(path.readlink()))
            elif stat.S_ISDIR(info.st_mode):
                found[rel] = ("d", 0, 0, "")
            elif stat.S_ISREG(info.st_mode):
                found[rel] = ("f", info.st_size, info.st_mtime_ns, "")
            else:
                found[rel] = ("other", 0, info.st_mtime_ns, "")
    return found


def changes(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    """What was created, deleted or changed between two snapshots, one line each."""
    lines = [f"created {p}" for p in sorted(after.keys() - before.keys())]
    lines += [f"deleted {p}" for p in sorted(before.keys() - after.keys())]
    lines += [f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    return lines
