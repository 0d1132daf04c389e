"""Print: the comic PDF as PDF/X-4 read back with pypdf, its title, and the preflight's dpi."""

from __future__ import annotations

import io
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from PySide6.QtGui import QGuiApplication

from storyboard.cli import main
from storyboard.core.assets import AssetStore
from storyboard.core.model import Page, Panel, PanelFrame, Project, Rect, Scene
from storyboard.core.persistence import save_project
from storyboard.export.comic_pdf import ComicOptions, comic_layouts, export_comic_pdf
from storyboard.export.layout import INCH
from storyboard.export.preflight import page_resolutions, preflight_lines
from tests.export.test_comic_pdf import comic_project, raster

XMP = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdfxid": "http://www.npes.org/pdfx/ns/id/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}


def xmp_of(reader: PdfReader) -> ET.Element:
    stream = reader.trailer["/Root"]["/Metadata"].get_object()
    return ET.fromstring(stream.get_data())


def descriptions(xmp: ET.Element) -> dict[str, str]:
    """Every attribute of every rdf:Description, by its namespaced name."""
    found: dict[str, str] = {}
    for description in xmp.iter(f"{{{XMP['rdf']}}}Description"):
        found.update(description.attrib)
    return found


def test_pdfx4_has_output_intent_xmp_boxes_and_title(qapp: QGuiApplication, tmp_path: Path) -> None:
    project = comic_project(tmp_path, panels=8)
    out = tmp_path / "comic.pdf"
    export_comic_pdf(project, tmp_path, out, ComicOptions(cover=True))
    reader = PdfReader(out)
    assert reader.pdf_header == "%PDF-1.6"  # PDF/X-4 is PDF 1.6; pypdf must not write 1.3
    root = reader.trailer["/Root"]
    intents = [intent.get_object() for intent in root["/OutputIntents"]]
    assert [intent["/S"] for intent in intents] == ["/GTS_PDFX"]
    profile = intents[0]["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3 and profile.get_data()[36:40] == b"acsp"  # an RGB ICC profile
    assert intents[0]["/OutputConditionIdentifier"].startswith("sRGB")
    xmp = xmp_of(reader)
    attributes = descriptions(xmp)
    assert attributes[f"{{{XMP['pdfxid']}}}GTS_PDFXVersion"] == "PDF/X-4"
    assert attributes[f"{{{XMP['xmp']}}}CreatorTool"] == "Storyboard editor"
    titles = [li.text for li in xmp.iter(f"{{{XMP['rdf']}}}li")]
    assert "Test Comic" in titles
    info = reader.metadata
    assert info is not None and info["/Title"] == "Test Comic"
    assert info["/Trapped"] == "/False"
    assert len(reader.pages) == 3  # the cover and two pages
    for page in reader.pages:
        media, bleed, trim = page.mediabox, page[("/BleedBox")], page["/TrimBox"]
        assert float(media.left) <= bleed[0] < trim[0] < trim[2] < bleed[2] <= float(media.right)
        assert float(media.bottom) <= bleed[1] < trim[1] < trim[3] < bleed[3] <= float(media.top)
    assert (
        "PDF version:     1.6"
        in subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    )


def test_plain_pdf_has_no_output_intent_and_prints_the_same(
    qapp: QGuiApplication, tmp_path: Path
) -> None:
    project = comic_project(tmp_path, panels=6)
    export_comic_pdf(project, tmp_path, tmp_path / "x4.pdf", ComicOptions())
    export_comic_pdf(project, tmp_path, tmp_path / "plain.pdf", ComicOptions(pdfx=False))
    plain = PdfReader(tmp_path / "plain.pdf")
    assert plain.pdf_header == "%PDF-1.4"
    assert "/OutputIntents" not in plain.trailer["/Root"]
    assert all("/TrimBox" in page and "/BleedBox" in page for page in plain.pages)
    # PDF/X-4 changes what the file says about itself, not what it prints
    difference = abs(raster(tmp_path / "x4.pdf", 1) - raster(tmp_path / "plain.pdf", 1))
    assert difference.max() == 0


def test_an_untitled_project_saved_as_a_name_prints_that_name(
    qapp: QGuiApplication, tmp_path: Path
) -> None:
    bundle = tmp_path / "Lost Hat.storyboard"
    project = comic_project(bundle, panels=2)
    project.settings.title = "Untitled"  # saved before Save As named it
    out = tmp_path / "hat.pdf"
    export_comic_pdf(project, bundle, out, ComicOptions(cover=True))
    info = PdfReader(out).metadata
    assert info is not None and info["/Title"] == "Lost Hat"
    cover_text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(out), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "LOST HAT" in cover_text


# ---------------------------------------------------------------------------------- preflight
def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 140, 200)).save(out, format="PNG")
    return out.getvalue()


def two_page_project(bundle: Path, crop: Rect | None = None) -> Project:
    """Page 1: a 2000x3000 image in a whole-page frame; page 2: a 320x480 one."""
    store = AssetStore(bundle)
    project = Project()
    project.settings.title = "Preflight"
    scene = Scene(id="s1")
    for index, size in enumerate([(2000, 3000), (320, 480)]):
        panel = Panel(id=f"p{index}", image=store.put(_png(size)))
        project.panels[panel.id] = panel
        scene.panel_ids.append(panel.id)
        page = Page(id=f"page{index}", frames=[PanelFrame(panel.id, Rect(), crop=crop)])
        project.pages[page.id] = page
        project.page_ids.append(page.id)
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    return project


def test_preflight_is_image_pixels_over_printed_inches(
    qapp: QGuiApplication, tmp_path: Path
) -> None:
    project = two_page_project(tmp_path)
    art = comic_layouts(project, ComicOptions())[0].frames[0].art
    # the frame is 6x9 in (us-comic's live area) and the images are 2:3 too: nothing is cropped
    assert (art.w / INCH, art.h / INCH) == (6.0, 9.0)
    pages = page_resolutions(project, tmp_path)
    assert [(p.page, p.dpi, p.panel, p.soft) for p in pages] == [
        ("1", 333, "1A", False),
        ("2", 53, "1B", True),
    ]
    # what poppler measures in the PDF: the small image is placed at its own resolution
    out = tmp_path / "p.pdf"
    export_comic_pdf(project, tmp_path, out, ComicOptions())
    listed = subprocess.run(
        ["pdfimages", "-list", str(out)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    page_two = [line.split() for line in listed if line.split()[0] == "2"]
    assert [int(columns[12]) for columns in page_two] == [53]
    assert preflight_lines(pages) == [
        "preflight: lowest image resolution per page (print wants 300): 1: 333 dpi, 2: 53 dpi",
        "effective dpi per panel: 1A 333, 1B 53",
        "page 2: 53 dpi (panel 1B) — prints soft; use a larger image or a smaller frame, or "
        "Generate > Print size",
    ]


def test_preflight_counts_only_the_part_of_the_image_a_frame_shows(
    qapp: QGuiApplication, tmp_path: Path
) -> None:
    zoomed = two_page_project(tmp_path, crop=Rect(0.25, 0.25, 0.5, 0.5))  # zoomed in 2x
    assert [p.dpi for p in page_resolutions(zoomed, tmp_path)] == [166, 26]
    # a wide image in the tall frame: only its middle shows (the painter's cover crop)
    wide = two_page_project(tmp_path / "wide")
    store = AssetStore(tmp_path / "wide")
    wide.panels["p0"].image = store.put(_png((3000, 1000)))
    assert page_resolutions(wide, tmp_path / "wide")[0].dpi == 111  # 1000 px over 9 in


def test_preflight_of_pages_without_images(qapp: QGuiApplication, tmp_path: Path) -> None:
    project = two_page_project(tmp_path)
    for panel in project.panels.values():
        panel.image = None
    assert preflight_lines(page_resolutions(project, tmp_path)) == ["preflight: no images placed"]


def test_cli_prints_the_preflight_and_writes_pdfx_unless_told_not_to(
    qapp: QGuiApplication, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "P.storyboard"
    save_project(two_page_project(bundle), bundle)
    out = tmp_path / "p.pdf"
    assert main(["export-pdf", str(bundle), "-o", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"wrote {out} (PDF/X-4, 2 pages): ")
    assert lines[1].startswith("preflight: lowest image resolution per page")
    assert lines[2] == "effective dpi per panel: 1A 333, 1B 53"
    assert lines[3] == (
        "warning: page 2: 53 dpi (panel 1B) — prints soft; use a larger image or a smaller frame, "
        "or Generate > Print size"
    )
    assert "/OutputIntents" in PdfReader(out).trailer["/Root"]
    assert main(["export-pdf", str(bundle), "-o", str(out), "--no-pdfx"]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out} (2 pages)")
    assert "/OutputIntents" not in PdfReader(out).trailer["/Root"]
