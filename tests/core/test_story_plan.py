"""plan_story: the torch-free plan both the in-process engine and a cluster's driver run."""

from __future__ import annotations

import dataclasses

import pytest

from storyboard.core.guides import Guide
from storyboard.core.jobs import CharacterJob, PanelJob, Sampling, StoryRequest
from storyboard.core.model import GuidanceMethod
from storyboard.core.story_plan import PlanError, plan_story

SAMPLING = Sampling(64, 64, 2, 5.0)


def panel(pid: str, *characters: str) -> PanelJob:
    return PanelJob(pid, pid.upper(), f"prompt {pid}", "", 1, "none", characters)


HERO_IDS = (panel("h1", "hero"), panel("h2", "hero"))
ADA_IDS = (panel("a1", "ada"),)
HERO = CharacterJob("hero", "Hero", 5, HERO_IDS)
ADA = CharacterJob("ada", "Ada", 6, ADA_IDS)


def request(*panels: PanelJob, batch: int = 2, **kw: object) -> StoryRequest:
    return StoryRequest("toyworld", SAMPLING, panels, (HERO, ADA), batch_size=batch, **kw)  # type: ignore[arg-type]


def test_read_panels_are_grouped_by_the_characters_they_show_in_story_order() -> None:
    story = [
        *HERO_IDS,
        *ADA_IDS,
        panel("s1"),
        panel("r1", "hero"),
        panel("s2"),
        panel("r2", "ada", "hero"),
        panel("r3", "hero"),
        panel("r4", "hero"),
    ]
    plan = plan_story(request(*story))
    assert [t.character_id for t in plan.identity] == ["hero", "ada"]
    assert not any(t.reusable for t in plan.identity)  # every identity panel was asked for
    reads = plan.reads({"hero", "ada"})
    assert [(b.labels, b.characters) for b in reads] == [
        (("R1", "R3"), ("hero",)),  # the group of the hero's identity panels: first
        (("R4",), ("hero",)),
        (("S1", "S2"), ()),
        (("R2",), ("ada", "hero")),
    ]
    assert plan.images_total({"hero", "ada"}) == len(story)
    by_chars = {g.characters: g.depends for g in plan.groups}
    assert by_chars[()] == ()  # ready at once
    assert by_chars[("hero",)] == ("hero",)  # waits only for the hero's bank


def test_a_reused_bank_leaves_its_identity_panels_to_the_read_batches() -> None:
    plan = plan_story(request(HERO_IDS[0], panel("r1", "hero")))
    (hero, ada) = plan.identity
    assert hero.reusable and ada.reusable  # h2 and a1 were not asked for
    assert [b.labels for b in plan.reads(set())] == [("H1", "R1")]  # the bank is read
    assert [b.labels for b in plan.reads({"hero"})] == [("R1",)]  # h1 comes with the bank
    assert plan.images_total({"hero"}) == 3  # both identity panels and R1


def test_guided_panels_run_alone_after_the_others() -> None:
    guided = dataclasses.replace(
        panel("g1", "hero"), guide=Guide(GuidanceMethod.IMG2IMG, 0.5, image="x.png")
    )
    plan = plan_story(request(guided, panel("s1"), *HERO_IDS))
    reads = plan.reads({"hero"})
    assert [(b.labels, b.guided) for b in reads] == [(("S1",), False), (("G1",), True)]
    assert reads[1].rates == (0.5, 0.5)


def test_characters_with_different_rates_cannot_share_a_panel() -> None:
    fast = dataclasses.replace(ADA, rate_low=0.2, rate_high=0.2)
    bad = StoryRequest("toyworld", SAMPLING, (panel("r1", "ada", "hero"),), (HERO, fast))
    with pytest.raises(PlanError, match="R1 shows characters with different"):
        plan_story(bad)
