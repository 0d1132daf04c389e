"""The pictures a guided pipeline takes, made from a panel's guide files with Pillow.

* the **init image** (img2img, inpainting source): the accepted image (white without one) with the
  visible sketch layers on top, balloon space filled flat white so the model keeps it simple;
* the **line image** (ControlNet scribble/lineart, T2I sketch adapter): the sketch's lines white on
  black, the convention those models were trained on; balloon space holds no lines;
* the **mask**: opaque pixels of the mask layer, hard-edged, so compositing the result back keeps
  every pixel outside it exactly as it was.
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageOps

from storyboard.core.guides import Box, Guide

Size = tuple[int, int]


def base_image(guide: Guide, size: Size) -> Image.Image:
    """The accepted image at ``size`` (white when the panel has none)."""
    if guide.image is None:
        return Image.new("RGB", size, "white")
    with Image.open(guide.image) as image:
        return _fit(image.convert("RGB"), size, Image.Resampling.LANCZOS)


def _fit(image: Image.Image, size: Size, method: Image.Resampling) -> Image.Image:
    return image if image.size == size else image.resize(size, method)


def _layer(path: str, size: Size, opacity: float) -> Image.Image:
    with Image.open(path) as image:
        layer = _fit(image.convert("RGBA"), size, Image.Resampling.LANCZOS)
    if opacity < 1.0:
        alpha = layer.getchannel("A").point(lambda a: round(a * opacity))
        layer.putalpha(alpha)
    return layer


def _pixels(box: Box, size: Size) -> tuple[int, int, int, int]:
    width, height = size
    left, top, right, bottom = box
    return (round(left * width), round(top * height), round(right * width), round(bottom * height))


def _clear(image: Image.Image, boxes: tuple[Box, ...], fill: str) -> Image.Image:
    if boxes:
        draw = ImageDraw.Draw(image)
        for box in boxes:
            draw.rectangle(_pixels(box, image.size), fill=fill)
    return image


def init_image(guide: Guide, size: Size) -> Image.Image:
    """The image with the sketch drawn over it, balloon space flat white."""
    canvas = base_image(guide, size).convert("RGBA")
    for path, opacity in guide.sketch:
        canvas.alpha_composite(_layer(path, size, opacity))
    return _clear(canvas.convert("RGB"), guide.keep_clear, "white")


def line_image(guide: Guide, size: Size) -> Image.Image:
    """The sketch alone as white lines on black (the scribble/sketch models' input)."""
    paper = Image.new("RGBA", size, "white")
    for path, opacity in guide.sketch:
        paper.alpha_composite(_layer(path, size, opacity))
    lines = ImageOps.invert(paper.convert("L"))
    return _clear(lines, guide.keep_clear, "black").convert("RGB")


def mask_image(guide: Guide, size: Size) -> Image.Image:
    """The mask layer as a hard black/white L image (white: regenerate)."""
    if guide.mask is None:
        return Image.new("L", size, 255)
    with Image.open(guide.mask) as image:
        alpha = image.convert("RGBA").getchannel("A")
    alpha = _fit(alpha, size, Image.Resampling.NEAREST)
    return alpha.point(lambda a: 255 if a > 0 else 0)


def mask_box(mask: Image.Image) -> Box | None:
    """The relative bounding box of a mask's white pixels (None when nothing is masked)."""
    bbox = mask.getbbox()
    if bbox is None:
        return None
    width, height = mask.size
    left, top, right, bottom = bbox
    return (left / width, top / height, right / width, bottom / height)


def paste_inside(generated: Image.Image, original: Image.Image, mask: Image.Image) -> Image.Image:
    """``generated`` inside the mask, ``original`` everywhere else, pixel for pixel."""
    inside = _fit(generated.convert("RGB"), original.size, Image.Resampling.LANCZOS)
    return Image.composite(inside, original, mask)
