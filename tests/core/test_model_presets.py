"""The model presets the settings offer, read without the ML stack."""

from __future__ import annotations

from storyboard.core.model import GenerationSettings
from storyboard.core.resources import model_presets


def test_a_new_project_uses_the_built_in_model_which_is_a_preset() -> None:
    presets = model_presets()
    assert GenerationSettings().model == "toyworld"
    assert "toyworld" in presets and "built-in" in presets["toyworld"]
    assert {"sdxl-base", "sd15"} <= set(presets)
