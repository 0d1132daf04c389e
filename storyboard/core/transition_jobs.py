"""Requests for generated transition clips between a panel and the next one (issue: motion).

Pure data, so the editor builds them without importing torch; the worker (or the ``transitions``
command) turns each into the motion engine's request. Both panels need an accepted image: the clip
starts and ends exactly on them.

The paper's long video is two stages: the panels first, then the motion between each neighbouring
pair. :func:`scene_pairs`, :func:`story_pairs` and :func:`listed_pairs` choose the pairs (each
named by its first panel, whose transition the clip becomes) and :func:`plan_transitions` sorts
them into those that can be made now, those that already have a generated clip, and those that
wait for an image.

A story's pairs stop at scene cuts: a scene change is an editorial cut the artist chose (a cut, or
a dip to black as in the sample), and a generated clip there would replace it with a morph between
two unrelated places. A clip across a cut is still made on request, one panel at a time (Generate
transition to next panel, or ``transitions --panels 1D,2A``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.core.model import Panel, Project, TransitionKind
from storyboard.core.numbering import panel_numbers
from storyboard.core.transition_setup import TransitionSetup


@dataclass(frozen=True, slots=True)
class TransitionJob:
    panel_id: str  # the clip plays as this panel's transition to the next one
    label: str  # "3A → 3B"
    start: str  # image file of this panel
    end: str  # image file of the next panel
    backend: str = "ltx"
    model: str | None = None  # keyframe model (ltx/wan) or predictor folder (smp); None: default
    frames: int = 16
    width: int = 512
    height: int = 512
    steps: int = 25
    seed: int = 0
    guidance: float = 7.5
    prompt: str = ""
    fps: int = 8
    builtin: str = ""  # the preset whose shipped video model ``model`` is ("": the user's own)


def _next_panel(project: Project, panel_id: str) -> str | None:
    order = [p.id for p in project.ordered_panels()]
    index = order.index(panel_id)
    return order[index + 1] if index + 1 < len(order) else None


def _size(project: Project, setup: TransitionSetup) -> tuple[int, int]:
    if setup.size is not None:
        return setup.size
    ratio = project.settings.aspect_ratio
    width = 512 if ratio <= 1 else round(512 * ratio / 32) * 32
    height = 512 if ratio >= 1 else round(512 / ratio / 32) * 32
    return width, height


def _imageless(store: AssetStore, panels: Iterable[Panel]) -> list[Panel]:
    return [panel for panel in panels if store.file(panel.image) is None]


def build_transition_job(
    project: Project, panel_id: str, bundle: Path, setup: TransitionSetup | None = None
) -> TransitionJob:
    """The job for the transition after ``panel_id``; ValueError says what is missing."""
    setup = setup or TransitionSetup()
    numbers = panel_numbers(project)
    following = _next_panel(project, panel_id)
    if following is None:
        raise ValueError(f"panel {numbers[panel_id]} is the last one: there is no next panel")
    first, second = project.panels[panel_id], project.panels[following]
    store = AssetStore(bundle)
    missing = _imageless(store, (first, second))
    if missing:
        raise ValueError(
            f"panel {numbers[missing[0].id]} has no image yet; generate or draw both panels first"
        )
    start, end = store.file(first.image), store.file(second.image)
    assert start is not None and end is not None
    width, height = _size(project, setup)
    return TransitionJob(
        panel_id=panel_id,
        label=f"{numbers[first.id]} → {numbers[second.id]}",
        start=str(start),
        end=str(end),
        backend=setup.backend,
        model=setup.model or None,
        frames=setup.frames,
        width=width,
        height=height,
        steps=setup.steps,
        seed=first.seed if first.seed is not None else project.settings.generation.seed,
        prompt=first.action or first.prompt,
        fps=setup.fps,
        builtin=setup.builtin,
    )


# -- choosing pairs ---------------------------------------------------------------------------


def scene_pairs(project: Project, scene_id: str) -> list[str]:
    """The first panel of each neighbouring pair inside one scene (every panel but its last)."""
    return list(project.scenes[scene_id].panel_ids[:-1])


def story_pairs(project: Project) -> list[str]:
    """Every scene's pairs in story order; the scene cuts between them are left as they are."""
    return [pid for scene in project.ordered_scenes() for pid in scene_pairs(project, scene.id)]


def listed_pairs(project: Project, panel_ids: list[str]) -> list[str]:
    """The pairs between listed panels that are neighbours in story order (across a scene cut
    too: both panels were asked for). A listed panel without a listed neighbour is a ValueError:
    a transition joins two panels, so ``1A,1C`` is more likely a typo than a wish."""
    order = [p.id for p in project.ordered_panels()]
    wanted = set(panel_ids)
    neighbours = [(a, b) for a, b in pairwise(order) if a in wanted and b in wanted]
    pairs = [a for a, _ in neighbours]
    paired = {pid for pair in neighbours for pid in pair}
    alone = [pid for pid in dict.fromkeys(panel_ids) if pid not in paired]
    if alone:
        if len(order) < 2:
            raise ValueError("the project has a single panel: a transition joins two")
        numbers = panel_numbers(project)
        examples = []
        for pid in alone:
            index = min(order.index(pid), len(order) - 2)  # the last panel: with the one before
            examples.append(f"{numbers[order[index]]},{numbers[order[index + 1]]}")
        listed = ", ".join(numbers[p] for p in alone)
        verb = "has" if len(alone) == 1 else "have"
        raise ValueError(
            f"{listed} {verb} no neighbouring panel in the list; a transition joins two "
            f"neighbouring panels, so list both (e.g. {' or '.join(examples)})"
        )
    return pairs


# -- planning ---------------------------------------------------------------------------------


@dataclass(slots=True)
class TransitionPlan:
    """The pairs asked for, sorted by what can be done with them now."""

    jobs: list[TransitionJob] = field(default_factory=list)  # to make
    existing: list[TransitionJob] = field(default_factory=list)  # already have a generated clip
    imageless: list[str] = field(default_factory=list)  # "1B → 1C (1C)": panels without images

    def imageless_message(self) -> str:
        """One message for every pair waiting for an image (its imageless panels in brackets)."""
        pairs = ", ".join(self.imageless)
        if self.jobs or self.existing:
            start = f"{len(self.imageless)} transition(s) skipped because a panel has no image yet"
        else:
            start = "no transition can be made: a panel of each pair has no image yet"
        return f"{start}: {pairs}. Generate or draw those panels first."


def has_generated_clip(store: AssetStore, panel: Panel) -> bool:
    """The panel already plays a generated clip whose file is there (one whose file went
    missing is made again without asking: nothing would be lost)."""
    transition = panel.transition
    return transition.kind == TransitionKind.GENERATED and store.file(transition.clip) is not None


def plan_transitions(
    project: Project, first_panels: list[str], bundle: Path, setup: TransitionSetup
) -> TransitionPlan:
    """The jobs for the pairs starting at ``first_panels`` (as the pair functions give them)."""
    store = AssetStore(bundle)
    numbers = panel_numbers(project)
    plan = TransitionPlan()
    for pid in first_panels:
        following = _next_panel(project, pid)
        if following is None:
            continue
        pair = (project.panels[pid], project.panels[following])
        missing = _imageless(store, pair)
        if missing:
            label = f"{numbers[pid]} → {numbers[following]}"
            plan.imageless.append(f"{label} ({', '.join(numbers[p.id] for p in missing)})")
            continue
        job = build_transition_job(project, pid, bundle, setup)
        (plan.existing if has_generated_clip(store, pair[0]) else plan.jobs).append(job)
    return plan
