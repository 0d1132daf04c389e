"""The plan of a story request: which identity banks to make, and which panels read them in
which batches. Pure Python, so a machine without torch (the driver of a Ray cluster,
:mod:`inference.cluster`) plans exactly what the in-process engine
(:mod:`inference.engine.story_run`) runs.

StoryDiffusion's order: each consistent character's identity panels are one write batch that
makes its bank; every other panel reads the banks of the characters it shows. Read panels are
grouped by the set of characters they show (and their LoRA set, which applies to a whole pipeline
call), so every batch reads one set of banks and takes the fast CSA path
(:mod:`inference.csa.split_read`), and a group depends only on the banks of its own characters:
panels without characters are ready at once, the others as soon as their banks exist. Guided
panels (a sketch, a mask) run one by one after the others.

Whether a character's identity panels are made again depends on a bank the planner cannot see (a
saved bank with the same key stands in when not all identity panels are requested:
:attr:`IdentityTask.reusable`), so a group's batches are cut once the identity tasks it depends
on have said whether they wrote their panels (:meth:`ReadGroup.batches`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from storyboard.core.jobs import CharacterJob, PanelJob, StoryRequest


class PlanError(ValueError):
    """A request that cannot be planned; the message is for the user."""


@dataclass(frozen=True, slots=True)
class IdentityTask:
    """Make (or find) one character's identity bank."""

    character: CharacterJob
    reusable: bool  # not every identity panel was requested: a saved bank with its key will do

    @property
    def character_id(self) -> str:
        return self.character.character_id


@dataclass(frozen=True, slots=True)
class ReadBatch:
    """Panels drawn in one pipeline call, reading the banks of ``characters``."""

    panels: tuple[PanelJob, ...]
    characters: tuple[str, ...]  # the request's characters these panels show (sorted)
    rates: tuple[float, float] | None  # their identity sampling rates; None: no character
    guided: bool = False  # one panel steered by its drawing

    @property
    def batch_id(self) -> str:
        """Names the batch in logs and retries: its first panel's id (panels are in one batch)."""
        return self.panels[0].panel_id

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(p.label for p in self.panels)


@dataclass(frozen=True, slots=True)
class ReadGroup:
    """Story-ordered panels that show one set of characters with one LoRA set."""

    characters: tuple[str, ...]
    rates: tuple[float, float] | None
    panels: tuple[PanelJob, ...]
    depends: tuple[str, ...]  # the identity tasks whose outcome these batches wait for
    owners: tuple[tuple[str, str], ...]  # (panel id, character id) of identity panels in it
    size: int
    guided: bool = False

    def batches(self, written: Collection[str]) -> tuple[ReadBatch, ...]:
        """The batches, leaving out identity panels made by the characters in ``written``."""
        owner = dict(self.owners)
        if self.guided:  # a guided identity panel is also drawn from its guide
            return tuple(ReadBatch((p,), self.characters, self.rates, True) for p in self.panels)
        left = [p for p in self.panels if owner.get(p.panel_id) not in written]
        return tuple(
            ReadBatch(tuple(left[i : i + self.size]), self.characters, self.rates)
            for i in range(0, len(left), self.size)
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """The identity tasks and the read groups of one request."""

    request: StoryRequest
    identity: tuple[IdentityTask, ...]
    groups: tuple[ReadGroup, ...]  # in the order they run: story order, guided panels last

    def reads(self, written: Collection[str]) -> tuple[ReadBatch, ...]:
        """Every read batch once the identity tasks of ``written`` made their panels."""
        return tuple(b for g in self.groups for b in g.batches(written))

    def images_total(self, written: Collection[str]) -> int:
        made = sum(
            len(t.character.identity_panels) for t in self.identity if t.character_id in written
        )
        return made + sum(len(b.panels) for b in self.reads(written))


def plan_story(request: StoryRequest) -> Plan:
    """The plan of ``request``; :class:`PlanError` for a panel that cannot be drawn."""
    wanted = {p.panel_id for p in request.panels}
    rates = {c.character_id: (c.rate_low, c.rate_high) for c in request.characters}
    identity = tuple(
        IdentityTask(c, reusable=not {p.panel_id for p in c.identity_panels} <= wanted)
        for c in request.characters
    )
    owner = {p.panel_id: c.character_id for c in request.characters for p in c.identity_panels}
    size = max(1, request.batch_size)
    keyed: dict[tuple[object, ...], list[PanelJob]] = {}
    guided: list[PanelJob] = []
    for panel in request.panels:
        if panel.guide is not None:
            guided.append(panel)
        else:
            keyed.setdefault((_shown(panel, rates), panel.loras), []).append(panel)

    def group(panels: list[PanelJob], is_guided: bool) -> ReadGroup:
        shown = _shown(panels[0], rates)
        own = {rates[c] for c in shown}
        if len(own) > 1:
            raise PlanError(
                f"panel {panels[0].label} shows characters with different identity sampling "
                "rates; give them the same rates to show them together"
            )
        owners = tuple((p.panel_id, owner[p.panel_id]) for p in panels if p.panel_id in owner)
        depends = tuple(sorted(set(shown) | {c for _, c in owners}))
        return ReadGroup(
            shown, next(iter(own), None), tuple(panels), depends, owners, size, is_guided
        )

    groups = [group(panels, False) for panels in keyed.values()]
    groups += [group([p], True) for p in guided]
    return Plan(request, identity, tuple(groups))


def _shown(panel: PanelJob, rates: dict[str, tuple[float, float]]) -> tuple[str, ...]:
    """The request's characters a panel shows, sorted (its group's key)."""
    return tuple(sorted({c for c in panel.characters if c in rates}))
