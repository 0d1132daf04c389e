"""Every export runs with every number of a project at either end of its range.

The ranges in ``storyboard.core.limits`` are what the loader lets through, so each value inside
them must export: no OverflowError, ZeroDivisionError or NaN-to-integer error, no endless run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication

from storyboard.core.assets import AssetStore
from storyboard.core.model import PageMargins, Project
from storyboard.core.persistence import PROJECT_FILE, encode, load_project, save_project
from storyboard.export.animatic import plan_animatic
from storyboard.export.animatic_options import AnimaticOptions
from storyboard.export.comic_pdf import ComicOptions, export_comic_pdf
from storyboard.export.fcpxml import export_fcpxml
from storyboard.export.frames import FrameRenderer
from storyboard.export.layout import PRESETS
from storyboard.export.media import BundleMedia
from storyboard.export.page_png import export_page_pngs
from storyboard.export.sheets_pdf import export_sheets_pdf
from storyboard.export.video import export_video
from tests.conftest import png_bytes, rich_project
from tests.core.test_limits import numeric_leaves


def _with_images(bundle: Path) -> Project:
    """The rich project, its panels showing a real image (so crops and cameras are drawn)."""
    project = rich_project()
    image = AssetStore(bundle).put(png_bytes((30, 160, 90), (320, 180)))
    for panel in project.panels.values():
        panel.image, panel.candidates, panel.layers = image, [], []
        panel.audio = panel.transition.clip = None
    project.settings.soundtrack = None
    project.characters["mira"].reference_images = []
    return project


def _at_bound(bundle: Path, end: int) -> Project:
    """Every number of the project at its lowest (0) or highest (1) allowed value."""
    save_project(_with_images(bundle), bundle)
    data: dict[str, Any] = json.loads((bundle / PROJECT_FILE).read_text(encoding="utf-8"))
    for where, found, _ in numeric_leaves(data):
        node: Any = data
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = found[end]
    data["settings"]["fps"] = 25.0
    (bundle / PROJECT_FILE).write_text(json.dumps(data), encoding="utf-8")
    loaded = load_project(bundle)
    assert not [w for w in loaded.warnings if "range" in w or "fixed" in w]
    return loaded.project


@pytest.mark.parametrize("end", [0, 1], ids=["lowest", "highest"])
def test_every_export_runs_with_every_number_at_a_bound(
    qapp: QGuiApplication, tmp_path: Path, end: int
) -> None:
    bundle = tmp_path / "edge.storyboard"
    project = _at_bound(bundle, end)
    out = tmp_path / "out"
    out.mkdir()
    comic = ComicOptions(cover=True, crop_marks=True, all_panels=True)
    assert export_comic_pdf(project, bundle, out / "comic.pdf", comic).pages > 0
    export_page_pngs(project, bundle, out, comic, dpi=36)
    export_sheets_pdf(project, bundle, out / "sheets.pdf")
    options = AnimaticOptions(size=(64, 36))
    plan = plan_animatic(project, options, BundleMedia(bundle))
    renderer = FrameRenderer(plan, bundle)
    frames = {0, plan.frames - 1}
    for clip in plan.clips:
        frames |= {clip.start, (clip.start + clip.end) // 2, clip.end - 1}
    for transition in plan.transitions:
        frames |= {transition.start, (transition.start + transition.end) // 2, transition.end - 1}
    for frame in sorted(f for f in frames if 0 <= f < plan.frames):
        renderer.render(frame)
    export_fcpxml(plan, bundle, out / "cut.fcpxml")
    if end == 0:  # a few frames long: the real encoder too
        assert export_video(project, bundle, out / "film.mp4", options).frames == plan.frames


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_widest_margins_and_gutter_on_every_page_size(
    qapp: QGuiApplication, tmp_path: Path, preset: str
) -> None:
    """Margins and gutters that leave no room for a frame (a letter page divided by zero)."""
    bundle = tmp_path / "pages.storyboard"
    project = _with_images(bundle)
    project.settings.page_preset = preset
    project.settings.page_margins = PageMargins(288.0, 288.0, 288.0, 288.0)
    project.settings.page_gutter = 144.0
    save_project(project, bundle)
    loaded = load_project(bundle).project
    assert json.loads(encode(loaded))["settings"]["page_gutter"] == 144.0
    export_comic_pdf(loaded, bundle, tmp_path / "comic.pdf", ComicOptions(all_panels=True))
