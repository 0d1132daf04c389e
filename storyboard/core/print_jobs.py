"""Print size: the requests that bring panels to the pixels their comic frames need, and how the
results are recorded.

A panel is generated at the model's size (about 1024 px on the long side for SDXL, 64 px for
the built-in model) while a 6-inch frame at 300 dpi needs about 1,800 px. The export
(:mod:`storyboard.export.print_size`) works out, from the page layout, which panels are short of
pixels and how many they need; this module turns that into a frozen :class:`PrintSizeRequest`
the engine runs (upscale, then a low-strength img2img refine, tiled, through the same identity
banks as the panel, so the character stays the one the artist accepted).

Each result is a new candidate of its panel, accepted at once, whose settings name the image it
was made from (``upscaled_from``): the original stays among the candidates, and the images
linked that way are *versions* of one picture. The PDF export prints the largest version of the
accepted picture (:func:`largest_version`), so going back to the original in the candidates
strip does not make the print soft.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.core.commands import AddCandidate, EditFields, accept_image
from storyboard.core.jobs import (
    CharacterJob,
    Overrides,
    PanelJob,
    Sampling,
    build_story_request,
)
from storyboard.core.model import Candidate, Panel, Project

UPSCALED_FROM = "upscaled_from"  # a candidate's setting: the asset it was upscaled from
PRINT_DPI = "print_dpi"  # the dpi it was made for
DEFAULT_STRENGTH = 0.3  # low: the refine adds detail, it does not redraw the panel
MAX_SCALE = 4.0  # one print-size run enlarges a picture at most this much per side
SIZE_STEP = 8  # pixels: the VAE's factor, so every size encodes without a remainder

SizeOf = Callable[[str], tuple[int, int] | None]
"""An asset's pixel size from its header, or None when it is missing or unreadable."""


@dataclass(frozen=True, slots=True)
class PrintTarget:
    """One panel short of pixels for its frame at the chosen dpi, and the size it needs."""

    panel_id: str
    label: str  # the panel number ("2B")
    asset: str  # the version it starts from: the largest of its accepted picture
    size: tuple[int, int]  # its pixels now
    target: tuple[int, int]  # the pixels it will have (capped at MAX_SCALE per run)
    dpi_now: int  # effective resolution of its smallest-dpi frame now
    dpi_after: int  # ... and at the target size
    dpi: int  # the resolution asked for

    @property
    def capped(self) -> bool:
        """The target stays under the dpi asked for (the run's scale limit)."""
        return self.dpi_after < self.dpi

    def describe(self) -> str:
        (w, h), (tw, th) = self.size, self.target
        line = f"{self.label}: {w}x{h} -> {tw}x{th} px ({self.dpi_now} -> {self.dpi_after} dpi)"
        return line + (f", {MAX_SCALE:g}x at most per run" if self.capped else "")


def target_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """``size`` enlarged by ``scale``, each side rounded up to a multiple of SIZE_STEP."""
    return tuple(  # type: ignore[return-value]
        max(SIZE_STEP, -(-round(side * scale) // SIZE_STEP) * SIZE_STEP) for side in size
    )


@dataclass(frozen=True, slots=True)
class PrintJob:
    """One panel to bring to print size: its prompt, characters and seed as it was generated,
    the image it starts from and the size it must reach."""

    panel: PanelJob
    source: str  # the image file it starts from
    source_asset: str
    width: int
    height: int
    dpi: int


@dataclass(frozen=True, slots=True)
class PrintSizeRequest:
    """Upscale and refine ``jobs``, reading their characters' identity banks (written first when
    the cache lacks them, the way a regenerate does)."""

    model: str
    sampling: Sampling  # the project's: banks were written, and tiles are drawn, at its size
    jobs: tuple[PrintJob, ...]
    characters: tuple[CharacterJob, ...] = ()
    cache_dir: str | None = None
    strength: float = DEFAULT_STRENGTH
    overlap: float = 0.25  # share of a tile its neighbours overlap, blended

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"refine strength must be within 0..1, not {self.strength}")
        if not 0.0 < self.overlap < 0.5:
            raise ValueError(f"tile overlap must be within 0..0.5, not {self.overlap}")


def build_print_request(
    project: Project,
    targets: list[PrintTarget],
    *,
    bundle: Path,
    overrides: Overrides | None = None,
    strength: float = DEFAULT_STRENGTH,
) -> PrintSizeRequest:
    """The request for ``targets``: each panel's job as a regenerate would build it (its prompt,
    seed and characters, no drawing guide), so the refine reads the same identity banks."""
    story = build_story_request(
        project, [t.panel_id for t in targets], bundle=bundle, overrides=overrides
    )
    by_panel = {p.panel_id: p for p in story.panels}
    store = AssetStore(bundle)
    jobs = []
    for target in targets:
        source = store.file(target.asset)
        if source is None:
            raise ValueError(f"panel {target.label}: its image {target.asset} is missing")
        width, height = target.target
        job = by_panel[target.panel_id]
        jobs.append(PrintJob(job, str(source), target.asset, width, height, target.dpi))
    return PrintSizeRequest(
        story.model,
        story.sampling,
        tuple(jobs),
        story.characters,
        story.cache_dir,
        strength=strength,
    )


def print_record_commands(panel_id: str, candidate: Candidate) -> tuple[AddCandidate, EditFields]:
    """Add the print-size image to its panel and accept it: it is the picture the artist
    already chose, only larger (the original stays a candidate)."""
    return AddCandidate(panel_id, candidate), accept_image(panel_id, candidate.asset)


# ---------------------------------------------------------------------------------- versions
def version_root(panel: Panel, asset: str) -> str:
    """The picture ``asset`` was first made as, following ``upscaled_from`` back."""
    parent = {
        c.asset: str(c.settings[UPSCALED_FROM])
        for c in panel.candidates
        if isinstance(c.settings.get(UPSCALED_FROM), str)
    }
    seen = {asset}
    while asset in parent and parent[asset] not in seen:
        asset = parent[asset]
        seen.add(asset)
    return asset


def versions(panel: Panel, asset: str) -> list[str]:
    """Every version of the picture ``asset`` shows among the panel's candidates (itself
    included, first)."""
    root = version_root(panel, asset)
    found = [asset]
    for candidate in panel.candidates:
        if candidate.asset not in found and version_root(panel, candidate.asset) == root:
            found.append(candidate.asset)
    if root not in found:
        found.append(root)
    return found


def largest_version(panel: Panel, size_of: SizeOf) -> str | None:
    """The version of the panel's accepted picture with the most pixels (what print uses);
    None without an accepted image. Unreadable versions are skipped; the accepted one is kept
    when none can be read."""
    if panel.image is None:
        return None
    best, best_area = panel.image, -1
    for asset in versions(panel, panel.image):
        size = size_of(asset)
        if size is not None and size[0] * size[1] > best_area:
            best, best_area = asset, size[0] * size[1]
    return best


def print_assets(project: Project, size_of: SizeOf) -> dict[str, str]:
    """Each panel's accepted image -> the asset print uses for it (its largest version)."""
    out: dict[str, str] = {}
    for panel in project.panels.values():
        largest = largest_version(panel, size_of)
        if panel.image is not None and largest is not None:
            out[panel.image] = largest
    return out
