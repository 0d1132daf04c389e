"""The timeline strip: one card per panel, left to right in story order, scene by scene.

Cards show the thumbnail (or, for a panel without an image, its prompt as a sketch card), the
panel number, the duration, a caption snippet, character badges and the transition to the next
panel. Drag cards to reorder, across scenes too; Ctrl+wheel or the zoom slider resizes them.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPalette,
    QPen,
    QTextLayout,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from storyboard.qt.models.timeline_model import Role, TimelineModel
from storyboard.qt.selection import Selection
from storyboard.qt.thumbnails import ThumbnailCache

CAPTION_LINES = 2
BADGE_COLORS = ["#d9534f", "#5b8def", "#5cb85c", "#f0ad4e", "#9b59b6", "#1abc9c"]
SCENE_COLORS = ["#e8eef7", "#f4ece1"]
TRANSITION_MARKS = {
    "cut": "",
    "crossfade": "✕",
    "dip_to_black": "◐",
    "dip_to_white": "◑",
    "wipe": "▶",
    "push": "⇥",
    "morph": "≈",
    "generated": "✦",
}


class PanelCardDelegate(QStyledItemDelegate):
    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.card_width = 200

    def image_size(self) -> QSize:
        return QSize(self.card_width, self.card_width * 9 // 16)

    def sizeHint(  # noqa: N802
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        line = option.fontMetrics.height()
        return QSize(
            self.card_width + 12, self.image_size().height() + line * (1 + CAPTION_LINES) + 18
        )

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect: QRect = option.rect.adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = option.palette
        scene_index = int(index.data(Role.SCENE_INDEX) or 0)
        painter.setBrush(QColor(SCENE_COLORS[scene_index % 2]))
        highlight = palette.color(QPalette.ColorRole.Highlight)
        painter.setPen(QPen(highlight, 3) if selected else QPen(QColor("#b0b0b0"), 1))
        painter.drawRoundedRect(rect, 6, 6)
        if index.data(Role.SCENE_START):  # a bar marks where a scene begins
            painter.fillRect(QRect(rect.left() - 4, rect.top(), 3, rect.height()), QColor("#555"))

        image_rect = QRect(
            rect.left() + 4, rect.top() + 4, rect.width() - 8, self.image_size().height()
        )
        self._paint_image(painter, image_rect, index)

        metrics = painter.fontMetrics()
        line = metrics.height()
        text_top = image_rect.bottom() + 4
        bold = QFont(painter.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(QColor("#1d1d1d"))  # ink on the card's paper, in either theme
        header = QRect(image_rect.left(), text_top, image_rect.width(), line)
        painter.drawText(header, Qt.AlignmentFlag.AlignLeft, str(index.data(Role.NUMBER)))
        seconds = float(index.data(Role.SECONDS) or 0)
        painter.setFont(option.font)
        painter.drawText(header, Qt.AlignmentFlag.AlignRight, f"{seconds:.1f}s")
        self._paint_badges(painter, header, index.data(Role.CHARACTERS) or [])
        caption = str(index.data(Role.CAPTION) or "")
        caption_rect = QRect(
            image_rect.left(), text_top + line, image_rect.width(), line * CAPTION_LINES
        )
        painter.setPen(QColor("#444"))
        painter.drawText(
            caption_rect,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
            metrics.elidedText(
                caption, Qt.TextElideMode.ElideRight, image_rect.width() * CAPTION_LINES
            ),
        )
        mark = TRANSITION_MARKS.get(str(index.data(Role.TRANSITION)), "")
        if mark:
            painter.setPen(QColor("#333"))
            side = QRect(rect.right() - 14, image_rect.center().y() - 8, 16, 16)
            painter.drawText(side, Qt.AlignmentFlag.AlignCenter, mark)
        painter.restore()

    def _paint_image(
        self, painter: QPainter, target: QRect, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        asset = index.data(Role.IMAGE)
        image = self.thumbnails.get(asset) if asset else None
        if image is not None and not image.isNull():  # whole, between bars, as on the canvas
            scaled = image.scaled(
                target.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            painter.fillRect(target, QColor("#000000"))
            placed = QRect(0, 0, scaled.width(), scaled.height())
            placed.moveCenter(target.center())
            painter.drawImage(placed, scaled)
            return
        # a sketch card: the prompt on paper, so an empty panel still reads as a story beat
        painter.fillRect(target, QColor("#fbf8ef"))
        painter.setPen(QPen(QColor("#c9c2ae"), 1, Qt.PenStyle.DashLine))
        painter.drawRect(target.adjusted(0, 0, -1, -1))
        painter.setPen(QColor("#6b6250"))
        if asset and image is not None:
            text = "image missing"
        elif asset:
            text = "loading…"
        else:
            text = str(index.data(Role.PROMPT) or "empty panel")
        box = target.adjusted(6, 6, -6, -6)
        metrics = painter.fontMetrics()
        lines = fit_lines(painter.font(), text, box.width(), box.height() // metrics.lineSpacing())
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), "\n".join(lines))

    def _paint_badges(self, painter: QPainter, header: QRect, names: list[str]) -> None:
        size = header.height() - 2
        x = header.left() + painter.fontMetrics().horizontalAdvance("00AA") + 8
        for name in names[:4]:
            color = QColor(BADGE_COLORS[sum(map(ord, name)) % len(BADGE_COLORS)])
            painter.setBrush(color)
            painter.setPen(Qt.PenStyle.NoPen)
            badge = QRect(x, header.top() + 1, size, size)
            painter.drawEllipse(badge)
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, name[:1].upper())
            x += size + 3


class TimelineView(QListView):
    """The strip itself; selection is mirrored into the shared :class:`Selection`."""

    MIN_WIDTH, MAX_WIDTH = 96, 480

    def __init__(
        self, model: TimelineModel, selection: Selection, thumbnails: ThumbnailCache
    ) -> None:
        super().__init__()
        self.setObjectName("timeline")
        self.selection = selection
        self.setModel(model)
        self.card_delegate = PanelCardDelegate(thumbnails, self)
        self.setItemDelegate(self.card_delegate)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDropIndicatorShown(True)
        self.setMovement(QListView.Movement.Snap)
        thumbnails.ready.connect(self._thumbnail_ready)
        self.selectionModel().selectionChanged.connect(self._sync_selection)
        self.selectionModel().currentChanged.connect(self._sync_selection)
        model.modelReset.connect(self._restore_selection)
        self._update_height()

    def timeline_model(self) -> TimelineModel:
        model = self.model()
        assert isinstance(model, TimelineModel)
        return model

    def set_card_width(self, width: int) -> None:
        self.card_delegate.card_width = max(self.MIN_WIDTH, min(self.MAX_WIDTH, width))
        self._update_height()
        self.scheduleDelayedItemsLayout()

    def _update_height(self) -> None:
        hint = self.card_delegate.sizeHint(QStyleOptionViewItem(), QModelIndex())
        self.setMinimumHeight(hint.height() + self.horizontalScrollBar().sizeHint().height() + 8)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            step = 24 if event.angleDelta().y() > 0 else -24
            self.set_card_width(self.card_delegate.card_width + step)
            event.accept()
            return
        if event.angleDelta().y() and not event.angleDelta().x():  # a mouse wheel scrolls sideways
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - event.angleDelta().y())
            event.accept()
            return
        super().wheelEvent(event)

    def select_panels(self, panel_ids: list[str], current: str | None = None) -> None:
        model = self.timeline_model()
        selection = self.selectionModel()
        selection.clearSelection()
        for panel_id in panel_ids:
            row = model.row_of(panel_id)
            if row >= 0:
                selection.select(model.index(row), QItemSelectionModel.SelectionFlag.Select)
        focus = current or (panel_ids[-1] if panel_ids else None)
        if focus is not None and model.row_of(focus) >= 0:
            index = model.index(model.row_of(focus))
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.scrollTo(index)
        self._sync_selection()

    def _sync_selection(self, *_: object) -> None:
        model = self.timeline_model()
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        ids = [model.panel_ids()[r] for r in rows]
        current = self.currentIndex()
        current_id = model.panel_ids()[current.row()] if current.isValid() else None
        if current_id not in ids:
            current_id = ids[-1] if ids else None
        self.selection.set(ids, current_id)

    def _restore_selection(self) -> None:
        kept = [pid for pid in self.selection.selected if self.timeline_model().row_of(pid) >= 0]
        current = self.selection.current
        self.select_panels(kept, current if current in kept else None)

    def _thumbnail_ready(self, asset: str) -> None:
        self.viewport().update()


def fit_lines(font: QFont, text: str, width: int, max_lines: int) -> list[str]:
    """``text`` wrapped at word boundaries to ``width`` pixels, at most ``max_lines`` lines, the
    last one ended with "…" when text is left over: a long prompt on a sketch card shows its
    start whole instead of a middle clipped at the top and bottom of the card."""
    layout = QTextLayout(text, font)
    layout.beginLayout()
    spans: list[tuple[int, int]] = []
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        spans.append((line.textStart(), line.textLength()))
    layout.endLayout()
    shown = [text[start : start + length].strip() for start, length in spans[: max(1, max_lines)]]
    if len(spans) > max(1, max_lines):
        rest = text[spans[len(shown) - 1][0] :].strip()
        shown[-1] = QFontMetrics(font).elidedText(rest, Qt.TextElideMode.ElideRight, width)
    return shown
