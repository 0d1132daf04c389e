"""Guides of panel jobs: the drawing's files, the refusals, balloon space in the prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.core.assets import AssetStore
from storyboard.core.guides import GuidanceWeights, balloon_space_phrase
from storyboard.core.jobs import Overrides, build_story_request
from storyboard.core.model import (
    Guidance,
    GuidanceMethod,
    LayerKind,
    PanelLayer,
    Project,
    Rect,
)
from tests.conftest import png_bytes


def test_balloon_space_asks_for_plain_background_where_it_is() -> None:
    assert balloon_space_phrase([]) == ""
    phrase = balloon_space_phrase([Rect(0.7, 0.0, 0.3, 0.2), Rect(0.0, 0.8, 0.3, 0.2)])
    assert phrase == "plain empty background at the top right and bottom left"


def test_a_sketch_guided_panel_carries_its_visible_layers(project: Project, tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    sketch, hidden, mask = (store.put(png_bytes(c)) for c in ((1, 1, 1), (2, 2, 2), (3, 3, 3)))
    image = store.put(png_bytes((9, 9, 9)))
    panel = project.panels["p2"]
    panel.image = image
    panel.layers = [
        PanelLayer(LayerKind.SKETCH, sketch, opacity=0.7),
        PanelLayer(LayerKind.SKETCH, hidden, visible=False),
        PanelLayer(LayerKind.NOTES, hidden),
        PanelLayer(LayerKind.MASK, mask),
    ]
    panel.balloon_space = [Rect(0.0, 0.0, 0.5, 0.25)]
    panel.guidance = Guidance(GuidanceMethod.CONTROLNET, 0.9)
    weights = GuidanceWeights(controlnet="/weights/scribble")
    request = build_story_request(
        project, ["p2"], bundle=tmp_path, overrides=Overrides(weights=weights)
    )
    guide = request.panels[0].guide
    assert guide is not None
    assert guide.sketch == ((str(store.path(sketch)), 0.7),)
    assert (guide.image, guide.mask) == (str(store.path(image)), str(store.path(mask)))
    assert guide.keep_clear == ((0.0, 0.0, 0.5, 0.25),)
    assert (guide.method, guide.strength, guide.weights) == ("controlnet", 0.9, "/weights/scribble")
    assert "plain empty background at the top left" in request.panels[0].prompt
    # the identity panels of the bank never carry a guide: a sketch does not change the bank
    assert all(j.guide is None for c in request.characters for j in c.identity_panels)


def test_missing_drawings_are_refused_with_the_panel_number(
    project: Project, tmp_path: Path
) -> None:
    panel = project.panels["p3"]
    panel.guidance = Guidance(GuidanceMethod.INPAINT)
    with pytest.raises(ValueError, match="panel 2A is set to inpaint but has no image"):
        build_story_request(project, ["p3"], bundle=tmp_path)
    panel.guidance = Guidance(GuidanceMethod.T2I_ADAPTER)
    with pytest.raises(ValueError, match="nothing is drawn"):
        build_story_request(project, ["p3"], bundle=tmp_path)
    panel.guidance = Guidance(GuidanceMethod.TEXT)
    assert build_story_request(project, ["p3"], bundle=tmp_path).panels[0].guide is None
