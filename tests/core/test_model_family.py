"""A checkpoint's family from its header alone, and hostile files refused without hanging."""

from __future__ import annotations

import json
import os
import struct
import threading
from pathlib import Path

import pytest

from storyboard.core.checkpoint_files import UnreadableCheckpoint, read_index
from storyboard.core.model_family import Layout, detect
from storyboard.core.model_scan import describe
from tests.fixtures.checkpoint_headers import FAMILIES, SDXL, header_file, hostile_ckpt


@pytest.mark.parametrize(
    ("family", "label", "kind", "layout"),
    [
        ("sd15", "SD1.5", "sd15", Layout.ORIGINAL),
        ("sdxl", "SDXL", "sdxl", Layout.ORIGINAL),
        ("diffusers sd15", "SD1.5", "sd15", Layout.DIFFUSERS),
        ("diffusers sdxl", "SDXL", "sdxl", Layout.DIFFUSERS),
        ("sd2", "SD2", None, None),
        ("sd3", "SD3", None, None),
        ("flux", "Flux", None, None),
        ("refiner", "SDXL refiner", None, None),
        ("inpainting", "SD1.5 inpainting", None, None),
        ("lora", "LoRA", None, None),
        ("vae", "VAE", None, None),
        ("unet only", "SD1.5 UNet only", None, None),
        ("no vae", "SD1.5", None, None),
        ("unknown", "unknown", None, None),
    ],
)
def test_the_family_is_read_from_tensor_names(
    tmp_path: Path, family: str, label: str, kind: str | None, layout: Layout | None
) -> None:
    found = detect(read_index(header_file(tmp_path / "m.safetensors", FAMILIES[family])))
    assert (found.label, found.kind, found.layout if kind else None) == (label, kind, layout)
    assert found.supported == (kind is not None)
    assert bool(found.reason) != found.supported  # a refused file always says why


def test_pony_is_named_and_runs_as_sdxl(tmp_path: Path) -> None:
    path = header_file(
        tmp_path / "pony.safetensors", SDXL, {"modelspec.title": "Pony Diffusion V6 XL"}
    )
    found = detect(read_index(path))
    assert (found.label, found.kind) == ("SDXL (Pony)", "sdxl")


def test_a_ckpt_that_would_run_code_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = hostile_ckpt(tmp_path / "evil.ckpt", f"touch {marker}")
    found = describe(path)
    assert not found.usable and "run code" in found.why_not and "system" in found.why_not
    assert not marker.exists()


def _raw(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_damaged_and_hostile_headers_are_refused_in_words(tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    cases = {
        "short": b"\x01\x00",
        "claims a huge header": struct.pack("<Q", 2**62) + b"{}",
        "not json": struct.pack("<Q", 4) + b"\xff\xfe{[",
        "nested": struct.pack("<Q", len(deep)) + deep,
        "list": struct.pack("<Q", 2) + b"[]",
        "bad shape": _header({"x": {"dtype": "F16", "shape": [-1, "a"], "data_offsets": [0, 0]}}),
    }
    for name, data in cases.items():
        path = _raw(tmp_path / f"{name}.safetensors", data)
        with pytest.raises(UnreadableCheckpoint, match=path.stem[:5]):
            read_index(path)
        assert not describe(path).usable
    old_pickle = _raw(tmp_path / "old.ckpt", b"\x80\x02}q\x00.")
    assert "old-style pickle" in describe(old_pickle).problem


def _header(body: object) -> bytes:
    raw = json.dumps(body).encode()
    return struct.pack("<Q", len(raw)) + raw


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX thing")
def test_a_fifo_or_a_folder_named_like_a_checkpoint_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.ckpt"
    folder.mkdir()
    result: list[str] = []
    reader = threading.Thread(
        target=lambda: result.extend([describe(fifo).problem, describe(folder).problem])
    )
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert result == ["not a regular file", "not a regular file"]
