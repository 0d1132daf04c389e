"""The camera move of a panel, edited on the panel itself: a start and an end framing rectangle.

Drag a rectangle to pan it, drag a corner to zoom (the framing keeps the panel's aspect, as the
renderer does), set the rotation of each end in degrees. The editor never touches the project: it
emits the whole new :class:`CameraMove` once per drag (or per angle or easing change), and the
inspector pushes it as one undoable edit, so one drag is one undo step however long it lasts.

A rectangle is drawn rotated the way the camera sees it: the renderer turns the picture by the
angle, so the part of the panel that fills the frame is the rectangle turned the other way.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from storyboard.core.model import CameraMove, Rect
from storyboard.export.animatic_options import EASINGS

START, END = "start", "end"
COLORS = {START: QColor("#3fbf6f"), END: QColor("#ef8f2f")}
HANDLE = 7.0  # half the size of a corner handle, pixels
MIN_SIZE = 0.1  # the tightest framing: a tenth of the panel


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class FramingCanvas(QWidget):
    """The panel (image or plain card) with the two framing rectangles on it."""

    dragged = Signal(str)  # START or END: a drag of that rectangle ended with a change

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("camera-canvas")
        self.setMinimumSize(200, 120)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)  # the panel fills the width at its own aspect
        self.setSizePolicy(policy)
        self.setMouseTracking(True)
        self.image = QImage()
        self.prompt = ""
        self.aspect = 16 / 9
        self.rects = {START: Rect(), END: Rect()}
        self.angles = {START: 0.0, END: 0.0}
        self._drag: tuple[str, str, QPointF, Rect] | None = None  # which, how, press, original

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(320, self.heightForWidth(320))

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return round((width - 2 * HANDLE) / self.aspect + 2 * HANDLE)

    # -- geometry ---------------------------------------------------------------------------

    def frame(self) -> QRectF:
        """Where the panel is drawn: the widget, less a margin, at the project's aspect."""
        area = QRectF(self.rect()).adjusted(HANDLE, HANDLE, -HANDLE, -HANDLE)
        width = min(area.width(), area.height() * self.aspect)
        frame = QRectF(0, 0, width, width / self.aspect)
        frame.moveCenter(area.center())
        return frame

    def to_widget(self, rect: Rect) -> QRectF:
        f = self.frame()
        return QRectF(f.x() + rect.x * f.width(), f.y() + rect.y * f.height(),
                      rect.w * f.width(), rect.h * f.height())  # fmt: skip

    def _hit(self, point: QPointF) -> tuple[str, str] | None:
        """Which rectangle and what part of it is under ``point``: a corner, else the inside.

        The end framing wins ties (both start as the whole panel); the smaller one wins inside.
        """
        for which in (END, START):
            box = self.to_widget(self.rects[which])
            for name, corner in _corners(box).items():
                if abs(point.x() - corner.x()) <= HANDLE and abs(point.y() - corner.y()) <= HANDLE:
                    return which, name
        inside = [w for w in (END, START) if self.to_widget(self.rects[w]).contains(point)]
        if not inside:
            return None
        return min(inside, key=lambda w: self.rects[w].w * self.rects[w].h), "move"

    # -- mouse ------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        hit = self._hit(event.position())
        if event.button() == Qt.MouseButton.LeftButton and hit is not None:
            which, how = hit
            self._drag = (which, how, event.position(), copy.copy(self.rects[which]))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is None:
            hit = self._hit(event.position())
            shape = Qt.CursorShape.ArrowCursor
            if hit is not None:
                shape = {
                    "move": Qt.CursorShape.SizeAllCursor,
                    "top_left": Qt.CursorShape.SizeFDiagCursor,
                    "bottom_right": Qt.CursorShape.SizeFDiagCursor,
                }.get(hit[1], Qt.CursorShape.SizeBDiagCursor)
            self.setCursor(shape)
            return
        which, how, press, original = self._drag
        f = self.frame()
        dx = (event.position().x() - press.x()) / f.width()
        dy = (event.position().y() - press.y()) / f.height()
        if how == "move":
            self.rects[which] = Rect(
                _clamp(original.x + dx, 0.0, 1.0 - original.w),
                _clamp(original.y + dy, 0.0, 1.0 - original.h),
                original.w,
                original.h,
            )
        else:
            self.rects[which] = _resized(original, how, dx, dy)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag is None or event.button() != Qt.MouseButton.LeftButton:
            return
        which, _, _, original = self._drag
        self._drag = None
        if self.rects[which] != original:
            self.dragged.emit(which)

    # -- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        frame = self.frame()
        if self.image.isNull():
            painter.fillRect(frame, QColor("#3b4048"))
            painter.setPen(QColor("#c8cacd"))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(frame.adjusted(12, 12, -12, -12), int(flags), self.prompt)
        else:
            painter.drawImage(frame, self.image)
        painter.fillRect(frame, QColor(0, 0, 0, 60))  # dim, so the framings stand out
        for which in (START, END):
            self._paint_framing(painter, which)

    def _paint_framing(self, painter: QPainter, which: str) -> None:
        box = self.to_widget(self.rects[which])
        color = COLORS[which]
        painter.save()
        painter.translate(box.center())
        painter.rotate(-self.angles[which])
        local = QRectF(-box.width() / 2, -box.height() / 2, box.width(), box.height())
        style = Qt.PenStyle.SolidLine if which == END else Qt.PenStyle.DashLine
        painter.setPen(QPen(color, 2, style))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(local)
        painter.setPen(color)
        # start labelled top left, end bottom right: readable when the framings coincide
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        if which == END:
            align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom
        painter.drawText(local.adjusted(5, 3, -5, -3), int(align), which.title())
        painter.restore()
        painter.setPen(QPen(QColor("#111111"), 1))
        painter.setBrush(color)
        for corner in _corners(box).values():
            painter.drawRect(QRectF(corner.x() - 3.5, corner.y() - 3.5, 7, 7))


def _corners(box: QRectF) -> dict[str, QPointF]:
    return {
        "top_left": box.topLeft(),
        "top_right": box.topRight(),
        "bottom_left": box.bottomLeft(),
        "bottom_right": box.bottomRight(),
    }


def _resized(original: Rect, corner: str, dx: float, dy: float) -> Rect:
    """Drag ``corner`` by (dx, dy); the opposite corner stays, the shape keeps its aspect."""
    left, top = corner.endswith("left"), corner.startswith("top")
    grow_w = -dx if left else dx
    grow_h = -dy if top else dy
    along_x, along_y = grow_w / original.w, grow_h / original.h
    scale = 1 + (along_x if abs(along_x) >= abs(along_y) else along_y)  # the corner follows
    # the pointer along the axis it moved most
    anchor_x = original.x + original.w if left else original.x
    anchor_y = original.y + original.h if top else original.y
    room_x = anchor_x if left else 1.0 - anchor_x
    room_y = anchor_y if top else 1.0 - anchor_y
    largest = min(room_x / original.w, room_y / original.h)
    smallest = MIN_SIZE / min(original.w, original.h)
    scale = _clamp(scale, min(smallest, largest), largest)
    w, h = original.w * scale, original.h * scale
    return Rect(anchor_x - w if left else anchor_x, anchor_y - h if top else anchor_y, w, h)


class CameraEditor(QWidget):
    """Canvas + rotation of each end + easing; emits a whole CameraMove per finished edit."""

    edited = Signal(object, str)  # CameraMove, the undo label

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("camera-editor")
        self.camera = CameraMove()
        self._image_path: Path | None = None
        self.canvas = FramingCanvas()
        self.canvas.dragged.connect(self._dragged)
        self.start_angle = self._angle("start-angle")
        self.end_angle = self._angle("end-angle")
        self.easing = QComboBox()
        self.easing.setObjectName("easing")
        self.easing.addItems(list(EASINGS))
        self.easing.activated.connect(self._easing_chosen)
        angles = QHBoxLayout()
        angles.setContentsMargins(0, 0, 0, 0)
        for text, widget in (("Start", self.start_angle), ("End", self.end_angle)):
            label = QLabel(text)
            label.setStyleSheet(f"color: {COLORS[text.lower()].name()}; font-weight: bold")
            angles.addWidget(label)
            angles.addWidget(widget)
        angles.addWidget(self.easing, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        layout.addLayout(angles)

    def _angle(self, name: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setObjectName(name)
        box.setRange(-180.0, 180.0)
        box.setDecimals(1)
        box.setSingleStep(1.0)
        box.setSuffix("°")
        box.setToolTip("Rotation of the picture at this end of the move, in degrees")
        box.setKeyboardTracking(False)  # one edit per value entered, not per digit typed
        box.valueChanged.connect(self._angles_changed)
        return box

    def show_camera(
        self, move: CameraMove | None, image: Path | None, prompt: str, aspect: float
    ) -> None:
        """Show a panel's move (None: static) without emitting anything."""
        self.camera = copy.deepcopy(move) if move is not None else CameraMove()
        canvas = self.canvas
        if image != self._image_path:  # the inspector refreshes on every keystroke
            self._image_path = image
            canvas.image = QImage(str(image)) if image is not None else QImage()
        canvas.prompt = prompt
        if canvas.aspect != (aspect or 16 / 9):
            canvas.aspect = aspect or 16 / 9
            canvas.updateGeometry()
        canvas.rects = {START: copy.copy(self.camera.start), END: copy.copy(self.camera.end)}
        canvas.angles = {START: self.camera.start_angle, END: self.camera.end_angle}
        for box, value in ((self.start_angle, self.camera.start_angle),
                           (self.end_angle, self.camera.end_angle)):  # fmt: skip
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self.easing.setCurrentText(self.camera.easing)
        canvas.update()

    def _emit(self, move: CameraMove, label: str) -> None:
        self.camera = move
        self.edited.emit(copy.deepcopy(move), label)

    def _dragged(self, which: str) -> None:
        rect = copy.copy(self.canvas.rects[which])
        camera = self.camera
        move = replace(camera, start=rect) if which == START else replace(camera, end=rect)
        self._emit(move, f"Frame camera {which}")

    def _angles_changed(self, _: float) -> None:
        start, end = self.start_angle.value(), self.end_angle.value()
        self.canvas.angles = {START: start, END: end}
        self.canvas.update()
        self._emit(replace(self.camera, start_angle=start, end_angle=end), "Rotate camera")

    def _easing_chosen(self, _: int) -> None:
        self._emit(replace(self.camera, easing=self.easing.currentText()), "Set camera easing")
