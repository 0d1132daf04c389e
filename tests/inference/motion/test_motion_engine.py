"""TransitionEngine: loading each backend from its sources, missing weights, the clip, cancel."""

from __future__ import annotations

import threading

import av
import numpy as np
import pytest
from PIL import Image

from inference.errors import Cancelled, GenerationError, ModelUnavailable, OutOfMemory
from inference.motion.engine import MotionSettings, TransitionEngine, TransitionRequest
from inference.motion.transition import TransitionSettings, fit
from tests.fixtures.tiny_motion import save_sources, tiny_ltx

SMALL = TransitionSettings(frames=5, width=32, height=32, steps=2, seed=1, guidance=2.0)


def _panels(tmp_path):
    start = Image.fromarray(np.random.default_rng(1).integers(0, 255, (32, 32, 3), np.uint8))
    start.save(tmp_path / "start.png")
    return tmp_path / "start.png", Image.new("RGB", (48, 32), (250, 10, 10))


def test_smp_backend_loads_its_parts_and_makes_a_clip(tmp_path) -> None:
    paths = save_sources(tmp_path / "models")
    engine = TransitionEngine(
        MotionSettings(
            backend="smp",
            predictor=str(paths["predictor"]),
            base_model=str(paths["base"]),
            motion_adapter=str(paths["adapter"]),
            image_encoder=str(paths["encoder"]),
            device="cpu",
        )
    )
    start, end = _panels(tmp_path)
    phases = []
    clip = engine.generate(TransitionRequest(start, end, SMALL), progress=phases.append)
    assert len(clip.frames) == 5 and clip.backend == "smp"
    assert np.array_equal(np.asarray(clip.frames[-1]), np.asarray(fit(end, 32, 32)))
    assert phases[0].phase == "loading" and phases[-1].step == 2
    video = clip.write_mp4(tmp_path / "t.mp4")
    with av.open(str(video)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 5
    assert len(clip.write_png_frames(tmp_path / "frames")) == 5


def test_smp_without_a_predictor_says_how_to_get_one() -> None:
    engine = TransitionEngine(MotionSettings(backend="smp", device="cpu"))
    with pytest.raises(ModelUnavailable) as caught:
        engine.generate(TransitionRequest(Image.new("RGB", (8, 8)), Image.new("RGB", (8, 8))))
    assert "training.motion.train" in caught.value.fix and "LTX" in caught.value.fix


def test_missing_adapter_is_reported_before_the_base_model(tmp_path) -> None:
    paths = save_sources(tmp_path / "models")
    engine = TransitionEngine(
        MotionSettings(
            backend="smp",
            predictor=str(paths["predictor"]),
            image_encoder=str(paths["encoder"]),
            motion_adapter="guoyww/not-downloaded-adapter",
            base_model="no/such-base",
            device="cpu",
        )
    )
    with pytest.raises(ModelUnavailable) as caught:
        engine.load()
    assert caught.value.source == "guoyww/not-downloaded-adapter"
    assert "hf download guoyww/not-downloaded-adapter" in caught.value.fix


def test_wan_not_downloaded_gives_the_download_command() -> None:
    engine = TransitionEngine(MotionSettings(backend="wan", device="cpu"))
    with pytest.raises(ModelUnavailable) as caught:
        engine.load()
    assert "hf download Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers" in caught.value.fix


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # numpy 2.4
def test_ltx_backend_runs_a_tiny_pipeline_from_a_folder(tmp_path) -> None:
    tiny_ltx().save_pretrained(tmp_path / "ltx")
    engine = TransitionEngine(
        MotionSettings(backend="ltx", keyframe_model=str(tmp_path / "ltx"), device="cpu")
    )
    start, end = _panels(tmp_path)
    steps = []
    clip = engine.generate(TransitionRequest(start, end, SMALL), progress=steps.append)
    assert len(clip.frames) == 5 and all(f.size == (32, 32) for f in clip.frames)
    assert np.array_equal(np.asarray(clip.frames[0]), np.asarray(fit(Image.open(start), 32, 32)))
    assert [p.step for p in steps if p.phase == "transition"] == [1, 2]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        engine.generate(TransitionRequest(start, end, SMALL), cancelled=cancel)


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # numpy 2.4
def test_running_out_of_memory_or_failing_mid_clip_is_explained_and_the_engine_recovers(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_ltx().save_pretrained(tmp_path / "ltx")
    engine = TransitionEngine(
        MotionSettings(backend="ltx", keyframe_model=str(tmp_path / "ltx"), device="cpu")
    )
    start, end = _panels(tmp_path)
    engine.load()

    def exhausted(*_a, **_k):
        raise RuntimeError("MPS backend out of memory (MPS allocated: 17.20 GB)")

    def broken(*_a, **_k):
        raise RuntimeError("expected scalar type Half but found Float")

    with monkeypatch.context() as patch:
        patch.setattr(engine.model.transformer, "forward", exhausted)
        # (low-VRAM mode is not offered: it moves work to the CPU this engine runs on)
        with pytest.raises(OutOfMemory, match=r"cpu while generating the transition\. Try fewer"):
            engine.generate(TransitionRequest(start, end, SMALL))
        patch.setattr(engine.model.transformer, "forward", broken)
        with pytest.raises(GenerationError, match="the transition failed: expected scalar"):
            engine.generate(TransitionRequest(start, end, SMALL))
    assert len(engine.generate(TransitionRequest(start, end, SMALL)).frames) == 5


def test_ltx_folder_of_another_model_is_refused(tmp_path) -> None:
    from tests.fixtures.tiny_pipelines import tiny_sd15

    tiny_sd15().save_pretrained(tmp_path / "sd")
    engine = TransitionEngine(
        MotionSettings(backend="ltx", keyframe_model=str(tmp_path / "sd"), device="cpu")
    )
    with pytest.raises(ModelUnavailable, match="StableDiffusionPipeline model, not LTX-Video"):
        engine.load()


def test_trained_unet_parts_are_applied_and_checked(tmp_path) -> None:
    import torch
    from safetensors.torch import save_file

    from inference.motion.video_model import VideoModelSources, load_video_model

    paths = save_sources(tmp_path / "models")
    weights = tmp_path / "unet_trained.safetensors"
    sources = VideoModelSources(
        predictor=str(paths["predictor"]),
        base=str(paths["base"]),
        adapter=str(paths["adapter"]),
        image_encoder=str(paths["encoder"]),
        unet_weights=str(weights),
    )
    name = "down_blocks.0.motion_modules.0.proj_in.weight"
    save_file({name: torch.full((16, 16), 0.25)}, str(weights))
    model = load_video_model(sources, torch.float32)
    assert torch.equal(model.unet.state_dict()[name], torch.full((16, 16), 0.25))
    save_file({"no.such.tensor": torch.zeros(1)}, str(weights))
    with pytest.raises(ModelUnavailable, match="do not fit this UNet"):
        load_video_model(sources, torch.float32)
