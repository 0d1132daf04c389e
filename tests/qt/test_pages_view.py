"""The Pages view: page edits go through the Document (undoable), painted by the export painter."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from storyboard.core.model import Panel, Project, ReadingOrder, Scene
from storyboard.qt.document import Document
from storyboard.qt.models.timeline_model import PANEL_MIME
from storyboard.qt.widgets.pages_view import PagesView


def story(panels: int = 5) -> Project:
    project = Project()
    scene = Scene(id="s", panel_ids=[f"p{i}" for i in range(panels)])
    project.scenes = {"s": scene}
    project.scene_ids = ["s"]
    project.panels = {f"p{i}": Panel(id=f"p{i}", prompt=f"shot {i}") for i in range(panels)}
    return project


def test_add_page_fills_the_template_and_undoes(qapp: QApplication) -> None:
    document = Document(story())
    view = PagesView(document)
    view.resize(500, 800)
    view.template.setCurrentIndex(view.template.findData("grid-2x2"))
    view.append_page()
    (page,) = document.project.pages.values()
    assert [f.panel_id for f in page.frames] == ["p0", "p1", "p2", "p3"]
    view.append_page()
    assert [f.panel_id for f in document.project.pages[document.project.page_ids[1]].frames] == [
        "p4",
        "",
        "",
        "",
    ]
    assert view.pages.count() == 2
    document.undo_stack.undo()
    assert len(document.project.page_ids) == 1 and view.pages.count() == 1


def test_split_full_bleed_template_and_drop(qapp: QApplication) -> None:
    document = Document(story())
    view = PagesView(document)
    view.resize(500, 800)
    view.template.setCurrentIndex(view.template.findData("splash"))
    view.append_page()
    page = document.project.pages[document.project.page_ids[0]]
    view.select_frame(0)
    view.split(vertical=True)
    assert [(f.panel_id, f.box.w) for f in page.frames] == [("p0", 0.5), ("", 0.5)]
    view.select_frame(1)
    view.set_full_bleed(True)
    assert page.frames[1].full_bleed
    # Drop panel p3 onto the right-hand frame, as the panel list's drag would.
    layout = view.current_layout()
    assert layout is not None
    art = layout.frames[1].art
    mime = QMimeData()
    mime.setData(PANEL_MIME, b'["p3"]')
    at = view.canvas.to_widget(art.x + art.w / 2, art.y + art.h / 2)
    drop = QDropEvent(
        at,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    view.canvas.dropEvent(drop)
    assert page.frames[1].panel_id == "p3"
    view.apply_template("tiers-3")
    assert page.template == "tiers-3"
    assert [f.panel_id for f in page.frames] == ["p0", "p3", ""]
    for _ in range(4):
        document.undo_stack.undo()
    assert [f.panel_id for f in page.frames] == ["p0"]


def test_canvas_shows_the_printed_page_with_reading_numbers(qapp: QApplication) -> None:
    document = Document(story(2))
    view = PagesView(document)
    view.resize(500, 800)
    view.show()
    view.template.setCurrentIndex(view.template.findData("grid-2x2"))
    view.order.setCurrentIndex(1)
    view.order.activated.emit(1)
    assert document.project.settings.reading_order == ReadingOrder.RIGHT_TO_LEFT
    view.append_page()
    image = view.canvas.grab().toImage()
    assert not image.isNull()
    layout = view.current_layout()
    assert layout is not None
    first = next(f for f in layout.frames if f.frame.panel_id == "p0")
    assert first.number == 1 and first.border.x > layout.live.x  # RTL: panel 1 on the right
    scale = view.canvas.image_dpi / 72
    inside = QPoint(int((first.art.x + 20) * scale), int((first.art.y + first.art.h / 2) * scale))
    assert image.pixelColor(inside).red() < 240  # a placeholder card is painted there


def test_wheel_zooms_and_drag_pans_the_image_inside_a_frame(
    qapp: QApplication, qtbot: object
) -> None:
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtTest import QTest

    from tests.conftest import png_bytes

    project = story(1)
    document = Document(project)
    project.panels["p0"].image = document.assets.put(png_bytes((40, 90, 200), (160, 90)))
    view = PagesView(document)
    view.resize(500, 800)
    view.show()
    view.template.setCurrentIndex(view.template.findData("splash"))
    view.append_page()
    layout = view.current_layout()
    assert layout is not None
    art = layout.frames[0].art
    centre = view.canvas.to_widget(art.x + art.w / 2, art.y + art.h / 2)
    page_centre = view.canvas.to_widget(layout.spec.media.w / 2, layout.spec.media.h / 2)
    assert abs(page_centre.x() - view.canvas.width() / 2) < 1  # the page is centred
    assert abs(page_centre.y() - view.canvas.height() / 2) < 1
    for _ in range(2):  # two wheel notches: one undo step
        wheel = QWheelEvent(
            centre,
            view.canvas.mapToGlobal(centre),
            QPoint(),
            QPoint(0, 120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(view.canvas, wheel)
    page = document.project.pages[document.project.page_ids[0]]
    zoomed = page.frames[0].crop
    assert zoomed is not None
    shown = view.canvas.current_crop(0)
    assert zoomed.h < 0.8 and abs((zoomed.y + zoomed.h / 2) - 0.5) < 0.01  # zoomed at the centre
    assert document.undo_stack.count() == 2  # add page, then one zoom step
    start = centre.toPoint()
    QTest.mousePress(view.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(view.canvas, start + QPoint(40, 0))
    QTest.mouseRelease(
        view.canvas,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        start + QPoint(40, 0),
    )
    panned = page.frames[0].crop
    assert panned is not None and panned.x < zoomed.x  # the image followed the cursor right
    assert document.undo_stack.count() == 3
    document.undo_stack.undo()
    assert page.frames[0].crop == zoomed
    assert shown == zoomed  # the canvas reads the stored crop back


def test_dragging_a_balloon_moves_it_and_alt_drag_points_its_tail(
    qapp: QApplication, qtbot: object
) -> None:
    from PySide6.QtTest import QTest

    from storyboard.core.model import Balloon, Rect

    project = story(1)
    project.panels["p0"].balloons.append(Balloon(id="b", text="Hi!", box=Rect(0.1, 0.1, 0.3, 0.2)))
    document = Document(project)
    view = PagesView(document)
    view.resize(500, 800)
    view.show()
    view.template.setCurrentIndex(view.template.findData("splash"))
    view.append_page()
    layout = view.current_layout()
    assert layout is not None
    border = layout.frames[0].border
    inside = view.canvas.to_widget(border.x + 0.25 * border.w, border.y + 0.2 * border.h).toPoint()
    left = Qt.MouseButton.LeftButton
    QTest.mousePress(view.canvas, left, Qt.KeyboardModifier.NoModifier, inside)
    QTest.mouseMove(view.canvas, inside + QPoint(50, 30))
    QTest.mouseRelease(view.canvas, left, Qt.KeyboardModifier.NoModifier, inside + QPoint(50, 30))
    balloon = document.project.panels["p0"].balloons[0]
    assert balloon.box.x > 0.1 and balloon.box.y > 0.1  # moved right and down
    assert (balloon.box.w, balloon.box.h) == (0.3, 0.2)
    assert document.undo_stack.text(document.undo_stack.count() - 1) == "Move balloon"
    moved_to = balloon.box
    grab = view.canvas.to_widget(
        border.x + (moved_to.x + 0.1) * border.w, border.y + (moved_to.y + 0.1) * border.h
    ).toPoint()
    alt = Qt.KeyboardModifier.AltModifier
    QTest.mousePress(view.canvas, left, alt, grab)
    QTest.mouseMove(view.canvas, grab + QPoint(0, 80))
    QTest.mouseRelease(view.canvas, left, alt, grab + QPoint(0, 80))
    balloon = document.project.panels["p0"].balloons[0]
    assert balloon.box == moved_to and balloon.tail is not None  # the tail moved, not the box


def test_page_margins_move_the_panels_and_undo(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storyboard.qt.widgets.pages_view import MarginsDialog

    document = Document(story(4))
    view = PagesView(document)
    view.resize(500, 800)
    view.template.setCurrentIndex(view.template.findData("grid-2x2"))
    view.append_page()
    before = view.current_layout()
    assert before is not None

    def wider_outer(dialog: MarginsDialog) -> int:
        dialog.use_preset.setChecked(False)
        dialog.boxes["outer"].setValue(1.5)  # inches
        return 1

    monkeypatch.setattr(MarginsDialog, "exec", wider_outer)
    view.edit_margins()
    margins = document.project.settings.page_margins
    assert margins is not None and margins.outer == pytest.approx(108.0)  # stored in points
    after = view.current_layout()
    assert after is not None and after.live.w < before.live.w  # less room for the panels
    document.undo_stack.undo()
    assert document.project.settings.page_margins is None
