"""Where a LoRA named by a project is found, and only there.

A project may come from someone else, so its LoRAs are names (``LoraUse.file``), never paths, and a
name is looked up in two kinds of place only: the project's own ``loras/`` folder (the LoRAs that
travel with it) and the LoRA folders the user listed in the settings (ComfyUI's ``models/loras``,
AUTOMATIC1111's ``models/Lora``). A name is plain names joined by ``/`` ending in
``.safetensors``; with every link followed it must stay inside the folder it was found in
(:func:`storyboard.core.bundle_paths.confined`), so ``../`` , an absolute path or a link leading
out reads nothing. Only safetensors files load: a ``.ckpt`` or ``.pt`` LoRA is a pickle, which can
run code.

A LoRA that is not there is :class:`LoraUnavailable`, a ``ValueError`` whose message names the
LoRA, who it belongs to and where it was looked for: the editor shows it and queues nothing, the
``generate`` command prints it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from storyboard.core.bundle_paths import OutsideBundle, confined, inside

log = logging.getLogger(__name__)

PROJECT_LORAS = "loras"  # the project's own LoRA folder, beside project.json
SUFFIX = ".safetensors"
MAX_DEPTH = 4  # subfolders scanned below a LoRA folder (ComfyUI users sort LoRAs in a few levels)
MAX_LISTED = 5000  # a folder scan stops there (a wrong folder such as the home folder ends fast)


class LoraUnavailable(ValueError):
    """A LoRA the project names is missing, not a safetensors file, or would lead outside the
    folders LoRAs are read from."""


@dataclass(frozen=True, slots=True)
class LoraFile:
    """A LoRA resolved for a generation request: the file, its strength and what identifies it.

    ``size`` and ``modified_ns`` are part of :meth:`fingerprint`, so identity banks made with one
    version of a file are not read with another version saved under the same name.
    """

    name: str  # as the project names it
    path: str  # the file found
    weight: float
    size: int
    modified_ns: int

    def fingerprint(self) -> str:
        return f"{self.name}@{self.size}:{self.modified_ns}*{self.weight:g}"

    def shown(self) -> str:
        """``name:weight``, as AUTOMATIC1111 writes a LoRA in a prompt."""
        return f"{Path(self.name).stem}:{self.weight:g}"


def lora_roots(bundle: Path | None, folders: Iterable[str]) -> list[Path]:
    """The folders a LoRA name is looked up in, in order: the project's ``loras/`` (unless it is
    a link leading out of the project), then the user's LoRA folders (empty entries skipped)."""
    roots = []
    if bundle is not None:
        own = Path(bundle) / PROJECT_LORAS
        if inside(Path(bundle), own):
            roots.append(own)
        else:
            log.warning("%s leads outside the project folder; no LoRA is read from it", own)
    roots += [Path(folder).expanduser() for folder in folders if folder.strip()]
    return roots


def name_parts(name: str) -> list[str] | None:
    """The plain names of a LoRA name, or None when it is not a safetensors name."""
    parts = name.split("/")
    if not name.lower().endswith(SUFFIX) or "\\" in name:
        return None
    return parts


def find_lora(name: str, roots: Sequence[Path]) -> Path:
    """The file ``name`` in the first of ``roots`` that has it (see the module docstring).

    Raises :class:`LoraUnavailable` saying why, naming the folders looked in.
    """
    parts = name_parts(name)
    if parts is None:
        raise LoraUnavailable(
            f"{name!r} is not a .safetensors LoRA (only safetensors files load: other formats "
            "can run code)"
        )
    for root in roots:
        try:
            path = confined(root, *parts)
        except OutsideBundle:
            raise LoraUnavailable(
                f"{name!r} leads outside the LoRA folders; nothing was read"
            ) from None
        if path.is_file():
            return path
    where = (
        ", ".join(str(root) for root in roots)
        if roots
        else "any folder (the project is not saved yet and Settings lists no LoRA folder)"
    )
    raise LoraUnavailable(f"{name!r} was not found in {where}")


def lora_file(name: str, weight: float, roots: Sequence[Path]) -> LoraFile:
    """The resolved :class:`LoraFile` of one attached LoRA."""
    path = find_lora(name, roots)
    stat = path.stat()
    return LoraFile(name, str(path), weight, stat.st_size, stat.st_mtime_ns)


def relative_name(path: Path, roots: Sequence[Path]) -> str | None:
    """The name of ``path`` inside the first root that holds it (for a file picked by hand), or
    None when it is in none of them."""
    for root in roots:
        try:  # links followed: a name never leads through one out of its folder
            name = Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
        except (OSError, RuntimeError, ValueError):
            continue
        if name_parts(name) is not None:
            return name
    return None


@dataclass(frozen=True, slots=True)
class FoundLora:
    name: str
    path: Path
    size: int


def list_loras(roots: Sequence[Path]) -> list[FoundLora]:
    """The safetensors files of ``roots`` (first root wins a name), sorted by name.

    Entries that lead outside their root (links) are left out; at most :data:`MAX_DEPTH`
    folders deep and :data:`MAX_LISTED` files in all.
    """
    found: dict[str, FoundLora] = {}
    for root in roots:
        for path in _walk(root):
            name = path.relative_to(root).as_posix()
            if name in found or not inside(root, path):
                continue
            try:
                size = path.stat().st_size
            except OSError:
                continue
            found[name] = FoundLora(name, path, size)
            if len(found) >= MAX_LISTED:
                log.warning("LoRA list stopped at %d files", MAX_LISTED)
                return sorted(found.values(), key=lambda f: f.name.casefold())
    return sorted(found.values(), key=lambda f: f.name.casefold())


def _walk(root: Path) -> Iterable[Path]:
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False) and depth < MAX_DEPTH:
                    stack.append((Path(entry.path), depth + 1))
                elif entry.name.lower().endswith(SUFFIX) and entry.is_file():
                    yield Path(entry.path)
            except OSError:
                continue
