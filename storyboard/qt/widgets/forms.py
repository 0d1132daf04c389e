"""Small helpers shared by the editor's forms: rows of widgets, tool strips and typing sessions
for undo."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QHBoxLayout, QSpinBox, QToolBar, QVBoxLayout, QWidget

_sessions = itertools.count(1)
SOUND_FILTER = "Sound (*.wav *.mp3 *.flac *.ogg *.m4a *.aac)"


def row(*widgets: QWidget, vertical: bool = False) -> QWidget:
    """Widgets side by side (or stacked) without margins, as one form cell."""
    holder = QWidget()
    layout = QVBoxLayout(holder) if vertical else QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    return holder


def tool_strip(name: str, *widgets: QWidget | None) -> QToolBar:
    """Widgets in a row that never forces the window wider: what does not fit moves behind the
    strip's » button (a window must fit a 1366x768 laptop screen). ``None`` is a separator."""
    strip = QToolBar(name)
    strip.setObjectName(name)
    strip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for widget in widgets:
        if widget is None:
            strip.addSeparator()
        else:
            strip.addWidget(widget)
    return strip


def spin_box(low: int, high: int, value: int, step: int = 1) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setValue(value)
    return spin


class TypingSessions(QObject):
    """A merge key per stretch of typing: a field gets a new key whenever it gains focus, so
    typing is one undo step but coming back to the field later starts a new one."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.keys: dict[QObject, int] = {}

    def watch(self, widget: QWidget) -> None:
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.FocusIn:
            self.keys[watched] = next(_sessions)
        return False

    def key(self, widget: QObject) -> int:
        return self.keys.setdefault(widget, next(_sessions))
