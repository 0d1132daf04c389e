"""Print size's plain data: target sizes, the versions of a picture and which one print uses, the
request built from a project, and how a result is recorded (a new candidate, accepted)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from storyboard.core.assets import AssetStore
from storyboard.core.model import Candidate, Character, Panel, Project, Scene
from storyboard.core.print_jobs import (
    UPSCALED_FROM,
    PrintSizeRequest,
    PrintTarget,
    build_print_request,
    largest_version,
    print_assets,
    print_record_commands,
    target_size,
    versions,
)


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, format="PNG")
    return out.getvalue()


def test_target_sizes_are_multiples_of_eight_never_smaller_than_asked() -> None:
    assert target_size((64, 64), 2.0) == (128, 128)
    assert target_size((1024, 576), 1.76) == (1808, 1016)  # 1802.24 -> 1808, 1013.76 -> 1016
    assert target_size((3, 3), 1.5) == (8, 8)


def panel_with_versions() -> Panel:
    """o (64 px) -> u1 (128 px) -> u2 (256 px), and an unrelated candidate x (512 px)."""
    return Panel(
        id="p",
        image="o",
        candidates=[
            Candidate(asset="o"),
            Candidate(asset="x"),
            Candidate(asset="u1", settings={UPSCALED_FROM: "o"}),
            Candidate(asset="u2", settings={UPSCALED_FROM: "u1"}),
        ],
    )


SIZES = {"o": (64, 64), "u1": (128, 128), "u2": (256, 256), "x": (512, 512)}


def test_print_uses_the_largest_version_of_the_accepted_picture_only() -> None:
    panel = panel_with_versions()
    assert versions(panel, "o") == ["o", "u1", "u2"]
    assert versions(panel, "u1") == ["u1", "o", "u2"]
    assert largest_version(panel, SIZES.get) == "u2"  # the artist went back to the original
    panel.image = "x"  # another picture altogether: its own size, no borrowed pixels
    assert largest_version(panel, SIZES.get) == "x"
    panel.image = "u1"
    assert largest_version(panel, {"o": (64, 64), "u1": (128, 128)}.get) == "u1"  # u2 unreadable
    assert largest_version(panel, lambda _asset: None) == "u1"
    panel.image = None
    assert largest_version(panel, SIZES.get) is None


def test_a_loop_of_upscaled_from_links_ends() -> None:
    panel = Panel(
        image="a",
        candidates=[
            Candidate(asset="a", settings={UPSCALED_FROM: "b"}),
            Candidate(asset="b", settings={UPSCALED_FROM: "a"}),
        ],
    )
    assert sorted(versions(panel, "a")) == ["a", "b"]


def test_print_assets_maps_each_accepted_image_to_what_prints() -> None:
    project = Project()
    project.panels["p"] = panel_with_versions()
    project.panels["q"] = Panel(id="q", image="x")
    assert print_assets(project, SIZES.get) == {"o": "u2", "x": "x"}


def test_a_result_is_a_new_candidate_and_becomes_the_accepted_image() -> None:
    project = Project()
    project.panels["p"] = panel_with_versions()
    candidate = Candidate(asset="u3", settings={UPSCALED_FROM: "o"})
    for command in print_record_commands("p", candidate):
        command.apply(project)
    panel = project.panels["p"]
    assert panel.image == "u3"
    assert [c.asset for c in panel.candidates] == ["o", "x", "u1", "u2", "u3"]  # original kept


def test_the_request_carries_the_panel_as_a_regenerate_would_and_its_source(
    tmp_path: Path,
) -> None:
    store = AssetStore(tmp_path)
    asset = store.put(_png((64, 64)))
    project = Project()
    hero = Character(id="hero", name="Hero", description="a girl in a red coat")
    project.characters[hero.id] = hero
    project.character_ids.append(hero.id)
    panel = Panel(id="p1", prompt="[Hero] on a bridge", character_ids=["hero"], image=asset)
    project.panels[panel.id] = panel
    scene = Scene(id="s", panel_ids=["p1"])
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    target = PrintTarget("p1", "1A", asset, (64, 64), (128, 128), 20, 40, 40)
    request = build_print_request(project, [target], bundle=tmp_path, strength=0.25)
    job = request.jobs[0]
    assert (job.width, job.height, job.dpi, job.source_asset) == (128, 128, 40, asset)
    assert Path(job.source) == store.file(asset)
    assert "a girl in a red coat" in job.panel.prompt and job.panel.characters == ("hero",)
    assert [c.character_id for c in request.characters] == ["hero"]
    assert request.strength == 0.25 and request.cache_dir is not None
    assert job.panel.guide is None  # the refine starts from the picture, never the drawing

    store.path(asset).unlink()
    with pytest.raises(ValueError, match=r"panel 1A: its image .* is missing"):
        build_print_request(project, [target], bundle=tmp_path)


@pytest.mark.parametrize(("strength", "overlap"), [(-0.1, 0.25), (1.5, 0.25), (0.3, 0.5)])
def test_bad_refine_settings_are_refused(strength: float, overlap: float) -> None:
    from storyboard.core.jobs import Sampling

    with pytest.raises(ValueError):
        PrintSizeRequest("m", Sampling(64, 64, 4, 5.0), (), strength=strength, overlap=overlap)


def test_a_capped_target_says_so() -> None:
    target = PrintTarget("p", "2B", "a", (64, 64), (256, 256), 10, 42, 300)
    assert target.capped
    assert target.describe() == "2B: 64x64 -> 256x256 px (10 -> 42 dpi), 4x at most per run"
