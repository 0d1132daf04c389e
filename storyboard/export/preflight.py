"""Preflight of a comic PDF: how sharp each page's images will print.

A picture prints soft when it has too few pixels for the inches it covers. The effective
resolution of a placed image is the pixels of the part its frame shows (the frame's crop, or
the centred cover crop the painter uses) over the printed size of the frame's art, in inches;
print wants 300 dpi. The export resamples an image down to its dpi setting but never up, so this
is what the printer gets at best. Only image headers are read (``QImageReader.size``), never the
pixels: the export dialog recomputes it as the options change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QImageReader

from storyboard.core.assets import AssetStore
from storyboard.core.model import Project
from storyboard.core.numbering import panel_numbers
from storyboard.export.comic_pdf import ComicOptions, comic_layouts
from storyboard.export.layout import INCH, PageLayout
from storyboard.export.painter import cover_crop

PRINT_DPI = 300  # below this, a placed image prints soft
SizeOf = Callable[[str], tuple[int, int] | None]


@dataclass(frozen=True, slots=True)
class PageResolution:
    """The least sharp image of one page."""

    page: str  # "1", "2", ... or "cover"
    dpi: int | None  # effective resolution of its least sharp image; None: no image placed
    panel: str = ""  # the number of the panel that image belongs to

    @property
    def soft(self) -> bool:
        return self.dpi is not None and self.dpi < PRINT_DPI


def page_resolutions(
    project: Project, bundle: Path, options: ComicOptions | None = None
) -> list[PageResolution]:
    """Per page of the comic PDF these options make, the lowest effective resolution."""
    options = options or ComicOptions()
    store = AssetStore(bundle)
    sizes: dict[str, tuple[int, int] | None] = {}

    def size_of(asset: str) -> tuple[int, int] | None:
        if asset not in sizes:
            path = store.file(asset)
            found = QImageReader(str(path)).size() if path is not None else None
            valid = found is not None and found.width() > 0 and found.height() > 0
            sizes[asset] = (found.width(), found.height()) if found is not None and valid else None
        return sizes[asset]

    numbers = panel_numbers(project)
    return [
        _lowest(layout, project, numbers, size_of) for layout in comic_layouts(project, options)
    ]


def _lowest(
    layout: PageLayout,
    project: Project,
    numbers: dict[str, str],
    size_of: SizeOf,
) -> PageResolution:
    page = str(layout.number) if layout.number else "cover"
    lowest: PageResolution = PageResolution(page, None)
    for placed in layout.frames:
        panel = project.panels.get(placed.frame.panel_id)
        size = size_of(panel.image) if panel is not None and panel.image else None
        art = placed.art
        if panel is None or size is None or art.w <= 0 or art.h <= 0:
            continue
        width, height = size
        crop = placed.frame.crop or cover_crop(width, height, art.w, art.h)
        dpi = min(crop.w * width / (art.w / INCH), crop.h * height / (art.h / INCH))
        if lowest.dpi is None or dpi < lowest.dpi:
            lowest = PageResolution(page, int(dpi), numbers.get(panel.id, ""))
    return lowest


def preflight_lines(pages: list[PageResolution]) -> list[str]:
    """The preflight as the export dialog and ``export-pdf`` say it: one line with every page's
    lowest resolution, then one warning per page that prints soft."""
    measured = [p for p in pages if p.dpi is not None]
    if not measured:
        return ["preflight: no images placed"]
    listed = ", ".join(f"{p.page}: {p.dpi} dpi" for p in measured)
    lines = [f"preflight: lowest image resolution per page (print wants {PRINT_DPI}): {listed}"]
    for p in measured:
        if p.soft:
            lines.append(
                f"page {p.page}: {p.dpi} dpi (panel {p.panel}) — prints soft; "
                "use a larger image or a smaller frame"
            )
    return lines
