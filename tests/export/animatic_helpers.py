"""Small projects with real panel images for the animatic tests, and ways to read outputs back."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import cv2
import numpy as np

from storyboard.core.assets import AssetStore
from storyboard.core.model import Panel, Project, Scene

RED = (200, 40, 40)
BLUE = (40, 40, 200)


def png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


def solid(colour: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> np.ndarray:
    return np.full((size[1], size[0], 3), colour, np.uint8)


def disc(radius: int = 30, size: tuple[int, int] = (320, 180)) -> np.ndarray:
    """A white disc centred on black: its width measures the camera's zoom."""
    image = np.zeros((size[1], size[0], 3), np.uint8)
    cv2.circle(image, (size[0] // 2, size[1] // 2), radius, (255, 255, 255), -1, cv2.LINE_AA)
    return image


def project_with(bundle: Path, images: list[np.ndarray | None], duration: int = 24) -> Project:
    """One scene, one panel per image (None: a panel without an image), 24 fps, 16:9."""
    store = AssetStore(bundle)
    project = Project()
    scene = Scene(title="Test")
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    for index, image in enumerate(images):
        panel = Panel(prompt=f"panel {index}", duration=duration)
        if image is not None:
            panel.image = store.put(png(image))
        project.panels[panel.id] = panel
        scene.panel_ids.append(panel.id)
    return project


def ffprobe(path: Path) -> list[dict[str, str]]:
    result = subprocess.run(
        [
            "ffprobe", "-v", "error", "-count_frames", "-show_entries",
            "stream=codec_type,codec_name,pix_fmt,nb_read_frames,sample_rate,width,height",
            "-of", "json", str(path),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return list(json.loads(result.stdout)["streams"])


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def decode_audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        chunks = [f.to_ndarray() for f in container.decode(audio=0)]
    return np.concatenate(chunks, axis=1)


def write_tone(path: Path, seconds: float, hz: float = 440.0, amplitude: float = 0.5) -> Path:
    rate = 48_000
    t = np.arange(round(seconds * rate)) / rate
    samples = (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=rate)
        stream.layout = "mono"
        for start in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(
                samples[None, start : start + 1024], format="flt", layout="mono"
            )
            frame.sample_rate, frame.pts = rate, start
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path
