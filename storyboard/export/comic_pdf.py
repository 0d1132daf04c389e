"""The print-ready comic PDF: one page per comic page, at trim + bleed (+ slug for crop marks).

Pages come from the project's page layout; a project without pages (or panels on no page, when
asked) is paginated automatically in story order. QPdfWriter draws everything with the shared
painter (vector balloons, embedded fonts, images resampled to 300/600 dpi); pypdf then writes
the TrimBox and BleedBox Qt cannot (Qt sets both to the MediaBox) and, for manga, the
right-to-left reading direction viewers use for two-page spreads.

By default the file is PDF/X-4, what print shops ask for: Qt (6.8 and later) writes the PDF 1.6
header, the sRGB output intent (``/OutputIntents`` with ``/S /GTS_PDFX`` and its ICC profile),
``/Trapped`` and the XMP metadata naming ``PDF/X-4`` with the title and creator; pypdf keeps
all of it and adds the trim and bleed boxes the standard requires on every page. The title is
the project's (:func:`storyboard.core.untitled.project_title`).
"""

from __future__ import annotations

import dataclasses
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import NameObject, RectangleObject
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)

from storyboard.core.assets import AssetStore
from storyboard.core.model import Page, PanelFrame, Project, ReadingOrder, Rect
from storyboard.core.page_templates import DEFAULT_TEMPLATE, paginate
from storyboard.core.untitled import project_title
from storyboard.export.layout import Box, Margins, PageLayout, PageSpec, layout_page, preset
from storyboard.export.output import (
    Cancelled,
    ExportError,
    Progress,
    check_cancelled,
    staged_file,
    write_file,
)
from storyboard.export.painter import PaintOptions, paint_page, print_loader, to_qrect
from storyboard.export.text import lettering, metrics

log = logging.getLogger(__name__)

DPI_CHOICES = (300, 600)


@dataclass(frozen=True, slots=True)
class ComicOptions:
    preset: str | None = None  # None: the project's page preset
    dpi: int = 300
    bleed: bool = True
    crop_marks: bool = False
    page_numbers: bool = True
    cover: bool = False  # a title page with the first panel's art, before page 1
    reading_order: ReadingOrder | None = None  # None: the project's
    gutter: float | None = None  # points; None: the project's page gutter
    template: str = DEFAULT_TEMPLATE  # for automatic pages
    all_panels: bool = False  # also paginate panels that are on no page
    pdfx: bool = True  # PDF/X-4 (output intent, XMP metadata); False: a plain PDF 1.4


@dataclass(slots=True)
class ComicResult:
    path: Path
    pages: int
    overflowing_balloons: list[str] = field(default_factory=list)


def page_spec(project: Project, options: ComicOptions) -> PageSpec:
    chosen = preset(options.preset or project.settings.page_preset)
    margins = project.settings.page_margins
    if margins is not None:  # the artist's own margins replace the preset's
        live = Margins(margins.top, margins.bottom, margins.inner, margins.outer)
        chosen = dataclasses.replace(chosen, live=live)
    return PageSpec(
        chosen,
        gutter=project.settings.page_gutter if options.gutter is None else options.gutter,
        bleed=options.bleed,
        crop_marks=options.crop_marks,
        order=options.reading_order or project.settings.reading_order,
    )


@dataclass(frozen=True, slots=True)
class Placement:
    """Where the story's panels go in one export: the artist's pages, automatic ones, or out."""

    on_pages: int  # panels on the project's own pages
    automatic: int  # panels on pages the export lays out for them
    left_out: int  # panels on no page, left out (``all_panels`` off)

    def describe(self) -> str:
        total = self.on_pages + self.automatic + self.left_out
        if not self.automatic and not self.left_out:
            return f"all {total} panels were on your pages"
        if self.left_out:
            return (
                f"placed {self.on_pages} of {total} panels (those on your pages); left out "
                f"{self.left_out} that are on no page"
            )
        return (
            f"placed {self.on_pages} of {total} panels on your pages and {self.automatic} on "
            "automatic pages"
        )


def comic_pages(project: Project, options: ComicOptions) -> list[Page]:
    """The pages to print: the project's pages, then automatic ones for unplaced panels.

    One reading order per export: when the export's order is not the project's, the project's
    pages are mirrored left to right (the first panel moves to the top right, as a manga edition
    flips a western layout), so they read in the same direction as the automatic pages.
    """
    order = options.reading_order or project.settings.reading_order
    pages = [project.pages[pid] for pid in project.page_ids]
    if order != project.settings.reading_order:
        pages = [_mirrored(page) for page in pages]
    placed = {f.panel_id for page in pages for f in page.frames}
    if not pages or options.all_panels:
        rest = [p.id for p in project.ordered_panels() if p.id not in placed]
        pages += paginate(rest, order, options.template)
    return pages


def placement(project: Project, options: ComicOptions) -> Placement:
    """How many of the story's panels this export puts on which pages."""
    on_pages = {f.panel_id for pid in project.page_ids for f in project.pages[pid].frames}
    on_pages &= set(project.panels)
    rest = len(project.panels) - len(on_pages)
    if not project.page_ids or options.all_panels:
        return Placement(len(on_pages), rest, 0)
    return Placement(len(on_pages), 0, rest)


def _mirrored(page: Page) -> Page:
    frames = [
        dataclasses.replace(f, box=dataclasses.replace(f.box, x=1.0 - f.box.x - f.box.w))
        for f in page.frames
    ]
    return dataclasses.replace(page, frames=frames)


def comic_layouts(project: Project, options: ComicOptions) -> list[PageLayout]:
    """Every page in print order, the cover (number 0) first when asked for."""
    spec = page_spec(project, options)
    layouts = [layout_page(p, n, spec) for n, p in enumerate(comic_pages(project, options), 1)]
    panels = project.ordered_panels()
    if options.cover and panels:
        art = next((p for p in panels if p.image), panels[0])
        cover = Page(template="cover", frames=[PanelFrame(art.id, Rect(), full_bleed=True)])
        layouts.insert(0, layout_page(cover, 0, spec))
    return layouts


def _cover_title(painter: QPainter, title: str, safe: Box) -> None:
    """The title in a white box at the top of the cover, as large as fits the safe width."""
    size = 40.0
    while size > 12 and metrics(lettering(size)).horizontalAdvance(title.upper()) > safe.w - 24:
        size -= 2
    fm = metrics(lettering(size))
    box = QRectF(safe.x, safe.y, safe.w, fm.lineSpacing() + 20)
    painter.setPen(QPen(QColor(0, 0, 0), 1.5))
    painter.setBrush(QColor(255, 255, 255))
    painter.drawRect(box)
    painter.setFont(lettering(size))
    width = fm.horizontalAdvance(title.upper())
    painter.drawText(
        QPointF(box.center().x() - width / 2, box.top() + 10 + fm.ascent()), title.upper()
    )


def _set_boxes(
    pdf: bytes | bytearray | memoryview, layouts: list[PageLayout], rtl: bool, target: Path
) -> bytes:
    """Write TrimBox and BleedBox (PDF y grows upwards) and the reading direction."""
    try:
        reader = PdfReader(io.BytesIO(pdf))
    except PdfReadError as exc:  # Qt made no usable PDF (it reports no error of its own)
        raise ExportError(
            target, f"the PDF came out damaged ({exc})", "Please report this"
        ) from exc
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header  # PDF/X-4 is PDF 1.6 (pypdf would write 1.3)
    for page, layout in zip(writer.pages, layouts, strict=True):
        height = float(page.mediabox.height)
        for name, box in (("/TrimBox", layout.spec.trim), ("/BleedBox", layout.spec.bleed_box)):
            page[NameObject(name)] = RectangleObject(
                [box.x, height - box.bottom, box.right, height - box.y]
            )
    if rtl:
        writer.create_viewer_preferences()[NameObject("/Direction")] = NameObject("/R2L")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def export_comic_pdf(
    project: Project,
    bundle: Path,
    out_path: Path,
    options: ComicOptions | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ComicResult:
    """Write the comic as a print-ready PDF; raises ExportError or ExportCancelled.

    Runs on any thread with a QGuiApplication alive (QPdfWriter and QPainter only).
    """
    options = options or ComicOptions()
    if options.dpi not in DPI_CHOICES:
        raise ValueError(f"image resolution must be one of {DPI_CHOICES} dpi, not {options.dpi}")
    layouts = comic_layouts(project, options)
    if not layouts:
        raise ExportError(out_path, "the project has no panels to print", "Add panels first")
    images = print_loader(project, AssetStore(bundle))
    paint = PaintOptions(dpi=options.dpi, page_numbers=options.page_numbers)
    overflowing: list[str] = []
    with staged_file(out_path) as temp:
        # Drawn in memory, then written by write_file: QPdfWriter reports no write error (on a
        # full disk it left an empty file). pypdf holds the whole PDF in memory anyway.
        pdf = QByteArray()
        device = QBuffer(pdf)
        device.open(QIODevice.OpenModeFlag.WriteOnly)
        writer = QPdfWriter(device)
        writer.setResolution(72)  # one device pixel = one point: the painter's unit
        if options.pdfx:
            writer.setPdfVersion(QPagedPaintDevice.PdfVersion.PdfVersion_X4)
        title = project_title(project, bundle)
        writer.setTitle(title)
        writer.setCreator("Storyboard editor")
        media = layouts[0].spec.media
        size = QPageSize(
            QSizeF(media.w, media.h),
            QPageSize.Unit.Point,
            "Comic page",
            QPageSize.SizeMatchPolicy.ExactMatch,
        )
        writer.setPageLayout(QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF()))
        painter = QPainter()
        if not painter.begin(writer):
            raise ExportError(out_path, "the PDF could not be started", "Check the folder")
        try:
            for index, layout in enumerate(layouts):
                check_cancelled(cancelled)
                if index:
                    writer.newPage()
                painter.fillRect(to_qrect(media), Qt.GlobalColor.white)
                page_paint = (
                    paint if layout.number else PaintOptions(options.dpi, False, balloons=False)
                )
                overflowing += paint_page(painter, layout, project, images, page_paint)
                if not layout.number:
                    _cover_title(painter, title, layout.spec.safe)
                if progress is not None:
                    progress(index + 1, len(layouts))
        finally:
            painter.end()
        device.close()
        check_cancelled(cancelled)
        rtl = layouts[0].spec.order == ReadingOrder.RIGHT_TO_LEFT
        write_file(temp, _set_boxes(pdf.data(), layouts, rtl, out_path), shown=out_path)
    if overflowing:
        log.warning("%d balloon(s) too full to fit at the smallest size", len(overflowing))
    return ComicResult(Path(out_path), len(layouts), overflowing)
