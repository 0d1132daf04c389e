"""Transition pixels: blends of two rendered frames (H x W x 4 uint8) into a third.

OpenCV does the arithmetic (``addWeighted``, ``remap``) because it is several times faster than
numpy on full-HD frames and releases the GIL while the encoder works. The flow morph follows the
research in ``research/motion.md`` section 4.2: DIS flow both ways, backward warp of both panels to
time t and a blend; it measures how much the two flows disagree and refuses to morph (crossfades)
panels that are too different, where a morph only ghosts.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from storyboard.export.animatic_options import Direction
from storyboard.export.output import ExportError

log = logging.getLogger(__name__)

Pixels = NDArray[np.uint8]

# Flows are computed at this width: DIS at full HD costs ~0.5 s, at 320 px ~20 ms, and the
# panels' large motions survive the downscale.
FLOW_WIDTH = 320
# Forward-backward error (in flow pixels at FLOW_WIDTH) above which a pixel counts as disagreeing:
# 1.25 px here is the research's 3 px at 768 px.
CONSISTENCY_PX = 1.25


def crossfade(a: Pixels, b: Pixels, t: float, out: Pixels) -> None:
    cv2.addWeighted(a, 1.0 - t, b, t, 0.0, dst=out)


def dip(a: Pixels, b: Pixels, t: float, level: int, out: Pixels) -> None:
    """Fade ``a`` out to a flat grey ``level`` (0 black, 255 white), then fade ``b`` in."""
    source, s = (a, 1.0 - 2 * t) if t < 0.5 else (b, 2 * t - 1.0)
    cv2.addWeighted(source, s, source, 0.0, level * (1.0 - s), dst=out)


def wipe(a: Pixels, b: Pixels, t: float, direction: Direction, out: Pixels) -> None:
    """A hard edge travels towards ``direction``, uncovering ``b`` behind it."""
    height, width = a.shape[:2]
    out[:] = a
    if direction is Direction.LEFT:
        edge = round(width * (1 - t))
        out[:, edge:] = b[:, edge:]
    elif direction is Direction.RIGHT:
        edge = round(width * t)
        out[:, :edge] = b[:, :edge]
    elif direction is Direction.UP:
        edge = round(height * (1 - t))
        out[edge:] = b[edge:]
    else:
        edge = round(height * t)
        out[:edge] = b[:edge]


def push(a: Pixels, b: Pixels, t: float, direction: Direction, out: Pixels) -> None:
    """``b`` slides in and pushes ``a`` out, both moving towards ``direction``."""
    height, width = a.shape[:2]
    if direction in (Direction.LEFT, Direction.RIGHT):
        off = round(width * t)
        if direction is Direction.LEFT:
            out[:, : width - off] = a[:, off:]
            out[:, width - off :] = b[:, :off]
        else:
            out[:, off:] = a[:, : width - off]
            out[:, :off] = b[:, width - off :]
    else:
        off = round(height * t)
        if direction is Direction.UP:
            out[: height - off] = a[off:]
            out[height - off :] = b[:off]
        else:
            out[off:] = a[: height - off]
            out[:off] = b[height - off :]


class FlowMorph:
    """An optical-flow morph between two frames, prepared once per transition."""

    def __init__(self, a: Pixels, b: Pixels) -> None:
        height, width = a.shape[:2]
        small_w = min(FLOW_WIDTH, width)
        small_h = max(8, round(height * small_w / width))
        ga = cv2.cvtColor(
            cv2.resize(a, (small_w, small_h), interpolation=cv2.INTER_AREA), cv2.COLOR_RGBA2GRAY
        )
        gb = cv2.cvtColor(
            cv2.resize(b, (small_w, small_h), interpolation=cv2.INTER_AREA), cv2.COLOR_RGBA2GRAY
        )
        dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        f_ab = np.asarray(dis.calc(ga, gb, np.zeros((small_h, small_w, 2), np.float32)), np.float32)
        f_ba = np.asarray(dis.calc(gb, ga, np.zeros((small_h, small_w, 2), np.float32)), np.float32)
        self.disagreement = _disagreement(f_ab, f_ba)
        sx, sy = width / small_w, height / small_h
        full = (width, height)
        self._ab = (cv2.resize(f_ab[..., 0], full) * sx, cv2.resize(f_ab[..., 1], full) * sy)
        self._ba = (cv2.resize(f_ba[..., 0], full) * sx, cv2.resize(f_ba[..., 1], full) * sy)
        self._grid = _grid(width, height)

    def blend(self, a: Pixels, b: Pixels, t: float, out: Pixels) -> None:
        gx, gy = self._grid
        warped_a = _warp(a, gx + t * self._ba[0], gy + t * self._ba[1])
        warped_b = _warp(b, gx + (1.0 - t) * self._ab[0], gy + (1.0 - t) * self._ab[1])
        crossfade(warped_a, warped_b, t, out)


Floats = NDArray[np.float32]


def _grid(width: int, height: int) -> tuple[Floats, Floats]:
    gx, gy = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return gx, gy


def _warp(image: NDArray[np.generic], map_x: Floats, map_y: Floats) -> Pixels:
    warped = cv2.remap(
        image,  # type: ignore[arg-type]
        map_x,
        map_y,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(warped)


def _disagreement(f_ab: Floats, f_ba: Floats) -> float:
    """Share of pixels whose round trip A -> B -> A misses by more than CONSISTENCY_PX."""
    gx, gy = _grid(f_ab.shape[1], f_ab.shape[0])
    back = np.asarray(_warp(f_ba, gx + f_ab[..., 0], gy + f_ab[..., 1]), np.float32)
    error = np.hypot(f_ab[..., 0] + back[..., 0], f_ab[..., 1] + back[..., 1])
    return float(np.mean(error > CONSISTENCY_PX))


class GeneratedClip:
    """A transition video made by the motion model, resampled to the transition's frames."""

    def __init__(self, path: Path, size: tuple[int, int], frames: int) -> None:
        try:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                decoded = [f.to_ndarray(format="rgba") for f in container.decode(stream)]
        except (av.FFmpegError, OSError, IndexError) as exc:
            raise ExportError(
                path, "the generated transition clip could not be read", "Generate it again"
            ) from exc
        if not decoded:
            raise ExportError(path, "the generated transition clip is empty", "Generate it again")
        step = Fraction(len(decoded), frames)
        picks = [decoded[min(len(decoded) - 1, int(i * step))] for i in range(frames)]
        self._frames = [
            np.asarray(cv2.resize(f, size, interpolation=cv2.INTER_AREA), np.uint8) for f in picks
        ]

    def frame(self, index: int) -> Pixels:
        return self._frames[min(index, len(self._frames) - 1)]
