"""The media a hostile sandbox is made of: PNGs, WAVs and MP4s of one colour or one tone.

The base project holds one of each kind of asset and the victim folder holds the secret ones
(``bench/hostile_sandbox.py``); the leak checks (``bench/hostile_leaks.py``) look for that colour
and tone in what a run wrote, so each file here is a single, easily recognised colour or sound.
"""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path


def png(color: tuple[int, int, int], size: tuple[int, int] = (64, 36), alpha: int = 255) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", size, (*color, alpha)).save(out, format="PNG")
    return out.getvalue()


def wav(seconds: float = 0.5, tone: bool = False, rate: int = 8000) -> bytes:
    """Mono 16-bit PCM: silence, or a loud square wave (the victim's secret sound)."""
    frames = int(seconds * rate)
    samples = (((12000 if (i // 10) % 2 else -12000) if tone else 0) for i in range(frames))
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return out.getvalue()


def mp4(color: tuple[int, int, int], frames: int = 8, size: tuple[int, int] = (64, 36)) -> bytes:
    """A short clip of one colour (PyAV, x264), as a generated transition would be."""
    import tempfile

    import av
    import numpy as np

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        with av.open(str(path), "w") as container:
            stream = container.add_stream("libx264", rate=24)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            picture = np.zeros((size[1], size[0], 3), dtype=np.uint8)
            picture[:] = color
            for _ in range(frames):
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        return path.read_bytes()
