"""The panel canvas driven like an illustrator: strokes with mouse and tablet, undo per stroke,
layers saved and reopened pixel for pixel, boxes, dropped images and the external editor."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDropEvent,
    QImage,
    QPainter,
    QPointingDevice,
    QTabletEvent,
)
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from storyboard.core.jobs import build_story_request
from storyboard.core.model import LayerKind
from storyboard.qt.canvas_edits import layer_of, png_of
from storyboard.qt.document import Document
from storyboard.qt.main_window import MainWindow
from storyboard.qt.widgets.canvas import MIN_LAYER_EDGE, PanelCanvas, Tool

WAIT = 10_000


def at(canvas: PanelCanvas, x: float, y: float) -> QPoint:
    frame = canvas.frame()
    return QPoint(round(frame.left() + x * frame.width()), round(frame.top() + y * frame.height()))


def stroke(qtbot: QtBot, canvas: PanelCanvas, points: list[tuple[float, float]]) -> None:
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, *points[0]))
    for point in points[1:]:
        qtbot.mouseMove(canvas, at(canvas, *point))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(canvas, *points[-1]))


def tablet(canvas: PanelCanvas, kind: QTabletEvent.Type, pos: QPoint, pressure: float) -> None:
    button = Qt.MouseButton.LeftButton
    held = Qt.MouseButton.NoButton if kind == QTabletEvent.Type.TabletRelease else button
    device = QPointingDevice.primaryPointingDevice()
    where, screen = QPointF(pos), QPointF(canvas.mapToGlobal(pos))
    no_keys = Qt.KeyboardModifier.NoModifier
    event = QTabletEvent(
        kind, device, where, screen, pressure, 0.0, 0.0, 0.0, 0.0, 0.0, no_keys, button, held
    )
    QApplication.sendEvent(canvas, event)


def test_strokes_undo_one_by_one_and_layers_reopen_pixel_for_pixel(
    window: MainWindow, qtbot: QtBot
) -> None:
    canvas, studio = window.preview, window.studio
    window.workspace.setCurrentWidget(studio)
    panel = window.document.project.panels[window.selection.current or ""]
    studio.set_color(QColor("#c01010"))
    stroke(qtbot, canvas, [(0.1, 0.1), (0.5, 0.5), (0.9, 0.2)])
    first = layer_of(panel, LayerKind.SKETCH)
    assert first is not None and first.asset is not None
    studio.set_tool(Tool.PENCIL)
    stroke(qtbot, canvas, [(0.1, 0.9), (0.9, 0.9)])
    tablet(canvas, QTabletEvent.Type.TabletPress, at(canvas, 0.2, 0.6), 0.2)
    tablet(canvas, QTabletEvent.Type.TabletMove, at(canvas, 0.5, 0.6), 0.6)
    tablet(canvas, QTabletEvent.Type.TabletMove, at(canvas, 0.8, 0.6), 1.0)
    tablet(canvas, QTabletEvent.Type.TabletRelease, at(canvas, 0.8, 0.6), 0.0)
    stack = window.document.undo_stack
    assert [stack.text(i) for i in range(stack.count())] == ["Draw stroke"] * 3
    drawn = canvas.layer_image(LayerKind.SKETCH)
    width = drawn.width()
    assert max(width, drawn.height()) >= MIN_LAYER_EDGE  # never a 64 px drawing for a 64 px model
    light = drawn.pixelColor(round(0.25 * width), round(0.6 * drawn.height())).alpha()
    heavy = drawn.pixelColor(round(0.75 * width), round(0.6 * drawn.height())).alpha()
    assert 0 < light < heavy  # the pencil follows the pen's pressure
    assert drawn.pixelColor(round(0.5 * width), round(0.5 * drawn.height())).red() > 150

    stack.undo()
    stack.undo()
    assert layer_of(panel, LayerKind.SKETCH) == first  # one stroke left
    stack.redo()
    stack.redo()
    studio.set_layer(LayerKind.MASK)
    stroke(qtbot, canvas, [(0.4, 0.4), (0.6, 0.4)])
    studio.set_layer(LayerKind.NOTES)
    stroke(qtbot, canvas, [(0.2, 0.2), (0.3, 0.3)])
    studio.visible.setChecked(False)
    studio.opacity.setValue(40)
    assert [(lay.kind, lay.visible, lay.opacity) for lay in panel.layers] == [
        (LayerKind.SKETCH, True, 1.0),
        (LayerKind.MASK, True, 1.0),
        (LayerKind.NOTES, False, 0.4),
    ]
    pixels = {kind: canvas.layer_image(kind).copy() for kind in LayerKind}
    window.files.save()
    reopened, _ = Document.open(window.document.path)  # type: ignore[arg-type]
    again = reopened.project.panels[panel.id]
    assert again.layers == panel.layers
    for layer in again.layers:
        assert layer.asset is not None
        stored = QImage(str(reopened.assets.path(layer.asset)))
        assert stored.convertToFormat(pixels[layer.kind].format()) == pixels[layer.kind]
    reopened.close_session()


def test_boxes_feed_character_regions_and_balloon_space(window: MainWindow, qtbot: QtBot) -> None:
    canvas, studio = window.preview, window.studio
    project = window.document.project
    panel = next(p for p in project.ordered_panels() if p.character_ids)
    window.timeline.select_panels([panel.id])
    studio.set_tool(Tool.CHARACTER_BOX)
    stroke(qtbot, canvas, [(0.1, 0.2), (0.4, 0.9)])
    studio.set_tool(Tool.BALLOON_SPACE)
    stroke(qtbot, canvas, [(0.6, 0.0), (1.0, 0.3)])
    region = panel.character_regions[panel.character_ids[0]]
    assert (round(region.x, 1), round(region.y, 1), round(region.w, 1), round(region.h, 1)) == (
        0.1, 0.2, 0.3, 0.7,
    )  # fmt: skip
    assert len(panel.balloon_space) == 1
    job = build_story_request(project, [panel.id]).panels[0]
    assert job.regions and job.regions[0][0] == panel.character_ids[0]
    assert "plain empty background at the top right" in job.prompt
    qtbot.mouseClick(canvas, Qt.MouseButton.RightButton, pos=at(canvas, 0.8, 0.1))
    assert panel.balloon_space == []
    window.document.undo_stack.undo()
    assert len(panel.balloon_space) == 1


def test_a_dropped_image_becomes_the_panel_image_and_a_candidate(
    window: MainWindow, tmp_path: Path
) -> None:
    canvas = window.preview
    panel = window.document.project.panels[window.selection.current or ""]
    before = panel.image
    picture = QImage(64, 36, QImage.Format.Format_RGB32)
    picture.fill(QColor("#2050d0"))
    picture.save(str(tmp_path / "photo.jpg"))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "photo.jpg"))])
    drop = QDropEvent(
        QPointF(at(canvas, 0.5, 0.5)), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    canvas.dropEvent(drop)
    assert panel.image not in (None, before)
    assert panel.candidates[-1].asset == panel.image
    assert panel.candidates[-1].settings == {"source": "dropped"}
    assert QImage(str(window.document.assets.path(panel.image))).pixelColor(3, 3) == QColor(
        "#2050d0"
    )
    window.document.undo_stack.undo()
    assert panel.image == before and panel.candidates[-1].settings == {"source": "dropped"}


def test_the_external_editor_round_trip_reloads_the_saved_file(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    script = tmp_path / "fake_editor.py"
    script.write_text(
        "import sys, time\n"
        "from PySide6.QtGui import QColor, QImage\n"
        "time.sleep(0.3)\n"
        "image = QImage(sys.argv[1])\n"
        "image.fill(QColor('#10a040'))\n"
        "image.save(sys.argv[1])\n"
    )
    window.settings.image_editor = f'"{sys.executable}" "{script}" {{file}}'
    panel = window.document.project.panels[window.selection.current or ""]
    before = panel.image
    reloaded: list[str] = []
    window.studio.external.reloaded.connect(lambda pid, asset: reloaded.append(asset))
    window.studio.edit_externally()
    qtbot.waitUntil(lambda: bool(reloaded), timeout=WAIT)
    assert panel.image == reloaded[0] != before
    assert panel.candidates[-1].settings == {"source": "external editor"}
    image = QImage(str(window.document.assets.path(reloaded[0])))
    assert image.pixelColor(5, 5) == QColor("#10a040")
    window.studio.external.stop()


def test_every_sketch_layer_shows_its_own_drawing(window: MainWindow, qtbot: QtBot) -> None:
    """An imported Storyboarder board has several sketch layers (fill, pencil, ink ...): each is
    drawn with its own pixels, and strokes go to the first."""
    from storyboard.core.model import PanelLayer

    canvas, document = window.preview, window.document
    panel = document.project.panels[window.selection.current or ""]
    size = canvas.layer_size()

    def half(color: str, left: bool) -> str:
        image = QImage(size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        width = size.width() // 2
        painter.fillRect(0 if left else width, 0, width, size.height(), QColor(color))
        painter.end()
        return document.assets.put(png_of(image))

    panel.image = None
    panel.layers = [
        PanelLayer(LayerKind.SKETCH, half("#ff0000", left=True), name="fill"),
        PanelLayer(LayerKind.SKETCH, half("#0000ff", left=False), name="ink"),
    ]
    canvas.update()
    shot = canvas.grab().toImage()
    ratio = shot.width() / canvas.width()
    left, right = at(canvas, 0.25, 0.5), at(canvas, 0.75, 0.5)
    assert shot.pixelColor(round(left.x() * ratio), round(left.y() * ratio)) == QColor("#ff0000")
    assert shot.pixelColor(round(right.x() * ratio), round(right.y() * ratio)) == QColor("#0000ff")
