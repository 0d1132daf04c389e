"""Print size's plan from the page layout, and the comic PDF printing the largest version of each
picture, its effective resolution read back from the PDF with pypdf."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtGui import QGuiApplication

from storyboard.core.assets import AssetStore
from storyboard.core.model import Candidate, Page, Panel, PanelFrame, Project, Rect, Scene
from storyboard.core.print_jobs import UPSCALED_FROM
from storyboard.export.comic_pdf import ComicOptions, export_comic_pdf
from storyboard.export.preflight import page_resolutions, preflight_lines
from storyboard.export.print_size import parse_pages, plan_print_size
from tests.export.pdf_dpi import placed_dpi

NO_BLEED = ComicOptions(bleed=False)


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(out, format="PNG")
    return out.getvalue()


def two_pages(bundle: Path, sizes: tuple[tuple[int, int], ...] = ((320, 480), (64, 96))) -> Project:
    """One panel per page, each filling the us-comic live area (6x9 in, 2:3 like the images)."""
    store = AssetStore(bundle)
    project = Project()
    scene = Scene(id="s1")
    for index, size in enumerate(sizes):
        panel = Panel(id=f"p{index}", image=store.put(_png(size)))
        panel.candidates.append(Candidate(asset=panel.image))
        project.panels[panel.id] = panel
        scene.panel_ids.append(panel.id)
        page = Page(id=f"page{index}", frames=[PanelFrame(panel.id, Rect())])
        project.pages[page.id] = page
        project.page_ids.append(page.id)
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    return project


def test_the_plan_reaches_the_dpi_within_the_scale_limit(
    qapp: QGuiApplication, tmp_path: Path
) -> None:
    project = two_pages(tmp_path)
    plan = plan_print_size(project, tmp_path, 100, NO_BLEED)
    # 320 px over 6 in is 53 dpi: x1.875 -> 600x900; 64 px is 10 dpi: x4 at most -> 256x384
    assert [(t.label, t.size, t.target, t.dpi_now, t.dpi_after) for t in plan.targets] == [
        ("1A", (320, 480), (600, 904), 53, 100),
        ("1B", (64, 96), (256, 384), 10, 42),
    ]
    assert [t.capped for t in plan.targets] == [False, True]
    assert plan.describe()[1] == "1B: 64x96 -> 256x384 px (10 -> 42 dpi), 4x at most per run"
    assert plan_print_size(project, tmp_path, 50, NO_BLEED, pages={"2"}).targets[0].label == "1B"
    sharp = plan_print_size(project, tmp_path, 50, NO_BLEED, pages={"1"})
    assert sharp.targets == () and sharp.describe() == ["already 50 dpi or more: 1A"]
    with pytest.raises(ValueError, match="no page 7"):
        plan_print_size(project, tmp_path, 100, NO_BLEED, pages={"7"})
    with pytest.raises(ValueError, match="dpi must be within"):
        plan_print_size(project, tmp_path, 5, NO_BLEED)


def test_bleed_and_crop_make_the_frame_need_more_pixels(
    qapp: QGuiApplication, tmp_path: Path
) -> None:
    project = two_pages(tmp_path)
    plain = plan_print_size(project, tmp_path, 100, NO_BLEED).targets[0]
    project.pages["page0"].frames[0].full_bleed = True  # the art runs to the bleed edge
    bled = plan_print_size(project, tmp_path, 100, ComicOptions(bleed=True)).targets[0]
    assert bled.target[0] > plain.target[0]
    project.pages["page0"].frames[0].full_bleed = False
    project.pages["page0"].frames[0].crop = Rect(0.25, 0.25, 0.5, 0.5)  # zoomed in 2x
    zoomed = plan_print_size(project, tmp_path, 100, NO_BLEED).targets[0]
    assert zoomed.dpi_now == 26 and zoomed.target == (1200, 1800)


def test_the_pdf_prints_the_largest_version_and_reports_its_dpi(
    qapp: QGuiApplication, tmp_path: Path
) -> None:
    project = two_pages(tmp_path)
    before = tmp_path / "before.pdf"
    export_comic_pdf(project, tmp_path, before, NO_BLEED)
    assert [[int(d) for d in page] for page in placed_dpi(before)] == [[53], [10]]

    # a print-size result for panel 1B, then the artist goes back to the original
    store = AssetStore(tmp_path)
    panel = project.panels["p1"]
    original = panel.image
    larger = store.put(_png((256, 384)))
    panel.candidates.append(Candidate(asset=larger, settings={UPSCALED_FROM: original}))
    after = tmp_path / "after.pdf"
    export_comic_pdf(project, tmp_path, after, NO_BLEED)
    assert panel.image == original
    assert [[int(d) for d in page] for page in placed_dpi(after)] == [[53], [42]]
    lines = preflight_lines(page_resolutions(project, tmp_path, NO_BLEED))
    assert lines[1] == "effective dpi per panel: 1A 53, 1B 42"
    assert page_resolutions(project, tmp_path, NO_BLEED)[1].frames[0].asset == larger


def test_pages_are_parsed_as_typed() -> None:
    assert parse_pages("1, 3-5,cover") == {"1", "3", "4", "5", "cover"}
    for bad in ("x", "5-3", "1-"):
        with pytest.raises(ValueError, match="--pages wants"):
            parse_pages(bad)
