"""Sketch-guided generation and inpainting on a tiny random SD1.5 folder: img2img strength,
inpainting that leaves every pixel outside the mask alone, ControlNet and T2I-Adapter loading,
missing weights, and Consistent Self-Attention reading the bank in guided panels."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from inference.csa.state import PanelSpec
from inference.engine.guide_images import line_image
from inference.engine.story_engine import GeneratedImage, Progress, StoryEngine
from inference.errors import ModelUnavailable
from storyboard.core.guides import Guide
from storyboard.core.jobs import CharacterJob, PanelJob, Sampling, StoryRequest
from storyboard.core.model import GuidanceMethod
from tests.fixtures.engine_helpers import differ, pixels, save_tiny

STEPS = 4
SAMPLING = Sampling(64, 64, STEPS, 5.0, fit_to_model=False)
HERO_IDS = tuple(
    PanelJob(f"i{n}", f"1{chr(65 + n)}", f"hero {pose}", "", n, "none", ("hero",))
    for n, pose in enumerate(["standing", "running"])
)
HERO = CharacterJob("hero", "Hero", seed=5, identity_panels=HERO_IDS)


@pytest.fixture(scope="module")
def sd15_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny("sd15", tmp_path_factory.mktemp("models") / "tiny-sd15")


@pytest.fixture(scope="module")
def engine(sd15_dir: Path) -> StoryEngine:
    engine = StoryEngine(str(sd15_dir))
    engine.load()
    return engine


@pytest.fixture(scope="module")
def drawing(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A noisy panel image, a sketch of black strokes and a mask of the middle square."""
    folder = tmp_path_factory.mktemp("drawing")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(folder / "image.png")
    sketch = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(sketch)
    draw.line((4, 60, 60, 4), fill=(0, 0, 0, 255), width=3)
    draw.ellipse((20, 8, 44, 32), outline=(10, 20, 200, 255), width=2)
    sketch.save(folder / "sketch.png")
    mask = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    ImageDraw.Draw(mask).rectangle((16, 16, 47, 47), fill=(255, 0, 0, 255))
    mask.save(folder / "mask.png")
    return {name: str(folder / f"{name}.png") for name in ("image", "sketch", "mask")}


def guided(method: GuidanceMethod, strength: float, **files: object) -> PanelJob:
    guide = Guide(method, strength, **files)  # type: ignore[arg-type]
    return PanelJob("g1", "3A", "hero on a bridge", "", 21, "none", ("hero",), guide=guide)


def request(
    model: Path, *panels: PanelJob, characters: tuple[CharacterJob, ...] = (HERO,)
) -> StoryRequest:
    return StoryRequest(str(model), SAMPLING, panels, characters)


def run(engine: StoryEngine, req: StoryRequest) -> tuple[list[GeneratedImage], list[Progress]]:
    seen: list[Progress] = []
    return engine.generate(req, progress=seen.append), seen


def test_img2img_strength_zero_returns_the_sketch_and_more_strength_redraws(
    engine: StoryEngine, sd15_dir: Path, drawing: dict[str, str]
) -> None:
    sketch = ((drawing["sketch"], 1.0),)
    job = guided(GuidanceMethod.IMG2IMG, 0.0, sketch=sketch)
    still, _ = run(engine, request(sd15_dir, job, characters=()))
    expected = Image.new("RGBA", (64, 64), "white")
    expected.alpha_composite(Image.open(drawing["sketch"]).convert("RGBA"))
    assert len(still) == 1 and still[0].settings["guidance_method"] == "img2img"
    assert torch.equal(pixels(still[0].png), pixels(_png(expected.convert("RGB"))))

    half, seen = run(engine, request(sd15_dir, guided(GuidanceMethod.IMG2IMG, 0.5, sketch=sketch)))
    full, _ = run(engine, request(sd15_dir, guided(GuidanceMethod.IMG2IMG, 1.0, sketch=sketch)))
    steps = [p.step for p in seen if p.phase == "panels"]
    assert steps == [2, 3, 4]  # half the schedule, counted where the pipeline starts
    assert half[-1].job.label == "3A" and half[-1].settings["guidance_strength"] == 0.5
    assert not torch.equal(pixels(half[-1].png), pixels(full[-1].png))


def test_inpainting_changes_only_the_masked_region_with_the_character_inside(
    engine: StoryEngine, sd15_dir: Path, drawing: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    story = engine.story
    assert story is not None
    reads: list[object] = []
    begin_read = story.begin_read
    monkeypatch.setattr(
        story,
        "begin_read",
        lambda specs, *a, **k: (reads.extend(specs), begin_read(specs, *a, **k)),
    )
    job = guided(GuidanceMethod.INPAINT, 1.0, image=drawing["image"], mask=drawing["mask"])
    images, _ = run(engine, request(sd15_dir, job))
    assert images[-1].job.label == "3A"
    assert reads == [PanelSpec(("hero",), {"hero": (0.25, 0.25, 0.75, 0.75)})]  # CSA in the mask
    result, original = pixels(images[-1].png), pixels(Path(drawing["image"]).read_bytes())
    inside = torch.zeros(64, 64, dtype=torch.bool)
    inside[16:48, 16:48] = True
    assert torch.equal(result[~inside], original[~inside])  # pixel-exact outside the mask
    assert (result[inside] - original[inside]).abs().mean() > 5


def test_controlnet_and_adapter_load_from_the_artists_folders(
    engine: StoryEngine, sd15_dir: Path, drawing: dict[str, str], tmp_path: Path
) -> None:
    from diffusers import ControlNetModel, T2IAdapter

    torch.manual_seed(1)
    unet = engine.pipe.unet
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 32))
    with torch.no_grad():  # its output convolutions start at zero: give them a say
        for parameter in controlnet.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    controlnet.save_pretrained(tmp_path / "scribble")
    T2IAdapter(
        in_channels=3,
        channels=list(unet.config.block_out_channels),
        num_res_blocks=1,
        downscale_factor=engine.pipe.vae_scale_factor,
        adapter_type="full_adapter",
    ).save_pretrained(tmp_path / "sketch-adapter")
    sketch = ((drawing["sketch"], 1.0),)
    plain = guided(
        GuidanceMethod.CONTROLNET, 0.0, sketch=sketch, weights=str(tmp_path / "scribble")
    )
    plain_images, _ = run(engine, request(sd15_dir, plain))
    for method, folder in (
        (GuidanceMethod.CONTROLNET, "scribble"),
        (GuidanceMethod.T2I_ADAPTER, "sketch-adapter"),
    ):
        job = guided(method, 1.0, sketch=sketch, weights=str(tmp_path / folder))
        images, seen = run(engine, request(sd15_dir, job))
        assert images[-1].settings["guidance_method"] == str(method)
        assert [p.step for p in seen if p.phase == "panels"] == list(range(STEPS + 1))
        assert not torch.equal(pixels(images[-1].png), pixels(plain_images[-1].png))


def test_missing_guidance_weights_fail_clearly_and_other_methods_still_work(
    engine: StoryEngine, sd15_dir: Path, drawing: dict[str, str], tmp_path: Path
) -> None:
    sketch = ((drawing["sketch"], 1.0),)
    for method, repo in (
        (GuidanceMethod.CONTROLNET, "lllyasviel/control_v11p_sd15_scribble"),
        (GuidanceMethod.T2I_ADAPTER, "TencentARC/t2iadapter_sketch_sd15v2"),
    ):
        for weights in (None, str(tmp_path / "nowhere")):
            job = guided(method, 1.0, sketch=sketch, weights=weights)
            with pytest.raises(ModelUnavailable, match=f"hf download {repo}"):
                engine.generate(request(sd15_dir, job, characters=()))
    images, _ = run(engine, request(sd15_dir, guided(GuidanceMethod.IMG2IMG, 0.5, sketch=sketch)))
    assert images[-1].settings["guidance_method"] == "img2img"


def test_the_line_image_is_white_strokes_on_black_without_balloon_space(
    drawing: dict[str, str],
) -> None:
    guide = Guide(
        GuidanceMethod.CONTROLNET, 1.0, sketch=((drawing["sketch"], 1.0),),
        keep_clear=((0.0, 0.0, 0.5, 0.5),),
    )  # fmt: skip
    lines = np.asarray(line_image(guide, (64, 64)).convert("L"))
    assert lines[0, 63] == 0 and lines[60, 4] > 200  # background black, stroke white
    assert lines[:32, :32].max() == 0  # nothing drawn where the balloon goes


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_guided_panel_with_boxes_reads_each_boxs_own_prompt(
    engine: StoryEngine, sd15_dir: Path, drawing: dict[str, str]
) -> None:
    sketch = ((drawing["sketch"], 1.0),)
    job = dataclasses.replace(
        guided(GuidanceMethod.IMG2IMG, 0.6, sketch=sketch),
        prompt="hero and a red dragon on a bridge",
        characters=(),  # no identity here: only the box's own prompt differs
        regions=(("hero", (0.0, 0.0, 0.5, 1.0)),),
        region_prompts=(("hero", "hero on a bridge"),),
    )
    plain = dataclasses.replace(job, regions=(), region_prompts=())
    boxed, _ = run(engine, request(sd15_dir, job, characters=()))
    alone, _ = run(engine, request(sd15_dir, plain, characters=()))
    assert differ(boxed[-1].png, alone[-1].png) > 0  # the box was drawn from its own prompt
    assert engine.regional is not None and engine.regional.processor.plan is None  # and ended
