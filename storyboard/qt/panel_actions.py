"""Timeline actions with Storyboarder-compatible shortcuts: new panel before/after, duplicate,
delete, previous/next, move left/right, zoom. Each edit is one undoable command."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

from storyboard.core.model import Panel
from storyboard.core.panel_commands import InsertPanels, MovePanels, RemovePanels, duplicate_panels
from storyboard.core.timeline import suggested_duration
from storyboard.qt.document import Document
from storyboard.qt.selection import Selection
from storyboard.qt.widgets.timeline import TimelineView


class PanelActions(QObject):
    def __init__(
        self,
        document: Document,
        selection: Selection,
        timeline: TimelineView,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.selection = selection
        self.timeline = timeline
        self.new_after = self._action("New panel after", "N", lambda: self._new(after=True))
        self.new_before = self._action(
            "New panel before", "Shift+N", lambda: self._new(after=False)
        )
        self.duplicate = self._action("Duplicate panel", "D", self.duplicate_selected)
        self.delete = self._action("Delete panel", "Ctrl+Backspace", self.delete_selected)
        self.delete.setShortcuts([QKeySequence("Ctrl+Backspace"), QKeySequence("Del")])
        self.previous = self._action("Previous panel", "Left", lambda: self.step(-1))
        self.next = self._action("Next panel", "Right", lambda: self.step(1))
        self.move_left = self._action("Move panel left", "Alt+Left", lambda: self.move(-1))
        self.move_right = self._action("Move panel right", "Alt+Right", lambda: self.move(1))
        self.zoom_in = self._action("Bigger thumbnails", "Ctrl+=", lambda: self.zoom(40))
        self.zoom_out = self._action("Smaller thumbnails", "Ctrl+-", lambda: self.zoom(-40))

    def _action(self, text: str, shortcut: str, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def actions(self) -> list[QAction]:
        return [
            self.new_after,
            self.new_before,
            self.duplicate,
            self.delete,
            self.previous,
            self.next,
            self.move_left,
            self.move_right,
            self.zoom_in,
            self.zoom_out,
        ]

    def set_document(self, document: Document) -> None:
        self.document = document

    # -- what the actions do ------------------------------------------------------------------

    def _new(self, *, after: bool) -> None:
        self.new_panel(after=after)

    def new_panel(self, *, after: bool) -> str | None:
        project = self.document.project
        current = self.selection.current
        if current is not None:
            scene = project.scene_of(current)
            index = scene.panel_ids.index(current) + (1 if after else 0)
        elif project.scene_ids:
            scene = project.ordered_scenes()[-1]
            index = len(scene.panel_ids)
        else:
            return None
        panel = Panel(duration=suggested_duration("", project.settings.fps))
        if current is not None:  # a new board usually continues the same shot
            panel.character_ids = list(project.panels[current].character_ids)
        self.document.push(InsertPanels(scene.id, index, [panel], label="New panel"))
        self.timeline.select_panels([panel.id])
        return panel.id

    def duplicate_selected(self) -> None:
        selected = self.selection.selected
        if selected:
            command = duplicate_panels(self.document.project, selected)
            self.document.push(command)
            self.timeline.select_panels([p.id for p in command.panels])

    def delete_selected(self) -> None:
        selected = self.selection.selected
        if not selected:
            return
        order = self.timeline.timeline_model().panel_ids()
        after = [pid for pid in order[order.index(selected[-1]) + 1 :] if pid not in selected]
        before = [pid for pid in order[: order.index(selected[0])] if pid not in selected]
        focus = after[:1] or before[-1:]
        label = "Delete panel" if len(selected) == 1 else f"Delete {len(selected)} panels"
        self.document.push(RemovePanels(selected, label=label))
        self.timeline.select_panels(focus)

    def step(self, delta: int) -> None:
        order = self.timeline.timeline_model().panel_ids()
        if not order:
            return
        current = self.selection.current
        row = order.index(current) + delta if current in order else 0
        self.timeline.select_panels([order[max(0, min(row, len(order) - 1))]])

    def move(self, delta: int) -> None:
        """Alt+Left/Right: move the selection one panel, crossing into the next scene at its end."""
        selected = self.selection.selected
        if not selected:
            return
        project = self.document.project
        edge = selected[0] if delta < 0 else selected[-1]
        scene = project.scene_of(edge)
        index = scene.panel_ids.index(edge)
        scenes = project.scene_ids
        if delta < 0 and index == 0:  # to the end of the previous scene
            position = scenes.index(scene.id) - 1
            if position < 0:
                return
            target = project.scenes[scenes[position]]
            scene_id, to_index = target.id, len(target.panel_ids)
        elif delta > 0 and index == len(scene.panel_ids) - 1:  # to the start of the next one
            position = scenes.index(scene.id) + 1
            if position >= len(scenes):
                return
            scene_id, to_index = scenes[position], 0
        else:
            scene_id, to_index = scene.id, index - 1 if delta < 0 else index + 2
        self.document.push(MovePanels(selected, scene_id, to_index))
        self.timeline.select_panels(selected, self.selection.current)

    def zoom(self, delta: int) -> None:
        self.timeline.set_card_width(self.timeline.card_delegate.card_width + delta)
