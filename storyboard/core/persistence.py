"""Reading and writing project bundles (``Name.storyboard/project.json`` + ``assets/``).

Loading is bytes -> JSON -> migrate (``migrations.py``) -> typed objects with field checks
(pydantic validates the domain dataclasses) -> a consistency repair that never drops an artist's
panel. Every failure becomes a typed :mod:`storyboard.core.errors` exception whose message names
the file, the problem and what to do.

Saving is atomic: the JSON goes to a temporary file in the same folder, is flushed and fsynced,
then ``os.replace`` swaps it in. A crash or a full disk at any moment leaves either the old or the
new ``project.json``, never a mix.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import json
import logging
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from storyboard.core.assets import AssetStore
from storyboard.core.atomic import atomic_write
from storyboard.core.bundle_paths import check_layout
from storyboard.core.errors import (
    ProjectCorrupt,
    ProjectError,
    ProjectNotFound,
    ProjectSaveError,
    ProjectUnreadable,
)
from storyboard.core.limits import (
    PANEL_FRAMES,
    TRANSITION_FRAMES,
    box_needs_repair,
    out_of_range,
    turn_box_round,
)
from storyboard.core.migrations import CURRENT_VERSION, FORMAT, migrate
from storyboard.core.model import FPS_CHOICES, TRANSITION_DIRECTIONS, Project, Rect, Scene
from storyboard.core.project_ids import check_ids
from storyboard.core.save_guard import digest_of
from storyboard.core.temp_files import remove_stale_temps
from storyboard.core.text_repair import TextRepairError, dump_json, repair_loaded

log = logging.getLogger(__name__)

PROJECT_FILE = "project.json"
BUNDLE_SUFFIX = ".storyboard"
_HEADER = ("format", "format_version")


@functools.cache
def _adapter() -> TypeAdapter[Project]:
    return TypeAdapter(Project)


@dataclass(slots=True)
class LoadedProject:
    project: Project
    path: Path
    warnings: list[str] = field(default_factory=list)
    missing_assets: set[str] = field(default_factory=set)
    digest: str | None = None  # of the bytes read: a later save checks the file still has it


# -- encoding -----------------------------------------------------------------------------------


def encode(project: Project) -> bytes:
    body = _adapter().dump_python(project, mode="json")
    return dump_json({"format": FORMAT, "format_version": CURRENT_VERSION, **body})


def decode(raw: bytes, source: Path) -> tuple[Project, list[str]]:
    """Parse, migrate, type-check and repair one ``project.json``; returns warnings too."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ProjectCorrupt(source, "the file is not UTF-8 text", _RESTORE) from exc
    except json.JSONDecodeError as exc:
        problem = f"invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        raise ProjectCorrupt(source, problem, _RESTORE) from exc
    except RecursionError as exc:
        raise ProjectCorrupt(source, "the JSON is nested too deeply", _RESTORE) from exc
    except ValueError as exc:  # an integer of more than 4300 digits
        raise ProjectCorrupt(source, f"a number is too long ({exc})", _RESTORE) from exc
    if not isinstance(data, dict):
        raise ProjectCorrupt(source, "the file does not hold a JSON object", _RESTORE)
    try:
        data, warnings = repair_loaded(data, raw)
    except TextRepairError as exc:
        raise ProjectCorrupt(source, str(exc), _RESTORE) from exc
    data = migrate(data, source)
    body = {k: v for k, v in data.items() if k not in _HEADER}
    warnings += _look_over(body, Project, "")
    try:
        project = _adapter().validate_python(body)
    except ValidationError as exc:
        raise ProjectCorrupt(source, _describe(exc), _RESTORE) from exc
    warnings += _repair(project)
    warnings += check_ids(project, source)
    for warning in warnings:
        log.warning("%s: %s", source, warning)
    return project, warnings


_RESTORE = "Restore it from a backup, or open the recovery copy if the editor offers one"


def _describe(exc: ValidationError) -> str:
    errors = exc.errors()
    parts = []
    for error in errors[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        what = "is missing" if error["type"] == "missing" else error["msg"].lower()
        what = out_of_range(error) or what
        parts.append(f"{where}: {what}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "invalid project data: " + "; ".join(parts) + more


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.cache
def _holds_dataclass(annotation: Any) -> bool:
    """Whether a value of this type can hold a dataclass, where an unknown key could hide."""
    if dataclasses.is_dataclass(annotation):
        return True
    return any(_holds_dataclass(arg) for arg in typing.get_args(annotation))


@functools.cache
def _walk_plan(annotation: Any) -> tuple[str, Any]:
    """How to look for unknown keys in a value of this type, worked out once per type: a large
    project has a hundred thousand values to look at, and only those that can hold a
    dataclass (not lists of ids, not text) need a look."""
    if dataclasses.is_dataclass(annotation):
        hints = _hints(annotation)  # type: ignore[arg-type]
        fields = tuple((key, hint) for key, hint in hints.items() if _holds_dataclass(hint))
        return "dataclass", (hints, fields)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict and _holds_dataclass(args[1]):
        return "dict", args[1]
    if origin is list and _holds_dataclass(args[0]):
        return "list", args[0]
    if args and origin is not None and origin not in (dict, list):  # X | None
        return "union", tuple(arg for arg in args if _holds_dataclass(arg))
    return "leaf", None


def _look_over(value: Any, annotation: Any, path: str) -> list[str]:
    """Warnings about the raw data before the type check, in one walk over what can hold a
    dataclass: keys the current format does not know (kept out of the way), and boxes drawn
    backwards by earlier canvases, turned round in place (:func:`limits.box_needs_repair`)."""
    kind, plan = _walk_plan(annotation)
    if kind == "dataclass" and isinstance(value, dict):
        hints, fields = plan
        where = path.lstrip(".")
        found = [
            f"unknown field {f'{path}.{k}'.lstrip('.')} was ignored"
            for k in value
            if k not in hints
        ]
        if annotation is Rect and box_needs_repair(value):
            found.append(f"{where}: {turn_box_round(value)}")
        for key, hint in fields:
            if key in value:
                found += _look_over(value[key], hint, f"{path}.{key}")
        return found
    if kind == "dict" and isinstance(value, dict):
        return [k for key, v in value.items() for k in _look_over(v, plan, f"{path}.{key}")]
    if kind == "list" and isinstance(value, list):
        return [k for i, v in enumerate(value) for k in _look_over(v, plan, f"{path}[{i}]")]
    if kind == "union":
        return [k for arg in plan for k in _look_over(value, arg, path)]
    return []


def _dedupe(order: list[str], known: dict[str, Any], what: str, warnings: list[str]) -> list[str]:
    kept = [i for i in dict.fromkeys(order) if i in known]
    if len(kept) != len(order):
        warnings.append(f"removed {len(order) - len(kept)} dangling or repeated {what} id(s)")
    listed = set(kept)  # once: a set per element made opening quadratic in the scene count
    extra = [i for i in known if i not in listed]
    if extra:
        warnings.append(f"{len(extra)} {what}(s) missing from the order were put at the end")
    return kept + extra


def _repair(project: Project) -> list[str]:
    """Make ids and orders consistent without losing any object; say what was fixed."""
    warnings: list[str] = []
    for name in ("scenes", "panels", "characters", "pages"):
        objects: dict[str, Any] = getattr(project, name)
        for key, obj in list(objects.items()):
            if obj.id != key:
                warnings.append(f"{name[:-1]} {key} had id {obj.id}; the key was used")
                obj.id = key
    project.scene_ids = _dedupe(project.scene_ids, project.scenes, "scene", warnings)
    project.character_ids = _dedupe(
        project.character_ids, project.characters, "character", warnings
    )
    project.page_ids = _dedupe(project.page_ids, project.pages, "page", warnings)
    placed: set[str] = set()
    for scene in project.ordered_scenes():
        kept = [
            p for p in dict.fromkeys(scene.panel_ids) if p in project.panels and p not in placed
        ]
        if len(kept) != len(scene.panel_ids):
            warnings.append(f"scene {scene.title or scene.id} listed missing or repeated panels")
        scene.panel_ids = kept
        placed.update(kept)
    orphans = [pid for pid in project.panels if pid not in placed]
    if orphans:
        rescue = Scene(title="Recovered panels", panel_ids=orphans)
        project.scenes[rescue.id] = rescue
        project.scene_ids.append(rescue.id)
        warnings.append(f"{len(orphans)} panel(s) in no scene were put in 'Recovered panels'")
    for panel in project.panels.values():
        known = [c for c in panel.character_ids if c in project.characters]
        if len(known) != len(panel.character_ids):
            warnings.append(f"panel {panel.id} named characters that do not exist")
            panel.character_ids = known
        if panel.duration not in PANEL_FRAMES:
            warnings.append(PANEL_FRAMES.repair_note(f"panels.{panel.id}.duration", panel.duration))
            panel.duration = int(PANEL_FRAMES.clamp(panel.duration))
        if panel.transition.frames not in TRANSITION_FRAMES:
            where = f"panels.{panel.id}.transition.frames"
            warnings.append(TRANSITION_FRAMES.repair_note(where, panel.transition.frames))
            panel.transition.frames = int(TRANSITION_FRAMES.clamp(panel.transition.frames))
        if panel.transition.direction not in TRANSITION_DIRECTIONS:
            warnings.append(
                f"panel {panel.id}: transition direction {panel.transition.direction!r} "
                "is unknown; left is used"
            )
            panel.transition.direction = TRANSITION_DIRECTIONS[0]
    return warnings + _repair_settings(project)


def _repair_settings(project: Project) -> list[str]:
    settings = project.settings
    warnings = []
    if settings.fps not in FPS_CHOICES:  # (NaN too: nearest is then the first choice)
        nearest = min(FPS_CHOICES, key=lambda choice: abs(choice - settings.fps))
        warnings.append(f"{settings.fps:g} fps is not supported; {nearest:g} fps is used")
        settings.fps = nearest
    if not 0.1 <= settings.aspect_ratio <= 10:
        warnings.append(f"aspect ratio {settings.aspect_ratio:g} is out of range; 16:9 is used")
        settings.aspect_ratio = 16 / 9
    return warnings


# -- files --------------------------------------------------------------------------------------


def project_file(path: Path) -> Path:
    """Accept the bundle folder or its project.json."""
    return path if path.name == PROJECT_FILE else path / PROJECT_FILE


def load_project(path: Path | str, *, remove_temps: bool = True) -> LoadedProject:
    """Read a project; unless ``remove_temps`` is False, also delete the temporary files that
    killed saves left in the bundle (:mod:`storyboard.core.temp_files`)."""
    path = Path(path)
    if path.is_file() and path.name != PROJECT_FILE:
        raise not_a_project(path)
    file = project_file(path)
    bundle = file.parent
    layout_warnings = check_layout(bundle, PROJECT_FILE)
    try:
        raw = file.read_bytes()
    except FileNotFoundError as exc:
        advice = "Check the path; a project is a folder ending in .storyboard"
        raise ProjectNotFound(bundle, "no project here (project.json is missing)", advice) from exc
    except IsADirectoryError as exc:
        raise ProjectCorrupt(file, "project.json is a folder", _RESTORE) from exc
    except PermissionError as exc:
        advice = "Ask for read permission or copy the project somewhere you can read"
        raise ProjectUnreadable(file, "permission denied", advice) from exc
    except OSError as exc:
        raise ProjectUnreadable(file, f"could not be read ({exc.strerror})", _RESTORE) from exc
    project, warnings = decode(raw, file)
    warnings += layout_warnings
    if remove_temps:
        remove_stale_temps(bundle)
    missing = AssetStore(bundle).missing(project.referenced_assets())
    if missing:
        warnings.append(f"{len(missing)} asset file(s) are missing from assets/")
    return LoadedProject(project, bundle, warnings, missing, digest_of(raw))


SCRIPT_SUFFIXES = (".txt", ".fountain", ".spmd", ".fdx", ".md")


def not_a_project(path: Path) -> ProjectNotFound:
    """A file where a project folder was expected; a story script is told how to become one."""
    problem = "this is a file, not a project (a project is a folder ending in .storyboard)"
    if path.suffix.lower() in SCRIPT_SUFFIXES:
        advice = (
            "To make a project from this script, use File > New from Script in the editor, or "
            f"the command: new NAME --from-script {path}"
        )
    else:
        advice = "Open the project's folder (Name.storyboard), or the project.json inside it"
    return ProjectNotFound(path, problem, advice)


def save_error(path: Path, exc: OSError, *, previous: bool = True) -> ProjectSaveError:
    """Translate an OS error during a save into advice. ``previous``: a saved project was there
    before (it is always intact); else this was the project's first save, and nothing was made."""
    again = "Use Save As to pick" if previous else "Pick"
    if exc.errno == errno.ENOSPC:
        problem = "the disk is full"
        advice = (
            "Free some space, or use Save As on another disk"
            if previous
            else ("Free some space, or pick a folder on another disk")
        )
    elif isinstance(exc, PermissionError) or exc.errno in (errno.EROFS, errno.EACCES):
        problem, advice = "the folder is read-only", f"{again} a folder you can write"
    else:
        problem = f"could not be written ({exc.strerror or exc})"
        advice = "Try Save As elsewhere" if previous else "Try another folder"
    outcome = "the previous save is intact" if previous else "no project was created"
    return ProjectSaveError(path, f"{problem}; {outcome}", advice)


def encode_error(path: Path, exc: Exception) -> ProjectSaveError:
    """A project that could not be turned into JSON (a bug of ours, never the artist's)."""
    log.error("could not encode the project for %s", path, exc_info=exc)
    problem = f"the project could not be written as JSON ({type(exc).__name__}: {exc})"
    advice = "Nothing was changed on disk. Please report this, with the log file"
    return ProjectSaveError(path, problem + "; the previous save is intact", advice)


def checked_encode(project: Project, path: Path) -> bytes:
    """:func:`encode`, its failures (a value JSON cannot hold) as ProjectSaveError for ``path``."""
    try:
        return encode(project)
    except (ValueError, TypeError, RecursionError) as exc:
        raise encode_error(path, exc) from exc


def save_project(
    project: Project,
    path: Path | str,
    *,
    assets_from: Path | None = None,
    data: bytes | None = None,
) -> Path:
    """Save into the bundle ``path`` (created if needed). Returns the bundle path.

    ``assets_from``: the bundle the project was opened from, for Save As: the images the project
    points at are copied across before the new project.json appears. ``data``: ``project``
    already encoded, for a caller that keeps the digest of what it wrote (``save_guard``).
    """
    bundle = Path(path)
    if bundle.name == PROJECT_FILE:
        bundle = bundle.parent
    data = checked_encode(project, bundle) if data is None else data
    previous = (bundle / PROJECT_FILE).is_file()
    try:
        store = AssetStore(bundle)
        store.root.mkdir(parents=True, exist_ok=True)
        if assets_from is not None and assets_from.resolve() != bundle.resolve():
            source = AssetStore(assets_from)
            for asset in sorted(project.referenced_assets()):
                if source.has(asset):
                    store.copy_from(source, asset)
        atomic_write(bundle / PROJECT_FILE, data)
    except ProjectError:
        raise
    except OSError as exc:
        raise save_error(bundle, exc, previous=previous) from exc
    log.info("saved %s (%d bytes)", bundle, len(data))
    return bundle
