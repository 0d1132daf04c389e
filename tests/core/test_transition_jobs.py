"""Transition jobs: between a panel and the next, only when both have images; the pairs of a
scene, of the story (scene cuts left alone) or of listed panels; and what a batch can make."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.core.assets import AssetStore
from storyboard.core.model import Panel, Project, Scene, Transition, TransitionKind
from storyboard.core.numbering import panel_numbers
from storyboard.core.transition_jobs import (
    build_transition_job,
    listed_pairs,
    plan_transitions,
    scene_pairs,
    story_pairs,
)
from storyboard.core.transition_setup import TransitionSetup
from tests.conftest import png_bytes


def test_the_job_runs_from_a_panel_to_the_next_across_scenes(
    project: Project, tmp_path: Path
) -> None:
    store = AssetStore(tmp_path)
    for pid, color in (("p2", (1, 2, 3)), ("p3", (4, 5, 6))):
        project.panels[pid].image = store.put(png_bytes(color))
    job = build_transition_job(
        project, "p2", tmp_path, TransitionSetup(backend="wan", model="/m/wan")
    )
    assert job.label == "1B → 2A"  # the last panel of scene 1 to the first of scene 2
    assert Path(job.start).read_bytes() == png_bytes((1, 2, 3))
    assert Path(job.end).read_bytes() == png_bytes((4, 5, 6))
    assert (job.backend, job.model, job.builtin) == ("wan", "/m/wan", "")
    assert job.width > job.height  # the project is 2.39:1
    assert job.width % 32 == 0
    assert job.seed == 5 and job.prompt == "[Oto] waits in the rain"


def test_a_setup_with_its_own_size_and_length_is_followed(project: Project, tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    for pid in ("p2", "p3"):
        project.panels[pid].image = store.put(png_bytes())
    setup = TransitionSetup("smp", "/toy/motion", (64, 64), 16, 25, 8, builtin="toyworld")
    job = build_transition_job(project, "p2", tmp_path, setup)
    assert (job.width, job.height, job.frames, job.steps, job.fps) == (64, 64, 16, 25, 8)
    assert (job.backend, job.model, job.builtin) == ("smp", "/toy/motion", "toyworld")


def test_missing_images_and_the_last_panel_are_refused(project: Project, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="panel 1A-alt has no image"):
        build_transition_job(project, "p1", tmp_path)  # its image file is not in the store
    with pytest.raises(ValueError, match="the last one"):
        build_transition_job(project, "p3", tmp_path)


def three_scenes(tmp_path: Path, with_images: set[str]) -> Project:
    """Scenes 1A 1B 1C | 2A 2B | 3A (ids a1..c1); the panels named have an image."""
    layout = {"s1": ["a1", "a2", "a3"], "s2": ["b1", "b2"], "s3": ["c1"]}
    store = AssetStore(tmp_path)
    project = Project()
    for sid, pids in layout.items():
        project.scenes[sid] = Scene(id=sid, title=sid, panel_ids=list(pids))
        project.scene_ids.append(sid)
        for number, pid in enumerate(pids):
            image = store.put(png_bytes((number, 9, 9))) if pid in with_images else None
            project.panels[pid] = Panel(id=pid, prompt=pid, image=image)
    return project


ALL = {"a1", "a2", "a3", "b1", "b2", "c1"}


def labels(project: Project, first_panels: list[str]) -> list[str]:
    return [panel_numbers(project)[pid] for pid in first_panels]


def test_a_scene_pairs_its_neighbours_and_the_story_stops_at_scene_cuts(tmp_path: Path) -> None:
    project = three_scenes(tmp_path, ALL)
    assert labels(project, scene_pairs(project, "s1")) == ["1A", "1B"]
    assert scene_pairs(project, "s3") == []  # one panel: no pair
    assert labels(project, story_pairs(project)) == ["1A", "1B", "2A"]  # no 1C → 2A, 2B → 3A


def test_listed_panels_pair_with_listed_neighbours_even_across_a_cut(tmp_path: Path) -> None:
    project = three_scenes(tmp_path, ALL)
    assert listed_pairs(project, ["a1", "a2"]) == ["a1"]
    assert listed_pairs(project, ["a3", "a1", "a2"]) == ["a1", "a2"]  # in story order
    assert listed_pairs(project, ["a3", "b1"]) == ["a3"]  # 1C → 2A: both asked for
    with pytest.raises(ValueError, match=r"^1A, 1C have no neighbouring panel in the list"):
        listed_pairs(project, ["a1", "a3"])
    with pytest.raises(ValueError, match=r"list both \(e\.g\. 2B,3A\)"):
        listed_pairs(project, ["b2"])
    with pytest.raises(ValueError, match=r"3A has no neighbouring .* \(e\.g\. 2B,3A\)"):
        listed_pairs(project, ["a1", "a2", "c1"])  # the last panel: with the one before


def test_a_plan_skips_imageless_pairs_and_sets_aside_those_already_made(tmp_path: Path) -> None:
    project = three_scenes(tmp_path, ALL - {"b2"})
    store = AssetStore(tmp_path)
    clip = store.put_media(b"clip", ".mp4")
    project.panels["a2"].transition = Transition(TransitionKind.GENERATED, 48, clip=clip)
    lost = "f" * 64 + ".mp4"  # a generated clip whose file is gone is made again, unasked
    project.panels["a1"].transition = Transition(TransitionKind.GENERATED, 48, clip=lost)
    plan = plan_transitions(project, story_pairs(project), tmp_path, TransitionSetup())
    assert [job.label for job in plan.jobs] == ["1A → 1B"]
    assert [job.label for job in plan.existing] == ["1B → 1C"]
    assert plan.imageless == ["2A → 2B (2B)"]
    assert plan.imageless_message() == (
        "1 transition(s) skipped because a panel has no image yet: 2A → 2B (2B). "
        "Generate or draw those panels first."
    )


def test_a_plan_with_nothing_to_make_says_so(tmp_path: Path) -> None:
    project = three_scenes(tmp_path, {"a1"})
    plan = plan_transitions(project, story_pairs(project), tmp_path, TransitionSetup())
    assert not plan.jobs and not plan.existing
    assert plan.imageless_message().startswith(
        "no transition can be made: a panel of each pair has no image yet: "
        "1A → 1B (1B), 1B → 1C (1B, 1C), 2A → 2B (2A, 2B)."
    )
