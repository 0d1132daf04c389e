"""Paths built from a project's data stay inside the project's folder.

A project, a Storyboarder file or a cache may come from someone else, and their ids and names end
up in file names (``assets/<id>.png``, ``cache/identity/<character>-<digest>.safetensors``). Ids
are checked when the project loads (:mod:`storyboard.core.project_ids`), but a folder can also hold
links: ``assets/`` or one asset may be a symbolic link to a file anywhere on the machine. So every
file the program reads, writes or deletes because the project said so goes through here first:

- :func:`confined` builds ``root/part/...`` from plain names only and checks that the result, with
  every link followed, is still inside ``root`` (also followed);
- :func:`inside` is that check alone, for paths found by listing a folder;
- :func:`remove` deletes one entry without following a link out of ``root``: a link is removed as
  a link (its target is untouched), a folder never.

Writes replace an entry atomically (:func:`storyboard.core.atomic.atomic_write` renames over it),
which never writes through a link either. What a link points at can change between a check and
the use that follows; these checks keep a project from reaching outside, not a local attacker who
races the program.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from storyboard.core.errors import ProjectError

log = logging.getLogger(__name__)

ASSETS = "assets"  # the content-addressed store (storyboard.core.assets)
CACHE = "cache"  # thumbnails, identity banks, files for the external editor: made again if lost

_ADVICE = (
    "The project may come from someone else or be damaged; nothing outside its folder was used. "
    "Replace links to other folders with copies of the files"
)


class OutsideBundle(ProjectError):
    """A path built from project data would lead outside its folder (a traversal such as
    ``../``, an absolute path or a link); nothing there was read, written or deleted."""

    def __init__(self, path: Path | str, problem: str = "", advice: str = _ADVICE) -> None:
        super().__init__(path, problem or "leads outside the project folder", advice)


def is_plain_name(part: str) -> bool:
    """One file name: not empty, not ``.`` or ``..``, no separator or NUL (never a path)."""
    return (
        bool(part)
        and part not in {".", ".."}
        and not any(char in part for char in ("/", "\\", "\x00"))
    )


def _real(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte, an unreadable folder
        return None


def inside(root: Path, path: Path) -> bool:
    """Whether ``path``, links followed, is ``root`` or inside it (``root``'s links followed too).

    A relative ``path`` is relative to the working folder, like ``root``: pass paths built from
    ``root``.
    """
    real_root, real = _real(Path(root)), _real(Path(path))
    return real_root is not None and real is not None and real.is_relative_to(real_root)


def confined(root: Path, *parts: str) -> Path:
    """``root/parts...``, each part one plain name, refused (:class:`OutsideBundle`) unless it
    stays inside ``root`` with every link followed. The path need not exist yet."""
    root = Path(root)
    path = root.joinpath(*parts) if all(is_plain_name(part) for part in parts) else None
    if path is None:
        shown = root.joinpath(*(part.replace("\x00", "\\0") for part in parts))
        raise OutsideBundle(shown, "is not a plain file name inside the project folder")
    if _has_link(root, parts) and not inside(root, path):
        raise OutsideBundle(path)
    return path


def _has_link(root: Path, parts: tuple[str, ...]) -> bool:
    """Whether an existing entry on the way from ``root`` down ``parts`` is a link (or cannot be
    looked at). Without one, the path is inside ``root`` by construction, which costs a few
    ``lstat`` calls instead of resolving every folder above ``root`` twice."""
    current = root
    for part in parts:
        current = current / part
        try:
            mode = current.lstat().st_mode
        except FileNotFoundError:
            return False  # nothing below exists yet: there is no link to follow
        except OSError:
            return True  # be careful: resolve the whole path
        if stat.S_ISLNK(mode):
            return True
    return False


def readable_file(root: Path, *parts: str) -> Path | None:
    """``root/parts...`` when it is a regular file inside ``root`` (links followed), else None:
    for reads that treat a missing file and one outside the same way (logged)."""
    try:
        path = confined(root, *parts)
    except OutsideBundle as exc:
        log.warning("not reading %s", exc)
        return None
    return path if path.is_file() else None


def remove(root: Path, path: Path) -> bool:
    """Delete the entry ``path`` of a folder inside ``root``; True when something was removed.

    Never follows a link out of ``root``: the folder holding the entry must resolve inside
    ``root`` and a link is removed as a link. A folder is never removed (:class:`OutsideBundle`
    says why, naming it).
    """
    path = Path(path)
    if not is_plain_name(path.name) or not inside(root, path.parent):
        raise OutsideBundle(path, "is not inside the project folder; it was not deleted")
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(mode):
        raise OutsideBundle(path, "is a folder where a file was expected; it was not deleted")
    path.unlink(missing_ok=True)
    return True


def check_layout(bundle: Path, project_file: str) -> list[str]:
    """Check the bundle's own entries before a load reads anything: ``project.json`` and
    ``assets/`` leading out of the bundle (links) refuse it with :class:`OutsideBundle`; a
    ``cache/`` that does is not used (a warning), everything in it can be made again."""
    bundle = Path(bundle)
    for name in (project_file, ASSETS):
        if not inside(bundle, bundle / name):
            target = _real(bundle / name)
            to = f" (to {target})" if target is not None else " (a link loop)"
            raise OutsideBundle(
                bundle / name,
                f"leads outside the project folder{to}; the project was not opened",
                "A project must hold its own files: replace the link with a copy of what it "
                "points at",
            )
    if not inside(bundle, bundle / CACHE):
        return [f"{CACHE}/ leads outside the project folder; it is not used"]
    return []


def cache_folder(bundle: Path, *parts: str) -> Path | None:
    """``bundle/cache/parts...`` when it stays inside the bundle, else None (logged): the cache
    only saves time, so a cache that leads elsewhere is simply not used."""
    try:
        return confined(Path(bundle), CACHE, *parts)
    except OutsideBundle as exc:
        log.warning("cache not used: %s", exc)
        return None
