"""Faster generation (``inference/engine/fast_path.py``) on the CPU with a tiny random SDXL.

The compiled story must draw what the eager one draws: same seeds, every pixel within 2 of 255
(the float32 reorderings of compiled code move a pixel by 1 at most here), with CSA's processors
still on the decoder's self-attention layers. Compilation that fails falls back to eager with the
reason logged; the setting is off on the CPU unless asked for. The story compiles with dynamo's
``eager`` backend (the graph breaks and guards around CSA's layers are dynamo's business; the
inductor's C++ would take minutes on a shared 2-core machine); the inductor itself, and its cache
in the user cache folder, are checked on one small block class.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import torch

from inference.csa.processor import ConsistentAttnProcessor
from inference.engine.fast_path import PREPARING, FastOptions, apply_fast_path, fast_wanted
from inference.engine.story_engine import StoryEngine
from storyboard.core.jobs import CharacterJob, PanelJob, Sampling, StoryRequest
from tests.fixtures.engine_helpers import differ, save_tiny
from tests.fixtures.tiny_pipelines import tiny_sdxl

SAMPLING = Sampling(64, 64, 3, 5.0, fit_to_model=False)
IDS = tuple(
    PanelJob(f"i{n}", f"1{chr(65 + n)}", f"hero {pose}", "blurry", n, "none", ("hero",))
    for n, pose in enumerate(["standing", "running"])
)
READ = PanelJob("r1", "2A", "hero waves at the sea", "dark", 11, "none", ("hero",))
HERO = CharacterJob("hero", "Hero", seed=5, identity_panels=IDS)
TOLERANCE = 2  # of 255, per pixel
DYNAMO_ONLY = FastOptions(backend="eager", blocks=("BasicTransformerBlock",))


@pytest.fixture(scope="module")
def sdxl_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny("sdxl", tmp_path_factory.mktemp("models") / "tiny-sdxl")


@pytest.fixture(scope="module")
def eager_story(sdxl_dir: Path) -> list[Any]:
    return StoryEngine(str(sdxl_dir), fast=False).generate(request(sdxl_dir))


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user folders in ``tmp_path``, the inductor's cache folder unset (as for an artist)."""
    monkeypatch.setenv("STORYBOARD_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    return tmp_path / "config" / "cache"


def request(model: Path) -> StoryRequest:
    return StoryRequest(str(model), SAMPLING, (*IDS, READ), (HERO,), batch_size=2)


def csa_layers(engine: StoryEngine) -> list[str]:
    procs = engine.pipe.unet.attn_processors
    return sorted(n for n, p in procs.items() if isinstance(p, ConsistentAttnProcessor))


@pytest.mark.slow
def test_a_compiled_story_draws_the_eager_story_and_keeps_csa(
    sdxl_dir: Path, eager_story: list[Any]
) -> None:
    engine = StoryEngine(str(sdxl_dir), fast=DYNAMO_ONLY)
    seen: list[Any] = []
    images = engine.generate(request(sdxl_dir), progress=seen.append)
    assert engine.loaded is not None and engine.loaded.fast is not None
    assert engine.loaded.fast.compiled and engine.loaded.fast.notes == []
    assert len(csa_layers(engine)) == 6  # every decoder self-attention layer of the tiny UNet
    assert [i.job.label for i in images] == ["1A", "1B", "2A"]
    assert max(differ(a.png, b.png) for a, b in zip(images, eager_story, strict=True)) <= TOLERANCE
    # the artist is told why the first step of each phase waits, and only then
    notes = [(p.phase, p.step) for p in seen if p.note == PREPARING]
    assert notes == [("identity", 0), ("panels", 0)]
    again: list[Any] = []
    engine.generate(request(sdxl_dir), progress=again.append)
    assert not any(p.note for p in again)


def test_a_compilation_that_fails_falls_back_to_eager_with_the_reason_logged(
    sdxl_dir: Path, eager_story: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_graph: Any, _inputs: Any) -> Any:
        raise RuntimeError("no C compiler on this machine")

    options = FastOptions(backend=broken, blocks=("BasicTransformerBlock",))
    engine = StoryEngine(str(sdxl_dir), fast=options)
    with caplog.at_level(logging.WARNING, logger="inference.engine.fast_path"):
        images = engine.generate(request(sdxl_dir))
    assert engine.loaded is not None and engine.loaded.fast is not None
    assert not engine.loaded.fast.compiled
    assert "no C compiler on this machine" in caplog.text and "running eagerly" in caplog.text
    assert len(csa_layers(engine)) == 6
    assert max(differ(a.png, b.png) for a, b in zip(images, eager_story, strict=True)) == 0


def test_compilation_that_cannot_start_leaves_the_model_eager(
    sdxl_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from diffusers.models.modeling_utils import ModelMixin

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("torch.compile is not supported on this Python")

    monkeypatch.setattr(ModelMixin, "compile_repeated_blocks", refuse)
    engine = StoryEngine(str(sdxl_dir), fast=True)
    with caplog.at_level(logging.WARNING, logger="inference.engine.fast_path"):
        engine.load()
    assert engine.loaded is not None and engine.loaded.fast is not None
    assert not engine.loaded.fast.compiled
    assert "not supported on this Python" in caplog.text


def test_faster_generation_is_off_on_the_cpu_unless_asked_and_honoured(sdxl_dir: Path) -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert not fast_wanted(None, cpu, False)
    assert fast_wanted(None, cuda, False) and not fast_wanted(None, cuda, True)
    assert not fast_wanted(False, cuda, False) and fast_wanted(True, cpu, False)
    default = StoryEngine(str(sdxl_dir), device="cpu")
    default.load()
    assert default.loaded is not None and default.loaded.fast is None
    procs = default.pipe.unet.attn_processors.values()
    assert not any(type(p).__name__ == "FusedAttnProcessor2_0" for p in procs)


def test_fused_projections_leave_csa_alone_and_a_lora_unfuses_them(sdxl_dir: Path) -> None:
    engine = StoryEngine(str(sdxl_dir), fast=FastOptions(compile=False))
    engine.load()
    assert engine.loaded is not None and engine.loaded.fast is not None
    fused = engine.loaded.fast.fused
    names = {n for n, p in engine.pipe.unet.attn_processors.items() if "Fused" in type(p).__name__}
    assert fused and all(not n.startswith("up_blocks") for n in names)
    assert all(n.endswith("attn1.processor") for n in names)
    assert len(csa_layers(engine)) == 6
    assert engine.loaded.loras.before_load is not None
    engine.loaded.loras.before_load()  # what loading a LoRA file does first
    assert not engine.loaded.fast.fused
    procs = engine.pipe.unet.attn_processors.values()
    assert not any("Fused" in type(p).__name__ for p in procs)


@pytest.mark.slow
def test_the_inductor_compiles_into_the_user_cache_folder(user_cache: Path) -> None:
    """One small block class through the real inductor (C++ on the CPU): the UNet's output
    matches eager and the compiled code lands in the user cache folder."""
    pipe = tiny_sdxl()
    unet = pipe.unet
    generator = torch.Generator().manual_seed(0)
    sample = torch.randn((1, 4, 16, 16), generator=generator)
    context = torch.randn((1, 8, 64), generator=generator)
    added = {"text_embeds": torch.randn((1, 32), generator=generator), "time_ids": torch.ones(1, 6)}
    with torch.no_grad():
        expected = unet(sample, 10, context, added_cond_kwargs=added).sample
        apply_fast_path(pipe, FastOptions(blocks=("GEGLU",)), torch.device("cpu"))
        got = unet(sample, 10, context, added_cond_kwargs=added).sample
    assert torch.allclose(got, expected, atol=1e-4, rtol=1e-4)
    assert any((user_cache / "torch-compile").rglob("*.py"))
