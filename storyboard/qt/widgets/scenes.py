"""The scene list: add, rename (double-click), reorder (drag), delete; drop panels on a scene to
move them to its end."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListView,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.commands import AddItem, Change, EditFields, MoveItem, RemoveScene
from storyboard.core.model import Scene
from storyboard.core.panel_commands import MovePanels
from storyboard.qt.document import Document
from storyboard.qt.models.timeline_model import PANEL_MIME

SCENE_MIME = "application/x-storyboard-scene"
Index = QModelIndex | QPersistentModelIndex


class SceneListModel(QAbstractListModel):
    def __init__(self, document: Document) -> None:
        super().__init__()
        self.document = document
        document.changed.connect(self._on_change)

    def set_document(self, document: Document) -> None:
        self.document.changed.disconnect(self._on_change)
        self.beginResetModel()
        self.document = document
        self.endResetModel()
        document.changed.connect(self._on_change)

    def _on_change(self, change: Change) -> None:
        if change.structure or change.scenes:
            self.beginResetModel()
            self.endResetModel()

    def scene_id(self, row: int) -> str:
        return self.document.project.scene_ids[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.document.project.scene_ids)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        scene = self.document.project.scenes[self.scene_id(index.row())]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{index.row() + 1}. {scene.title or 'Untitled scene'}  ({len(scene.panel_ids)})"
        if role == Qt.ItemDataRole.EditRole:
            return scene.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return scene.notes or scene.title
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        scene_id = self.scene_id(index.row())
        self.document.push(EditFields("scene", scene_id, {"title": str(value)}, "Rename scene"))
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsEditable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemIsDropEnabled
        )

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [SCENE_MIME, PANEL_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:  # noqa: N802
        mime = QMimeData()
        if indexes:
            mime.setData(SCENE_MIME, self.scene_id(indexes[0].row()).encode())
        return mime

    def dropMimeData(  # noqa: N802
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        scenes = self.document.project.scene_ids
        if data.hasFormat(PANEL_MIME) and parent.isValid():  # panels dropped onto a scene
            moved = json.loads(bytes(data.data(PANEL_MIME).data()).decode())
            target = self.document.project.scenes[self.scene_id(parent.row())]
            self.document.push(MovePanels(moved, target.id, len(target.panel_ids)))
            return False
        if data.hasFormat(SCENE_MIME):
            scene_id = bytes(data.data(SCENE_MIME).data()).decode()
            if row < 0:
                row = parent.row() if parent.isValid() else len(scenes)
            current = scenes.index(scene_id)
            to_index = row - 1 if row > current else row
            if to_index != current:
                self.document.push(MoveItem("scenes", scene_id, to_index, "Move scene"))
        return False


class ScenesPanel(QWidget):
    """The dock's content: the list and its buttons."""

    scene_activated = Signal(str)

    def __init__(self, document: Document) -> None:
        super().__init__()
        self.document = document
        self.model = SceneListModel(document)
        self.view = QListView()
        self.view.setObjectName("scenes")
        self.view.setModel(self.model)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setDropIndicatorShown(True)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.view.clicked.connect(
            lambda index: self.scene_activated.emit(self.model.scene_id(index.row()))
        )
        add = QPushButton("Add scene")
        add.clicked.connect(self.add_scene)
        delete = QPushButton("Delete")
        delete.clicked.connect(self.delete_scene)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(delete)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.view)
        layout.addLayout(buttons)

    def set_document(self, document: Document) -> None:
        self.document = document
        self.model.set_document(document)

    def current_scene(self) -> str | None:
        index = self.view.currentIndex()
        return self.model.scene_id(index.row()) if index.isValid() else None

    def add_scene(self) -> None:
        current = self.view.currentIndex()
        at = current.row() + 1 if current.isValid() else len(self.document.project.scene_ids)
        scene = Scene(title=f"Scene {len(self.document.project.scene_ids) + 1}")
        self.document.push(AddItem("scenes", scene, at, "Add scene"))
        self.view.setCurrentIndex(self.model.index(at))

    def delete_scene(self) -> None:
        scene_id = self.current_scene()
        if scene_id is None:
            return
        scene = self.document.project.scenes[scene_id]
        if scene.panel_ids:
            answer = QMessageBox.question(
                self,
                "Delete scene",
                f"Delete “{scene.title}” and its {len(scene.panel_ids)} panels? "
                "(Undo brings them back; their images stay in the project.)",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.document.push(RemoveScene(scene_id))
