"""Training clips: where they are, and L frames sampled from one as a tensor.

A data path is a video file, a folder of frame images (one clip), a folder of such clips and
videos (searched recursively), or a ``.txt`` list of those paths, one per line, relative to the
list. A clip's caption is a ``.txt`` next to a video (same stem) or ``caption.txt`` in a frame
folder; WebVid-style data has one, and a clip without is trained with the empty prompt.

Frames are sampled with a random stride (1 to ``max_stride``) and start, so one clip gives
transitions of several speeds; clips shorter than the span are skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from inference.motion.clip_io import frame_count, frame_files, is_video, read_frames
from inference.motion.transition import to_pixels

logger = logging.getLogger(__name__)


def find_clips(paths: list[Path]) -> list[Path]:
    """Every clip under ``paths``, in a stable order."""
    clips: list[Path] = []
    for path in paths:
        if path.is_file() and path.suffix.lower() == ".txt":
            lines = path.read_text(encoding="utf-8").splitlines()
            listed = [path.parent / line.strip() for line in lines if line.strip()]
            clips += find_clips(listed)
        elif is_video(path):
            clips.append(path)
        elif path.is_dir():
            clips += _walk(path)
        else:
            raise FileNotFoundError(f"{path} is not a video, a frame folder or a .txt list")
    return clips


def _walk(folder: Path) -> list[Path]:
    if frame_files(folder):
        return [folder]
    found: list[Path] = []
    for child in sorted(folder.iterdir()):
        if is_video(child):
            found.append(child)
        elif child.is_dir():
            found += _walk(child)
    return found


def caption(clip: Path) -> str:
    side = clip / "caption.txt" if clip.is_dir() else clip.with_suffix(".txt")
    return side.read_text(encoding="utf-8").strip() if side.is_file() else ""


@dataclass(frozen=True, slots=True)
class Batch:
    pixels: torch.Tensor  # (B, L, 3, H, W) in [-1, 1]
    prompts: list[str]


class ClipDataset:
    """Clips long enough for ``frames`` frames, sampled reproducibly from a generator."""

    def __init__(self, clips: list[Path], frames: int, width: int, height: int, max_stride: int):
        self.frames, self.width, self.height = frames, width, height
        self.max_stride = max(1, max_stride)
        self.clips: list[tuple[Path, int]] = []
        for clip in clips:
            count = frame_count(clip)
            if count >= frames:
                self.clips.append((clip, count))
            else:
                logger.warning("skipping %s: %d frames, fewer than %d", clip, count, frames)
        if not self.clips:
            raise ValueError(f"no clip has {frames} frames or more")

    def __len__(self) -> int:
        return len(self.clips)

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        pixels, prompts = [], []
        for _ in range(batch_size):
            pick = int(torch.randint(len(self.clips), (1,), generator=generator))
            clip, count = self.clips[pick]
            stride_limit = min(self.max_stride, (count - 1) // (self.frames - 1))
            stride = int(torch.randint(1, stride_limit + 1, (1,), generator=generator))
            span = (self.frames - 1) * stride + 1
            start = int(torch.randint(count - span + 1, (1,), generator=generator))
            images = read_frames(clip, [start + i * stride for i in range(self.frames)])
            pixels.append(torch.cat([to_pixels(im, self.width, self.height) for im in images]))
            prompts.append(caption(clip))
        return Batch(torch.stack(pixels), prompts)
