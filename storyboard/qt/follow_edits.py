"""After an undo or a redo, the selection goes to the panels that step touched.

Undoing two "New panel" steps used to leave nothing selected, and an undone edit of a panel the
artist had left kept showing the other one. Now the timeline selects (and so the inspector, the
canvas and the player show) what the step changed: the panels it edited or brought back, or,
when it took panels away, the panel that stood before them (after them at the start of the
story). A step that touched no panel keeps the selection, and never leaves none while panels
exist.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from storyboard.core.commands import Change
from storyboard.qt.document import Document
from storyboard.qt.selection import Selection
from storyboard.qt.widgets.timeline import TimelineView


class SelectionFollowsHistory(QObject):
    def __init__(
        self,
        document: Document,
        selection: Selection,
        timeline: TimelineView,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.selection = selection
        self.timeline = timeline
        self.document = document
        self._order = self._before = self._story_order()
        self._connect(document)

    def set_document(self, document: Document) -> None:
        self.document.changed.disconnect(self._changed)
        self.document.stepped.disconnect(self._stepped)
        self.document = document
        self._order = self._before = self._story_order()
        self._connect(document)

    def _connect(self, document: Document) -> None:
        document.changed.connect(self._changed)
        document.stepped.connect(self._stepped)

    def _story_order(self) -> list[str]:
        return [panel.id for panel in self.document.project.ordered_panels()]

    def _changed(self, change: Change) -> None:
        if change.structure:  # the order before each change, for the panels a step removes
            self._before, self._order = self._order, self._story_order()

    def _stepped(self, change: Change) -> None:
        order = self._order
        there = [pid for pid in order if pid in change.panels]
        if there:
            if self.selection.current not in there:
                self.timeline.select_panels(there)
            return
        gone = [pid for pid in self._before if pid in change.panels]
        if gone:
            self.timeline.select_panels(_neighbour(self._before, gone[0], set(order)))
        elif self.selection.current is None and order:
            self.timeline.select_panels(order[:1])


def _neighbour(before: list[str], first_gone: str, remaining: set[str]) -> list[str]:
    """The panel that stood before ``first_gone`` and is still there, else the one after it."""
    index = before.index(first_gone)
    earlier = [pid for pid in before[:index] if pid in remaining]
    later = [pid for pid in before[index:] if pid in remaining]
    return earlier[-1:] or later[:1]
