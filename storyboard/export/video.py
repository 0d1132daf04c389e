"""Animatic files: MP4 (H.264 yuv420p + AAC + mov_text), animated GIF, PNG sequence.

PyAV rather than ``cv2.VideoWriter`` (no H.264, no audio) or Qt's recorder (drops frames): see
``research/stack-qt.md`` section 5. One call, plain callables for progress and cancel, no Qt
threads: the editor runs :func:`export_video` on a worker thread, the CLI in the foreground.

Speed on two cores: a held panel is rendered and converted to YUV once and its frames are
handed to x264 again (they cost almost nothing to encode); RGB->YUV is OpenCV's (BT.601, limited
range, tagged so in the stream); x264 runs on its own thread, fed through a short queue, so the
next frame is drawn while the previous one is encoded.
"""

from __future__ import annotations

import logging
import queue
import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from numpy.typing import NDArray
from PySide6.QtGui import QImage

from storyboard.core.model import Project
from storyboard.export.animatic import AnimaticPlan, plan_animatic
from storyboard.export.animatic_options import AnimaticOptions, CaptionMode
from storyboard.export.audio import SAMPLE_RATE, Samples, mix
from storyboard.export.frames import FrameRenderer, pixels
from storyboard.export.media import BundleMedia
from storyboard.export.output import (
    Cancelled,
    ExportError,
    Progress,
    check_cancelled,
    encode_png,
    export_error,
    staged_file,
    write_file,
)
from storyboard.export.subtitles import add_caption_stream, mux_captions, srt

log = logging.getLogger(__name__)

# x264 costs ~10 ms per 1080p frame even for a repeated frame, so its preset decides the export
# speed. Measured on a 30-panel 1080p animatic (2 cores): veryfast 1.4x real time, ultrafast
# 4.2x; ultrafast with CABAC and deblocking put back 4.5x and 25 % smaller files.
X264_OPTIONS = {
    "preset": "ultrafast",
    "crf": "20",
    "tune": "stillimage",
    "x264-params": "cabac=1:deblock=0,0:colormatrix=smpte170m:colorprim=smpte170m:"
    "transfer=smpte170m",
}
AAC_FRAME = 1024


class ExportFormat(StrEnum):
    MP4 = "mp4"
    GIF = "gif"
    PNG = "png"  # a folder of numbered PNG frames


def format_for(path: Path) -> ExportFormat:
    suffix = Path(path).suffix.lower()
    if suffix in (".mp4", ".m4v", ".mov"):
        return ExportFormat.MP4
    if suffix == ".gif":
        return ExportFormat.GIF
    if suffix == "":
        return ExportFormat.PNG
    raise ExportError(
        path,
        f"cannot export video as {suffix}",
        "Use .mp4, .gif or a folder name (or .otio, .xml, .edl, .fcpxml for a timeline)",
    )


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    frames: int
    seconds: float
    subtitles: Path | None = None


def export_video(
    source: AnimaticPlan | Project,
    bundle: Path | None,
    out_path: Path,
    options: AnimaticOptions | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ExportResult:
    """Write the animatic of ``source`` to ``out_path`` (format from its suffix).

    ``bundle`` is the project folder whose ``assets/`` hold the panel images, sounds and clips
    (None: every panel is drawn as a card and the project's sounds are left out).
    ``progress(done, total)`` is called after every frame; ``cancelled()`` is polled as often
    and raises :class:`ExportCancelled`. Nothing is left at ``out_path`` unless the export
    succeeded; an existing file there is replaced only then.
    """
    if isinstance(source, AnimaticPlan):
        plan = source
    else:
        media = BundleMedia(bundle) if bundle is not None else None
        plan = plan_animatic(source, options, media)
    out_path = Path(out_path)
    if not plan.clips or plan.frames <= 0:
        raise ExportError(
            out_path,
            "the project has no panels, so there is nothing to put in a video",
            "Add panels (or make the project from a script) first; nothing was written",
        )
    kind = format_for(out_path)
    renderer = FrameRenderer(plan, bundle)
    soft = plan.options.captions in (CaptionMode.SOFT, CaptionMode.BOTH) and bool(plan.captions)
    log.info("exporting %d frames at %s fps to %s", plan.frames, plan.fps, out_path)
    if kind is ExportFormat.PNG:
        _write_png_sequence(plan, renderer, out_path, progress, cancelled)
    else:
        with staged_file(out_path) as temp:
            if kind is ExportFormat.MP4:
                _write_mp4(plan, renderer, temp, soft, progress, cancelled)
            else:
                _write_gif(plan, renderer, temp, progress, cancelled)
    subtitles = None
    if soft:
        subtitles = out_path.with_suffix(".srt")
        with staged_file(subtitles) as temp:
            temp.write_text(srt(plan), encoding="utf-8")
    return ExportResult(out_path, plan.frames, plan.seconds, subtitles)


def _frames(
    plan: AnimaticPlan,
    renderer: FrameRenderer,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> Iterator[tuple[int, QImage | None]]:
    """Every frame number with its picture, or None when it is the same as the previous one."""
    previous: object = object()
    for frame in range(plan.frames):
        check_cancelled(cancelled)
        key = renderer.frame_key(frame)
        if key != previous:
            previous = key
            yield frame, renderer.render(frame)
        else:
            yield frame, None
        if progress is not None:
            progress(frame + 1, plan.frames)


# -- MP4 ---------------------------------------------------------------------------------------


class _Encoder(threading.Thread):
    """Encodes and muxes on its own thread; the renderer hands it YUV frames through a queue."""

    def __init__(self, out: Any, video: Any, sound: Any, audio: Samples | None, fps: Fraction):
        super().__init__(name="animatic-encoder", daemon=True)
        self._out, self._video, self._sound, self._audio, self._fps = out, video, sound, audio, fps
        self._queue: queue.Queue[NDArray[np.uint8] | None] = queue.Queue(maxsize=6)
        self._audio_done = 0
        self.error: BaseException | None = None

    def put(self, yuv: NDArray[np.uint8] | None) -> None:
        while self.is_alive():
            try:
                self._queue.put(yuv, timeout=0.2)
                return
            except queue.Full:
                continue
        self._raise()

    def finish(self) -> None:
        self.put(None)
        self.join()
        self._raise()

    def abort(self) -> None:
        while self.is_alive():
            try:
                self._queue.get_nowait()
            except queue.Empty:
                self._queue.put(None)
                self.join(timeout=5)

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def run(self) -> None:
        try:
            pts = 0
            while (yuv := self._queue.get()) is not None:
                frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
                frame.pts = pts
                self._out.mux(self._video.encode(frame))
                pts += 1
                self._encode_audio(round(Fraction(pts) / self._fps * SAMPLE_RATE))
            self._out.mux(self._video.encode(None))
            if self._audio is not None:
                self._encode_audio(self._audio.shape[1], flush=True)
        except BaseException as exc:  # handed to the rendering thread, which raises it
            self.error = exc

    def _encode_audio(self, until: int, *, flush: bool = False) -> None:
        if self._audio is None:
            return
        while self._audio_done + (0 if flush else AAC_FRAME) <= until:
            start = self._audio_done
            if start >= self._audio.shape[1]:
                break
            chunk = np.ascontiguousarray(self._audio[:, start : start + AAC_FRAME])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = SAMPLE_RATE, start
            frame.time_base = Fraction(1, SAMPLE_RATE)
            self._out.mux(self._sound.encode(frame))
            self._audio_done = start + chunk.shape[1]
        if flush:
            self._out.mux(self._sound.encode(None))


def _write_mp4(
    plan: AnimaticPlan,
    renderer: FrameRenderer,
    path: Path,
    soft_captions: bool,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> None:
    audio = mix(plan.audio, plan.fps, plan.frames) if plan.audio else None
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=plan.fps)
        video.width, video.height, video.pix_fmt = plan.width, plan.height, "yuv420p"
        video.options = dict(X264_OPTIONS)
        video.codec_context.thread_type = "AUTO"
        sound = None
        if audio is not None:
            sound = out.add_stream("aac", rate=SAMPLE_RATE)
            sound.layout = "stereo"
        captions = add_caption_stream(out) if soft_captions else None
        encoder = _Encoder(out, video, sound, audio, plan.fps)
        encoder.start()
        try:
            yuv: NDArray[np.uint8] | None = None
            for _, image in _frames(plan, renderer, progress, cancelled):
                if image is not None:
                    yuv = np.asarray(cv2.cvtColor(pixels(image), cv2.COLOR_RGBA2YUV_I420))
                assert yuv is not None
                encoder.put(yuv)
            encoder.finish()
        except BaseException:
            encoder.abort()
            raise
        if captions is not None:
            mux_captions(out, captions, plan)


# -- GIF ---------------------------------------------------------------------------------------


def _gif_palette(
    plan: AnimaticPlan, renderer: FrameRenderer
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """One 256-colour palette for the whole GIF, from a sample of every panel (k-means), and a
    5-bit-per-channel lookup table from colour to palette index."""
    clips = plan.clips[:: max(1, len(plan.clips) // 48)]
    samples = []
    rng = np.random.default_rng(0)
    for clip in clips:
        rgb = pixels(renderer.render((clip.start + clip.end) // 2))[..., :3].reshape(-1, 3)
        samples.append(rgb[rng.integers(0, len(rgb), 2048)])
    data = np.concatenate(samples).astype(np.float32)
    colours = min(256, len(np.unique(data, axis=0)))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    _, _, centers = cv2.kmeans(data, colours, None, criteria, 1, cv2.KMEANS_RANDOM_CENTERS)
    levels = np.arange(32, dtype=np.float32) * 8 + 4
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    distance = ((grid[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    lut = np.argmin(distance, axis=1).astype(np.uint8)
    palette = np.zeros((256, 4), np.uint8)  # FFmpeg's pal8 palette: native-endian ARGB words
    palette[:colours, 2::-1] = np.clip(np.rint(centers), 0, 255)
    palette[:, 3] = 255
    return palette, lut


def _write_gif(
    plan: AnimaticPlan,
    renderer: FrameRenderer,
    path: Path,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> None:
    palette, lut = _gif_palette(plan, renderer)
    with av.open(str(path), "w", format="gif") as out:
        stream = out.add_stream("gif", rate=plan.fps)
        stream.width, stream.height, stream.pix_fmt = plan.width, plan.height, "pal8"
        indices: NDArray[np.uint8] | None = None
        for frame, image in _frames(plan, renderer, progress, cancelled):
            if image is not None:
                rgb = pixels(image).astype(np.uint16) >> 3
                indices = lut[(rgb[..., 0] << 10) | (rgb[..., 1] << 5) | rgb[..., 2]]
            assert indices is not None
            # Filled in place: plane 0 the indices (rows padded to line_size), plane 1 the palette.
            picture = av.VideoFrame(plan.width, plan.height, "pal8")
            plane = picture.planes[0]
            rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plan.height, plane.line_size)
            rows[:, : plan.width] = indices
            np.frombuffer(memoryview(picture.planes[1]), np.uint8)[:] = palette.reshape(-1)
            picture.pts = frame
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))


# -- PNG sequence --------------------------------------------------------------------------------


def _write_png_sequence(
    plan: AnimaticPlan,
    renderer: FrameRenderer,
    folder: Path,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> None:
    """Numbered PNGs (frame_000000.png, ...) in a new or empty ``folder``, staged beside it."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ExportError(folder, "already exists and is not empty", "Pick a new folder name")
    if not folder.parent.is_dir():
        raise ExportError(folder, "its folder does not exist", "Create the folder or pick another")
    temp = folder.parent / f".{folder.name}.{secrets.token_hex(4)}.part"
    try:
        temp.mkdir()
    except OSError as exc:
        raise export_error(folder, exc) from exc
    try:
        png = None
        for frame, image in _frames(plan, renderer, progress, cancelled):
            name = f"frame_{frame:06d}.png"
            if image is not None:
                png = encode_png(image, folder / name)
            assert png is not None  # the first frame is always drawn
            # encoded in memory and written by us: QImage.save reported success for 192 empty
            # files on a full disk
            write_file(temp / name, png, shown=folder / name)
        if folder.exists():
            folder.rmdir()
        temp.replace(folder)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise export_error(folder, exc) from exc
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
