"""No field changes on a wheel it did not have focus for.

Qt's spin boxes, combo boxes and sliders take the mouse wheel as soon as the pointer passes over
them, so scrolling a long form (the inspector) changed the camera move, the rotation or a
duration on the way, each change an undo step. ``guard_wheel`` makes every such field under a
widget take keyboard focus only by click or Tab (``Qt.StrongFocus``) and ignore the wheel while it
has no focus: the event goes to the scroll area around the field, which scrolls instead. (Qt
offers an ignored wheel event to the parents only when it came from the window system, so the
guard hands it to the scroll area itself.) Scroll bars keep the wheel: scrolling is their job.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollBar,
    QWidget,
)

WHEEL_FIELDS = (QAbstractSpinBox, QComboBox, QAbstractSlider)


class WheelGuard(QObject):
    """The event filter: a wheel on an unfocused field goes to the scroll area around it."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if (
            isinstance(event, QWheelEvent)
            and isinstance(watched, QWidget)
            and not watched.hasFocus()
        ):
            _scroll_instead(watched, event)
            return True
        return False


def _scroll_instead(field: QWidget, event: QWheelEvent) -> None:
    parent = field.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    if parent is None:
        event.ignore()  # nothing to scroll: let Qt offer it to the parents
        return
    viewport = parent.viewport()
    forwarded = QWheelEvent(
        QPointF(field.mapTo(viewport, event.position().toPoint())),
        event.globalPosition(),
        event.pixelDelta(),
        event.angleDelta(),
        event.buttons(),
        event.modifiers(),
        event.phase(),
        event.inverted(),
        event.source(),
    )
    QApplication.sendEvent(viewport, forwarded)
    event.setAccepted(forwarded.isAccepted())


def guards_wheel(field: QWidget) -> bool:
    """Whether ``field`` is a kind whose value a passing wheel would change."""
    return isinstance(field, WHEEL_FIELDS) and not isinstance(field, QScrollBar)


def guard_wheel(root: QWidget) -> WheelGuard:
    """Guard every wheel-sensitive field under ``root`` (call it again after adding fields)."""
    guard = root.findChild(WheelGuard, "wheel-guard", Qt.FindChildOption.FindDirectChildrenOnly)
    if guard is None:
        guard = WheelGuard(root)
        guard.setObjectName("wheel-guard")
    for field in root.findChildren(QWidget):
        if guards_wheel(field):
            field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            field.removeEventFilter(guard)  # installed once however often this is called
            field.installEventFilter(guard)
    return guard
