"""Print size in the engine, on a tiny random SD1.5 folder: tiles that cover the picture and blend
without seams, the target size reached, every tile read through the character's identity bank
(its box carried into the tile), the original named in the result, progress and cancel."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference.csa.state import PanelSpec
from inference.engine.story_engine import Progress, StoryEngine
from inference.engine.tiles import Blend, Tile, starts, tile_grid
from inference.errors import Cancelled
from storyboard.core.jobs import CharacterJob, PanelJob, Sampling
from storyboard.core.print_jobs import PRINT_DPI, UPSCALED_FROM, PrintJob, PrintSizeRequest
from tests.fixtures.engine_helpers import save_tiny

STEPS = 4
SAMPLING = Sampling(32, 32, STEPS, 5.0, fit_to_model=False)
IDENTITY = PanelJob("i0", "1A", "hero standing", "", 1, "none", ("hero",))
HERO = CharacterJob("hero", "Hero", seed=5, identity_panels=(IDENTITY,))
PANEL = PanelJob("p1", "2A", "hero on a bridge", "", 21, "none", ("hero",))


def test_tiles_cover_the_picture_evenly_flush_with_its_edges() -> None:
    assert starts(64, 64, 16) == [0]
    assert starts(128, 64, 16) == [0, 32, 64]  # stride 48 needs 3; spread evenly
    assert starts(100, 64, 16) == [0, 36]
    grid = tile_grid((96, 64), (32, 32), 0.25)
    assert {(t.x, t.y) for t in grid} == {(x, y) for x in (0, 21, 43, 64) for y in (0, 16, 32)}
    with pytest.raises(ValueError, match="does not fit"):
        tile_grid((16, 64), (32, 32), 0.25)


def test_the_blend_of_identical_tiles_is_the_picture_and_seams_fall_off() -> None:
    picture = np.random.default_rng(0).random((64, 96, 3), dtype=np.float32)
    blend = Blend((96, 64))
    for tile in tile_grid((96, 64), (32, 32), 0.25):
        blend.add(tile, picture[tile.y : tile.y + tile.h, tile.x : tile.x + tile.w], (8, 8))
    assert np.allclose(blend.result(), picture, atol=1e-5)
    # two tiles of flat 0 and flat 1: across their overlap the result rises, no step
    two = Blend((48, 8))
    two.add(Tile(0, 0, 32, 8), np.zeros((8, 32, 3), np.float32), (16, 0))
    two.add(Tile(16, 0, 32, 8), np.ones((8, 32, 3), np.float32), (16, 0))
    row = two.result()[0, :, 0]
    assert row[0] == 0 and row[-1] == 1 and np.all(np.diff(row) >= 0)
    assert np.abs(np.diff(row)).max() < 0.1
    empty = Blend((8, 8))
    with pytest.raises(ValueError, match="uncovered"):
        empty.result()


def test_a_tile_sees_a_box_relative_to_itself() -> None:
    tile = Tile(32, 0, 32, 32)
    assert tile.relative((0.25, 0.0, 0.75, 0.5), (64, 64)) == (0.0, 0.0, 0.5, 1.0)
    assert tile.relative((0.0, 0.0, 0.25, 1.0), (64, 64)) is None


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> StoryEngine:
    folder = save_tiny("sd15", tmp_path_factory.mktemp("models") / "tiny-sd15")
    engine = StoryEngine(str(folder))
    engine.load()
    return engine


@pytest.fixture(scope="module")
def panel_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("panel") / "panel.png"
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(path)
    return path


def request(
    engine: StoryEngine, source: Path, *jobs: PrintJob, strength: float = 0.5
) -> PrintSizeRequest:
    assert engine.model is not None
    return PrintSizeRequest(engine.model.source, SAMPLING, jobs, (HERO,), None, strength=strength)


def test_a_panel_reaches_its_size_through_the_bank_tile_by_tile(
    engine: StoryEngine, panel_png: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = engine.story
    assert story is not None
    reads: list[PanelSpec] = []
    begin_read = story.begin_read

    def spy(specs: list[PanelSpec], *args: object, **kwargs: object) -> None:
        reads.extend(specs)
        begin_read(specs, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(story, "begin_read", spy)
    boxed = PanelJob(
        "p1", "2A", "hero on a bridge", "", 21, "none", ("hero",),
        regions=(("hero", (0.0, 0.0, 0.5, 1.0)),),
        region_prompts=(("hero", "hero in a red coat"),),
    )  # fmt: skip
    seen: list[Progress] = []
    images = engine.generate(
        request(engine, panel_png, PrintJob(boxed, str(panel_png), "orig", 64, 48, 300)),
        progress=seen.append,
    )
    assert len(images) == 1  # the identity panel written for the bank is not delivered
    image = images[0]
    assert (image.width, image.height) == (64, 48)
    assert Image.open(io.BytesIO(image.png)).size == (64, 48)
    assert image.settings[UPSCALED_FROM] == "orig" and image.settings[PRINT_DPI] == 300
    assert image.settings["tiles"] == 6 and image.settings["refine_strength"] == 0.5
    assert "csa_rate_low" in image.settings
    # 3 columns x 2 rows of 32 px tiles: the left column holds the box's 0..0.5 -> 0..1, the
    # middle one part of it, the right one none (no bank read there at all)
    assert (
        reads
        == [
            PanelSpec(("hero",), {"hero": (0.0, 0.0, 1.0, 1.0)}),
            PanelSpec(("hero",), {"hero": (0.0, 0.0, 0.5, 1.0)}),
        ]
        * 2
    )
    steps = [(p.step, p.total) for p in seen if p.phase == "print size"]
    assert steps[-1] == (12, 12)  # 6 tiles x 2 steps (strength 0.5 of 4)
    # the bank was written first; its identity image counts as no panel done
    identity = [p for p in seen if p.phase == "identity"]
    assert identity and all((p.images_done, p.images_total) == (0, 1) for p in identity)


def test_strength_zero_is_a_plain_enlargement(engine: StoryEngine, panel_png: Path) -> None:
    job = PrintJob(PANEL, str(panel_png), "orig", 64, 64, 300)
    image = engine.generate(request(engine, panel_png, job, strength=0.0))[0]
    expected = Image.open(panel_png).convert("RGB").resize((64, 64), Image.Resampling.LANCZOS)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(image.png))), np.asarray(expected))
    assert image.settings["tiles"] == 0 and image.settings["refine_strength"] == 0.0


def test_a_target_smaller_than_a_tile_is_refined_at_tile_size_then_fitted(
    engine: StoryEngine, panel_png: Path
) -> None:
    job = PrintJob(PANEL, str(panel_png), "orig", 40, 24, 300)
    image = engine.generate(request(engine, panel_png, job))[0]
    assert (image.width, image.height) == (40, 24) and image.settings["tiles"] == 2


def test_cancel_stops_between_steps_and_keeps_the_panels_done(
    engine: StoryEngine, panel_png: Path
) -> None:
    stop = threading.Event()
    jobs = [PrintJob(PANEL, str(panel_png), "orig", 64, 64, 300) for _ in range(2)]
    kept = []

    def deliver(image: object) -> None:
        kept.append(image)
        stop.set()  # the artist cancels once the first panel is in

    with pytest.raises(Cancelled):
        engine.generate(request(engine, panel_png, *jobs), cancelled=stop, on_image=deliver)
    assert len(kept) == 1
