"""Reading clips (a folder of frame images or a video file) and writing transition clips.

PyAV does the video work on both sides. The export package has the animatic's full MP4 writer
(audio, captions), but inference must not import it; a transition clip only needs its frames in
an H.264 file the animatic can read back, or a PNG per frame.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

from PIL import Image

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".gif"})


def _natural(path: Path) -> list[int | str]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name)]


def frame_files(folder: Path) -> list[Path]:
    """The image files of a frame folder in natural order (frame2 before frame10)."""
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    return sorted(files, key=_natural)


def is_video(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES


def frame_count(clip: Path) -> int:
    """Frames in a clip: counted files, the container's count, or a decode when it has none."""
    if clip.is_dir():
        return len(frame_files(clip))
    import av

    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        if stream.frames:
            return int(stream.frames)
        return sum(1 for _ in container.decode(stream))


def read_frames(clip: Path, indices: Sequence[int]) -> list[Image.Image]:
    """The RGB frames at ``indices`` (ascending or not) of a frame folder or video file."""
    if clip.is_dir():
        files = frame_files(clip)
        return [_rgb(Image.open(files[i])) for i in indices]
    import av

    wanted = set(indices)
    found: dict[int, Image.Image] = {}
    with av.open(str(clip)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in wanted:
                found[i] = frame.to_image().convert("RGB")
            if len(found) == len(wanted):
                break
    missing = sorted(wanted - set(found))
    if missing:
        raise ValueError(f"{clip} has no frame {missing[0]} (it has {len(found)} of those asked)")
    return [found[i] for i in indices]


def read_clip(clip: Path) -> list[Image.Image]:
    """Every frame of a clip."""
    return read_frames(clip, range(frame_count(clip)))


def _rgb(image: Image.Image) -> Image.Image:
    with image:
        return image.convert("RGB")


def write_mp4(frames: Iterable[Image.Image], path: Path, fps: int | Fraction = 8) -> Path:
    """H.264 yuv420p MP4 (even sides: a trailing odd row or column is dropped)."""
    import av

    items = list(frames)
    if not items:
        raise ValueError("a clip needs at least one frame")
    width, height = items[0].width // 2 * 2, items[0].height // 2 * 2
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18"}
        for image in items:
            rgb = image.convert("RGB").crop((0, 0, width, height))
            frame = av.VideoFrame.from_image(rgb)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_png_frames(frames: Iterable[Image.Image], folder: Path) -> list[Path]:
    """``frame_0000.png`` … in ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(frames):
        path = folder / f"frame_{i:04d}.png"
        image.save(path)
        paths.append(path)
    return paths
