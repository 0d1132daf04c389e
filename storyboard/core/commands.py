"""Every edit of a project is a command with ``apply(project)`` and ``revert(project)``.

Both return a :class:`Change` saying what was touched.

The editor wraps these in one generic QUndoCommand, so undo/redo, the "modified" flag and the
labels of the Edit menu all come from here and are tested without Qt. A command captures what it
needs to revert when it is applied (not when it is built), and stores deep copies, so a later edit
of the live object can never change what an undo restores. Objects are found by id, never by
reference, which keeps a redo valid after any number of undos.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from storyboard.core.model import (
    Balloon,
    Candidate,
    Character,
    Page,
    Panel,
    Project,
    Scene,
)

ObjectKind = Literal["panel", "scene", "character", "page", "balloon", "settings", "generation"]


@dataclass(frozen=True, slots=True)
class Change:
    """What a command touched, so views refresh only that."""

    panels: frozenset[str] = frozenset()
    scenes: frozenset[str] = frozenset()
    characters: frozenset[str] = frozenset()
    pages: frozenset[str] = frozenset()
    settings: bool = False
    structure: bool = False  # membership or order of scenes/panels/characters/pages changed

    def __or__(self, other: Change) -> Change:
        return Change(
            self.panels | other.panels,
            self.scenes | other.scenes,
            self.characters | other.characters,
            self.pages | other.pages,
            self.settings or other.settings,
            self.structure or other.structure,
        )


class Command(Protocol):
    label: str

    def apply(self, project: Project) -> Change: ...

    def revert(self, project: Project) -> Change: ...


def _change_for(kind: ObjectKind, object_id: str, **extra: Any) -> Change:
    match kind:
        case "panel" | "balloon":
            return Change(panels=frozenset({object_id}), **extra)
        case "scene":
            return Change(scenes=frozenset({object_id}), **extra)
        case "character":
            return Change(characters=frozenset({object_id}), **extra)
        case "page":
            return Change(pages=frozenset({object_id}), **extra)
        case _:
            return Change(settings=True, **extra)


def _find_balloon(project: Project, balloon_id: str) -> tuple[Panel, Balloon]:
    for panel in project.panels.values():
        for balloon in panel.balloons:
            if balloon.id == balloon_id:
                return panel, balloon
    raise KeyError(f"no balloon {balloon_id}")


def _target(project: Project, kind: ObjectKind, object_id: str) -> Any:
    match kind:
        case "panel":
            return project.panels[object_id]
        case "scene":
            return project.scenes[object_id]
        case "character":
            return project.characters[object_id]
        case "page":
            return project.pages[object_id]
        case "balloon":
            return _find_balloon(project, object_id)[1]
        case "settings":
            return project.settings
        case "generation":
            return project.settings.generation
    raise ValueError(f"unknown object kind {kind!r}")


@dataclass(slots=True)
class EditFields:
    """Set fields of one object: a panel's dialogue, a character's seed, the fps, ..."""

    kind: ObjectKind
    object_id: str
    changes: dict[str, Any]
    label: str = "Edit"
    merge_key: object = None
    _old: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.changes = copy.deepcopy(self.changes)

    def apply(self, project: Project) -> Change:
        target = _target(project, self.kind, self.object_id)
        names = {f.name for f in dataclasses.fields(target)}
        unknown = set(self.changes) - names
        if unknown:
            raise AttributeError(f"{type(target).__name__} has no field(s) {sorted(unknown)}")
        self._old = {name: copy.deepcopy(getattr(target, name)) for name in self.changes}
        for name, value in self.changes.items():
            setattr(target, name, copy.deepcopy(value))
        return self._change(project)

    def revert(self, project: Project) -> Change:
        target = _target(project, self.kind, self.object_id)
        for name, value in self._old.items():
            setattr(target, name, copy.deepcopy(value))
        return self._change(project)

    def _change(self, project: Project) -> Change:
        if self.kind == "balloon":
            return _change_for("panel", _find_balloon(project, self.object_id)[0].id)
        return _change_for(self.kind, self.object_id)

    def merge(self, newer: EditFields) -> bool:
        """Fold a newer edit into this one: typing in one field is one undo step.

        Only edits that carry the same ``merge_key`` merge (the editor gives each stretch of typing
        in a field its own key), so coming back to a field later starts a new undo step.
        """
        same_target = (newer.kind, newer.object_id, newer.changes.keys()) == (
            self.kind,
            self.object_id,
            self.changes.keys(),
        )
        if self.merge_key is None or newer.merge_key != self.merge_key or not same_target:
            return False
        self.changes = copy.deepcopy(newer.changes)
        return True


@dataclass(slots=True)
class Batch:
    """Several commands as one undo step, reverted in reverse order."""

    label: str
    commands: list[Command]

    def apply(self, project: Project) -> Change:
        change = Change()
        for command in self.commands:
            change = change | command.apply(project)
        return change

    def revert(self, project: Project) -> Change:
        change = Change()
        for command in reversed(self.commands):
            change = change | command.revert(project)
        return change


# -- scenes -------------------------------------------------------------------------------------


@dataclass(slots=True)
class AddScene:
    """Insert a scene (with any panels it already lists) at a position in the story."""

    scene: Scene
    index: int
    panels: list[Panel] = field(default_factory=list)
    label: str = "Add scene"

    def __post_init__(self) -> None:
        listed = set(self.scene.panel_ids)
        if listed != {p.id for p in self.panels} or len(listed) != len(self.scene.panel_ids):
            raise ValueError("scene.panel_ids must list exactly the panels given")

    def apply(self, project: Project) -> Change:
        if self.scene.id in project.scenes:
            raise ValueError(f"scene {self.scene.id} already exists")
        project.scenes[self.scene.id] = copy.deepcopy(self.scene)
        project.scene_ids.insert(self.index, self.scene.id)
        for panel in self.panels:
            project.panels[panel.id] = copy.deepcopy(panel)
        return Change(
            scenes=frozenset({self.scene.id}),
            panels=frozenset(self.scene.panel_ids),
            structure=True,
        )

    def revert(self, project: Project) -> Change:
        project.scene_ids.remove(self.scene.id)
        for panel_id in project.scenes.pop(self.scene.id).panel_ids:
            del project.panels[panel_id]
        return Change(
            scenes=frozenset({self.scene.id}),
            panels=frozenset(self.scene.panel_ids),
            structure=True,
        )


@dataclass(slots=True)
class RemoveScene:
    """Delete a scene and its panels (their images stay in the asset store)."""

    scene_id: str
    label: str = "Delete scene"
    _undo: AddScene | None = field(default=None, repr=False)

    def apply(self, project: Project) -> Change:
        scene = project.scenes[self.scene_id]
        self._undo = AddScene(
            copy.deepcopy(scene),
            project.scene_ids.index(self.scene_id),
            [copy.deepcopy(project.panels[pid]) for pid in scene.panel_ids],
        )
        return self._undo.revert(project)

    def revert(self, project: Project) -> Change:
        assert self._undo is not None, "revert before apply"
        return self._undo.apply(project)


Collection = Literal["scenes", "characters", "pages"]


def _ordered(project: Project, collection: Collection) -> tuple[dict[str, Any], list[str]]:
    items: dict[str, Any] = getattr(project, collection)
    order: list[str] = getattr(project, collection[:-1] + "_ids")
    return items, order


_KIND_OF: dict[Collection, ObjectKind] = {
    "scenes": "scene",
    "characters": "character",
    "pages": "page",
}


def _collection_change(collection: Collection, item_id: str) -> Change:
    return _change_for(_KIND_OF[collection], item_id, structure=True)


@dataclass(slots=True)
class AddItem:
    """Insert a character or a page (or an empty scene) into its ordered collection."""

    collection: Collection
    item: Character | Page | Scene
    index: int
    label: str = "Add"

    def apply(self, project: Project) -> Change:
        items, order = _ordered(project, self.collection)
        if self.item.id in items:
            raise ValueError(f"{self.item.id} already exists")
        if isinstance(self.item, Scene) and self.item.panel_ids:
            raise ValueError("use AddScene for a scene with panels")
        items[self.item.id] = copy.deepcopy(self.item)
        order.insert(self.index, self.item.id)
        return self._change()

    def revert(self, project: Project) -> Change:
        items, order = _ordered(project, self.collection)
        order.remove(self.item.id)
        del items[self.item.id]
        return self._change()

    def _change(self) -> Change:
        return _collection_change(self.collection, self.item.id)


@dataclass(slots=True)
class RemoveItem:
    """Delete a character or a page; see ``story_edits.remove_character`` for the panel side."""

    collection: Collection
    item_id: str
    label: str = "Delete"
    _undo: AddItem | None = field(default=None, repr=False)

    def apply(self, project: Project) -> Change:
        items, order = _ordered(project, self.collection)
        item = copy.deepcopy(items[self.item_id])
        self._undo = AddItem(self.collection, item, order.index(self.item_id))
        return self._undo.revert(project)

    def revert(self, project: Project) -> Change:
        assert self._undo is not None, "revert before apply"
        return self._undo.apply(project)


@dataclass(slots=True)
class MoveItem:
    """Reorder a scene, a character or a page."""

    collection: Collection
    item_id: str
    to_index: int
    label: str = "Move"
    _from: int = field(default=-1, repr=False)

    def apply(self, project: Project) -> Change:
        _, order = _ordered(project, self.collection)
        self._from = order.index(self.item_id)
        order.remove(self.item_id)
        order.insert(self.to_index, self.item_id)
        return self._change()

    def revert(self, project: Project) -> Change:
        _, order = _ordered(project, self.collection)
        order.remove(self.item_id)
        order.insert(self._from, self.item_id)
        return self._change()

    def _change(self) -> Change:
        return _collection_change(self.collection, self.item_id)


# -- panel contents -----------------------------------------------------------------------------


@dataclass(slots=True)
class AddBalloon:
    panel_id: str
    balloon: Balloon
    index: int | None = None
    label: str = "Add balloon"

    def apply(self, project: Project) -> Change:
        balloons = project.panels[self.panel_id].balloons
        at = len(balloons) if self.index is None else self.index
        balloons.insert(at, copy.deepcopy(self.balloon))
        return Change(panels=frozenset({self.panel_id}))

    def revert(self, project: Project) -> Change:
        panel = project.panels[self.panel_id]
        panel.balloons = [b for b in panel.balloons if b.id != self.balloon.id]
        return Change(panels=frozenset({self.panel_id}))


@dataclass(slots=True)
class RemoveBalloon:
    balloon_id: str
    label: str = "Delete balloon"
    _undo: AddBalloon | None = field(default=None, repr=False)

    def apply(self, project: Project) -> Change:
        panel, balloon = _find_balloon(project, self.balloon_id)
        self._undo = AddBalloon(panel.id, balloon, panel.balloons.index(balloon))
        return self._undo.revert(project)

    def revert(self, project: Project) -> Change:
        assert self._undo is not None, "revert before apply"
        return self._undo.apply(project)


@dataclass(slots=True)
class AddCandidate:
    """Record a generated image on its panel. Not an undoable edit in the editor: a generated
    image is never taken away by Undo; it is a command so that it is applied the same way.

    The same picture twice (the same seed and settings make the same bytes, so the same asset)
    is kept once: a second candidate would only be a copy in the variants strip."""

    panel_id: str
    candidate: Candidate
    label: str = "Add generated image"

    def apply(self, project: Project) -> Change:
        panel = project.panels[self.panel_id]
        if any(c.asset == self.candidate.asset for c in panel.candidates):
            return Change()  # (touches nothing: callers tell a repeated picture by that)
        panel.candidates.append(copy.deepcopy(self.candidate))
        return Change(panels=frozenset({self.panel_id}))

    def revert(self, project: Project) -> Change:
        panel = project.panels[self.panel_id]
        panel.candidates = [c for c in panel.candidates if c.id != self.candidate.id]
        return Change(panels=frozenset({self.panel_id}))


def accept_image(panel_id: str, asset: str | None) -> EditFields:
    """Make an image (a candidate's asset) the panel's accepted image."""
    return EditFields("panel", panel_id, {"image": asset}, label="Accept image")
