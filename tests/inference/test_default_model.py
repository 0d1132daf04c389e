"""The built-in model: a small diffusers folder among the shipped files, and a story made from it
offline on the CPU."""

from __future__ import annotations

import io
import json

import pytest
import torch
from PIL import Image

from training.toyworld.model import MODEL_DIR


def test_the_shipped_model_is_small_and_a_diffusers_folder() -> None:
    files = [p for p in MODEL_DIR.rglob("*") if p.is_file()]
    assert (MODEL_DIR / "model_index.json").is_file()
    assert all(p.stat().st_size < 16 * 1024 * 1024 for p in files)
    assert sum(p.stat().st_size for p in files) < 40 * 1024 * 1024
    weights = [p for p in files if p.suffix == ".safetensors"]
    assert {p.parent.name for p in weights} == {"unet", "vae", "text_encoder"}
    index = json.loads((MODEL_DIR / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline"
    assert (MODEL_DIR / "README.md").is_file()  # the model card


@pytest.mark.slow
def test_the_default_model_generates_a_story_offline_on_the_cpu() -> None:
    """What a new user gets: the built-in model through the engine, with CSA, no downloads."""
    from inference.engine.story_engine import StoryEngine
    from inference.model_loading import DEFAULT_MODEL, resolve
    from storyboard.core.jobs import CharacterJob, PanelJob, Sampling, StoryRequest
    from storyboard.core.model import GenerationSettings

    assert GenerationSettings().model == DEFAULT_MODEL
    assert resolve(DEFAULT_MODEL).location == MODEL_DIR
    scenes = ["in the park", "on the beach", "in the snow"]
    panels = tuple(
        PanelJob(f"p{i}", str(i + 1), f"a person waving {s}", "", 10 + i, "none", ("hero",))
        for i, s in enumerate(scenes)
    )
    request = StoryRequest(
        DEFAULT_MODEL,
        Sampling(1024, 576, 8, 4.0),  # the project's 16:9 maps to the model's one native size
        panels,
        (CharacterJob("hero", "Hero", 3, panels[:2]),),
    )
    engine = StoryEngine(device="cpu")
    images = engine.generate(request)
    assert [i.job.panel_id for i in images] == ["p0", "p1", "p2"]
    assert all((i.width, i.height) == (64, 64) for i in images)
    assert [i.identity_of for i in images] == ["hero", "hero", None]
    for image in images:
        picture = Image.open(io.BytesIO(image.png)).convert("RGB")
        assert picture.size == (64, 64)
        pixels = torch.tensor(list(picture.getdata()), dtype=torch.float32)
        assert float(pixels.std()) > 20  # a drawn picture, not a flat field
    # the built-in model's panels read the identity bank ahead (0.3 of 8 steps: 2), so the bank
    # holds no tokens of the first two steps
    bank = engine.banks.get_loaded("hero")
    assert bank is not None and '"read_ahead": 0.3' in bank.csa
    assert min(step for _, step in bank.entries()) == 2
