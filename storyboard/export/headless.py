"""Exports run from the command line: a QGuiApplication without a display, options from argv."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from storyboard.core.model import Project, ReadingOrder
from storyboard.core.persistence import load_project


def gui_application() -> object:
    """The process's QGuiApplication (fonts and painting need one), offscreen unless set.

    Imported here, not at module level, so other commands start without loading Qt.
    """
    from PySide6.QtGui import QGuiApplication

    existing = QGuiApplication.instance()
    if isinstance(existing, QGuiApplication):
        return existing
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return QGuiApplication(sys.argv[:1])


def add_arguments(pdf: argparse.ArgumentParser) -> None:
    """The ``export-pdf`` command line."""
    pdf.add_argument("project", type=Path)
    pdf.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    pdf.add_argument("--kind", choices=("comic", "sheets"), default="comic")
    pdf.add_argument(
        "--preset",
        help="comic: us-comic, a4, letter, b5-manga, a5, digest (default: the project's); "
        "sheets: a4 or letter",
    )
    pdf.add_argument("--dpi", type=int, choices=(300, 600), default=300, help="comic images")
    pdf.add_argument("--no-bleed", action="store_true", help="comic: trim size only")
    pdf.add_argument("--crop-marks", action="store_true", help="comic: crop marks in a slug")
    pdf.add_argument("--cover", action="store_true", help="comic: a title page first")
    pdf.add_argument("--no-page-numbers", action="store_true")
    pdf.add_argument("--rtl", action="store_true", help="comic: read right to left (manga)")
    pdf.add_argument(
        "--placed-only",
        action="store_true",
        help="comic: only the panels on your pages (by default the others follow on automatic "
        "pages, as in the editor)",
    )
    pdf.add_argument(
        "--pdfx",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="comic: PDF/X-4 for print, with an sRGB output intent and XMP metadata (default; "
        "--no-pdfx writes a plain PDF)",
    )
    pdf.add_argument("--png-dir", type=Path, help="comic: also write one PNG per page here")
    pdf.add_argument("--grid", default="3x2", metavar="ROWSxCOLS", help="sheets: 1x1 to 4x4")
    pdf.add_argument("--landscape", action="store_true", help="sheets")
    pdf.add_argument("--text-beside", action="store_true", help="sheets: text right of images")


def parse_grid(text: str) -> tuple[int, int]:
    rows, _, columns = text.lower().partition("x")
    if not (rows.isdigit() and columns.isdigit()):
        raise ValueError(f"--grid wants ROWSxCOLS such as 3x2, not {text!r}")
    return int(rows), int(columns)


def run_export_pdf(args: argparse.Namespace) -> int:
    """Run ``export-pdf``; errors propagate as typed exceptions for the CLI to report."""
    loaded = load_project(args.project)
    for line in _export(loaded.project, loaded.path, args):
        sys.stdout.write(line + "\n")
    return 0


def _export(project: Project, bundle: Path, args: argparse.Namespace) -> list[str]:
    from storyboard.export.comic_pdf import ComicOptions, export_comic_pdf, placement
    from storyboard.export.page_png import export_page_pngs
    from storyboard.export.preflight import page_resolutions, preflight_report
    from storyboard.export.sheets_pdf import SheetOptions, export_sheets_pdf

    gui_application()
    if args.kind == "sheets":
        rows, columns = parse_grid(args.grid)
        sheet = SheetOptions(
            paper=args.preset or "a4",
            landscape=args.landscape,
            rows=rows,
            columns=columns,
            text_beside=args.text_beside,
        )
        done = export_sheets_pdf(project, bundle, args.output, sheet)
        return [f"wrote {done.path} ({done.pages} pages)"]
    options = ComicOptions(
        preset=args.preset,
        dpi=args.dpi,
        bleed=not args.no_bleed,
        crop_marks=args.crop_marks,
        page_numbers=not args.no_page_numbers,
        cover=args.cover,
        reading_order=ReadingOrder.RIGHT_TO_LEFT if args.rtl else None,
        all_panels=not args.placed_only,
        pdfx=args.pdfx,
    )
    result = export_comic_pdf(project, bundle, args.output, options)
    kind = "PDF/X-4, " if options.pdfx else ""
    placed = placement(project, options).describe()
    lines = [f"wrote {result.path} ({kind}{result.pages} pages): {placed}"]
    info, soft = preflight_report(page_resolutions(project, bundle, options))
    lines += [*info, *(f"warning: {line}" for line in soft)]
    if result.overflowing_balloons:
        lines.append(f"warning: {len(result.overflowing_balloons)} balloon(s) too full to fit")
    if args.png_dir:
        pngs = export_page_pngs(project, bundle, args.png_dir, options)
        lines.append(f"wrote {len(pngs)} PNG page(s) to {args.png_dir}")
    return lines
