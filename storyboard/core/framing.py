"""Pan and zoom of an image inside a comic frame: the frame's ``crop`` rectangle.

The crop is the part of the image shown, relative to the image (0..1). Zooming keeps its aspect
ratio (the frame's) and the point under the cursor still; panning keeps its size; both keep it
inside the image, so a frame never shows past the image's edge.
"""

from __future__ import annotations

from storyboard.core.model import Rect

MIN_SIZE = 0.05  # zooming in stops at 20x


def clamp_crop(crop: Rect) -> Rect:
    w, h = max(crop.w, 1e-9), max(crop.h, 1e-9)
    smallest = min(w, h)
    if smallest < MIN_SIZE:  # not closer than 20x
        w, h = w * MIN_SIZE / smallest, h * MIN_SIZE / smallest
    largest = max(w, h)
    if largest > 1:  # never larger than the image (wins over the zoom limit)
        w, h = w / largest, h / largest
    x = min(max(crop.x, 0.0), 1 - w)
    y = min(max(crop.y, 0.0), 1 - h)
    return Rect(x, y, w, h)


def zoom_crop(crop: Rect, factor: float, at_x: float = 0.5, at_y: float = 0.5) -> Rect:
    """Zoom by ``factor`` (> 1 closer) around the point (at_x, at_y), relative to the frame."""
    w, h = crop.w / factor, crop.h / factor
    anchor_x, anchor_y = crop.x + at_x * crop.w, crop.y + at_y * crop.h
    return clamp_crop(Rect(anchor_x - at_x * w, anchor_y - at_y * h, w, h))


def pan_crop(crop: Rect, dx: float, dy: float) -> Rect:
    """Move the image with the cursor by (dx, dy), fractions of the frame's size."""
    return clamp_crop(Rect(crop.x - dx * crop.w, crop.y - dy * crop.h, crop.w, crop.h))


def letterbox(image_w: float, image_h: float, target_w: float, target_h: float) -> Rect:
    """Where a whole image sits, centred, in a target of another aspect ratio (relative to the
    target): bars above and below or at the sides, never a stretched or cropped picture.

    One rule for every view of a panel that has no crop of the artist's (canvas, timeline card,
    player and video), so a 64 px square in a 16:9 project looks the same in each (issue 28).
    """
    if min(image_w, image_h, target_w, target_h) <= 0:
        return Rect()
    image_aspect, target_aspect = image_w / image_h, target_w / target_h
    if image_aspect > target_aspect:  # wider: bars above and below
        h = target_aspect / image_aspect
        return Rect(0.0, (1 - h) / 2, 1.0, h)
    w = image_aspect / target_aspect
    return Rect((1 - w) / 2, 0.0, w, 1.0)
