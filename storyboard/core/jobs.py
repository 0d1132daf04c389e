"""Generation requests: everything the engine needs, built from a Project, frozen.

The engine never sees the Project. A request is a snapshot: prompts already assembled (style
template, ``[Name]`` replaced by the character's description, negative prompts joined), seeds
resolved, identity panels chosen, size and sampler settings fixed. So a job queued in the editor
generates exactly what the artist saw when queueing it, even if the project changes meanwhile, and
the worker thread never reads objects the GUI thread edits.

Rules (see ``../shared/research/storydiffusion.md`` sections 2.6, 2.8 and 2.10):

* **Prompt**: the panel's words with its characters described (:mod:`storyboard.core.prompt_text`),
  then wrapped by the style template; with two or more characters, each boxed one also gets the
  prompt of its box. Negative = style negative, project negative, panel negative.
* **LoRAs**: the project's, the style's and (outside regional-prompt boxes) the characters', each
  file found by name in the project's ``loras/`` or the settings' LoRA folders
  (:mod:`storyboard.core.panel_loras`); their trigger words go into the prompt.
* **Seeds**: a locked panel seed is always used. Otherwise the run's base seed (``--seed``, or the
  project's) gives each panel its own seed derived from the panel id, unless the panel has a seed
  and no base seed was given. A seed therefore reproduces the same images, whatever panels share
  the batch.
* **Identity panels**: per consistent character, the first N panels (story order) that show it,
  preferring panels where it is the only consistent character (the official app's rule: another
  character must not leak into the bank); a panel is the identity panel of one character at most.
  They are chosen over the whole project, not only the requested panels, so a character's bank
  does not depend on which panels one asks for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.core.bundle_paths import cache_folder
from storyboard.core.commands import AddCandidate, EditFields, accept_image
from storyboard.core.generation_parameters import PARAMETERS, parameters_text, with_text
from storyboard.core.guides import (
    GuidanceWeights,
    Guide,
    balloon_space_phrase,
    box_of,
    build_guide,
)
from storyboard.core.lora_files import LoraFile, lora_roots
from storyboard.core.model import Candidate, Character, Panel, Project
from storyboard.core.numbering import panel_numbers
from storyboard.core.panel_loras import attached_loras, panel_triggers, resolve_loras
from storyboard.core.prompt_text import assemble_prompt, join_negative
from storyboard.core.styles import style_named

Box = tuple[float, float, float, float]
"""A region of a panel, relative: (left, top, right, bottom), each within [0, 1]."""

SCHEDULERS = ("ddim", "euler-a", "dpmpp-2m-karras")
MAX_STEPS = 1000  # a sampler takes at most as many steps as the model has noise levels
_SEED_LIMIT = 2**31


@dataclass(frozen=True, slots=True)
class Sampling:
    """Settings shared by every image of a request."""

    width: int
    height: int
    steps: int
    guidance: float
    scheduler: str = "ddim"
    freeu: bool = False
    fit_to_model: bool = True
    """Map width x height to the model's native size of the nearest aspect ratio (SDXL buckets,
    SD1.5 multiples of 64). Off when the user gave an exact size."""

    def __post_init__(self) -> None:
        if self.width < 8 or self.height < 8:
            raise ValueError(f"image size {self.width}x{self.height} is too small")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(
                f"steps must be within 1..{MAX_STEPS} (the models are trained on {MAX_STEPS} "
                f"noise levels), not {self.steps}"
            )
        if self.guidance < 0:
            raise ValueError("guidance must not be negative")
        if self.scheduler not in SCHEDULERS:
            known = ", ".join(SCHEDULERS)
            raise ValueError(f"unknown scheduler {self.scheduler!r}; choose one of {known}")


@dataclass(frozen=True, slots=True)
class PanelJob:
    """One image to make, with its assembled prompts and resolved seed."""

    panel_id: str
    label: str  # the panel number shown to the user ("2B")
    prompt: str
    negative_prompt: str
    seed: int
    style: str
    characters: tuple[str, ...] = ()  # ids of the consistent characters it shows
    regions: tuple[tuple[str, Box], ...] = ()  # optional box per character id
    reference_images: tuple[str, ...] = ()  # image files of its characters (IP-Adapter)
    guide: Guide | None = None  # the panel's drawing steering it (sketch, mask, balloon space)
    # with two or more characters: each boxed one's own prompt, drawn inside its box
    # (the other characters left out of it; see inference.engine.regional_prompt)
    region_prompts: tuple[tuple[str, str], ...] = ()
    loras: tuple[LoraFile, ...] = ()  # applied to the whole image (one set per pipeline call)


@dataclass(frozen=True, slots=True)
class CharacterJob:
    """A consistent character: its identity panels and the settings of its identity bank."""

    character_id: str
    name: str
    seed: int
    identity_panels: tuple[PanelJob, ...]
    rate_low: float = 0.5
    rate_high: float = 0.5
    reference_image: str | None = None  # image file conditioning its identity panels (IP-Adapter)


@dataclass(frozen=True, slots=True)
class StoryRequest:
    """Generate ``panels``: identity phase per character, then the others in batches."""

    model: str
    sampling: Sampling
    panels: tuple[PanelJob, ...]
    characters: tuple[CharacterJob, ...] = ()
    cache_dir: str | None = None  # where identity banks are kept (bundle/cache/identity)
    batch_size: int = 4
    # every character's bank must already be in cache_dir (a cluster's read task): a missing
    # one is an error, never an identity run inside a read
    reuse_only: bool = False


@dataclass(frozen=True, slots=True)
class PanelRequest:
    """Regenerate one panel, reading its characters' saved identity banks when they match."""

    model: str
    sampling: Sampling
    panel: PanelJob
    characters: tuple[CharacterJob, ...] = ()
    cache_dir: str | None = None

    def as_story(self) -> StoryRequest:
        return StoryRequest(
            self.model, self.sampling, (self.panel,), self.characters, self.cache_dir, 1
        )


@dataclass(frozen=True, slots=True)
class Overrides:
    """What a user may change for one run without editing the project (CLI flags, dialogs)."""

    model: str | None = None
    steps: int | None = None
    size: tuple[int, int] | None = None
    seed: int | None = None
    batch_size: int = 4
    weights: GuidanceWeights = field(default_factory=GuidanceWeights)  # ControlNet, T2I-Adapter
    lora_folders: tuple[str, ...] = ()  # the settings' LoRA folders (after the project's loras/)


# ---------------------------------------------------------------------------------- prompts
def panel_style(project: Project, panel: Panel) -> str:
    return panel.style or project.settings.default_style


def derive_seed(base: int, panel_id: str) -> int:
    """A per-panel seed from a base seed, stable across runs and machines."""
    digest = hashlib.sha256(f"{base}/{panel_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little") % _SEED_LIMIT


def panel_seed(project: Project, panel: Panel, base: int | None = None) -> int:
    """See the module docstring for the rule."""
    if panel.seed is not None and (panel.seed_locked or base is None):
        return panel.seed
    start = project.settings.generation.seed if base is None else base
    return derive_seed(start, panel.id)


# ---------------------------------------------------------------------------------- identity
def consistent_characters(project: Project, panel: Panel) -> list[Character]:
    """The characters of a panel whose identity is kept consistent, in panel order."""
    out = []
    for cid in panel.character_ids:
        character = project.characters.get(cid)
        if character is not None and character.identity.enabled and character not in out:
            out.append(character)
    return out


def identity_panel_ids(project: Project) -> dict[str, list[str]]:
    """Identity panels of every consistent character (character id -> panel ids, story order)."""
    panels = project.ordered_panels()
    shown = {p.id: [c.id for c in consistent_characters(project, p)] for p in panels}
    taken: set[str] = set()
    chosen: dict[str, list[str]] = {}
    for character in project.ordered_characters():
        if not character.identity.enabled:
            continue
        wanted = max(1, character.identity.identity_panels)
        alone = [p.id for p in panels if shown[p.id] == [character.id] and p.id not in taken]
        shared = [
            p.id
            for p in panels
            if character.id in shown[p.id] and len(shown[p.id]) > 1 and p.id not in taken
        ]
        picked = (alone + shared)[:wanted]
        picked.sort(key=[p.id for p in panels].index)
        if picked:
            chosen[character.id] = picked
            taken.update(picked)
    return chosen


# ---------------------------------------------------------------------------------- requests
def _sampling(project: Project, overrides: Overrides) -> Sampling:
    gen = project.settings.generation
    width, height = overrides.size or (gen.width, gen.height)
    return Sampling(
        width=width,
        height=height,
        steps=overrides.steps or gen.steps,
        guidance=gen.guidance,
        scheduler=gen.scheduler,
        freeu=gen.freeu,
        fit_to_model=overrides.size is None and not gen.exact_size,
    )


def _reference_files(bundle: Path | None, characters: list[Character]) -> tuple[str, ...]:
    if bundle is None:
        return ()
    store = AssetStore(bundle)
    return tuple(
        str(path)
        for c in characters
        for asset in c.reference_images[:1]
        if (path := store.file(asset)) is not None
    )


def panel_job(
    project: Project,
    panel: Panel,
    *,
    label: str = "",
    base_seed: int | None = None,
    bundle: Path | None = None,
    with_identity: set[str] | None = None,
    weights: GuidanceWeights | None = None,
    lora_folders: tuple[str, ...] | None = None,
) -> PanelJob:
    """The job of one panel (styled prompt, negative prompt, seed, characters, regions).

    ``with_identity``: the characters that have identity panels (default: all consistent ones);
    only those are kept consistent in this panel. ``weights``: given for a panel being generated,
    it gets the guide of its drawing (see :mod:`storyboard.core.guides`); identity-bank jobs
    leave it out, so a sketch never changes a character's bank. ``lora_folders``: where LoRAs
    are looked for after the project's ``loras/`` (a missing one is ``LoraUnavailable``); None
    for a job only read for its words (the inspector's box prompts): no LoRA file is looked up.
    """
    style = style_named(panel_style(project, panel))
    characters = [
        c
        for c in consistent_characters(project, panel)
        if with_identity is None or c.id in with_identity
    ]
    ids = {c.id for c in characters}
    regions = tuple(
        (cid, box_of(rect))
        for cid, rect in panel.character_regions.items()
        if cid in ids and rect.w > 0 and rect.h > 0
    )
    boxed = bool(regions) and len(panel.character_ids) > 1  # draws regional prompts
    triggers = panel_triggers(project, style.key)
    prompt = ", ".join(
        part
        for part in (
            triggers,
            assemble_prompt(project, panel, triggers=not boxed),
            balloon_space_phrase(panel.balloon_space),
        )
        if part
    )
    guide = None
    if weights is not None:
        guide = build_guide(panel, label or panel.id, _store(bundle), weights)
    loras: tuple[LoraFile, ...] = ()
    if lora_folders is not None:
        loras = resolve_loras(
            attached_loras(project, panel, style.key, with_characters=not boxed),
            lora_roots(bundle, lora_folders),
            label or panel.id,
        )
    return PanelJob(
        panel_id=panel.id,
        label=label or panel.id,
        prompt=style.apply(prompt),
        negative_prompt=join_negative(
            style.negative, project.settings.generation.negative_prompt, panel.negative_prompt
        ),
        seed=panel_seed(project, panel, base_seed),
        style=style.key,
        characters=tuple(c.id for c in characters),
        regions=regions,
        region_prompts=tuple(
            (
                cid,
                style.apply(
                    _joined(triggers, assemble_prompt(project, panel, focus=cid, triggers=False))
                ),
            )
            for cid, _ in regions
            if boxed
        ),
        reference_images=_reference_files(bundle, characters),
        guide=guide,
        loras=loras,
    )


def _joined(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


def identity_cache(bundle: Path) -> Path | None:
    """Where a project keeps its characters' saved identity banks (one file per character);
    None when ``cache/`` leads outside the bundle (the banks are then made again each time)."""
    return cache_folder(Path(bundle), "identity")


def _cache_dir(bundle: Path | None) -> str | None:
    """Absolute: the request may run in another process or on another machine (a Ray actor),
    whose working folder is not this one's."""
    cache = identity_cache(bundle) if bundle is not None else None
    return str(cache.absolute()) if cache is not None else None


def _store(bundle: Path | None) -> AssetStore | None:
    return AssetStore(bundle) if bundle is not None else None


def build_story_request(
    project: Project,
    panel_ids: list[str] | None = None,
    *,
    bundle: Path | None = None,
    overrides: Overrides | None = None,
) -> StoryRequest:
    """A request for ``panel_ids`` (default: every panel, story order).

    ``bundle`` locates reference images and the identity-bank cache (``cache/identity``).
    """
    overrides = overrides or Overrides()
    numbers = panel_numbers(project)
    order = [p.id for p in project.ordered_panels()]
    wanted = order if panel_ids is None else sorted(set(panel_ids), key=order.index)
    identity = identity_panel_ids(project)

    def job(pid: str, weights: GuidanceWeights | None = None) -> PanelJob:
        return panel_job(
            project,
            project.panels[pid],
            label=numbers[pid],
            base_seed=overrides.seed,
            bundle=bundle,
            with_identity=set(identity),
            weights=weights,
            lora_folders=overrides.lora_folders,
        )

    panels = tuple(job(pid, overrides.weights) for pid in wanted)
    shown = {cid for p in panels for cid in p.characters}
    characters = tuple(
        CharacterJob(
            character_id=c.id,
            name=c.name,
            seed=c.seed,
            identity_panels=tuple(job(pid) for pid in identity[c.id]),
            rate_low=c.identity.sample_rate_low_res,
            rate_high=c.identity.sample_rate_high_res,
            reference_image=next(iter(_reference_files(bundle, [c])), None),
        )
        for c in project.ordered_characters()
        if c.id in shown
    )
    return StoryRequest(
        model=overrides.model or project.settings.generation.model,
        sampling=_sampling(project, overrides),
        panels=panels,
        characters=characters,
        cache_dir=_cache_dir(bundle),
        batch_size=max(1, overrides.batch_size),
    )


def build_panel_request(
    project: Project,
    panel_id: str,
    *,
    bundle: Path | None = None,
    overrides: Overrides | None = None,
) -> PanelRequest:
    """A request to regenerate one panel (uses saved identity banks when they still match)."""
    story = build_story_request(project, [panel_id], bundle=bundle, overrides=overrides)
    return PanelRequest(
        story.model, story.sampling, story.panels[0], story.characters, story.cache_dir
    )


# ---------------------------------------------------------------------------------- results
def new_candidate(
    asset: str,
    job: PanelJob,
    *,
    model: str,
    settings: dict[str, str | int | float | bool | None],
) -> Candidate:
    """The candidate recording one generated image and how it was made."""
    return Candidate(
        asset=asset,
        prompt=job.prompt,
        negative_prompt=job.negative_prompt,
        seed=job.seed,
        model=model,
        settings=dict(settings),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def generated_png(
    png: bytes,
    job: PanelJob,
    *,
    model: str,
    settings: dict[str, str | int | float | bool | None],
) -> bytes:
    """A generated image as it is stored: with how it was made in its ``parameters`` text
    chunk (:mod:`storyboard.core.generation_parameters`), so the asset id, the hash of these
    bytes, covers it and the picture says how to make it again wherever it goes."""
    text = parameters_text(job.prompt, job.negative_prompt, job.seed, model, settings)
    return with_text(png, PARAMETERS, text)


def record_commands(
    project: Project, panel_id: str, candidate: Candidate
) -> tuple[AddCandidate, EditFields | None]:
    """Add the candidate to its panel, and accept it if the panel has no image yet.

    The second command is None when the panel already shows an accepted image: a new generation
    never replaces the artist's choice.
    """
    accept = (
        accept_image(panel_id, candidate.asset) if project.panels[panel_id].image is None else None
    )
    return AddCandidate(panel_id, candidate), accept
