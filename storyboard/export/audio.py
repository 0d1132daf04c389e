"""The animatic's sound: every clip decoded, resampled, placed at its frame and mixed.

Clips arrive as plain inputs (a file, a start frame, a gain), so the mix works the same for a
panel's recorded dialogue, an effect or the soundtrack lane, and tests can feed generated tones.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from storyboard.export.animatic_options import AudioClip, PanelAudio
from storyboard.export.output import ExportError

log = logging.getLogger(__name__)

SAMPLE_RATE = 48_000
# A few milliseconds of fade at both ends of every clip: a clip cut at a panel boundary clicks.
FADE_SECONDS = 0.005

Samples = NDArray[np.float32]


def _unreadable(path: Path, exc: Exception) -> ExportError:
    log.debug("audio %s: %s", path, exc)
    return ExportError(path, "could not be read as audio", "Use a WAV, MP3, M4A, OGG or FLAC file")


def read_audio(path: Path, sample_rate: int = SAMPLE_RATE) -> Samples:
    """The file's sound as stereo float32 samples, shape (2, n), at ``sample_rate``."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=sample_rate)
    chunks: list[NDArray[Any]] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise ExportError(path, "has no sound", "Pick a file with an audio track")
            for frame in container.decode(audio=0):
                chunks.extend(f.to_ndarray() for f in resampler.resample(frame))
        chunks.extend(f.to_ndarray() for f in resampler.resample(None))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise _unreadable(path, exc) from exc
    if not chunks:
        return np.zeros((2, 0), np.float32)
    return np.ascontiguousarray(np.concatenate(chunks, axis=1), np.float32)


def audio_seconds(path: Path) -> float:
    """How long a sound file plays (decoded, so it is exact even for files without a header)."""
    return read_audio(path).shape[1] / SAMPLE_RATE


def panel_audio(path: Path, gain_db: float = 0.0) -> PanelAudio:
    """A panel's sound with its length measured, ready for ``AnimaticOptions.panel_audio``."""
    return PanelAudio(Path(path), audio_seconds(path), gain_db)


def mix(
    clips: Sequence[AudioClip], fps: Fraction, frames: int, sample_rate: int = SAMPLE_RATE
) -> Samples:
    """All clips summed into one stereo track exactly as long as ``frames`` of video.

    Gains are in dB; a clip that runs past the end is cut there. The sum is limited to [-1, 1]
    (a hard clip: loud overlaps distort rather than wrap around).
    """
    total = round(Fraction(frames) / fps * sample_rate)
    track = np.zeros((2, total), np.float32)
    fade = max(1, round(FADE_SECONDS * sample_rate))
    for clip in clips:
        start = round(Fraction(clip.start) / fps * sample_rate)
        if start >= total:
            continue
        sound = read_audio(clip.path, sample_rate)[:, : total - start]
        length = sound.shape[1]
        if length == 0:
            continue
        ramp = np.ones(length, np.float32)
        edge = min(fade, length // 2)
        if edge:
            ramp[:edge] = np.linspace(0, 1, edge, dtype=np.float32)
            ramp[length - edge :] = np.linspace(1, 0, edge, dtype=np.float32)
        track[:, start : start + length] += sound * ramp * np.float32(10 ** (clip.gain_db / 20))
    np.clip(track, -1.0, 1.0, out=track)
    return track
