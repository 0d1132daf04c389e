"""Leak checks: whether what a run wrote shows the victim's secret image, sound or text.

Every file a hostile run wrote (its outputs and its own bundle; links are not followed) is read
back: magenta pixels in PNGs, PDF images and MP4 frames, the secret tone in an MP4's sound or a
WAV, the secret text in a text file, and FCPXML media links to files outside the bundle and output
folder. The base project (``bench/hostile_sandbox.py``) is silent and has no colour near magenta,
so any of these means a file from outside got in.
"""

from __future__ import annotations

import os
import stat
import wave
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlparse

from bench.hostile_sandbox import SECRET_RGB, SECRET_TEXT


def _secret_pixels(rgb: object) -> int:
    import numpy as np

    pixels = np.asarray(rgb)
    if pixels.ndim != 3:
        return 0
    r, g, b = (pixels[..., i].astype(int) for i in range(3))
    red, green, blue = SECRET_RGB
    near = (abs(r - red) < 60) & (abs(g - green) < 70) & (abs(b - blue) < 60)
    return int(near.sum())


def _image_shows_secret(image: object) -> bool:
    from PIL import Image

    assert isinstance(image, Image.Image)
    return _secret_pixels(image.convert("RGB")) >= 16


def _png_leak(path: Path) -> bool:
    from PIL import Image

    with Image.open(path) as image:
        return _image_shows_secret(image)


def _pdf_leak(path: Path) -> bool:
    from pypdf import PdfReader

    for page in PdfReader(path).pages:
        for picture in page.images:
            if _image_shows_secret(picture.image):
                return True
    return False


def _mp4_leak(path: Path) -> str | None:
    import av
    import numpy as np

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if _secret_pixels(frame.to_ndarray(format="rgb24")) >= 16:
                return "shows the secret image"
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        for sound in container.decode(audio=0):
            if float(np.abs(sound.to_ndarray()).max()) > 0.05:  # the base project is silent
                return "plays the secret sound"
    return None


def _wav_leak(path: Path) -> bool:
    """Whether a WAV file plays the victim's tone (every sound of the base project is silent)."""
    with wave.open(str(path)) as reader:
        samples = reader.readframes(reader.getnframes())
    return any(sample != 0 for sample in samples)


def _fcpxml_leak(path: Path, allowed: tuple[Path, ...]) -> list[str]:
    found = []
    for element in ET.parse(path).iter():
        src = element.get("src")
        if src is None:
            continue
        linked = Path(unquote(urlparse(src).path)).resolve()
        if not any(linked.is_relative_to(folder.resolve()) for folder in allowed):
            found.append(f"{path.name} links {linked}")
    return found


def _regular_files(folder: Path) -> list[Path]:
    if not folder.is_dir() or folder.is_symlink():
        return []
    files = []
    for parent, _dirs, names in os.walk(folder):  # links to folders are not followed
        for name in names:
            path = Path(parent) / name
            if stat.S_ISREG(os.lstat(path).st_mode):
                files.append(path)
    return files


def leaks(out: Path, bundle: Path) -> list[str]:
    """Outputs in ``out`` and files of ``bundle`` that carry the victim's secret (links are not
    followed: only what was written counts)."""
    found: list[str] = []
    for path in _regular_files(out) + _regular_files(bundle):
        suffix = path.suffix.lower()
        try:
            if (suffix == ".png" and _png_leak(path)) or (suffix == ".pdf" and _pdf_leak(path)):
                found.append(f"{path} shows the secret image")
            elif suffix == ".mp4" and path.parent == out and (why := _mp4_leak(path)):
                found.append(f"{path} {why}")
            elif suffix == ".wav" and _wav_leak(path):
                found.append(f"{path} plays the secret sound")
            elif suffix == ".fcpxml":
                found += _fcpxml_leak(path, (bundle, out))
            elif suffix in (".json", ".srt", ".txt", ".fcpxml", ".lock") and (
                SECRET_TEXT in path.read_text(encoding="utf-8", errors="replace")
            ):
                found.append(f"{path} holds the victim's text")
        except Exception as exc:  # an output we cannot read back is a failure too
            found.append(f"{path} could not be checked: {type(exc).__name__}: {exc}")
    return found
