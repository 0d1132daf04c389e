"""Sound for the animatic player: the export's own mix, played from a given sample.

PySide6-Essentials has no audio output (QtMultimedia is in the large Addons wheel), so the sound
goes through PortAudio with the small ``sounddevice`` package. On a machine without PortAudio or
without an output device the player stays silent and says so; it never fails because of sound.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)


class AudioOutput(Protocol):
    available: bool
    reason: str  # why there is no sound, when not available

    def start(self, samples: NDArray[np.float32], sample_rate: int, offset: int) -> None:
        """Play ``samples`` (shape (2, n)) from sample ``offset`` on, replacing what plays."""

    def stop(self) -> None: ...


class SilentOutput:
    def __init__(self, reason: str) -> None:
        self.available = False
        self.reason = reason

    def start(self, samples: NDArray[np.float32], sample_rate: int, offset: int) -> None:
        return None

    def stop(self) -> None:
        return None


class PortAudioOutput:
    """A callback stream reading from the mixed track; restarting only moves the read head."""

    def __init__(self, sounddevice: Any) -> None:
        self.sd = sounddevice
        self.available = True
        self.reason = ""
        self._stream: Any = None
        self._lock = threading.Lock()
        self._frames: NDArray[np.float32] = np.zeros((0, 2), np.float32)
        self._head = 0

    def start(self, samples: NDArray[np.float32], sample_rate: int, offset: int) -> None:
        self.stop()
        with self._lock:
            self._frames = np.ascontiguousarray(samples.T, dtype=np.float32)
            self._head = max(0, min(offset, len(self._frames)))
        try:
            self._stream = self.sd.OutputStream(
                samplerate=sample_rate, channels=2, dtype="float32", callback=self._fill
            )
            self._stream.start()
        except Exception as exc:  # a device can vanish (unplugged headphones)
            log.warning("no sound: %s", exc)
            self.available, self.reason = False, str(exc)
            self._stream = None

    def _fill(self, out: NDArray[np.float32], count: int, _time: Any, _status: Any) -> None:
        with self._lock:
            chunk = self._frames[self._head : self._head + count]
            self._head += len(chunk)
        out[: len(chunk)] = chunk
        out[len(chunk) :] = 0

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None


def default_output() -> AudioOutput:
    """PortAudio's default device, or a silent output that says why there is none."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        return SilentOutput(f"no audio library ({exc}); install PortAudio (libportaudio2)")
    try:
        sounddevice.query_devices(kind="output")
    except Exception as exc:
        return SilentOutput(f"no audio output device ({exc})")
    return PortAudioOutput(sounddevice)
