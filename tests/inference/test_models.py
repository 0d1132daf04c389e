"""Model sources: presets, hub cache (offline), diffusers folders, single .safetensors files."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from inference.engine.story_engine import StoryEngine
from inference.errors import ModelUnavailable
from inference.model_loading import ModelKind, checkpoint_kind, native_size, presets, resolve
from storyboard.core.jobs import PanelJob, Sampling, StoryRequest
from tests.fixtures.checkpoint_headers import FAMILIES, header_file
from tests.fixtures.engine_helpers import differ, save_tiny
from tests.fixtures.ldm_checkpoint import write_sd15_checkpoint
from tests.fixtures.tiny_pipelines import tiny_sd15

SAMPLING = Sampling(64, 64, 2, 5.0, fit_to_model=False)
PANEL = PanelJob("p", "1A", "a lighthouse at night", "blurry", 3, "none")


@pytest.fixture(scope="module")
def sd15_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny("sd15", tmp_path_factory.mktemp("models") / "tiny-sd15")


def one_image(source: str, config: str | None = None) -> bytes:
    engine = StoryEngine(source, model_config=config)
    return engine.generate(StoryRequest(source, SAMPLING, (PANEL,)))[0].png


# ---------------------------------------------------------------------------------- presets/hub
def test_presets_name_the_models_of_the_issue() -> None:
    known = presets()
    repos = {p.repo for p in known.values()}
    assert {
        "stabilityai/stable-diffusion-xl-base-1.0",
        "SG161222/RealVisXL_V4.0",
        "RunDiffusion/Juggernaut-XL-v9",
    } <= repos
    assert {p.kind for p in known.values()} == {ModelKind.SDXL, ModelKind.SD15}


@pytest.mark.parametrize(
    ("source", "repo"),
    [("sdxl-base", "stabilityai/stable-diffusion-xl-base-1.0"), ("someone/some-model", None)],
)
def test_a_model_not_in_the_hub_cache_fails_fast_with_the_download_command(
    source: str, repo: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialled: list[object] = []

    def no_network(self: socket.socket, address: object) -> None:
        dialled.append(address)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(ModelUnavailable) as info:
        resolve(source)
    assert dialled == []  # the cache is looked at offline: no network wait, no hang
    message = str(info.value)
    assert f"hf download {repo or source}" in message
    assert "Hugging Face cache" in message and "--model PATH" in message


def test_a_cached_hub_snapshot_is_used_offline(
    sd15_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = tmp_path / "hub" / "models--me--tiny" / "snapshots" / ("0" * 40)
    shutil.copytree(sd15_dir, snapshot)
    (tmp_path / "hub" / "models--me--tiny" / "refs").mkdir()
    (tmp_path / "hub" / "models--me--tiny" / "refs" / "main").write_text("0" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    resolved = resolve("me/tiny")
    assert resolved.kind is ModelKind.SD15 and resolved.location == snapshot
    assert differ(one_image("me/tiny"), one_image(str(sd15_dir))) == 0


# ---------------------------------------------------------------------------------- folders
def test_folders_are_recognised_and_broken_ones_explained(sd15_dir: Path, tmp_path: Path) -> None:
    assert resolve(str(sd15_dir)).kind is ModelKind.SD15
    with pytest.raises(ModelUnavailable, match=r"no model_index\.json"):
        resolve(str(tmp_path))
    other = tmp_path / "flux"
    other.mkdir()
    (other / "model_index.json").write_text(json.dumps({"_class_name": "FluxPipeline"}))
    with pytest.raises(ModelUnavailable, match=r"holds a FluxPipeline model.*SDXL and Stable"):
        resolve(str(other))
    broken = tmp_path / "broken"
    shutil.copytree(sd15_dir, broken)
    for weights in (broken / "unet").glob("diffusion_pytorch_model*"):
        weights.unlink()
    with pytest.raises(ModelUnavailable, match=r"could not be loaded.*re-download"):
        StoryEngine(str(broken)).load()
    with pytest.raises(ModelUnavailable, match="no file or folder"):
        resolve(str(tmp_path / "missing.safetensors"))


# ---------------------------------------------------------------------------------- single file
def test_checkpoint_family_is_read_from_tensor_names(tmp_path: Path) -> None:
    """The engine's side of ``tests/core/test_model_family.py``: refusals as ModelUnavailable."""
    sdxl = header_file(tmp_path / "xl.safetensors", FAMILIES["sdxl"])
    sd15 = header_file(tmp_path / "v1.safetensors", FAMILIES["sd15"])
    assert checkpoint_kind(sdxl) is ModelKind.SDXL
    assert checkpoint_kind(sd15) is ModelKind.SD15
    with pytest.raises(ModelUnavailable, match=r"SD2 file: SD 2\.x models are not supported"):
        checkpoint_kind(header_file(tmp_path / "v2.safetensors", FAMILIES["sd2"]))
    with pytest.raises(ModelUnavailable, match="inpainting"):
        checkpoint_kind(header_file(tmp_path / "in.safetensors", FAMILIES["inpainting"]))
    ckpt = tmp_path / "old.ckpt"
    ckpt.write_bytes(b"pickle")
    with pytest.raises(ModelUnavailable, match=r"old-style pickle.*convert it to \.safetensors"):
        checkpoint_kind(ckpt)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 16)
    with pytest.raises(ModelUnavailable, match="damaged safetensors header"):
        checkpoint_kind(garbage)


def test_single_file_sd15_loads_with_a_config_folder_and_draws_the_same(
    sd15_dir: Path, tmp_path: Path
) -> None:
    checkpoint = write_sd15_checkpoint(tiny_sd15(), tmp_path / "tiny-v1.safetensors")
    resolved = resolve(str(checkpoint), config=sd15_dir)
    assert resolved.single_file and resolved.kind is ModelKind.SD15
    assert differ(one_image(str(checkpoint), str(sd15_dir)), one_image(str(sd15_dir))) == 0


def test_the_built_in_model_is_a_local_preset_and_says_how_to_restore_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inference import model_loading as models

    assert models.resolve(models.DEFAULT_MODEL).location == models.RESOURCES / "models/toyworld"
    monkeypatch.setattr(models, "RESOURCES", tmp_path)  # an install without the model's files
    with pytest.raises(ModelUnavailable) as caught:
        models.resolve(models.DEFAULT_MODEL)
    assert "built-in model" in str(caught.value) and "Reinstall the editor" in caught.value.fix


def test_a_preset_with_bad_csa_settings_is_refused_when_read(tmp_path: Path) -> None:
    from inference import model_loading as models

    path = tmp_path / "models.json"
    entry = {"label": "X", "repo": "a/b", "kind": "sdxl", "csa": {"read_ahed": 0.3}}
    path.write_text(json.dumps({"x": entry}))
    with pytest.raises(ValueError, match="preset 'x' has bad csa settings"):
        models.presets(path)
    entry["csa"] = {"read_ahead": 0.3}
    path.write_text(json.dumps({"x": entry}))
    assert models.presets(path)["x"].csa.read_ahead == 0.3


def test_a_tiny_model_has_one_native_size() -> None:
    assert native_size(ModelKind.SD15, 1024, 576, edge=64) == (64, 64)
    assert native_size(ModelKind.SD15, 1024, 576) == native_size(ModelKind.SD15, 1024, 576, 512)


def test_a_model_is_known_by_its_weights_wherever_and_whenever_it_was_copied(
    sd15_dir: Path, tmp_path: Path
) -> None:
    """Identity banks are keyed by this: cluster nodes hold their own copies of the model (own
    hub cache, other times), and a bank written on one must be found on the others; a changed
    weight, even of the same size, must not read it."""
    copy = Path(shutil.copytree(sd15_dir, tmp_path / "elsewhere", copy_function=shutil.copy))
    weights = copy / "unet" / "diffusion_pytorch_model.safetensors"
    assert weights.stat().st_mtime_ns != (sd15_dir / weights.relative_to(copy)).stat().st_mtime_ns
    assert resolve(str(copy)).fingerprint == resolve(str(sd15_dir)).fingerprint

    data = bytearray(weights.read_bytes())
    data[len(data) // 3] ^= 0x01  # one weight's lowest bit, somewhere in the middle
    weights.write_bytes(bytes(data))
    assert resolve(str(copy)).fingerprint != resolve(str(sd15_dir)).fingerprint


def test_a_single_file_is_known_by_its_content(tmp_path: Path) -> None:
    first = write_sd15_checkpoint(tiny_sd15(), tmp_path / "model.safetensors")
    (tmp_path / "b").mkdir()
    copy = Path(shutil.copy(first, tmp_path / "b" / "renamed.safetensors"))
    assert resolve(str(copy)).fingerprint == resolve(str(first)).fingerprint
    data = bytearray(copy.read_bytes())
    data[-5] ^= 0x01
    copy.write_bytes(bytes(data))
    assert resolve(str(copy)).fingerprint != resolve(str(first)).fingerprint


def test_a_hub_snapshot_of_links_is_known_as_the_files_they_lead_to(
    sd15_dir: Path, tmp_path: Path
) -> None:
    """The hub cache keeps each file once as a blob and links the snapshot's names to it."""
    snapshot, blobs = tmp_path / "snapshots" / "abc", tmp_path / "blobs"
    blobs.mkdir()
    for index, source in enumerate(sorted(p for p in sd15_dir.rglob("*") if p.is_file())):
        blob = Path(shutil.copy(source, blobs / f"blob{index}"))
        name = snapshot / source.relative_to(sd15_dir)
        name.parent.mkdir(parents=True, exist_ok=True)
        name.symlink_to(blob)
    assert resolve(str(snapshot)).fingerprint == resolve(str(sd15_dir)).fingerprint
