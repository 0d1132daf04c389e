"""Every panel of the story in order, as a flat list model for the timeline strip.

A thin adapter: rows are read from the Document's project on demand, edits (drops) become core
commands pushed on the undo stack, and a structural Change resets the model while a content
Change only repaints the touched rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from storyboard.core.commands import Change
from storyboard.core.numbering import panel_numbers
from storyboard.core.panel_commands import MovePanels
from storyboard.core.timeline import frames_to_seconds
from storyboard.qt.document import Document

PANEL_MIME = "application/x-storyboard-panels"
Index = QModelIndex | QPersistentModelIndex


class Role(IntEnum):
    PANEL_ID = Qt.ItemDataRole.UserRole + 1
    NUMBER = Qt.ItemDataRole.UserRole + 2
    SECONDS = Qt.ItemDataRole.UserRole + 3
    CAPTION = Qt.ItemDataRole.UserRole + 4
    CHARACTERS = Qt.ItemDataRole.UserRole + 5
    TRANSITION = Qt.ItemDataRole.UserRole + 6
    IMAGE = Qt.ItemDataRole.UserRole + 7
    PROMPT = Qt.ItemDataRole.UserRole + 8
    SCENE_START = Qt.ItemDataRole.UserRole + 9
    SCENE_INDEX = Qt.ItemDataRole.UserRole + 10


class TimelineModel(QAbstractListModel):
    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._rebuild()
        document.changed.connect(self._on_change)

    def set_document(self, document: Document) -> None:
        self.document.changed.disconnect(self._on_change)
        self.beginResetModel()
        self.document = document
        self._rebuild()
        self.endResetModel()
        document.changed.connect(self._on_change)

    def _rebuild(self) -> None:
        project = self.document.project
        self._ids: list[str] = []
        self._scene_of: dict[str, tuple[int, bool]] = {}
        for scene_index, scene in enumerate(project.ordered_scenes()):
            for position, panel_id in enumerate(scene.panel_ids):
                self._ids.append(panel_id)
                self._scene_of[panel_id] = (scene_index, position == 0)
        self._rows = {pid: row for row, pid in enumerate(self._ids)}
        self._numbers = panel_numbers(project)

    def _on_change(self, change: Change) -> None:
        if change.structure or change.scenes or change.characters or change.settings:
            self.beginResetModel()
            self._rebuild()
            self.endResetModel()
            return
        self._numbers = panel_numbers(self.document.project)
        for panel_id in change.panels:
            row = self._rows.get(panel_id)
            if row is not None:
                index = self.index(row)
                self.dataChanged.emit(index, index)

    # -- reading ------------------------------------------------------------------------------

    def panel_ids(self) -> list[str]:
        return list(self._ids)

    def row_of(self, panel_id: str) -> int:
        return self._rows.get(panel_id, -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        panel_id = self._ids[index.row()]
        project = self.document.project
        panel = project.panels[panel_id]
        match role:
            case Qt.ItemDataRole.DisplayRole | Role.NUMBER:
                return self._numbers[panel_id]
            case Role.PANEL_ID:
                return panel_id
            case Role.SECONDS:
                return frames_to_seconds(panel.duration, project.settings.fps)
            case Role.CAPTION:
                return panel.dialogue or panel.action
            case Role.CHARACTERS:
                return [project.characters[c].name for c in panel.character_ids]
            case Role.TRANSITION:
                return str(panel.transition.kind)
            case Role.IMAGE:
                return panel.image
            case Role.PROMPT:
                return panel.prompt
            case Role.SCENE_START:
                return self._scene_of[panel_id][1]
            case Role.SCENE_INDEX:
                return self._scene_of[panel_id][0]
            case Qt.ItemDataRole.ToolTipRole:
                return f"{self._numbers[panel_id]}: {panel.prompt}"
        return None

    # -- drag and drop ---------------------------------------------------------------------------

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.isValid():
            return base | Qt.ItemFlag.ItemIsDragEnabled
        return Qt.ItemFlag.ItemIsDropEnabled

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [PANEL_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:  # noqa: N802
        rows = sorted({i.row() for i in indexes if i.isValid()})
        mime = QMimeData()
        mime.setData(PANEL_MIME, json.dumps([self._ids[r] for r in rows]).encode())
        return mime

    def dropMimeData(  # noqa: N802
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        """Dropping panels before ``row`` moves them there, across scenes too (one undo step).

        Returns False so the view does not remove the source rows itself: the command's Change
        already rebuilt the model.
        """
        if action != Qt.DropAction.MoveAction or not data.hasFormat(PANEL_MIME):
            return False
        moved = json.loads(bytes(data.data(PANEL_MIME).data()).decode())
        if row < 0:
            row = parent.row() if parent.isValid() else len(self._ids)
        target = self.drop_target(row)
        if target is None:
            return False
        scene_id, index = target
        self.document.push(MovePanels(moved, scene_id, index, label=_move_label(moved)))
        return False

    def drop_target(self, row: int) -> tuple[str, int] | None:
        """(scene id, index in scene) for a drop before flat row ``row``."""
        project = self.document.project
        if not project.scene_ids:
            return None
        if row >= len(self._ids):
            last = project.ordered_scenes()[-1]
            return last.id, len(last.panel_ids)
        scene = project.scene_of(self._ids[row])
        return scene.id, scene.panel_ids.index(self._ids[row])


def _move_label(panel_ids: list[str]) -> str:
    return "Move panel" if len(panel_ids) == 1 else f"Move {len(panel_ids)} panels"
