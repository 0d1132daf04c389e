"""The storyboard worksheet PDF that story artists hand around: a grid of panels with their text.

Each cell shows the panel's image (or a placeholder), its number, scene and duration, then its
dialogue, action and notes. Text is never cut off: what does not fit a cell flows into the
next cell as "(cont.)", as many cells as it takes, in reading order across pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen

from storyboard.core.assets import AssetStore
from storyboard.core.model import Panel, Project
from storyboard.core.numbering import panel_numbers
from storyboard.core.timeline import frames_to_seconds, panel_starts, timecode
from storyboard.core.untitled import project_title
from storyboard.export.layout import INCH, MM, Box
from storyboard.export.output import (
    Cancelled,
    ExportError,
    Progress,
    check_cancelled,
    staged_file,
    write_file,
)
from storyboard.export.painter import PLACEHOLDER_FILL, PLACEHOLDER_INK, asset_loader, frame_crop
from storyboard.export.text import body, metrics, wrap_breaking

log = logging.getLogger(__name__)

PAPERS = {"a4": (210 * MM, 297 * MM), "letter": (8.5 * INCH, 11 * INCH)}
MARGIN = 0.5 * INCH
HEADER = 30.0
GAP = 14.0
LABEL_INK = QColor(110, 110, 110)


@dataclass(frozen=True, slots=True)
class SheetOptions:
    paper: str = "a4"  # a4 | letter
    landscape: bool = False
    rows: int = 3
    columns: int = 2
    text_beside: bool = False  # text to the right of each image instead of under it
    text_size: float = 8.0
    dpi: int = 150  # handouts: enough for a laser printer, small files


@dataclass(frozen=True, slots=True)
class Line:
    label: str  # "Dialogue: " on a paragraph's first line, else ""
    text: str
    bold: bool = False  # the panel's number, scene and timing


@dataclass(frozen=True, slots=True)
class Cell:
    panel: Panel
    lines: list[Line]
    continued: bool  # a continuation cell: text only


@dataclass(slots=True)
class SheetsResult:
    path: Path
    pages: int


def _paper(options: SheetOptions) -> tuple[float, float]:
    if options.paper not in PAPERS:
        raise ValueError(f"worksheet paper must be one of {', '.join(PAPERS)}")
    if not (1 <= options.rows <= 4 and 1 <= options.columns <= 4):
        raise ValueError("worksheet grids go from 1x1 to 4x4")
    w, h = PAPERS[options.paper]
    return (h, w) if options.landscape else (w, h)


@dataclass(frozen=True, slots=True)
class _Geometry:
    cell_w: float
    cell_h: float
    image: Box  # relative to the cell's top-left
    text: Box  # relative to the cell's top-left, first cell of a panel
    line_height: float

    def cell(self, slot: int, columns: int) -> Box:
        row, column = divmod(slot, columns)
        x = MARGIN + column * (self.cell_w + GAP)
        y = MARGIN + HEADER + row * (self.cell_h + GAP)
        return Box(x, y, self.cell_w, self.cell_h)


def _geometry(options: SheetOptions, paper: tuple[float, float], aspect: float) -> _Geometry:
    cols, rows = options.columns, options.rows
    cell_w = (paper[0] - 2 * MARGIN - (cols - 1) * GAP) / cols
    cell_h = (paper[1] - 2 * MARGIN - HEADER - (rows - 1) * GAP) / rows
    lh = metrics(body(options.text_size)).lineSpacing()
    if options.text_beside:
        w = min(cell_w * 0.55, (cell_h - lh) * aspect)
        image = Box(0, 0, w, w / aspect)
        text = Box(w + 8, 0, cell_w - w - 8, cell_h)
    else:
        h = min(cell_w / aspect, cell_h * 0.62)
        image = Box((cell_w - h * aspect) / 2, 0, h * aspect, h)
        text = Box(0, h + 4, cell_w, cell_h - h - 4)
    return _Geometry(cell_w, cell_h, image, text, lh)


def _panel_lines(info: str, panel: Panel, width: float, size: float) -> list[Line]:
    fm = metrics(body(size))
    lines = [
        Line("", text, bold=True)
        for text in wrap_breaking(info, metrics(body(size, bold=True)), width)
    ]
    for label, text in (("Dialogue: ", panel.dialogue), ("Action: ", panel.action),
                        ("Notes: ", panel.notes)):  # fmt: skip
        if not text.strip():
            continue
        for i, line in enumerate(wrap_breaking(label + text.strip(), fm, width)):
            lines.append(Line(label, line[len(label) :]) if i == 0 else Line("", line))
    return lines


def _cells(
    project: Project, geometry: _Geometry, size: float, info: Callable[[Panel], str]
) -> list[Cell]:
    """One cell per panel, plus continuation cells for text that does not fit."""
    first_room = max(0, int(geometry.text.h // geometry.line_height))
    later_room = max(1, int(geometry.cell_h // geometry.line_height) - 1)  # -1: "(cont.)"
    cells: list[Cell] = []
    for panel in project.ordered_panels():
        lines = _panel_lines(info(panel), panel, geometry.text.w, size)
        cells.append(Cell(panel, lines[:first_room], continued=False))
        rest = lines[first_room:]
        while rest:
            cells.append(Cell(panel, rest[:later_room], continued=True))
            rest = rest[later_room:]
    return cells


def _header(painter: QPainter, title: str, page: int, pages: int, width: float) -> None:
    painter.setPen(QColor(0, 0, 0))
    painter.setFont(body(12, bold=True))
    fm = metrics(body(12, bold=True))
    painter.drawText(QPointF(MARGIN, MARGIN + fm.ascent()), title)
    painter.setFont(body(9))
    label = f"Page {page} of {pages}"
    right = width - MARGIN - metrics(body(9)).horizontalAdvance(label)
    painter.drawText(QPointF(right, MARGIN + fm.ascent()), label)
    painter.setPen(QPen(QColor(0, 0, 0), 0.75))
    y = MARGIN + HEADER - 8
    painter.drawLine(QPointF(MARGIN, y), QPointF(width - MARGIN, y))


class _Painter:
    """Draws cells for one export (numbers, scenes and start times computed once)."""

    def __init__(self, project: Project, bundle: Path, options: SheetOptions, g: _Geometry):
        self.project, self.options, self.g = project, options, g
        self.numbers = panel_numbers(project)
        self.starts = panel_starts(project)
        self.images = asset_loader(AssetStore(bundle))

    def info(self, panel: Panel) -> str:
        scene = self.project.scene_of(panel.id)
        scene_no = self.project.scene_ids.index(scene.id) + 1
        fps = self.project.settings.fps
        seconds = frames_to_seconds(panel.duration, fps)
        start = timecode(self.starts.get(panel.id, 0), fps)
        title = f": {scene.title}" if scene.title else ""
        return (
            f"{self.numbers[panel.id]}  ·  Scene {scene_no}{title}  ·  {start}  ·  {seconds:.1f} s"
        )

    def draw(self, painter: QPainter, cell: Cell, at: Box) -> None:
        g, size = self.g, self.options.text_size
        text_box = Box(at.x + g.text.x, at.y + g.text.y, g.text.w, g.text.h)
        if cell.continued:
            text_box = Box(at.x, at.y, at.w, at.h)
        else:
            self._image(
                painter, cell.panel, Box(at.x + g.image.x, at.y + g.image.y, g.image.w, g.image.h)
            )
        fm = metrics(body(size))
        y = text_box.y + fm.ascent()
        if cell.continued:
            painter.setFont(body(size, bold=True))
            painter.setPen(QColor(0, 0, 0))
            painter.drawText(QPointF(text_box.x, y), f"{self.numbers[cell.panel.id]} (cont.)")
            y += g.line_height
        for line in cell.lines:
            x = text_box.x
            painter.setFont(body(size, bold=line.bold))
            if line.label:
                painter.setPen(LABEL_INK)
                painter.drawText(QPointF(x, y), line.label)
                x += fm.horizontalAdvance(line.label)
            painter.setPen(QColor(0, 0, 0))
            painter.drawText(QPointF(x, y), line.text)
            y += g.line_height

    def _image(self, painter: QPainter, panel: Panel, box: Box) -> None:
        rect = QRectF(box.x, box.y, box.w, box.h)
        image = self.images(panel.image) if panel.image else None
        if image is None:
            painter.fillRect(rect, PLACEHOLDER_FILL)
            painter.setPen(PLACEHOLDER_INK)
            painter.setFont(body(9))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "no image yet")
        else:
            painter.drawImage(rect, frame_crop(image, box, None, self.options.dpi))
        painter.setPen(QPen(QColor(0, 0, 0), 0.75))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect)


def export_sheets_pdf(
    project: Project,
    bundle: Path,
    out_path: Path,
    options: SheetOptions | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> SheetsResult:
    """Write the worksheet PDF; raises ExportError or ExportCancelled (no file is left)."""
    options = options or SheetOptions()
    paper = _paper(options)
    geometry = _geometry(options, paper, project.settings.aspect_ratio or 16 / 9)
    drawer = _Painter(project, bundle, options, geometry)
    cells = _cells(project, geometry, options.text_size, drawer.info)
    if not cells:
        raise ExportError(out_path, "the project has no panels", "Add panels first")
    per_page = options.rows * options.columns
    pages = [cells[i : i + per_page] for i in range(0, len(cells), per_page)]
    with staged_file(out_path) as temp:
        pdf = QByteArray()  # drawn in memory: QPdfWriter reports no write error (output.py)
        device = QBuffer(pdf)
        device.open(QIODevice.OpenModeFlag.WriteOnly)
        writer = QPdfWriter(device)
        writer.setResolution(72)
        title = project_title(project, bundle)
        writer.setTitle(f"{title}: storyboard")
        writer.setCreator("Storyboard editor")
        size = QPageSize(
            QSizeF(*paper),
            QPageSize.Unit.Point,
            options.paper,
            QPageSize.SizeMatchPolicy.ExactMatch,
        )
        writer.setPageLayout(QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF()))
        painter = QPainter()
        if not painter.begin(writer):
            raise ExportError(out_path, "the PDF could not be started", "Check the folder")
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            for number, page in enumerate(pages, start=1):
                check_cancelled(cancelled)
                if number > 1:
                    writer.newPage()
                _header(painter, title, number, len(pages), paper[0])
                for slot, cell in enumerate(page):
                    drawer.draw(painter, cell, geometry.cell(slot, options.columns))
                if progress is not None:
                    progress(number, len(pages))
        finally:
            painter.end()
        device.close()
        check_cancelled(cancelled)
        write_file(temp, pdf, shown=out_path)
    return SheetsResult(Path(out_path), len(pages))
