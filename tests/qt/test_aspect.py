"""A 64 px square in a 16:9 project (the built-in model's pictures in a script's project): every
view shows it whole, between bars, never stretched or cropped; and the project says so once,
offering to match the model's shape (issue 28)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from storyboard.core.framing import letterbox
from storyboard.core.model import Rect
from storyboard.core.persistence import save_project
from storyboard.core.settings import AppSettings
from storyboard.export.animatic import plan_animatic
from storyboard.export.animatic_options import AnimaticOptions, CaptionMode
from storyboard.export.frames import FrameRenderer
from storyboard.export.video import export_video
from storyboard.qt.document import Document
from storyboard.qt.main_window import MainWindow
from tests.export.animatic_helpers import decode, project_with

RED, BLUE = (200, 40, 40), (40, 40, 200)


def square() -> np.ndarray:
    """64x64 red with a blue band along the top: a hat a crop would cut off."""
    image = np.full((64, 64, 3), RED, np.uint8)
    image[:8] = BLUE
    return image


def near(colour: QColor | np.ndarray, rgb: tuple[int, int, int], tolerance: int = 40) -> bool:
    if isinstance(colour, QColor):
        colour = np.array([colour.red(), colour.green(), colour.blue()])
    return bool(np.abs(np.asarray(colour, int) - rgb).max() <= tolerance)


def test_letterbox_keeps_the_whole_picture() -> None:
    assert letterbox(64, 64, 16, 9) == Rect((1 - 9 / 16) / 2, 0.0, 9 / 16, 1.0)
    assert letterbox(16, 9, 1, 1) == Rect(0.0, (1 - 9 / 16) / 2, 1.0, 9 / 16)
    assert letterbox(4, 3, 8, 6) == Rect(0.0, 0.0, 1.0, 1.0)


@pytest.fixture
def wide_window(app: QApplication, qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    bundle = tmp_path / "Wide.storyboard"
    project = project_with(bundle, [square(), square()])
    assert project.settings.aspect_ratio == pytest.approx(16 / 9)
    save_project(project, bundle)
    document, _ = Document.open(bundle)
    window = MainWindow(AppSettings(), document)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.document.undo_stack.setClean()
    window.close()


def test_the_canvas_letterboxes_a_square(wide_window: MainWindow, qtbot: QtBot) -> None:
    canvas = wide_window.preview
    stage, frame = canvas.stage(), canvas.frame()
    assert stage.width() / stage.height() == pytest.approx(16 / 9, rel=0.02)
    assert frame.width() == pytest.approx(frame.height(), rel=0.02)  # square, not stretched
    shot = canvas.grab().toImage()
    middle = round(stage.center().y())
    assert near(shot.pixelColor(round(stage.left()) + 3, middle), (0, 0, 0))  # a bar
    assert near(shot.pixelColor(round(frame.center().x()), middle), RED)
    assert near(shot.pixelColor(round(frame.center().x()), round(frame.top()) + 3), BLUE)


def test_the_timeline_card_letterboxes_a_square(wide_window: MainWindow, qtbot: QtBot) -> None:
    timeline = wide_window.timeline
    qtbot.waitUntil(
        lambda: (
            timeline.card_delegate.thumbnails.get(
                wide_window.document.project.ordered_panels()[0].image or ""
            )
            is not None
        )
    )
    timeline.viewport().update()
    qtbot.wait(20)
    card: QRect = timeline.visualRect(timeline.model().index(0, 0))
    image_box = timeline.card_delegate.image_size()
    shot = timeline.viewport().grab().toImage()
    top, left = card.top() + 8, card.left() + 8
    middle = top + image_box.height() // 2
    assert near(shot.pixelColor(left + 4, middle), (0, 0, 0))  # a bar at the side
    assert near(shot.pixelColor(left + image_box.width() // 2, middle), RED)
    assert near(shot.pixelColor(left + image_box.width() // 2, top + 3), BLUE)  # the top kept


def columns(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    height, width = frame.shape[:2]
    return frame[height // 2, 4], frame[height // 2, width // 2], frame[2, width // 2]


def test_the_player_and_the_video_letterbox_a_square(app: QApplication, tmp_path: Path) -> None:
    bundle = tmp_path / "Wide.storyboard"
    project = project_with(bundle, [square()], duration=4)
    plan = plan_animatic(project, AnimaticOptions(size=(320, 180), captions=CaptionMode.NONE))
    shown: QImage = (
        FrameRenderer(plan, bundle).render(0).convertToFormat(QImage.Format.Format_RGB888)
    )
    player = np.frombuffer(shown.constBits(), np.uint8).reshape(180, shown.bytesPerLine())
    player = player[:, : 320 * 3].reshape(180, 320, 3)
    video = decode(export_video(plan, bundle, tmp_path / "wide.mp4").path)[0]
    for frame in (player, video):
        bar, centre, top = columns(frame)
        assert near(bar, (0, 0, 0)) and near(centre, RED) and near(top, BLUE, 60)
        row = frame[90].astype(int).sum(axis=1)
        lit = np.flatnonzero(row > 120)
        assert abs((lit[-1] - lit[0] + 1) - 180) <= 4  # 180 px wide: the square is square


def test_a_project_of_another_shape_says_so_once(wide_window: MainWindow) -> None:
    banner = wide_window.banner
    assert banner.isVisible() and "64x64" in banner.label.text() and "16:9" in banner.label.text()
    assert banner.action.text() == "Make the project 1:1"
    banner.action.click()
    settings = wide_window.document.project.settings
    assert settings.aspect_ratio == 1.0 and not banner.isVisible()
    assert wide_window.preview.stage().width() == pytest.approx(
        wide_window.preview.stage().height()
    )
    wide_window.document.undo_stack.undo()
    assert settings.aspect_ratio == pytest.approx(16 / 9)
    assert not wide_window.aspect_notice.check(wide_window.document)  # once


def test_a_project_of_the_models_shape_is_not_told(wide_window: MainWindow) -> None:
    wide_window.banner.hide()
    document = wide_window.document
    document.project.settings.aspect_ratio = 1.0
    notice = type(wide_window.aspect_notice)(wide_window.banner)
    assert not notice.check(document) and not wide_window.banner.isVisible()
