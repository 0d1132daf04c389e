"""Draws frame N of an animatic plan: the one renderer behind the player and every export.

QPainter into QImages of ``Format_RGBX8888``, whose bytes are exactly PyAV's ``rgba`` and
OpenCV's 4-channel layout, so frames reach the encoder and the transition blends without a
conversion. Speed comes from doing little per frame: each panel is cropped and scaled once (for
its tightest camera framing), captions are rasterised once per text, and a frame identical to
the previous one (a held panel) is not drawn again: :meth:`FrameRenderer.frame_key` says so.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
)

from storyboard.core.assets import AssetStore
from storyboard.core.framing import letterbox
from storyboard.core.model import TransitionKind
from storyboard.export.animatic import (
    FULL,
    AnimaticPlan,
    ClipPlan,
    FrameSpec,
    TransitionPlan,
)
from storyboard.export.animatic_options import CaptionMode
from storyboard.export.fonts import lettering_font, ui_font
from storyboard.export.transitions import (
    FlowMorph,
    GeneratedClip,
    Pixels,
    crossfade,
    dip,
    push,
    wipe,
)

log = logging.getLogger(__name__)

FORMAT = QImage.Format.Format_RGBX8888
CARD_BACKGROUND = QColor("#3b4048")
CARD_BORDER = QColor("#5c6470")
CARD_TEXT = QColor("#e8e6e3")
CARD_MUTED = QColor("#a9adb3")
# Zooming further than this into a panel is drawn from the 2.5x source (slightly soft).
MAX_SOURCE_ZOOM = 2.5


def pixels(image: QImage) -> Pixels:
    """A writable H x W x 4 view of an RGBX8888 image's memory (keep ``image`` alive)."""
    height, width = image.height(), image.width()
    view = np.frombuffer(image.bits(), np.uint8)
    rows = view.reshape(height, image.bytesPerLine())
    return rows[:, : width * 4].reshape(height, width, 4)


def _wrap(text: str, metrics: QFontMetricsF, width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if line and metrics.horizontalAdvance(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


class FrameRenderer:
    """Renders frames of one plan. Not thread-safe: one renderer per thread.

    ``render`` returns an image the renderer reuses: copy it (``QImage.copy()``) to keep it.
    """

    def __init__(self, plan: AnimaticPlan, bundle: Path | None) -> None:
        self.plan = plan
        self._store = AssetStore(bundle) if bundle is not None else None
        size = (plan.width, plan.height)
        self._out = QImage(*size, FORMAT)
        self._a = QImage(*size, FORMAT)
        self._b = QImage(*size, FORMAT)
        self._sources: dict[int, Pixels] = {}
        self._captions: dict[str, tuple[QImage, QRect]] = {}
        self._morphs: dict[int, FlowMorph | None] = {}
        self._generated: dict[int, GeneratedClip] = {}
        self._last_key: Hashable = None
        style = plan.options.caption_style
        font = lettering_font(10) if style.font == "lettering" else ui_font(10)
        font.setPixelSize(max(8, round(style.size * plan.height)))
        self._caption_font = font
        self._label_font = ui_font(10)
        self._label_font.setPixelSize(max(8, round(0.035 * plan.height)))
        self._label_font.setBold(True)

    # -- public ----------------------------------------------------------------------------

    def frame_key(self, frame: int) -> Hashable:
        """Equal keys mean identical pixels: a held panel is drawn and encoded once."""
        spec = self.plan.at(frame)
        options = self.plan.options
        moving = spec.clip.camera is not None and spec.clip.camera.moving
        return (
            spec.clip.index,
            spec.clip.framing(frame) if moving or spec.transition else None,
            spec.transition and (spec.transition.index, spec.t),
            spec.next_clip and spec.next_clip.framing(frame),
            spec.caption.text if spec.caption and self._burn else None,
            self.plan.clip_at(frame).number if options.shot_numbers else None,
            self.plan.timecode(frame) if options.timecode else None,
        )

    def render(self, frame: int) -> QImage:
        key = self.frame_key(frame)
        if key != self._last_key:
            spec = self.plan.at(frame)
            if spec.transition is None:
                self._draw_clip(pixels(self._out), spec.clip, frame)
            else:
                self._draw_transition(spec)
            self._draw_overlays(spec)
            self._last_key = key
        return self._out

    def caption_rect(self, text: str) -> QRect:
        """Where a burned caption of ``text`` is drawn (its outline included)."""
        return self._caption(text)[1]

    # -- panels ------------------------------------------------------------------------------

    @property
    def _burn(self) -> bool:
        return self.plan.options.captions in (CaptionMode.BURN, CaptionMode.BOTH)

    def _source(self, clip: ClipPlan) -> Pixels:
        """The panel letterboxed on the picture and scaled for its tightest framing."""
        cached = self._sources.get(clip.index)
        if cached is not None:
            return cached
        for index in [i for i in self._sources if abs(i - clip.index) > 1]:
            del self._sources[index]
        _, _, pw, ph = self.plan.picture
        zoom = 1.0
        if clip.camera is not None:
            tightest = min(clip.camera.start.w, clip.camera.start.h)
            tightest = min(tightest, clip.camera.end.w, clip.camera.end.h)
            zoom = min(MAX_SOURCE_ZOOM, 1.0 / max(tightest, 1e-3))
        width, height = round(pw * zoom), round(ph * zoom)
        original = self._load(clip)
        if original is None:
            source = self._card(clip, width, height)
        else:
            source = self._cover(original, width, height)
        self._sources[clip.index] = pixels(source).copy()
        return self._sources[clip.index]

    def _load(self, clip: ClipPlan) -> QImage | None:
        if clip.image is None or self._store is None:
            return None
        path = self._store.file(clip.image)
        image = QImage(str(path)) if path else QImage()
        if image.isNull():
            log.warning("panel %s: image %s is missing or unreadable", clip.number, clip.image)
            return None
        return image

    def _cover(self, image: QImage, width: int, height: int) -> QImage:
        """The whole image at its own shape, centred between black bars on a picture of
        ``width`` x ``height`` (core.framing.letterbox: the rule of the canvas and the timeline;
        a 64 px square in a 16:9 animatic keeps the hats and feet the model drew)."""
        box = letterbox(image.width(), image.height(), width, height)
        placed = QRect(
            round(box.x * width), round(box.y * height), round(box.w * width), round(box.h * height)
        )
        scaled = image.scaled(
            max(1, placed.width()),
            max(1, placed.height()),
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        picture = QImage(width, height, FORMAT)
        picture.fill(Qt.GlobalColor.black)
        painter = QPainter(picture)
        painter.drawImage(placed.topLeft(), scaled.convertToFormat(FORMAT))
        painter.end()
        return picture

    def _card(self, clip: ClipPlan, width: int, height: int) -> QImage:
        """A panel without a usable image: its number, prompt and dialogue on a neutral card."""
        card = QImage(width, height, FORMAT)
        card.fill(CARD_BACKGROUND)
        painter = QPainter(card)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        unit = height / 20
        margin = unit
        painter.setPen(QPen(CARD_BORDER, max(1.0, unit / 6)))
        painter.drawRect(QRectF(margin / 2, margin / 2, width - margin, height - margin))
        font = ui_font(10)
        font.setBold(True)
        font.setPixelSize(max(6, round(unit * 1.4)))
        painter.setFont(font)
        painter.setPen(CARD_TEXT)
        header = QRectF(margin * 1.5, unit * 2.2, width - 3 * margin, unit * 2)
        painter.drawText(header, Qt.AlignmentFlag.AlignLeft, clip.number)
        font.setBold(False)
        font.setPixelSize(max(6, round(unit * 0.8)))
        painter.setFont(font)
        painter.setPen(CARD_MUTED)
        missing = "image missing" if clip.image else "no image yet"
        painter.drawText(header, Qt.AlignmentFlag.AlignRight, f"{clip.scene}   {missing}")
        font.setPixelSize(max(6, round(unit * 1.0)))
        painter.setFont(font)
        painter.setPen(CARD_TEXT)
        body = QRectF(margin * 3, unit * 5, width - 6 * margin, unit * 6)
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        painter.drawText(body, int(flags), clip.prompt or "(no prompt)")
        if clip.dialogue:
            dialogue_font = lettering_font(10)
            dialogue_font.setPixelSize(max(6, round(unit * 1.0)))
            painter.setFont(dialogue_font)
            painter.setPen(CARD_MUTED)
            lines = QRectF(margin * 3, unit * 11, width - 6 * margin, unit * 4)
            painter.drawText(lines, int(flags), f"\u201c{clip.dialogue}\u201d")
        painter.end()
        return card

    def _draw_clip(self, target: Pixels, clip: ClipPlan, frame: int) -> None:
        """The clip's panel at its framing for ``frame``, black outside the picture.

        OpenCV's warpAffine (SIMD, multi-threaded, GIL released) rather than a QPainter
        transform: a moving 1080p frame costs a few milliseconds instead of fifteen.
        """
        px, py, pw, ph = self.plan.picture
        height, width = target.shape[:2]
        source = self._source(clip)
        sh, sw = source.shape[:2]
        framing = clip.framing(frame)
        rw, rh = framing.w * sw, framing.h * sh
        cx, cy = framing.x * sw + rw / 2, framing.y * sh + rh / 2
        if rw / rh > pw / ph:  # keep the picture's aspect: widen the framing, never stretch
            rh = rw * ph / pw
        else:
            rw = rh * pw / ph
        if framing == FULL and (sw, sh) == (pw, ph):
            target[:] = 0
            x0, y0 = max(px, 0), max(py, 0)
            x1, y1 = min(px + pw, width), min(py + ph, height)
            target[y0:y1, x0:x1] = source[y0 - py : y1 - py, x0 - px : x1 - px]
        else:
            scale = pw / rw
            angle = math.radians(framing.angle)
            cos, sin = scale * math.cos(angle), scale * math.sin(angle)
            tx = px + pw / 2 - (cos * cx - sin * cy)
            ty = py + ph / 2 - (sin * cx + cos * cy)
            matrix = np.array([[cos, -sin, tx], [sin, cos, ty]], np.float64)
            cv2.warpAffine(
                source,
                matrix,
                (width, height),
                dst=target,
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=(0, 0, 0, 255),
            )
            target[: max(py, 0)] = 0
            target[max(py + ph, 0) :] = 0
            target[:, : max(px, 0)] = 0
            target[:, max(px + pw, 0) :] = 0

    # -- transitions -------------------------------------------------------------------------

    def _draw_transition(self, spec: FrameSpec) -> None:
        transition, t = spec.transition, spec.t
        assert transition is not None and spec.next_clip is not None
        out = pixels(self._out)
        if transition.effect is TransitionKind.GENERATED and transition.clip is not None:
            self._draw_generated(transition, spec.frame - transition.start, out)
            return
        a, b = pixels(self._a), pixels(self._b)
        self._draw_clip(a, spec.clip, spec.frame)
        self._draw_clip(b, spec.next_clip, spec.frame)
        effect = transition.effect
        if effect is TransitionKind.MORPH:
            morph = self._morph(transition, a, b)
            if morph is not None:
                morph.blend(a, b, t, out)
                return
            effect = TransitionKind.CROSSFADE
        if effect is TransitionKind.DIP_TO_BLACK:
            dip(a, b, t, 0, out)
        elif effect is TransitionKind.DIP_TO_WHITE:
            dip(a, b, t, 255, out)
        elif effect is TransitionKind.WIPE:
            wipe(a, b, t, transition.direction, out)
        elif effect is TransitionKind.PUSH:
            push(a, b, t, transition.direction, out)
        else:
            crossfade(a, b, t, out)

    def _morph(self, transition: TransitionPlan, a: Pixels, b: Pixels) -> FlowMorph | None:
        """The transition's flow, from its first frame; None when the panels are too different."""
        if transition.index not in self._morphs:
            morph = FlowMorph(a, b)
            limit = self.plan.options.morph_max_disagreement
            usable = morph.disagreement <= limit
            log.info(
                "morph after panel %d: flows disagree on %.0f%% of pixels (limit %.0f%%): %s",
                transition.index,
                100 * morph.disagreement,
                100 * limit,
                "morphing" if usable else "crossfading instead",
            )
            self._morphs = {transition.index: morph if usable else None}
        return self._morphs[transition.index]

    def _draw_generated(self, transition: TransitionPlan, index: int, out: Pixels) -> None:
        clip = self._generated.get(transition.index)
        if clip is None:
            assert transition.clip is not None
            _, _, pw, ph = self.plan.picture
            frames = transition.end - transition.start
            clip = GeneratedClip(transition.clip, (pw, ph), frames)
            self._generated = {transition.index: clip}
        px, py, pw, ph = self.plan.picture
        out[:] = 0
        x0, y0 = max(px, 0), max(py, 0)
        x1, y1 = min(px + pw, self.plan.width), min(py + ph, self.plan.height)
        out[y0:y1, x0:x1] = clip.frame(index)[y0 - py : y1 - py, x0 - px : x1 - px]

    # -- overlays ----------------------------------------------------------------------------

    def _draw_overlays(self, spec: FrameSpec) -> None:
        options = self.plan.options
        caption = spec.caption if self._burn else None
        if caption is None and not options.shot_numbers and not options.timecode:
            return
        painter = QPainter(self._out)
        if caption is not None:
            image, rect = self._caption(caption.text)
            painter.drawImage(rect.topLeft(), image)
        if options.shot_numbers:
            self._label(painter, self.plan.clip_at(spec.frame).number, left=True)
        if options.timecode:
            self._label(painter, self.plan.timecode(spec.frame), left=False)
        painter.end()

    def _caption(self, text: str) -> tuple[QImage, QRect]:
        cached = self._captions.get(text)
        if cached is not None:
            return cached
        style = self.plan.options.caption_style
        width, height = self.plan.width, self.plan.height
        safe_w = width * (1 - 2 * style.safe_area)
        metrics = QFontMetricsF(self._caption_font)
        lines = _wrap(text, metrics, safe_w)
        pen_width = max(1.0, style.outline * self._caption_font.pixelSize())
        line_height = metrics.lineSpacing()
        box_h = round(line_height * len(lines) + 2 * pen_width) + 2
        box = QRect(
            round(width * style.safe_area),
            round(height * style.safe_area),
            round(safe_w),
            box_h,
        )
        if style.position != "top":
            box.moveBottom(round(height * (1 - style.safe_area)))
        path = QPainterPath()
        for row, line in enumerate(lines):
            x = (box.width() - metrics.horizontalAdvance(line)) / 2
            baseline = pen_width + 1 + metrics.ascent() + row * line_height
            path.addText(QPointF(x, baseline), self._caption_font, line)
        image = QImage(box.size(), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        outline = QPen(QColor(style.outline_color), 2 * pen_width)
        outline.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.strokePath(path, outline)
        painter.fillPath(path, QColor(style.color))
        painter.end()
        self._captions[text] = (image, box)
        return image, box

    def _label(self, painter: QPainter, text: str, *, left: bool) -> None:
        """Shot number (top left) or timecode (top right) in the safe area, on a dark plate."""
        margin = round(self.plan.options.caption_style.safe_area * self.plan.height / 2)
        metrics = QFontMetricsF(self._label_font)
        pad = metrics.height() / 4
        w, h = metrics.horizontalAdvance(text) + 2 * pad, metrics.height() + pad
        x = margin if left else self.plan.width - margin - w
        plate = QRectF(x, margin, w, h)
        painter.fillRect(plate, QColor(0, 0, 0, 170))
        painter.setFont(self._label_font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(plate, int(Qt.AlignmentFlag.AlignCenter), text)
