"""Preflight of a comic PDF: how sharp each page's and each panel's images will print.

A picture prints soft when it has too few pixels for the inches it covers. The effective
resolution of a placed image is the pixels of the part its frame shows (the frame's crop, or
the centred cover crop the painter uses) over the printed size of the frame's art, in inches;
print wants 300 dpi. The export resamples an image down to its dpi setting but never up, so this
is what the printer gets at best. The image measured is the one the export prints: the largest
version of the panel's accepted picture (:func:`storyboard.core.print_jobs.largest_version`, made
by the Print size step). Only image headers are read (``QImageReader.size``), never the pixels:
the export dialog recomputes it as the options change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.core.model import Project, Rect
from storyboard.core.numbering import panel_numbers
from storyboard.core.print_jobs import SizeOf, largest_version
from storyboard.export.comic_pdf import ComicOptions, comic_layouts
from storyboard.export.layout import INCH, FrameLayout, PageLayout
from storyboard.export.painter import cover_crop, header_sizes

PRINT_DPI = 300  # below this, a placed image prints soft


@dataclass(frozen=True, slots=True)
class FrameResolution:
    """One placed image: which version prints, its pixels and its effective resolution."""

    page: str  # "1", "2", ... or "cover"
    panel_id: str
    panel: str  # the panel's number
    asset: str  # the version printed (the largest of the accepted picture)
    size: tuple[int, int]  # its pixels
    inches: tuple[float, float]  # the frame's art at print size
    crop: Rect  # the part of the image the frame shows (relative)
    dpi: int

    def dpi_at(self, size: tuple[int, int]) -> float:
        """The effective resolution the same frame would have with an image of ``size``."""
        return effective_dpi(size, self.inches, self.crop)


@dataclass(frozen=True, slots=True)
class PageResolution:
    """The least sharp image of one page, and every placed image of it."""

    page: str  # "1", "2", ... or "cover"
    dpi: int | None  # effective resolution of its least sharp image; None: no image placed
    panel: str = ""  # the number of the panel that image belongs to
    frames: tuple[FrameResolution, ...] = ()

    @property
    def soft(self) -> bool:
        return self.dpi is not None and self.dpi < PRINT_DPI


def effective_dpi(size: tuple[int, int], inches: tuple[float, float], crop: Rect) -> float:
    """Pixels per printed inch of the part ``crop`` shows of an image of ``size``."""
    (width, height), (w_in, h_in) = size, inches
    return min(crop.w * width / w_in, crop.h * height / h_in)


def page_resolutions(
    project: Project,
    bundle: Path,
    options: ComicOptions | None = None,
    size_of: SizeOf | None = None,
) -> list[PageResolution]:
    """Per page of the comic PDF these options make, its placed images and the lowest
    effective resolution."""
    options = options or ComicOptions()
    size_of = size_of or header_sizes(AssetStore(bundle))
    numbers = panel_numbers(project)
    return [_page(layout, project, numbers, size_of) for layout in comic_layouts(project, options)]


def _page(
    layout: PageLayout, project: Project, numbers: dict[str, str], size_of: SizeOf
) -> PageResolution:
    page = str(layout.number) if layout.number else "cover"
    frames = [
        found
        for placed in layout.frames
        if (found := _frame(page, placed, project, numbers, size_of)) is not None
    ]
    if not frames:
        return PageResolution(page, None)
    lowest = min(frames, key=lambda f: f.dpi)
    return PageResolution(page, lowest.dpi, lowest.panel, tuple(frames))


def _frame(
    page: str, placed: FrameLayout, project: Project, numbers: dict[str, str], size_of: SizeOf
) -> FrameResolution | None:
    panel = project.panels.get(placed.frame.panel_id)
    asset = largest_version(panel, size_of) if panel is not None else None
    size = size_of(asset) if asset is not None else None
    art = placed.art
    if panel is None or asset is None or size is None or art.w <= 0 or art.h <= 0:
        return None
    crop = placed.frame.crop or cover_crop(size[0], size[1], art.w, art.h)
    inches = (art.w / INCH, art.h / INCH)
    dpi = whole_dpi(effective_dpi(size, inches, crop))
    number = numbers.get(panel.id, "")
    return FrameResolution(page, panel.id, number, asset, size, inches, crop, dpi)


def whole_dpi(dpi: float) -> int:
    """Whole dots per inch, rounded down, but not below a whole number the float arithmetic
    missed by a hair (120 px over 6 in is 20 dpi, not 19.999…)."""
    return math.floor(dpi + 1e-6)


def panel_resolutions(pages: list[PageResolution]) -> dict[str, int]:
    """Each placed panel's number -> its lowest effective resolution, in print order."""
    out: dict[str, int] = {}
    for page in pages:
        for frame in page.frames:
            out[frame.panel] = min(out.get(frame.panel, frame.dpi), frame.dpi)
    return out


def preflight_report(pages: list[PageResolution]) -> tuple[list[str], list[str]]:
    """The preflight in words: the lines that inform (every page's lowest resolution, every
    panel's) and the warnings (one per page that prints soft)."""
    measured = [p for p in pages if p.dpi is not None]
    if not measured:
        return ["preflight: no images placed"], []
    listed = ", ".join(f"{p.page}: {p.dpi} dpi" for p in measured)
    panels = ", ".join(f"{n} {dpi}" for n, dpi in panel_resolutions(pages).items())
    info = [
        f"preflight: lowest image resolution per page (print wants {PRINT_DPI}): {listed}",
        f"effective dpi per panel: {panels}",
    ]
    warnings = [
        f"page {p.page}: {p.dpi} dpi (panel {p.panel}) — prints soft; use a larger image or a "
        "smaller frame, or Generate > Print size"
        for p in measured
        if p.soft
    ]
    return info, warnings


def preflight_lines(pages: list[PageResolution]) -> list[str]:
    """The preflight as the export dialog says it: the information, then the warnings."""
    info, warnings = preflight_report(pages)
    return info + warnings
