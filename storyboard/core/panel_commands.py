"""Commands that change which panels a scene lists, and in what order.

Insert, remove, move and duplicate belong together: they edit the same thing (the scenes'
``panel_ids``), and remove and move share one bookkeeping, recording each panel's (scene, index)
position in story order and putting it back there on revert. The base pieces (``Change``,
``Command``) live in :mod:`storyboard.core.commands`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from storyboard.core.commands import Change
from storyboard.core.model import Balloon, Panel, Project


@dataclass(slots=True)
class InsertPanels:
    """Insert new panels into a scene at ``index`` (e.g. "new panel after", "duplicate")."""

    scene_id: str
    index: int
    panels: list[Panel]
    label: str = "Add panel"

    def apply(self, project: Project) -> Change:
        scene = project.scenes[self.scene_id]
        for offset, panel in enumerate(self.panels):
            if panel.id in project.panels:
                raise ValueError(f"panel {panel.id} already exists")
            project.panels[panel.id] = copy.deepcopy(panel)
            scene.panel_ids.insert(self.index + offset, panel.id)
        return self._change()

    def revert(self, project: Project) -> Change:
        scene = project.scenes[self.scene_id]
        for panel in self.panels:
            scene.panel_ids.remove(panel.id)
            del project.panels[panel.id]
        return self._change()

    def _change(self) -> Change:
        return Change(
            scenes=frozenset({self.scene_id}),
            panels=frozenset(p.id for p in self.panels),
            structure=True,
        )


def _positions(project: Project, panel_ids: list[str]) -> list[tuple[str, int, str]]:
    """(scene id, index in scene, panel id) of each panel, in story order."""
    wanted = set(panel_ids)
    return [
        (scene.id, index, pid)
        for scene in project.ordered_scenes()
        for index, pid in enumerate(scene.panel_ids)
        if pid in wanted
    ]


def _reinsert(project: Project, positions: list[tuple[str, int, str]]) -> None:
    for scene_id, index, panel_id in sorted(positions, key=lambda p: p[1]):
        project.scenes[scene_id].panel_ids.insert(index, panel_id)


@dataclass(slots=True)
class RemovePanels:
    panel_ids: list[str]
    label: str = "Delete panel"
    _removed: list[tuple[str, int, str]] = field(default_factory=list, repr=False)
    _panels: dict[str, Panel] = field(default_factory=dict, repr=False)

    def apply(self, project: Project) -> Change:
        self._removed = _positions(project, self.panel_ids)
        if len(self._removed) != len(set(self.panel_ids)):
            raise KeyError("some panels to delete do not exist")
        for scene_id, _index, panel_id in self._removed:
            project.scenes[scene_id].panel_ids.remove(panel_id)
            self._panels[panel_id] = project.panels.pop(panel_id)
        return self._change()

    def revert(self, project: Project) -> Change:
        for panel_id, panel in self._panels.items():
            project.panels[panel_id] = copy.deepcopy(panel)
        _reinsert(project, self._removed)
        return self._change()

    def _change(self) -> Change:
        return Change(
            panels=frozenset(self.panel_ids),
            scenes=frozenset(s for s, _, _ in self._removed),
            structure=True,
        )


@dataclass(slots=True)
class MovePanels:
    """Move panels (keeping their story order) to ``to_index`` of a scene.

    ``to_index`` counts rows of the target scene before the move, as a drop indicator does:
    dropping on row 3 puts the first moved panel where row 3 was.
    """

    panel_ids: list[str]
    to_scene_id: str
    to_index: int
    label: str = "Move panel"
    _from: list[tuple[str, int, str]] = field(default_factory=list, repr=False)

    def apply(self, project: Project) -> Change:
        self._from = _positions(project, self.panel_ids)
        target = project.scenes[self.to_scene_id]
        before = sum(1 for s, i, _ in self._from if s == self.to_scene_id and i < self.to_index)
        for scene_id, _index, panel_id in self._from:
            project.scenes[scene_id].panel_ids.remove(panel_id)
        at = max(0, min(self.to_index - before, len(target.panel_ids)))
        target.panel_ids[at:at] = [pid for _, _, pid in self._from]
        return self._change()

    def revert(self, project: Project) -> Change:
        target = project.scenes[self.to_scene_id]
        for _, _, panel_id in self._from:
            target.panel_ids.remove(panel_id)
        _reinsert(project, self._from)
        return self._change()

    def _change(self) -> Change:
        scenes = {s for s, _, _ in self._from} | {self.to_scene_id}
        return Change(panels=frozenset(self.panel_ids), scenes=frozenset(scenes), structure=True)


def duplicate_panels(project: Project, panel_ids: list[str]) -> InsertPanels:
    """Copies of the panels (new ids, same content) inserted after the last of them.

    The copies keep the accepted image and the candidates: they point at the same immutable assets.
    """
    positions = _positions(project, panel_ids)
    if not positions:
        raise KeyError("nothing to duplicate")
    scene_id, last_index, _ = positions[-1]
    copies = []
    for _, _, pid in positions:
        clone = copy.deepcopy(project.panels[pid])
        clone.id = Panel().id
        clone.number_override = None
        for balloon in clone.balloons:
            balloon.id = Balloon().id
        copies.append(clone)
    label = "Duplicate panel" if len(copies) == 1 else f"Duplicate {len(copies)} panels"
    return InsertPanels(scene_id, last_index + 1, copies, label=label)
