"""The player dock and the camera-move editor, driven in the real window (offscreen)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from storyboard.core.commands import EditFields
from storyboard.core.model import Transition, TransitionKind
from storyboard.export.frames import FrameRenderer, pixels
from storyboard.qt.main_window import MainWindow


def _selected(window: MainWindow) -> list[str]:
    return window.selection.selected


def test_play_advances_and_highlights_the_panel_on_screen(window: MainWindow, qtbot: QtBot) -> None:
    player = window.player
    plan = player.plan
    assert plan is not None and window.docks["Player"].isVisible()
    first, second = plan.clips[0], plan.clips[1]
    player.seek(first.end - 3)
    qtbot.keyClick(window.timeline, Qt.Key.Key_Space)  # Panel > Play
    assert player.playing
    qtbot.waitUntil(lambda: player.frame >= second.start + 2, timeout=3000)
    assert _selected(window) == [second.panel_id]
    assert window.selection.current == second.panel_id
    assert window.inspector.panel_id == second.panel_id
    qtbot.keyClick(window.timeline, Qt.Key.Key_Space)
    assert not player.playing
    stopped = player.frame
    qtbot.wait(120)
    assert player.frame == stopped


def test_scrub_and_frame_steps_show_that_panel(window: MainWindow, qtbot: QtBot) -> None:
    player = window.player
    plan = player.plan
    assert plan is not None
    target = plan.clips[5]
    player.slider.setValue(target.start + 4)
    assert player.frame == target.start + 4
    assert player.current_panel() == target.panel_id
    assert _selected(window) == [target.panel_id]
    reference = FrameRenderer(plan, window.document.bundle)
    expected = pixels(reference.render(target.start + 4)).copy()
    assert (pixels(player.picture.image) == expected).all()
    assert target.number in player.time.text()
    qtbot.keyClick(window.timeline, Qt.Key.Key_Period)
    assert player.frame == target.start + 5
    qtbot.keyClick(window.timeline, Qt.Key.Key_Comma)
    qtbot.keyClick(window.timeline, Qt.Key.Key_Comma)
    assert player.frame == target.start + 3 and player.slider.value() == target.start + 3


def test_loop_scene_wraps_to_the_scene_start(window: MainWindow, qtbot: QtBot) -> None:
    player = window.player
    plan = player.plan
    assert plan is not None
    scene = window.document.project.ordered_scenes()[1]
    clips = [c for c in plan.clips if c.panel_id in scene.panel_ids]
    start, end = clips[0].start, clips[-1].end
    player.loop.setChecked(True)
    player.seek(end - 3)
    assert player.play_range() == (start, end)
    player.play()
    qtbot.waitUntil(lambda: start <= player.frame < end - 3, timeout=3000)
    assert player.playing
    assert _selected(window) == [clips[0].panel_id]
    player.pause()


def test_selecting_a_panel_moves_the_playhead_and_edits_replan(
    window: MainWindow, qtbot: QtBot
) -> None:
    player = window.player
    plan = player.plan
    assert plan is not None
    ids = [c.panel_id for c in plan.clips]
    window.timeline.select_panels(ids[3:5])  # a multi-selection is left alone
    current = window.selection.current
    assert current in ids[3:5]
    assert player.frame == plan.clips[ids.index(current or "")].start
    assert _selected(window) == ids[3:5]
    window.document.push(EditFields("panel", ids[0], {"duration": 100}, "Set duration"))
    assert player.plan is plan  # debounced: typing does not re-plan on every key
    qtbot.waitUntil(lambda: player.plan is not plan, timeout=2000)
    assert player.plan is not None and player.plan.clips[0].end == 100


def _drag(widget: QWidget, start: QPointF, end: QPointF) -> None:
    def send(kind: QEvent.Type, at: QPointF, buttons: Qt.MouseButton) -> None:
        event = QMouseEvent(
            kind, at, widget.mapToGlobal(at), Qt.MouseButton.LeftButton, buttons,
            Qt.KeyboardModifier.NoModifier,
        )  # fmt: skip
        QApplication.sendEvent(widget, event)

    send(QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    for step in range(1, 6):
        at = start + (end - start) * (step / 5)
        send(QEvent.Type.MouseMove, at, Qt.MouseButton.LeftButton)
    send(QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def test_dragging_a_camera_rectangle_is_one_undo_step(window: MainWindow, qtbot: QtBot) -> None:
    panel_id = window.timeline_model.panel_ids()[1]
    window.timeline.select_panels([panel_id])
    panel = window.document.project.panels[panel_id]
    panel.camera = None
    window.inspector.show_panel(panel_id)
    canvas = window.inspector.camera_editor.canvas
    window.inspector.ensureWidgetVisible(canvas)
    frame = canvas.frame()
    # both framings start as the whole panel: the top-left corner handle grabs the end framing
    _drag(canvas, frame.topLeft(), frame.topLeft() + QPointF(frame.width() * 0.2, 0))
    stack = window.document.undo_stack
    assert stack.count() == 1
    assert stack.text(0) == "Frame camera end"
    camera = window.document.project.panels[panel_id].camera
    assert camera is not None
    assert camera.end.x > 0.15 and abs(camera.end.w - camera.end.h) < 1e-6
    assert camera.end.x + camera.end.w <= 1.0 + 1e-9
    assert (camera.start.x, camera.start.w) == (0.0, 1.0)
    # dragging the (now smaller) end framing by its inside pans it
    box = canvas.to_widget(camera.end)
    _drag(canvas, box.center(), box.center() - QPointF(frame.width() * 0.1, 0))
    assert stack.count() == 2
    moved = window.document.project.panels[panel_id].camera
    assert moved is not None and moved.end.x < camera.end.x and moved.end.w == camera.end.w
    stack.undo()
    stack.undo()
    assert window.document.project.panels[panel_id].camera is None
    assert canvas.rects["end"].w == 1.0  # the editor follows the undo


def test_camera_angles_and_transition_direction_reach_the_player(
    window: MainWindow, qtbot: QtBot
) -> None:
    panel_id = window.timeline_model.panel_ids()[0]
    window.timeline.select_panels([panel_id])
    editor = window.inspector.camera_editor
    editor.end_angle.setValue(12.5)
    camera = window.document.project.panels[panel_id].camera
    assert camera is not None and camera.end_angle == 12.5
    assert window.document.undo_stack.text(0) == "Rotate camera"
    panel = window.document.project.panels[panel_id]
    panel.transition = Transition(TransitionKind.CROSSFADE, 8, clip="a" * 64 + ".mp4")
    window.inspector.show_panel(panel_id)
    inspector = window.inspector
    inspector.transition.setCurrentIndex(inspector.transition.findData(TransitionKind.PUSH))
    inspector.transition.activated.emit(inspector.transition.currentIndex())
    inspector.transition_direction.setCurrentText("down")
    inspector.transition_direction.activated.emit(inspector.transition_direction.currentIndex())
    assert panel.transition == Transition(TransitionKind.PUSH, 8, "down", "a" * 64 + ".mp4")
    assert inspector.transition_direction.isEnabled()
    player = window.player
    old = player.plan
    qtbot.waitUntil(lambda: player.plan is not old, timeout=2000)
    assert player.plan is not None
    assert player.plan.clips[0].camera is not None
    assert player.plan.clips[0].camera.end.angle == 12.5
    (push,) = [t for t in player.plan.transitions if t.index == 0]
    assert push.direction.value == "down"


class RecordingOutput:
    """Stands in for the sound card: records what would play, from where."""

    available = True
    reason = ""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.samples: object = None

    def start(self, samples: object, sample_rate: int, offset: int) -> None:
        self.samples = samples
        self.calls.append(("start", offset))

    def stop(self) -> None:
        self.calls.append(("stop", 0))


def test_sound_starts_at_the_playhead_and_stops_with_the_picture(
    qapp: object, qtbot: object, tmp_path: object
) -> None:
    import wave
    from pathlib import Path

    from storyboard.export.audio import SAMPLE_RATE
    from storyboard.qt.document import Document
    from storyboard.qt.selection import Selection
    from storyboard.qt.widgets.player import AnimaticPlayer
    from tests.conftest import rich_project

    project = rich_project()
    document = Document(project)
    sound = Path(str(tmp_path)) / "line.wav"
    with wave.open(str(sound), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(b"\x00\x20" * SAMPLE_RATE)  # one second
    project.panels["p2"].audio = document.assets.put_file(sound)
    output = RecordingOutput()
    player = AnimaticPlayer(document, Selection(), output)
    player.resize(400, 300)
    player.show()
    player.rebuild()
    assert player.plan is not None and player.plan.audio
    player.seek(60)  # 2.4 s in at 25 fps
    player.play()
    assert output.calls[-1] == ("start", round(60 / 25 * SAMPLE_RATE))
    assert output.samples.shape[0] == 2  # type: ignore[attr-defined]
    player.seek(10)  # scrubbing while playing restarts the sound there
    assert output.calls[-1] == ("start", round(10 / 25 * SAMPLE_RATE))
    player.pause()
    assert output.calls[-1] == ("stop", 0)
