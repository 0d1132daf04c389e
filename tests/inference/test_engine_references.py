"""Character reference images through a tiny random IP-Adapter, and its missing-weights error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PIL import Image

from inference.engine.story_engine import StoryEngine
from inference.errors import ModelUnavailable
from storyboard.core.jobs import CharacterJob, PanelJob, Sampling, StoryRequest
from tests.fixtures.engine_helpers import differ, save_tiny, save_tiny_ip_adapter

SAMPLING = Sampling(64, 64, 2, 5.0, fit_to_model=False)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    root = tmp_path_factory.mktemp("ip")
    model = save_tiny("sd15", root / "tiny-sd15")
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(model / "unet")
    adapter = save_tiny_ip_adapter(
        unet, root / "ip-adapter", "models", "ip-adapter_sd15.safetensors"
    )
    refs = []
    for name, colour in (("red", (220, 20, 20)), ("blue", (20, 20, 220))):
        Image.new("RGB", (40, 40), colour).save(root / f"{name}.png")
        refs.append(str(root / f"{name}.png"))
    return model, adapter, refs


def test_a_reference_image_conditions_only_its_panels(setup: tuple[Path, Path, list[str]]) -> None:
    model, adapter, (red, blue) = setup
    plain = PanelJob("a", "1A", "a hero", "", 4, "none")
    with_red = dataclasses.replace(plain, panel_id="b", label="1B", reference_images=(red,))
    with_blue = dataclasses.replace(plain, panel_id="c", label="1C", reference_images=(blue,))
    request = StoryRequest(str(model), SAMPLING, (plain, with_red, with_blue))

    adapted = StoryEngine(str(model), ip_adapter=str(adapter), ip_adapter_scale=1.0)
    made = {i.job.label: i.png for i in adapted.generate(request)}
    a, r, b = made["1A"], made["1B"], made["1C"]
    base = StoryEngine(str(model)).generate(StoryRequest(str(model), SAMPLING, (plain,)))[0].png
    assert differ(a, base) <= 1  # no reference: the adapter stays out of the way
    assert differ(r, a) > 2 and differ(r, b) > 2  # each reference steers its own panel


def test_a_character_reference_conditions_its_identity_batch(
    setup: tuple[Path, Path, list[str]],
) -> None:
    model, adapter, (red, _) = setup
    ids = tuple(
        PanelJob(f"i{n}", f"1{n}", f"hero pose {n}", "", n, "none", ("hero",), (), (red,))
        for n in range(2)
    )
    hero = CharacterJob("hero", "Hero", 1, ids)
    engine = StoryEngine(str(model), ip_adapter=str(adapter), ip_adapter_scale=1.0)
    plain = engine.generate(StoryRequest(str(model), SAMPLING, ids, (hero,)))
    referenced = dataclasses.replace(hero, reference_image=red)
    steered = engine.generate(StoryRequest(str(model), SAMPLING, ids, (referenced,)))
    assert [i.identity_of for i in steered] == ["hero", "hero"]
    assert all(differ(a.png, b.png) > 2 for a, b in zip(plain, steered, strict=True))


def test_missing_ip_adapter_weights_say_what_to_download(
    setup: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    model, _, _ = setup
    engine = StoryEngine(str(model), ip_adapter=str(tmp_path / "nothing-here"))
    with pytest.raises(ModelUnavailable) as info:
        engine.load()
    message = str(info.value)
    assert "ip-adapter_sd15.safetensors" in message
    assert 'hf download h94/IP-Adapter --include "models/ip-adapter_sd15.safetensors"' in message
    assert engine.pipe is None
