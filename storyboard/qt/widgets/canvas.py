"""The panel canvas: the panel's image with the artist's layers over it, and the tools to draw.

Pen, pencil and eraser draw on the sketch or notes layer, the mask layer marks what inpainting
regenerates, and two box tools mark where a character's identity applies
(``Panel.character_regions``, the engine's CSA region boxes) and where balloons will go
(``Panel.balloon_space``); a right click removes a box. Tablet pressure widens the line where Qt
reports it (a mouse draws at full pressure). Each stroke or box is one undo step: pixels go to the
asset store when the stroke ends (``canvas_edits``), never while drawing. Onion skin shows the
previous panel faintly underneath; rule-of-thirds and safe-area guides are drawn on top. Images
dropped or pasted onto the canvas become the panel's image (kept as candidates).
"""

from __future__ import annotations

import copy
from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QTabletEvent,
)

from storyboard.core.commands import Change, EditFields
from storyboard.core.framing import letterbox
from storyboard.core.limits import MIN_RELATIVE_SIZE
from storyboard.core.model import LayerKind, Panel, Rect
from storyboard.qt.canvas_edits import import_image, layer_of, store_layer
from storyboard.qt.document import Document
from storyboard.qt.selection import Selection
from storyboard.qt.widgets.canvas_overlays import paint_boxes, paint_guides
from storyboard.qt.widgets.preview import PanelPreview


class Tool(StrEnum):
    PEN = "pen"
    PENCIL = "pencil"
    ERASER = "eraser"
    CHARACTER_BOX = "character box"
    BALLOON_SPACE = "balloon space"


BOX_TOOLS = (Tool.CHARACTER_BOX, Tool.BALLOON_SPACE)
MASK_TINT = QColor(230, 40, 60)
LETTERBOX = QColor("#000000")  # the bars where the image's shape differs from the project's
MIN_LAYER_EDGE = 1024
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


class PanelCanvas(PanelPreview):
    message = Signal(str)  # something the artist should know (shown in the status bar)
    shown_changed = Signal()  # another panel, another project, or the shown panel was edited

    def __init__(self, document: Document, selection: Selection) -> None:
        super().__init__(document, selection)
        self.setObjectName("canvas")
        self.setAcceptDrops(True)
        self.tool = Tool.PEN
        self.target = LayerKind.SKETCH
        self.color = QColor("#1d1d1d")
        self.brush = 6.0
        self.onion = False
        self.thirds = False
        self.safe_area = False
        self.region_character: str | None = None  # None: the panel's first character
        self._layers: dict[tuple[LayerKind, str | None, int, int], QImage] = {}
        self._stroke: QImage | None = None
        self._last: QPointF | None = None
        self._box_start: QPointF | None = None
        self._box: QRectF | None = None

    def set_document(self, document: Document) -> None:
        super().set_document(document)
        self._layers.clear()
        self.shown_changed.emit()

    def _current_changed(self, current: object) -> None:
        super()._current_changed(current)
        self.shown_changed.emit()

    def _on_change(self, change: Change) -> None:
        super()._on_change(change)
        if self.selection.current in change.panels or change.structure:
            self.shown_changed.emit()

    # -- geometry -----------------------------------------------------------------------------

    def panel(self) -> Panel | None:
        return self.document.project.panels.get(self.selection.current or "")

    def stage(self) -> QRectF:
        """The project's picture: its aspect ratio, as large as the widget allows."""
        ratio = self.document.project.settings.aspect_ratio
        area = QRectF(self.rect()).adjusted(16, 16, -16, -16)
        width = min(area.width(), area.height() * ratio)
        stage = QRectF(0, 0, width, width / ratio)
        stage.moveCenter(area.center())
        return stage

    def frame(self) -> QRectF:
        """Where the panel's image and layers are drawn: their own shape, letterboxed on the
        stage (a 64 px square in a 16:9 project is a square between bars, not stretched)."""
        stage, shape = self.stage(), self.layer_size()
        box = letterbox(shape.width(), shape.height(), stage.width(), stage.height())
        return QRectF(
            stage.left() + box.x * stage.width(),
            stage.top() + box.y * stage.height(),
            box.w * stage.width(),
            box.h * stage.height(),
        )

    def layer_size(self) -> QSize:
        """Layers have the panel image's shape (before there is one, the generation size's),
        enlarged to at least ``MIN_LAYER_EDGE`` on the long side: a 64 px model must not make
        the artist draw in 64 px; guidance scales the layers down to the model's size."""
        image = self._load(self.shown_asset())
        gen = self.document.project.settings.generation
        size = image.size() if not image.isNull() else QSize(gen.width, gen.height)
        scale = max(1.0, MIN_LAYER_EDGE / max(size.width(), size.height(), 1))
        return QSize(round(size.width() * scale), round(size.height() * scale))

    def relative(self, pos: QPointF) -> QPointF:
        frame = self.frame()
        return QPointF(
            (pos.x() - frame.left()) / frame.width(), (pos.y() - frame.top()) / frame.height()
        )

    def layer_image(self, kind: LayerKind) -> QImage:
        """The pixels of the panel's ``kind`` layer the tools draw on (its first: an imported
        Storyboarder board may have several sketch layers), transparent when nothing is drawn."""
        panel = self.panel()
        layer = layer_of(panel, kind) if panel is not None else None
        return self._asset_image(kind, layer.asset if layer is not None else None)

    def _asset_image(self, kind: LayerKind, asset: str | None) -> QImage:
        """A layer's pixels at the layer size, cached by asset and size."""
        size = self.layer_size()
        key = (kind, asset, size.width(), size.height())
        if key not in self._layers:
            path = self.document.assets.file(asset)
            image = QImage(str(path)) if path else QImage()
            if image.isNull():
                image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
                image.fill(Qt.GlobalColor.transparent)
            elif image.size() != size:
                image = image.scaled(size)
            self._layers[key] = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        return self._layers[key]

    # -- painting -----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        panel = self.panel()
        if panel is None:
            super().paintEvent(event)
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#3a3a3a"))
        painter.fillRect(self.stage(), LETTERBOX)
        frame = self.frame()
        painter.fillRect(frame, QColor("#fbf8ef"))
        if self.onion:
            self._paint_onion(painter, frame)
        image = self._load(self.shown_asset())
        if not image.isNull():
            painter.drawImage(frame, image)
        elif panel.prompt and not panel.layers:
            painter.setPen(QColor("#8b8270"))
            painter.drawText(
                frame.adjusted(24, 24, -24, -24),
                int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                panel.prompt,
            )
        target = layer_of(panel, self.target)
        for layer in panel.layers:
            if not layer.visible:
                continue
            pixels = self._stroke if self._stroke is not None and layer is target else None
            painter.setOpacity(layer.opacity * (0.45 if layer.kind is LayerKind.MASK else 1.0))
            painter.drawImage(frame, pixels or self._asset_image(layer.kind, layer.asset))
        if self._stroke is not None and layer_of(panel, self.target) is None:
            painter.setOpacity(0.45 if self.target is LayerKind.MASK else 1.0)
            painter.drawImage(frame, self._stroke)
        painter.setOpacity(1.0)
        names = {c.id: c.name for c in self.document.project.characters.values()}
        paint_boxes(painter, frame, panel, names, self._box)
        paint_guides(painter, frame, thirds=self.thirds, safe_area=self.safe_area)
        painter.setPen(QPen(QColor("#111111"), 2))
        painter.drawRect(frame)

    def _paint_onion(self, painter: QPainter, frame: QRectF) -> None:
        order = self.document.project.ordered_panels()
        index = next((i for i, p in enumerate(order) if p.id == self.selection.current), 0)
        if index == 0:
            return
        previous = order[index - 1]
        painter.setOpacity(0.3)
        for asset in [previous.image] + [
            layer.asset for layer in previous.layers if layer.kind is LayerKind.SKETCH
        ]:
            path = self.document.assets.file(asset)
            picture = QImage(str(path)) if path else QImage()
            if not picture.isNull():
                painter.drawImage(frame, picture)
        painter.setOpacity(1.0)

    # -- strokes -------------------------------------------------------------------------------

    def begin_stroke(self, pos: QPointF, pressure: float) -> None:
        if self.panel() is None:
            return
        self._stroke = self.layer_image(self.target).copy()
        self._last = pos
        self._segment(pos, pos, pressure)

    def continue_stroke(self, pos: QPointF, pressure: float) -> None:
        if self._stroke is None or self._last is None:
            return
        self._segment(self._last, pos, pressure)
        self._last = pos

    def end_stroke(self) -> None:
        panel, stroke = self.panel(), self._stroke
        self._stroke = self._last = None
        if panel is None or stroke is None:
            return
        label = {LayerKind.MASK: "Paint mask", LayerKind.NOTES: "Draw note"}.get(
            self.target, "Erase" if self.tool is Tool.ERASER else "Draw stroke"
        )
        store_layer(self.document, panel.id, self.target, stroke, label)
        self.update()

    def _segment(self, start: QPointF, end: QPointF, pressure: float) -> None:
        assert self._stroke is not None
        scale = self._stroke.width() / max(1.0, self.frame().width())
        a, b = self._to_pixels(start), self._to_pixels(end)
        painter = QPainter(self._stroke)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = QColor(self.color)
        width = self.brush * scale * (0.3 + 0.7 * pressure)
        if self.tool is Tool.ERASER:
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
            width = self.brush * scale * 3
        elif self.target is LayerKind.MASK:
            color, width = QColor(MASK_TINT), self.brush * scale * 4
        elif self.tool is Tool.PENCIL:
            color.setAlphaF(0.35 + 0.5 * pressure)
            width = max(1.0, self.brush * scale * 0.5 * pressure)
        pen = QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawLine(a, b)
        painter.end()
        self.update()

    def _to_pixels(self, pos: QPointF) -> QPointF:
        assert self._stroke is not None
        rel = self.relative(pos)
        return QPointF(rel.x() * self._stroke.width(), rel.y() * self._stroke.height())

    # -- boxes ---------------------------------------------------------------------------------

    def _finish_box(self) -> None:
        panel, box = self.panel(), self._box
        self._box = self._box_start = None
        self.update()
        if panel is None or box is None or box.width() < 4 or box.height() < 4:
            return
        top_left, bottom_right = self.relative(box.topLeft()), self.relative(box.bottomRight())
        left, top = max(0.0, top_left.x()), max(0.0, top_left.y())
        rect = Rect(left, top, min(1.0, bottom_right.x()) - left, min(1.0, bottom_right.y()) - top)
        if min(rect.w, rect.h) < MIN_RELATIVE_SIZE:  # drawn beside the panel, not on it
            return
        if self.tool is Tool.BALLOON_SPACE:
            spaces = [*copy.deepcopy(panel.balloon_space), rect]
            self.document.push(
                EditFields("panel", panel.id, {"balloon_space": spaces}, label="Add balloon space")
            )
            return
        character = self.region_character or next(iter(panel.character_ids), None)
        if character is None or character not in panel.character_ids:
            self.message.emit("Link a character to this panel first; its box goes where it stands.")
            return
        regions = {**copy.deepcopy(panel.character_regions), character: rect}
        self.document.push(
            EditFields("panel", panel.id, {"character_regions": regions}, label="Set character box")
        )

    def remove_box_at(self, pos: QPointF) -> bool:
        """Remove the topmost box under ``pos`` (one undo step); False when there is none."""
        panel = self.panel()
        if panel is None:
            return False
        at = self.relative(pos)

        def inside(rect: Rect) -> bool:
            return rect.x <= at.x() <= rect.x + rect.w and rect.y <= at.y() <= rect.y + rect.h

        for index, rect in reversed(list(enumerate(panel.balloon_space))):
            if inside(rect):
                spaces = [r for i, r in enumerate(panel.balloon_space) if i != index]
                self.document.push(
                    EditFields(
                        "panel", panel.id, {"balloon_space": spaces}, label="Remove balloon space"
                    )
                )
                return True
        for character, rect in panel.character_regions.items():
            if inside(rect):
                regions = {k: v for k, v in panel.character_regions.items() if k != character}
                self.document.push(
                    EditFields(
                        "panel",
                        panel.id,
                        {"character_regions": regions},
                        label="Remove character box",
                    )
                )
                return True
        return False

    # -- input ---------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if event.button() == Qt.MouseButton.RightButton:
            self.remove_box_at(pos)
        elif event.button() == Qt.MouseButton.LeftButton:
            if self.tool in BOX_TOOLS:
                self._box_start, self._box = pos, QRectF(pos, pos)
            else:
                self.begin_stroke(pos, 1.0)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._box_start is not None:
            self._box = QRectF(self._box_start, pos).normalized()
            self.update()
        else:
            self.continue_stroke(pos, 1.0)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self._box_start is not None:
            self._finish_box()
        else:
            self.end_stroke()

    def tabletEvent(self, event: QTabletEvent) -> None:  # noqa: N802
        """Pen input with pressure; accepted, so Qt does not also send it as mouse events."""
        if self.tool in BOX_TOOLS:
            event.ignore()  # boxes are drawn by the synthesized mouse events
            return
        pos, pressure = event.position(), max(0.05, event.pressure())
        match event.type():
            case QTabletEvent.Type.TabletPress:
                self.begin_stroke(pos, pressure)
            case QTabletEvent.Type.TabletMove:
                self.continue_stroke(pos, pressure)
            case QTabletEvent.Type.TabletRelease:
                self.end_stroke()
        event.accept()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        files = [u.toLocalFile().lower() for u in mime.urls()]
        if mime.hasImage() or any(f.endswith(_IMAGE_SUFFIXES) for f in files):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        if self.import_from(event.mimeData(), "dropped"):
            event.acceptProposedAction()

    def paste(self) -> bool:
        """Paste an image (or an image file) from the clipboard as the panel's image."""
        return self.import_from(QGuiApplication.clipboard().mimeData(), "pasted")

    def import_from(self, mime: object, source: str) -> bool:
        panel = self.panel()
        image = QImage()
        if panel is None or mime is None:
            return False
        if mime.hasImage():  # type: ignore[attr-defined]
            image = QImage(mime.imageData())  # type: ignore[attr-defined]
        for url in mime.urls() if image.isNull() else []:  # type: ignore[attr-defined]
            image = QImage(url.toLocalFile())
            if not image.isNull():
                break
        if image.isNull():
            self.message.emit("That is not an image the editor can read.")
            return False
        import_image(self.document, panel.id, image, source)
        self.candidate = None
        return True
