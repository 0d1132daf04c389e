"""Scrolling the inspector with the wheel scrolls it: no field changes on a wheel it had no focus
for, so no "Set camera move" or "Rotate camera" steps appear in the history."""

from __future__ import annotations

import copy

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from storyboard.qt.main_window import MainWindow


def wheel(widget: QWidget, notches: int = -3) -> None:
    """A mouse wheel turned over the middle of ``widget`` (negative: towards the user)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_the_inspector_past_its_fields(window: MainWindow, qtbot: QtBot) -> None:
    window.resize(1366, 600)  # the inspector scrolls
    window.timeline.select_panels([window.timeline_model.panel_ids()[2]])
    window.timeline.setFocus()
    inspector = window.inspector
    before = copy.deepcopy(window.document.project)
    wheel(inspector.camera_editor.canvas)  # the framing preview takes no wheel
    fields = [
        inspector.camera,
        inspector.camera_editor.start_angle,
        inspector.camera_editor.end_angle,
        inspector.camera_editor.easing,
        inspector.duration,
        inspector.transition,
        inspector.transition_frames,
        inspector.seed,
        inspector.style_box,
    ]
    bar = inspector.verticalScrollBar()
    assert bar.maximum() > 0
    for field in fields:
        bar.setValue(0)
        wheel(field)
        assert bar.value() > 0, field.objectName()  # the inspector scrolled instead
    assert window.document.project == before
    assert window.document.undo_stack.count() == 0


def test_a_focused_field_still_takes_the_wheel(window: MainWindow, qtbot: QtBot) -> None:
    window.timeline.select_panels([window.timeline_model.panel_ids()[2]])
    angle = window.inspector.camera_editor.start_angle
    assert angle.focusPolicy() == Qt.FocusPolicy.StrongFocus  # a wheel gives it no focus
    angle.setFocus()
    qtbot.waitUntil(angle.hasFocus)
    wheel(angle, notches=2)
    panel = window.document.project.panels[window.selection.current or ""]
    assert panel.camera is not None and panel.camera.start_angle == 2.0
    assert window.document.undo_stack.text(0) == "Rotate camera"
