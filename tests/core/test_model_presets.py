"""The model presets the settings offer, and whether this machine has a model, read without
the ML stack."""

from __future__ import annotations

from pathlib import Path

import huggingface_hub.constants
import pytest

from storyboard.core.model import GenerationSettings
from storyboard.core.resources import model_presets, model_status


def test_a_new_project_uses_the_built_in_model_which_is_a_preset() -> None:
    presets = model_presets()
    assert GenerationSettings().model == "toyworld"
    assert "toyworld" in presets and "built-in" in presets["toyworld"].label
    assert {"sdxl-base", "sd15"} <= set(presets)


def fake_download(cache: Path, repo: str) -> None:
    """What ``hf download repo`` leaves in the hub cache, as far as finding a model goes."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("0123abcd")
    snapshot = folder / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / "model_index.json").write_text("{}")


def test_the_model_status_says_what_this_machine_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "hub"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    assert model_status("toyworld").ready  # ships with the editor
    missing = model_status("sdxl-base")
    assert not missing.ready
    assert "hf download stabilityai/stable-diffusion-xl-base-1.0" in missing.text
    fake_download(cache, "stabilityai/stable-diffusion-xl-base-1.0")
    assert model_status("sdxl-base").ready and "downloaded" in model_status("sdxl-base").text
    assert model_status("stabilityai/stable-diffusion-xl-base-1.0").ready  # the hub id itself
    assert not model_status("someone/other-model").ready

    folder = tmp_path / "my-model"
    folder.mkdir()
    assert not model_status(str(folder)).ready  # a folder, but no diffusers model in it
    (folder / "model_index.json").write_text("{}")
    assert model_status(str(folder)).ready
    checkpoint = tmp_path / "juggernaut.safetensors"
    assert "no such file" in model_status(str(checkpoint)).text
    checkpoint.write_bytes(b"0")
    assert not model_status(str(checkpoint)).ready  # read: too short to be a checkpoint
    assert "too short" in model_status(str(checkpoint)).text
    for typed in ("not a model", "foo/ba r", "a/b!", "x/"):  # half-typed: said, never raised
        assert "not a preset, a hub id" in model_status(typed).text
    assert not model_status("a--b/c").ready  # the hub refuses the name: not downloaded
