"""The animatic player dock: the film as the export will draw it, played in the editor.

Frames come from the export's own :class:`FrameRenderer` over a plan of the live project, so what
plays here is what the MP4 holds (transitions, camera moves, burned captions), only smaller. The
plan is rebuilt a moment after the project changes (debounced: typing a caption re-plans once).

Timing follows a wall clock, not a frame counter: each tick shows the frame the clock has reached,
skipping frames the machine could not draw in time, so a slow frame never makes the film drift
behind its sound or its timecode.

Sound is the export's own mix (panel sounds, soundtrack, gains), started at the playhead whenever
the clock is (re)started, through :mod:`storyboard.qt.audio_output`; without an audio device the
player plays silently and says so.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QElapsedTimer, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.commands import Change
from storyboard.core.errors import ProjectError
from storyboard.export.animatic import AnimaticPlan, plan_animatic
from storyboard.export.animatic_options import AnimaticOptions, CaptionMode
from storyboard.export.audio import SAMPLE_RATE, mix
from storyboard.export.frames import FrameRenderer
from storyboard.export.media import BundleMedia
from storyboard.qt.audio_output import AudioOutput, default_output
from storyboard.qt.document import Document
from storyboard.qt.selection import Selection

log = logging.getLogger(__name__)

PREVIEW_HEIGHT = 360  # rendered size; the screen scales it to the dock
REPLAN_DELAY_MS = 250
TICKS_PER_FRAME = 2  # poll the clock twice a frame so a frame is late by half a frame at most


def preview_size(aspect: float) -> tuple[int, int]:
    """An even-sized frame PREVIEW_HEIGHT tall (narrower for very wide projects)."""
    width = min(1280, max(16, round(PREVIEW_HEIGHT * aspect)))
    height = min(PREVIEW_HEIGHT, round(width / aspect))
    return width - width % 2, max(16, height - height % 2)


class PlayerScreen(QWidget):
    """The current frame, scaled to fit and letterboxed."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("player-screen")
        self.image = QImage()
        self.setMinimumSize(160, 90)  # a laptop's column gives the inspector room first
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_image(self, image: QImage) -> None:
        self.image = image  # the renderer's reused image: drawn before it is overwritten
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#111111"))
        if self.image.isNull():
            painter.setPen(QColor("#aaaaaa"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No panels to play")
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        scale = min(self.width() / self.image.width(), self.height() / self.image.height())
        target = QRectF(0, 0, self.image.width() * scale, self.image.height() * scale)
        target.moveCenter(QRectF(self.rect()).center())
        painter.drawImage(target, self.image)


class AnimaticPlayer(QWidget):
    panel_reached = Signal(str)  # the panel on screen changed while playing, scrubbing, stepping

    def __init__(
        self, document: Document, selection: Selection, audio: AudioOutput | None = None
    ) -> None:
        super().__init__()
        self.setObjectName("player")
        self.audio = audio or default_output()
        self._mix: NDArray[np.float32] | None = None  # the plan's sound, mixed on first play
        self.document = document
        self.selection = selection
        self.plan: AnimaticPlan | None = None
        self.renderer: FrameRenderer | None = None
        self.frame = 0
        self.dropped = 0  # frames skipped to keep time, since the last play
        self._shown_panel: str | None = None
        self._stale = True
        self._clock = QElapsedTimer()
        self._anchor = 0  # the frame shown when the clock was (re)started
        self._ticker = QTimer(self)
        self._ticker.setTimerType(Qt.TimerType.PreciseTimer)
        self._ticker.timeout.connect(self._tick)
        self._replan = QTimer(self)
        self._replan.setSingleShot(True)
        self._replan.setInterval(REPLAN_DELAY_MS)
        self._replan.timeout.connect(self.rebuild)
        self._build()
        self._connect(document)
        selection.current_changed.connect(self._panel_selected)

    # -- layout -----------------------------------------------------------------------------

    def _action(self, text: str, key: str, icon: QStyle.StandardPixmap) -> QAction:
        action = QAction(self.style().standardIcon(icon), text, self)
        action.setShortcut(QKeySequence(key))
        return action

    def _build(self) -> None:
        self.play_action = self._action("Play", "Space", QStyle.StandardPixmap.SP_MediaPlay)
        self.play_action.setCheckable(True)
        self.play_action.toggled.connect(self._play_toggled)
        if not self.audio.available:
            self.play_action.setToolTip(f"Play (silent: {self.audio.reason})")
        self.step_back_action = self._action(
            "Previous frame", ",", QStyle.StandardPixmap.SP_MediaSeekBackward
        )
        self.step_back_action.triggered.connect(lambda: self.step(-1))
        self.step_forward_action = self._action(
            "Next frame", ".", QStyle.StandardPixmap.SP_MediaSeekForward
        )
        self.step_forward_action.triggered.connect(lambda: self.step(1))
        self.addActions([self.step_back_action, self.step_forward_action])

        self.picture = PlayerScreen()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("scrub")
        self.slider.valueChanged.connect(self._scrubbed)
        buttons = []
        for action in (self.step_back_action, self.play_action, self.step_forward_action):
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.append(button)
        self.loop = QToolButton()
        self.loop.setObjectName("loop-scene")
        self.loop.setText("Loop scene")
        self.loop.setCheckable(True)
        self.loop.setToolTip("Play the current scene over and over")
        self.time = QLabel()
        self.time.setObjectName("player-time")
        self.time.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.time.setWordWrap(True)  # a narrow dock wraps the line instead of widening the window
        controls = QHBoxLayout()
        for button in buttons:
            controls.addWidget(button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.loop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.picture, 1)
        layout.addLayout(controls)
        layout.addWidget(self.time)

    def menu_actions(self) -> list[QAction]:
        return [self.play_action, self.step_back_action, self.step_forward_action]

    # -- the document -------------------------------------------------------------------------

    def _connect(self, document: Document) -> None:
        document.changed.connect(self._document_changed)
        document.path_changed.connect(self._document_changed)

    def set_document(self, document: Document) -> None:
        self.pause()
        self.document.changed.disconnect(self._document_changed)
        self.document.path_changed.disconnect(self._document_changed)
        self.document = document
        self._connect(document)
        self.frame = 0
        self.rebuild()

    def _document_changed(self, _: Change | object) -> None:
        self._replan.start()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self.rebuild()

    def rebuild(self) -> None:
        """Plan the live project again and redraw the current frame (hidden: on the next show)."""
        self._replan.stop()
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        project = self.document.project
        size = preview_size(project.settings.aspect_ratio or 16 / 9)
        options = AnimaticOptions(size=size, captions=CaptionMode.BURN)
        self.plan = self.renderer = None
        self._mix = None
        if project.ordered_panels():
            try:
                self.plan = plan_animatic(project, options, BundleMedia(self.document.bundle))
            except ProjectError as exc:
                log.warning("the animatic could not be planned: %s", exc)
        if self.plan is None:
            self.pause()
            self.picture.show_image(QImage())
            self.time.setText("")
            self._enable(False)
            return
        self.renderer = FrameRenderer(self.plan, self.document.bundle)
        self._enable(True)
        self.slider.blockSignals(True)
        self.slider.setRange(0, self.plan.frames - 1)
        self.slider.blockSignals(False)
        self._show(self._frame_to_show(), announce=False)
        self._restart_clock()

    def _frame_to_show(self) -> int:
        """The frame shown after a re-plan: the playhead's, unless the selection moved to a panel
        the old plan did not have (a new panel, a duplicate, an undo): then that panel's start."""
        assert self.plan is not None
        frame = min(self.frame, self.plan.frames - 1)
        wanted = self.selection.current
        if self.playing or wanted is None or self.plan.clip_at(frame).panel_id == wanted:
            return frame
        clip = next((c for c in self.plan.clips if c.panel_id == wanted), None)
        return clip.start if clip is not None else frame

    def _enable(self, on: bool) -> None:
        for widget in (self.slider, self.loop):
            widget.setEnabled(on)
        for action in self.menu_actions():
            action.setEnabled(on)

    # -- playing --------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._ticker.isActive()

    def toggle(self) -> None:
        self.play_action.toggle()

    def play(self) -> None:
        self.play_action.setChecked(True)

    def pause(self) -> None:
        self.play_action.setChecked(False)

    def _play_toggled(self, on: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if on else QStyle.StandardPixmap.SP_MediaPlay
        self.play_action.setIcon(self.style().standardIcon(icon))
        self.play_action.setText("Pause" if on else "Play")
        if not on:
            if self._ticker.isActive():
                log.debug("paused at frame %d; %d frame(s) dropped", self.frame, self.dropped)
            self._ticker.stop()
            self.audio.stop()
            return
        if self.plan is None:
            self.play_action.setChecked(False)
            return
        start, end = self.play_range()
        if not start <= self.frame < end - 1:
            self._show(start, announce=True)
        self.dropped = 0
        self._ticker.start(max(1, round(1000 / float(self.plan.fps) / TICKS_PER_FRAME)))
        self._restart_clock()

    def _restart_clock(self) -> None:
        self._anchor = self.frame
        self._clock.start()
        if self.playing:
            self._start_sound()

    def _start_sound(self) -> None:
        """Play the mix from the frame the clock starts at, so picture and sound start together."""
        if self.plan is None or not self.plan.audio:
            self.audio.stop()
            return
        if self._mix is None:
            self._mix = mix(list(self.plan.audio), self.plan.fps, self.plan.frames)
        offset = round(self._anchor / float(self.plan.fps) * SAMPLE_RATE)
        self.audio.start(self._mix, SAMPLE_RATE, offset)

    def play_range(self) -> tuple[int, int]:
        """Output frames [start, end) that play: the current scene when looping, else all."""
        assert self.plan is not None
        if not self.loop.isChecked():
            return 0, self.plan.frames
        panel_id = self.plan.clip_at(self.frame).panel_id
        try:
            scene = self.document.project.scene_of(panel_id)
        except KeyError:  # the panel went away; the debounced re-plan is on its way
            return 0, self.plan.frames
        members = set(scene.panel_ids)
        clips = [c for c in self.plan.clips if c.panel_id in members]
        return min(c.start for c in clips), max(c.end for c in clips)

    def _tick(self) -> None:
        if self.plan is None:
            self.pause()
            return
        target = self._anchor + int(self._clock.elapsed() * float(self.plan.fps) / 1000)
        start, end = self.play_range()
        if target >= end:
            if not self.loop.isChecked():
                self._show(end - 1, announce=True)
                self.pause()
                return
            self._show(start, announce=True)
            self._restart_clock()
            return
        if target > self.frame:
            self.dropped += target - self.frame - 1
            self._show(target, announce=True)

    # -- seeking ----------------------------------------------------------------------------

    def seek(self, frame: int) -> None:
        """Show ``frame`` (clamped); while playing, the clock goes on from there."""
        if self.plan is None:
            return
        self._show(max(0, min(frame, self.plan.frames - 1)), announce=True)
        self._restart_clock()

    def step(self, frames: int) -> None:
        self.pause()
        self.seek(self.frame + frames)

    def _scrubbed(self, value: int) -> None:
        if value != self.frame:
            self.seek(value)

    def _panel_selected(self, panel_id: str | None) -> None:
        """Selecting another panel in the timeline moves the playhead to its first frame."""
        if self.plan is None or panel_id is None or panel_id == self._shown_panel:
            return
        clip = next((c for c in self.plan.clips if c.panel_id == panel_id), None)
        if clip is not None:
            self._show(clip.start, announce=False)
            self._restart_clock()

    def current_panel(self) -> str | None:
        return self._shown_panel

    def _show(self, frame: int, *, announce: bool) -> None:
        assert self.plan is not None and self.renderer is not None
        self.frame = frame
        self.picture.show_image(self.renderer.render(frame))
        if self.slider.value() != frame:
            self.slider.blockSignals(True)
            self.slider.setValue(frame)
            self.slider.blockSignals(False)
        clip = self.plan.clip_at(frame)
        total = self.plan.timecode(self.plan.frames)
        self.time.setText(
            f"{self.plan.timecode(frame)} / {total}   ·   panel {clip.number}   ·   "
            f"frame {frame + 1} of {self.plan.frames}"
        )
        if clip.panel_id != self._shown_panel:
            self._shown_panel = clip.panel_id
            if announce:
                self.panel_reached.emit(clip.panel_id)
