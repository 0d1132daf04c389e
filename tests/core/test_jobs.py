"""Generation requests from a project: prompts, styles, seeds, identity panels, results."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from storyboard.core.jobs import (
    Overrides,
    Sampling,
    build_panel_request,
    build_story_request,
    identity_panel_ids,
    new_candidate,
    panel_job,
    record_commands,
)
from storyboard.core.model import Character, Panel, Project, Rect, Scene
from storyboard.core.persistence import load_project
from storyboard.core.styles import UnknownStyle, builtin_styles, style_named

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "sample.storyboard"


@pytest.fixture
def sample() -> Project:
    return load_project(SAMPLE).project


def by_label(project: Project) -> dict[str, str]:
    from storyboard.core.numbering import panel_numbers

    return {number: pid for pid, number in panel_numbers(project).items()}


# ---------------------------------------------------------------------------------- styles
def test_every_style_the_issue_names_exists_with_a_negative_prompt() -> None:
    styles = builtin_styles()
    assert set(styles) >= {
        "comic-book",
        "manga",
        "storyboard-sketch",
        "cinematic",
        "photographic",
        "watercolor",
        "digital-art",
        "pixar-3d",
        "noir",
        "none",
    }
    assert all(s.negative for k, s in styles.items() if k != "none")
    assert style_named("none").apply("a cat") == "a cat"
    assert style_named("noir").apply("a cat").startswith("black and white film noir, a cat,")
    with pytest.raises(UnknownStyle, match="known styles: comic-book"):
        style_named("vaporwave")


# ---------------------------------------------------------------------------------- prompts
def test_names_become_descriptions_and_styles_wrap_the_prompt(sample: Project) -> None:
    ids = by_label(sample)
    panel = sample.panels[ids["2A"]]
    job = panel_job(sample, panel)
    both = (
        "a small person with long red hair wearing a yellow shirt and a blue skirt walking on the "
        "left and a tall person with short black hair and glasses wearing a green shirt and gray "
        "trousers and a black hat walking on the right, on the beach"
    )
    assert job.prompt == both  # the sample's style is "none": the toyworld model's own words
    assert "[" not in job.prompt and "Mia" not in job.prompt
    assert job.negative_prompt == ""
    assert len(job.characters) == 2
    panel.style = "comic-book"
    job = panel_job(sample, panel)
    assert job.prompt == (
        f"comic book panel, {both}, bold ink outlines, flat vibrant colours, halftone shading, "
        "dynamic composition"
    )
    assert job.negative_prompt == style_named("comic-book").negative


def test_prompt_rules_for_nc_unknown_tags_unnamed_characters_and_negatives(
    project: Project,
) -> None:
    p1, p3 = project.panels["p1"], project.panels["p3"]
    p3.style = "none"
    assert panel_job(project, p3).prompt == "the city skyline"  # [NC] dropped
    p3.prompt = "[Ghost] floats by"
    assert panel_job(project, p3).prompt == "Ghost floats by"  # unknown tag keeps its word
    p3.prompt, p3.character_ids = "she waves", ["oto"]
    assert panel_job(project, p3).prompt == "an old robot, she waves"  # linked, not named

    job = panel_job(project, p1)  # style manga; project negative "lowres"; panel "extra fingers"
    assert job.prompt.startswith("manga panel, a young courier with short red hair")
    assert job.negative_prompt.endswith(", lowres, extra fingers")
    assert job.negative_prompt.startswith(style_named("manga").negative)


def test_regions_become_clamped_boxes_and_identity_off_characters_are_plain(
    project: Project,
) -> None:
    project.characters["mira"].identity.enabled = True
    project.panels["p1"].character_regions["mira"] = Rect(0.8, 0.2, 0.5, 0.7)
    job = panel_job(project, project.panels["p1"])
    assert job.characters == ("mira",)
    assert job.regions == (("mira", (0.8, 0.2, 1.0, pytest.approx(0.9))),)
    project.characters["mira"].identity.enabled = False
    job = panel_job(project, project.panels["p1"])
    assert job.characters == () and job.regions == ()
    assert "young courier" in job.prompt  # still described, just not kept consistent


def test_each_boxed_character_of_a_shared_panel_gets_its_own_prompt(sample: Project) -> None:
    """Inside Mia's box the panel is drawn from a prompt that describes only her: Leo's looks
    are left out with the "and" that joined him (a panel without two characters gets none)."""
    numbers = by_label(sample)
    panel = sample.panels[numbers["2A"]]
    mia, leo = (c for c in sample.characters.values() if c.name in ("Mia", "Leo"))
    panel.character_ids = [mia.id, leo.id]
    panel.prompt = "[Mia] and [Leo] looking at the hat, in the park"
    panel.character_regions.clear()
    assert panel_job(sample, panel).region_prompts == ()  # no boxes drawn: one prompt
    panel.character_regions[mia.id] = Rect(0.0, 0.0, 0.5, 1.0)
    panel.character_regions[leo.id] = Rect(0.5, 0.0, 0.5, 1.0)
    job = panel_job(sample, panel)
    regions = dict(job.region_prompts)
    describe = mia.description.strip()
    assert regions[mia.id] == job.prompt.replace(f" and {leo.description.strip()}", "")
    assert regions[mia.id].startswith(describe) and leo.description not in regions[mia.id]
    assert regions[leo.id].startswith(leo.description.strip() + " looking at the hat")
    assert describe not in regions[leo.id] and regions[leo.id].endswith("in the park")
    panel.prompt = "[Mia] waving on the left and [Leo] sitting on the right, in the park"
    regions = dict(panel_job(sample, panel).region_prompts)  # each one's own words go too
    assert regions[mia.id] == f"{describe} waving on the left, in the park"
    assert regions[leo.id] == f"{leo.description.strip()} sitting on the right, in the park"
    panel.prompt = "[Mia] on the left and [Leo] on the right in the park"  # runs on to the end
    assert dict(panel_job(sample, panel).region_prompts)[mia.id].endswith("right in the park")
    del panel.character_regions[leo.id]  # only Mia boxed: only her box gets its own prompt
    assert [cid for cid, _ in panel_job(sample, panel).region_prompts] == [mia.id]
    panel.character_ids = [mia.id]
    panel.prompt = "[Mia] alone in the park"
    assert panel_job(sample, panel).region_prompts == ()  # nobody to keep apart


# ---------------------------------------------------------------------------------- seeds
def test_seeds_locked_kept_overridden_and_reproducible(sample: Project) -> None:
    ids = by_label(sample)
    first = build_story_request(sample)
    again = build_story_request(sample)
    assert first == again  # same project -> same request, seeds included
    seeds = [p.seed for p in first.panels]
    assert len(set(seeds)) == len(seeds)  # every panel its own noise

    locked = sample.panels[ids["1B"]]
    locked.seed, locked.seed_locked = 777, True
    other = sample.panels[ids["1C"]]
    other.seed = 555  # a seed, not locked: used unless the run gives a base seed
    plain = {p.label: p.seed for p in build_story_request(sample).panels}
    assert plain["1B"] == 777 and plain["1C"] == 555
    run = {p.label: p.seed for p in build_story_request(sample, overrides=Overrides(seed=9)).panels}
    assert run["1B"] == 777 and run["1C"] != 555
    assert run["1D"] != plain["1D"]
    run2 = {
        p.label: p.seed for p in build_story_request(sample, overrides=Overrides(seed=9)).panels
    }
    assert run == run2


# ---------------------------------------------------------------------------------- identity
def test_identity_panels_are_the_first_solo_panels_of_each_character(sample: Project) -> None:
    labels = {pid: label for label, pid in by_label(sample).items()}
    chosen = identity_panel_ids(sample)
    names = {c.id: c.name for c in sample.characters.values()}
    assert {names[c]: [labels[p] for p in ps] for c, ps in chosen.items()} == {
        "Mia": ["1B", "1C", "2C"],
        "Leo": ["1D", "2B", "3C"],
    }


def test_identity_falls_back_to_shared_panels_never_twice() -> None:
    a = Character(id="a", name="Ann", description="ann")
    b = Character(id="b", name="Bo", description="bo")
    a.identity.identity_panels = b.identity.identity_panels = 2
    panels = {
        "p1": Panel(id="p1", prompt="[Ann] and [Bo]", character_ids=["a", "b"]),
        "p2": Panel(id="p2", prompt="[Ann]", character_ids=["a"]),
        "p3": Panel(id="p3", prompt="[Bo] and [Ann]", character_ids=["b", "a"]),
    }
    project = Project(
        scenes={"s": Scene(id="s", panel_ids=["p1", "p2", "p3"])},
        scene_ids=["s"],
        panels=panels,
        characters={"a": a, "b": b},
        character_ids=["a", "b"],
    )
    assert identity_panel_ids(project) == {"a": ["p1", "p2"], "b": ["p3"]}


def test_a_scene_request_carries_identity_panels_from_other_scenes(sample: Project) -> None:
    scene2 = sample.scenes[sample.scene_ids[1]].panel_ids
    request = build_story_request(
        sample,
        scene2,
        bundle=Path("/tmp/x.storyboard"),
        overrides=Overrides(model="/m", steps=3, size=(64, 96)),
    )
    assert [p.label for p in request.panels] == ["2A", "2B", "2C", "2D"]
    assert {c.name: [p.label for p in c.identity_panels] for c in request.characters} == {
        "Mia": ["1B", "1C", "2C"],
        "Leo": ["1D", "2B", "3C"],
    }
    assert request.model == "/m" and request.cache_dir == "/tmp/x.storyboard/cache/identity"
    assert request.sampling == Sampling(64, 96, 3, 4.0, "ddim", False, fit_to_model=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.model = "other"  # type: ignore[misc]

    single = build_panel_request(sample, scene2[1], overrides=Overrides(seed=4))
    assert single.panel.label == "2B" and [c.name for c in single.characters] == ["Leo"]
    assert single.as_story().panels == (single.panel,)
    assert single.sampling.fit_to_model  # the project size is mapped to the model's native one


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 4}, "too small"),
        ({"steps": 0}, "steps"),
        ({"scheduler": "plms"}, "unknown scheduler 'plms'"),
        ({"guidance": -1.0}, "guidance"),
    ],
)
def test_bad_sampling_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"width": 64, "height": 64, "steps": 2, "guidance": 5.0}
    with pytest.raises(ValueError, match=message):
        Sampling(**{**base, **kwargs})  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- results
def test_a_result_is_accepted_only_where_the_panel_has_no_image(project: Project) -> None:
    job = panel_job(project, project.panels["p2"])
    candidate = new_candidate("c" * 64, job, model="tiny", settings={"steps": 2})
    assert candidate.prompt == job.prompt and candidate.seed == job.seed
    assert candidate.created.endswith("+00:00")
    add, accept = record_commands(project, "p2", candidate)
    add.apply(project)
    assert accept is not None
    accept.apply(project)
    assert project.panels["p2"].image == "c" * 64
    _, again = record_commands(project, "p1", candidate)  # p1 already shows an image
    assert again is None
