"""Model folders scanned: every checkpoint with its family and size, bounded on hostile folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storyboard.core.model_scan import ScanLimits, human_size, scan_folders
from storyboard.core.settings import AppSettings, load_settings, save_settings
from tests.fixtures.checkpoint_headers import FAMILIES, SD15, SDXL, header_file, hostile_ckpt


def comfy_and_a1111(tmp_path: Path) -> tuple[Path, Path]:
    comfy = tmp_path / "ComfyUI" / "models" / "checkpoints"
    (comfy / "SDXL").mkdir(parents=True)
    header_file(comfy / "SDXL" / "juggernautXL_v9.safetensors", SDXL)
    header_file(comfy / "flux1-dev.safetensors", FAMILIES["flux"])
    (comfy / "put_checkpoints_here").write_text("")
    a1111 = tmp_path / "webui" / "models" / "Stable-diffusion"
    a1111.mkdir(parents=True)
    header_file(a1111 / "dreamshaper_8.safetensors", SD15)
    (a1111 / "v1-5-pruned.ckpt").write_bytes(b"not a zip")
    return comfy, a1111


def test_folders_list_their_checkpoints_with_family_and_size(tmp_path: Path) -> None:
    comfy, a1111 = comfy_and_a1111(tmp_path)
    result = scan_folders([comfy, a1111, tmp_path / "gone"])
    rows = [(m.name, m.family, m.usable) for m in result.models]
    assert rows == [
        ("dreamshaper_8", "SD1.5", True),
        ("flux1-dev", "Flux", False),
        ("juggernautXL_v9", "SDXL", True),
        ("v1-5-pruned", "unreadable", False),
    ]
    flux = result.models[1]
    assert "Flux models are not supported" in flux.why_not
    assert result.models[0].size == (a1111 / "dreamshaper_8.safetensors").stat().st_size
    assert any("gone: no such folder" in note for note in result.notes)
    assert human_size(6_938_040_682) == "6.9 GB" and human_size(999) == "999 B"


def test_links_loops_and_huge_folders_stay_bounded(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    header_file(outside / "shared.safetensors", SDXL)
    shared = outside / "shared.safetensors"
    (models / "linked.safetensors").symlink_to(shared)  # a linked file
    (models / "again.safetensors").symlink_to(shared)  # the same file again
    (models / "loop").symlink_to(tmp_path)  # a folder link (here a loop): not entered
    (models / "broken.safetensors").symlink_to(tmp_path / "missing.safetensors")
    hostile_ckpt(models / "evil.ckpt", "true")
    deep = models
    for level in range(8):
        deep = deep / f"d{level}"
    deep.mkdir(parents=True)
    header_file(deep / "too-deep.safetensors", SD15)
    result = scan_folders([models])
    names = sorted(m.name for m in result.models)
    assert names == ["again", "broken", "evil"]  # one of the two links to one file, no loop
    broken = next(m for m in result.models if m.name == "broken")
    assert "missing" in broken.why_not

    many = tmp_path / "many"
    many.mkdir()
    for index in range(300):
        (many / f"{index:03}.txt").write_text("")
    header_file(many / "zzz.safetensors", SD15)
    bounded = scan_folders([many], limits=ScanLimits(entries=100))
    assert bounded.models == [] and "too many files" in bounded.notes[0]
    capped = scan_folders([models, many], limits=ScanLimits(models=2))
    assert len(capped.models) == 2 and "stopped after 2" in capped.notes[-1]
    assert scan_folders([models], cancelled=lambda: True).models == []


def test_an_unreadable_file_is_listed_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = header_file(tmp_path / "locked.safetensors", SD15)
    locked.chmod(0)
    real_open = os.open

    def refuse(path: object, *args: object, **kwargs: object) -> int:
        if Path(str(path)) == locked:  # as a file of another user is (root reads anything)
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    (found,) = scan_folders([tmp_path]).models
    assert not found.usable and "permission denied" in found.why_not


def test_the_model_folders_are_kept_in_the_settings(tmp_path: Path) -> None:
    save_settings(AppSettings(model_folders=["/a/checkpoints", "/b"]), tmp_path / "s.json")
    assert load_settings(tmp_path / "s.json").model_folders == ["/a/checkpoints", "/b"]
