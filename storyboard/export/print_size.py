"""Which panels placed on comic pages are short of pixels for their frames, and how many they need.

The same measure as the preflight (:mod:`storyboard.export.preflight`): a frame's art at print
size (bleed included where it runs off the page) and the part of the picture it shows give the
pixels the whole picture needs at ``dpi``. A panel on several frames (a page and the cover) takes
the most any of them needs. One run enlarges a picture at most ``max_scale`` times per side, so a
64 px panel in a 6-inch frame grows to 256 px, not to 1,800 px in one go; a capped target says so.

Pure planning, header reads only: the editor's dialog and ``print-size`` build a
:class:`~storyboard.core.print_jobs.PrintSizeRequest` from these targets.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.core.model import Project
from storyboard.core.print_jobs import MAX_SCALE, PrintTarget, SizeOf, target_size
from storyboard.export.comic_pdf import ComicOptions
from storyboard.export.painter import header_sizes
from storyboard.export.preflight import FrameResolution, page_resolutions, whole_dpi

DPI_RANGE = (10, 1200)


@dataclass(frozen=True, slots=True)
class PrintPlan:
    """The panels to enlarge, and the placed panels already sharp enough at ``dpi``."""

    dpi: int
    targets: tuple[PrintTarget, ...]
    sharp: tuple[str, ...]  # panel numbers that need nothing

    def describe(self) -> list[str]:
        if not self.targets and not self.sharp:
            return ["no panel with an image is placed on the chosen pages"]
        lines = [t.describe() for t in self.targets]
        if self.sharp:
            lines.append(f"already {self.dpi} dpi or more: {', '.join(self.sharp)}")
        return lines


def plan_print_size(
    project: Project,
    bundle: Path,
    dpi: int,
    options: ComicOptions | None = None,
    pages: Collection[str] | None = None,
    max_scale: float = MAX_SCALE,
    size_of: SizeOf | None = None,
) -> PrintPlan:
    """The panels on ``pages`` (page numbers as the preflight names them, "cover" included;
    None: every page) that print under ``dpi``, each with the size that reaches it."""
    low, high = DPI_RANGE
    if not low <= dpi <= high:
        raise ValueError(f"dpi must be within {low}..{high}, not {dpi}")
    if max_scale <= 1.0:
        raise ValueError(f"the largest enlargement must be over 1, not {max_scale:g}")
    size_of = size_of or header_sizes(AssetStore(bundle))
    resolutions = page_resolutions(project, bundle, options, size_of)
    known = {p.page for p in resolutions}
    if pages is not None and (unknown := sorted(set(pages) - known)):
        raise ValueError(f"no page {', '.join(unknown)} (the comic has {len(resolutions)})")
    by_panel: dict[str, list[FrameResolution]] = {}
    for page in resolutions:
        if pages is None or page.page in pages:
            for frame in page.frames:
                by_panel.setdefault(frame.panel_id, []).append(frame)
    targets, sharp = [], []
    for frames in by_panel.values():
        first = frames[0]
        # sharp as the preflight counts it (whole dpi): 120 px over 6 in is 20 dpi, not 19.999…,
        # so a panel enlarged before is not enlarged again by a hair
        if all(whole_dpi(f.dpi_at(first.size)) >= dpi for f in frames):
            sharp.append(first.panel)
            continue
        scale = max(dpi / f.dpi_at(first.size) for f in frames)  # over 1: one frame is not
        target = target_size(first.size, min(scale, max_scale))
        targets.append(
            PrintTarget(
                panel_id=first.panel_id,
                label=first.panel,
                asset=first.asset,
                size=first.size,
                target=target,
                dpi_now=min(f.dpi for f in frames),
                dpi_after=whole_dpi(min(f.dpi_at(target) for f in frames)),
                dpi=dpi,
            )
        )
    return PrintPlan(dpi, tuple(targets), tuple(sharp))


def parse_pages(text: str) -> set[str]:
    """``1,3-5,cover`` -> {"1", "3", "4", "5", "cover"}."""
    out: set[str] = set()
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        first, dash, last = part.partition("-")
        if part == "cover":
            out.add(part)
        elif first.isdigit() and not dash:
            out.add(str(int(first)))
        elif first.isdigit() and last.isdigit() and int(first) <= int(last):
            out.update(str(n) for n in range(int(first), int(last) + 1))
        else:
            raise ValueError(
                f"--pages wants numbers, ranges and 'cover' such as 1,3-5, not {text!r}"
            )
    return out
