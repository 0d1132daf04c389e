"""Tiles of a large picture and their blend: what keeps a print-size refine's memory bounded.

A picture larger than the model's size is refined one tile at a time, each tile exactly the size
the panel was generated at (so the identity banks, written at that latent size, can be read in
it). Neighbouring tiles overlap; in the overlap each tile's weight falls off linearly towards its
inner edge, so the seams blend instead of showing. At the picture's own edges a tile keeps full
weight. Only the float accumulators of the whole picture live in (CPU) memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Tile:
    """A tile's place in the picture, in pixels."""

    x: int
    y: int
    w: int
    h: int

    def relative(
        self, box: tuple[float, float, float, float], size: tuple[int, int]
    ) -> tuple[float, float, float, float] | None:
        """``box`` (relative to the whole picture of ``size``) relative to this tile, clipped;
        None when the two do not meet."""
        width, height = size
        x0 = min(max((box[0] * width - self.x) / self.w, 0.0), 1.0)
        y0 = min(max((box[1] * height - self.y) / self.h, 0.0), 1.0)
        x1 = min(max((box[2] * width - self.x) / self.w, 0.0), 1.0)
        y1 = min(max((box[3] * height - self.y) / self.h, 0.0), 1.0)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def starts(length: int, tile: int, overlap: int) -> list[int]:
    """Where tiles of ``tile`` pixels start to cover ``length`` with at least ``overlap`` shared
    between neighbours, spread evenly, the last one flush with the end."""
    if tile >= length:
        return [0]
    stride = max(1, tile - overlap)
    count = math.ceil((length - tile) / stride) + 1
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def tile_grid(size: tuple[int, int], tile: tuple[int, int], overlap: float) -> list[Tile]:
    """Tiles covering a picture of ``size``; ``overlap`` is the share of a tile shared with a
    neighbour (at least; the even spread may share more). Row by row, top left first."""
    (width, height), (tw, th) = size, tile
    if tw > width or th > height:
        raise ValueError(f"a {tw}x{th} tile does not fit a {width}x{height} picture")
    xs = starts(width, tw, round(tw * overlap))
    ys = starts(height, th, round(th * overlap))
    return [Tile(x, y, tw, th) for y in ys for x in xs]


class Blend:
    """Weighted sum of refined tiles over the picture (float32, H x W x C), divided at the end."""

    def __init__(self, size: tuple[int, int], channels: int = 3) -> None:
        width, height = size
        self.size = size
        self.sum = np.zeros((height, width, channels), dtype=np.float32)
        self.weight = np.zeros((height, width, 1), dtype=np.float32)

    def add(self, tile: Tile, pixels: np.ndarray, ramp: tuple[int, int]) -> None:
        """Add a tile's pixels (h x w x C floats); ``ramp`` pixels (x, y) fall off towards each
        inner edge (none at the picture's edges)."""
        width, height = self.size
        wx = _ramp(tile.w, ramp[0], tile.x > 0, tile.x + tile.w < width)
        wy = _ramp(tile.h, ramp[1], tile.y > 0, tile.y + tile.h < height)
        weight = (wy[:, None] * wx[None, :])[:, :, None]
        rows, cols = slice(tile.y, tile.y + tile.h), slice(tile.x, tile.x + tile.w)
        self.sum[rows, cols] += pixels.astype(np.float32) * weight
        self.weight[rows, cols] += weight

    def result(self) -> np.ndarray:
        """The blended picture (every pixel covered by some tile)."""
        if float(self.weight.min()) <= 0:
            raise ValueError("the tiles leave part of the picture uncovered")
        out: np.ndarray = self.sum / self.weight
        return out


def _ramp(length: int, ramp: int, before: bool, after: bool) -> np.ndarray:
    """1 inside, rising over ``ramp`` pixels from an inner edge (never 0: a pixel only one tile
    covers keeps its value)."""
    weight = np.ones(length, dtype=np.float32)
    if ramp <= 0:
        return weight
    rise = (np.arange(length, dtype=np.float32) + 0.5) / ramp
    if before:
        weight = np.minimum(weight, rise)
    if after:
        weight = np.minimum(weight, rise[::-1])
    return weight
