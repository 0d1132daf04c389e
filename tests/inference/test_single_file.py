"""Single checkpoint files load offline: shipped configs and tokenizer, both key layouts, .ckpt
only through the weights-only loader."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import torch

from inference.clip_tokenizer import clip_tokenizer
from inference.errors import ModelUnavailable
from inference.model_loading import ModelKind, load_pipeline, resolve
from inference.single_file import shipped_config
from storyboard.core.model_family import Layout
from storyboard.core.resources import SINGLE_FILE
from tests.fixtures.checkpoint_headers import SDXL, header_file, hostile_ckpt
from tests.fixtures.single_file_models import config_folder, tiny_family, write_checkpoint


@pytest.fixture(scope="module")
def families(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path]]:
    """Each family's tiny pipeline and its config folder (no weights, no tokenizer)."""
    root = tmp_path_factory.mktemp("configs")
    made = {}
    for kind in ("sd15", "sdxl"):
        pipe = tiny_family(kind)
        made[kind] = (pipe, config_folder(pipe, root / kind))
    return made


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    dialled: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        dialled.append(address)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return dialled


def draw(pipe: Any) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    out = pipe(
        "a photo of a cat",
        num_inference_steps=1,
        height=64,
        width=64,
        output_type="np",
        generator=generator,
    )
    return torch.from_numpy(out.images[0])


def test_the_shipped_tokenizer_is_clip_s() -> None:
    assert clip_tokenizer()("a photo of a cat").input_ids == [
        49406,
        320,
        1125,
        539,
        320,
        2368,
        49407,
    ]
    assert len(clip_tokenizer()) == 49408
    padded = clip_tokenizer("!")("a cat", padding="max_length", max_length=6).input_ids
    assert padded == [49406, 320, 2368, 49407, 0, 0]  # SDXL's second tokenizer pads with "!"


def test_the_shipped_configs_are_the_real_models() -> None:
    """Parameter counts of the published SD 1.5 and SDXL base models, built on the meta device."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    def count(model: Any) -> int:
        return sum(p.numel() for p in model.parameters())

    def built(cls: Any, folder: Path) -> Any:
        return cls.from_config(cls.load_config(str(folder)))

    with init_empty_weights():
        counts = {
            kind: (
                count(built(UNet2DConditionModel, SINGLE_FILE / kind / "unet")),
                count(built(AutoencoderKL, SINGLE_FILE / kind / "vae")),
                count(
                    CLIPTextModel(
                        CLIPTextConfig.from_pretrained(SINGLE_FILE / kind / "text_encoder")
                    )
                ),
            )
            for kind in ("sd15", "sdxl")
        }
        bigg = CLIPTextModelWithProjection(
            CLIPTextConfig.from_pretrained(SINGLE_FILE / "sdxl" / "text_encoder_2")
        )
    assert counts["sd15"] == (859_520_964, 83_653_863, 123_060_480)
    assert counts["sdxl"] == (2_567_463_684, 83_653_863, 123_060_480)
    assert count(bigg) == 694_659_840


def test_a_checkpoint_without_a_config_uses_the_shipped_one(tmp_path: Path) -> None:
    resolved = resolve(str(header_file(tmp_path / "juggernaut.safetensors", SDXL)))
    assert (resolved.kind, resolved.config, resolved.layout) == (
        ModelKind.SDXL,
        shipped_config("sdxl"),
        Layout.ORIGINAL,
    )


@pytest.mark.parametrize("kind", ["sd15", "sdxl"])
@pytest.mark.parametrize(
    ("layout", "suffix"),
    [("original", ".safetensors"), ("diffusers", ".safetensors"), ("original", ".ckpt")],
)
def test_a_single_file_loads_offline_and_draws_as_its_source(
    families: dict[str, tuple[Any, Path]],
    tmp_path: Path,
    no_network: list[object],
    kind: str,
    layout: str,
    suffix: str,
) -> None:
    source, config = families[kind]
    path = write_checkpoint(source, tmp_path / f"model{suffix}", layout)
    resolved = resolve(str(path), config=config)
    assert (resolved.kind, resolved.layout) == (ModelKind(kind), Layout(layout))
    pipe = load_pipeline(resolved, torch.float32)
    pipe.set_progress_bar_config(disable=True)
    assert pipe.tokenizer("a photo of a cat").input_ids[-2] == 2368  # the shipped CLIP BPE
    assert torch.equal(draw(pipe), draw(source))
    assert no_network == []


def test_a_ckpt_that_would_run_code_never_does(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = hostile_ckpt(tmp_path / "evil.ckpt", f"touch {marker}")
    with pytest.raises(ModelUnavailable, match="would run code"):
        resolve(str(evil))
    # even past that check, the loader reads .ckpt files with the weights-only unpickler
    from inference.single_file import read_state_dict

    with pytest.raises(Exception, match=r"(?i)weights.only|unsupported global"):
        read_state_dict(evil)
    assert not marker.exists()


def test_refused_families_say_why(tmp_path: Path) -> None:
    from tests.fixtures.checkpoint_headers import FAMILIES

    with pytest.raises(ModelUnavailable, match=r"Flux file: Flux models are not supported"):
        resolve(str(header_file(tmp_path / "flux.safetensors", FAMILIES["flux"])))


def test_the_editor_draws_a_consistent_story_from_one_sdxl_file(
    families: dict[str, tuple[Any, Path]], tmp_path: Path, no_network: list[object]
) -> None:
    """The whole generation path (identity panel written, a panel reading its bank through CSA)
    on an SDXL checkpoint given as one file, offline."""
    from inference.csa.processor import ConsistentAttnProcessor
    from inference.engine.story_engine import StoryEngine
    from storyboard.core.jobs import CharacterJob, PanelJob, Sampling, StoryRequest

    source, config = families["sdxl"]
    path = write_checkpoint(source, tmp_path / "juggernaut.safetensors", "original")
    engine = StoryEngine(str(path), device="cpu", dtype=torch.float32, model_config=str(config))
    identity = PanelJob("i", "1A", "a cat in a garden", "", 1, "none", ("c",))
    panel = PanelJob("p", "1B", "a cat on a roof", "", 2, "none", ("c",))
    request = StoryRequest(
        model=str(path),
        sampling=Sampling(64, 64, 2, 5.0, fit_to_model=False),
        panels=(identity, panel),
        characters=(CharacterJob("c", "Cat", 3, (identity,)),),
    )
    images = engine.generate(request)
    assert sorted(i.job.label for i in images) == ["1A", "1B"]
    assert all((i.width, i.height) == (64, 64) for i in images)
    assert engine.pipe is not None
    procs = engine.pipe.unet.attn_processors.values()
    assert any(isinstance(p, ConsistentAttnProcessor) for p in procs)
    assert no_network == []
