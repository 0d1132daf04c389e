"""The comic PDF parsed back with poppler: sizes, boxes, fonts, text, order, and raster checks."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QGuiApplication

from storyboard.cli import main
from storyboard.core.assets import AssetStore
from storyboard.core.model import (
    Balloon,
    Page,
    Panel,
    PanelFrame,
    Project,
    ReadingOrder,
    Rect,
    Scene,
)
from storyboard.core.page_templates import frames_for
from storyboard.core.persistence import save_project
from storyboard.export.comic_pdf import ComicOptions, comic_layouts, comic_pages, export_comic_pdf
from storyboard.export.output import ExportCancelled, ExportError
from storyboard.export.page_png import export_page_pngs

COLOURS = [
    (200, 40, 40),
    (40, 160, 60),
    (40, 70, 200),
    (220, 180, 30),
    (150, 40, 160),
    (30, 170, 170),
]


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1600, 900), colour).save(out, format="PNG")
    return out.getvalue()


def comic_project(bundle: Path, panels: int = 8) -> Project:
    store = AssetStore(bundle)
    project = Project()
    project.settings.title = "Test Comic"
    scene = Scene(id="s1", title="One")
    for i in range(panels):
        panel = Panel(id=f"p{i}", prompt=f"prompt {i}", dialogue=f"line {i}")
        panel.image = store.put(_png(COLOURS[i % len(COLOURS)])) if i != 3 else None
        panel.balloons = [Balloon(text=f"Word{i} spoken", box=Rect(0.1, 0.1, 0.5, 0.3))]
        project.panels[panel.id] = panel
        scene.panel_ids.append(panel.id)
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    return project


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def raster(pdf: Path, page: int, dpi: int = 72) -> np.ndarray:
    data = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", str(pdf)],
        capture_output=True,
        check=True,
    ).stdout
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_comic_pdf_has_bleed_size_boxes_fonts_and_text(
    qapp: QGuiApplication, tmp_path: Path
) -> None:
    project = comic_project(tmp_path)
    out = tmp_path / "comic.pdf"
    calls: list[tuple[int, int]] = []
    result = export_comic_pdf(
        project, tmp_path, out, ComicOptions(), progress=lambda *a: calls.append(a)
    )
    assert result.pages == 2 and calls[-1] == (2, 2)
    info = run("pdfinfo", "-box", str(out))
    assert "Pages:           2" in info
    assert "Page size:       495 x 756 pts" in info
    assert "TrimBox:             9.00     9.00   486.00   747.00" in info
    assert "BleedBox:            0.00     0.00   495.00   756.00" in info
    fonts = run("pdffonts", str(out)).splitlines()[2:]
    assert fonts and all(" yes " in line for line in fonts)
    assert any("ComicNeue" in line for line in fonts)
    text = run("pdftotext", str(out), "-")
    for i in range(8):
        assert f"WORD{i} SPOKEN" in text
    assert "NO IMAGE YET" in text  # panel 3 has no image: a placeholder card, not a crash
    images = run("pdfimages", "-list", str(out)).splitlines()[2:]
    assert len(images) == 7
    ppi = [int(line.split()[12]) for line in images]  # x-ppi: pixels per inch of page
    assert all(295 <= value <= 305 for value in ppi), ppi  # 1600 px images resampled to 300 dpi


def test_no_bleed_and_crop_marks_change_the_media(qapp: QGuiApplication, tmp_path: Path) -> None:
    project = comic_project(tmp_path, panels=2)
    export_comic_pdf(project, tmp_path, tmp_path / "trim.pdf", ComicOptions(bleed=False))
    assert "Page size:       477 x 738 pts" in run("pdfinfo", str(tmp_path / "trim.pdf"))
    export_comic_pdf(project, tmp_path, tmp_path / "marks.pdf", ComicOptions(crop_marks=True))
    info = run("pdfinfo", "-box", str(tmp_path / "marks.pdf"))
    assert "Page size:       549 x 810 pts" in info
    assert "TrimBox:            36.00    36.00   513.00   774.00" in info
    page = raster(tmp_path / "marks.pdf", 1)
    assert page[:20, 36].min() < 128  # a crop mark in the slug, in line with the trim edge
    assert page[:20, 100].min() > 250  # nothing else there


def test_rtl_puts_the_first_panel_top_right(qapp: QGuiApplication, tmp_path: Path) -> None:
    project = comic_project(tmp_path, panels=2)
    xs = {}
    for order in ReadingOrder:
        out = tmp_path / f"{order}.pdf"
        export_comic_pdf(project, tmp_path, out, ComicOptions(reading_order=order))
        bbox = run("pdftotext", "-bbox", str(out), "-")
        xs[order] = [
            float(line.split('xMin="')[1].split('"')[0])
            for word in ("WORD0", "WORD1")
            for line in bbox.splitlines()
            if f">{word}<" in line
        ]
    assert xs[ReadingOrder.LEFT_TO_RIGHT][0] < xs[ReadingOrder.LEFT_TO_RIGHT][1]
    assert xs[ReadingOrder.RIGHT_TO_LEFT][0] > xs[ReadingOrder.RIGHT_TO_LEFT][1]
    assert "/R2L" in (tmp_path / "rtl.pdf").read_bytes().decode("latin-1")


def test_raster_gutters_empty_panels_filled_bleed_reaches_edge_safe_area_kept(
    qapp: QGuiApplication, tmp_path: Path
) -> None:
    project = comic_project(tmp_path, panels=6)
    frames = [
        PanelFrame("p0", Rect(0, 0, 1, 0.4), full_bleed=True),
        PanelFrame("p1", Rect(0, 0.4, 0.5, 0.6)),
        PanelFrame("p2", Rect(0.5, 0.4, 0.5, 0.6)),
    ]
    project.pages = {"pg": Page(id="pg", frames=frames)}
    project.page_ids = ["pg"]
    project.panels["p0"].balloons = []
    out = tmp_path / "page.pdf"
    export_comic_pdf(project, tmp_path, out, ComicOptions())
    page = raster(out, 1)  # 72 dpi: one pixel per point
    (layout,) = comic_layouts(project, ComicOptions())
    top, left, right = (f.border for f in layout.frames)
    assert page.shape[:2] == (756, 495)
    for corner in (page[0, 0], page[0, -1]):  # bleed art reaches the edge (JPEG: near colours)
        assert np.abs(corner - COLOURS[0]).max() < 12
    gutter_x = int((left.right + right.x) / 2)
    column = page[int(left.y) + 5 : int(left.bottom) - 5, gutter_x]
    assert (column > 250).all()  # the gutter is empty paper
    mid = page[int((left.y + left.bottom) / 2), int((left.x + left.right) / 2)]
    assert np.abs(mid - COLOURS[1]).max() < 12  # the panel is filled with its image
    safe = layout.spec.safe
    outside = np.ones(page.shape[:2], bool)
    outside[int(safe.y) : int(safe.bottom) + 1, int(safe.x) : int(safe.right) + 1] = False
    outside[: int(top.bottom) + 1, :] = False  # the full-bleed frame's art may go there
    assert (page[outside] > 250).all()


def test_frames_of_deleted_panels_render_empty(qapp: QGuiApplication, tmp_path: Path) -> None:
    project = comic_project(tmp_path, panels=1)
    project.pages = {"pg": Page(id="pg", frames=[PanelFrame("gone", Rect(0, 0, 1, 1))])}
    project.page_ids = ["pg"]
    out = tmp_path / "empty.pdf"
    assert export_comic_pdf(project, tmp_path, out, ComicOptions()).pages == 1
    page = raster(out, 1)
    assert page[378, 247].min() > 250


def test_cancel_and_unwritable_folder_leave_no_file(qapp: QGuiApplication, tmp_path: Path) -> None:
    project = comic_project(tmp_path, panels=2)
    with pytest.raises(ExportCancelled):
        export_comic_pdf(project, tmp_path, tmp_path / "c.pdf", cancelled=lambda: True)
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".pdf", ".part")]
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    target = locked / "x.pdf" if os.geteuid() != 0 else Path("/sys/x.pdf")
    with pytest.raises(ExportError, match="could not be written: permission denied"):
        export_comic_pdf(project, tmp_path, target)
    assert list(locked.iterdir()) == []


def test_png_per_page_and_cover(qapp: QGuiApplication, tmp_path: Path) -> None:
    project = comic_project(tmp_path, panels=7)
    pngs = export_page_pngs(project, tmp_path, tmp_path, ComicOptions(cover=True), dpi=36)
    assert [p.name for p in pngs] == ["cover.png", "page-001.png", "page-002.png"]
    assert Image.open(pngs[1]).size == (248, 378)
    # a folder that does not exist yet (the README's --png-dir pages/) is made
    made = export_page_pngs(project, tmp_path, tmp_path / "pages" / "a", dpi=36)
    assert [p.parent for p in made] == [tmp_path / "pages" / "a"] * 2
    with pytest.raises(ExportError, match="is a file, not a folder"):
        export_page_pngs(project, tmp_path, pngs[0], dpi=36)


def test_cli_and_editor_print_the_whole_story_and_say_where_each_panel_went(
    qapp: QGuiApplication, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "C.storyboard"
    project = comic_project(bundle, panels=9)
    first = Page(
        frames=frames_for("grid-2x3", [f"p{i}" for i in range(6)], ReadingOrder.LEFT_TO_RIGHT)
    )
    project.pages[first.id] = first
    project.page_ids.append(first.id)
    save_project(project, bundle)
    out = tmp_path / "c.pdf"

    assert main(["export-pdf", str(bundle), "-o", str(out)]) == 0  # as the editor exports
    said = capsys.readouterr().out
    assert "2 pages): placed 6 of 9 panels on your pages and 3 on automatic pages" in said
    assert "Pages:           2" in run("pdfinfo", str(out))

    assert main(["export-pdf", str(bundle), "-o", str(out), "--placed-only"]) == 0
    said = capsys.readouterr().out
    assert "1 pages): placed 6 of 9 panels (those on your pages); left out 3" in said


def test_one_reading_order_per_export(qapp: QGuiApplication, tmp_path: Path) -> None:
    project = comic_project(tmp_path, panels=8)
    ltr = Page(
        frames=frames_for("grid-2x3", [f"p{i}" for i in range(6)], ReadingOrder.LEFT_TO_RIGHT)
    )
    project.pages[ltr.id] = ltr
    project.page_ids.append(ltr.id)
    options = ComicOptions(reading_order=ReadingOrder.RIGHT_TO_LEFT, all_panels=True)
    pages = comic_pages(project, options)
    # the artist's left-to-right page is mirrored to read right to left like the automatic page
    for page in pages:
        first = min((f for f in page.frames if f.panel_id), key=lambda f: int(f.panel_id[1:]))
        assert first.box.x > 0.4 and first.box.y == 0.0, first  # starts at the top right
    assert project.pages[ltr.id].frames[0].box.x == 0.0  # the project itself is untouched


def test_cli_export_pdf(
    qapp: QGuiApplication, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "C.storyboard"
    project = comic_project(bundle, panels=3)
    save_project(project, bundle)
    out = tmp_path / "c.pdf"
    assert main(["export-pdf", str(bundle), "-o", str(out), "--preset", "a5", "--no-bleed"]) == 0
    assert "Page size:       420 x 596 pts" in run("pdfinfo", str(out))
    assert main(["export-pdf", str(bundle), "-o", str(out), "--preset", "tabloid"]) == 2
    assert "unknown page preset 'tabloid'" in capsys.readouterr().err
    assert main(["export-pdf", str(bundle), "-o", str(tmp_path / "no" / "c.pdf")]) == 2
    assert "folder does not exist" in capsys.readouterr().err


def test_unused_template_frames_are_not_printed(qapp: QGuiApplication, tmp_path: Path) -> None:
    """A 2x2 page holding one panel prints that panel alone, not three empty boxes beside it."""
    project = comic_project(tmp_path, panels=1)
    project.panels["p0"].balloons = []
    frames = [
        PanelFrame("p0", Rect(0, 0, 0.5, 0.5)),
        PanelFrame("", Rect(0.5, 0, 0.5, 0.5)),
        PanelFrame("", Rect(0, 0.5, 0.5, 0.5)),
        PanelFrame("gone", Rect(0.5, 0.5, 0.5, 0.5)),  # its panel was deleted
    ]
    project.pages = {"pg": Page(id="pg", frames=frames)}
    project.page_ids = ["pg"]
    out = tmp_path / "page.pdf"
    export_comic_pdf(project, tmp_path, out, ComicOptions(page_numbers=False))
    page = raster(out, 1)
    (layout,) = comic_layouts(project, ComicOptions(page_numbers=False))
    used, *unused = (f.border for f in layout.frames)
    for box in unused:  # no border: paper all the way
        area = page[int(box.y) - 1 : int(box.bottom) + 2, int(box.x) + 20 : int(box.right) - 20]
        assert (area > 250).all()
    edge = page[int((used.y + used.bottom) / 2), int(used.x) : int(used.x) + 3]
    assert edge.min() < 60  # the used frame keeps its black border
