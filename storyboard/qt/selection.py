"""Which panels the artist has selected: shared by the timeline, the inspector and the preview."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Selection(QObject):
    current_changed = Signal(object)  # str | None: the panel the inspector shows
    selection_changed = Signal(list)  # list[str]: every selected panel, in story order

    def __init__(self) -> None:
        super().__init__()
        self._current: str | None = None
        self._selected: list[str] = []

    @property
    def current(self) -> str | None:
        return self._current

    @property
    def selected(self) -> list[str]:
        return list(self._selected)

    def set(self, selected: list[str], current: str | None) -> None:
        if selected != self._selected:
            self._selected = list(selected)
            self.selection_changed.emit(self.selected)
        if current != self._current:
            self._current = current
            self.current_changed.emit(current)
