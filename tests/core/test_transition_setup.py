"""Which engine, model, size and length a project's transitions use: the settings' model wins,
else a preset's own video model (the built-in toy world's), else the engine's default."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from storyboard.core import resources
from storyboard.core.model import Project
from storyboard.core.settings import AppSettings
from storyboard.core.transition_setup import TransitionSetup, transition_setup


def project_on(model: str) -> Project:
    project = Project()
    project.settings.generation.model = model
    return project


def test_a_toy_world_project_uses_the_toy_worlds_own_video_model() -> None:
    setup = transition_setup(AppSettings(), project_on("toyworld"))
    folder = resources.RESOURCES / "models" / "toyworld-motion"
    assert setup == TransitionSetup(
        backend="smp",
        model=str(folder),
        size=(64, 64),
        frames=16,
        steps=25,
        fps=8,
        builtin="toyworld",
    )


def test_a_transition_model_chosen_in_the_settings_wins() -> None:
    settings = AppSettings(transition_backend="smp", transition_model=" /my/predictor ")
    setup = transition_setup(settings, project_on("toyworld"))
    assert setup == TransitionSetup(backend="smp", model="/my/predictor")
    assert setup.size is None and not setup.builtin  # 512 px at the project's aspect


def test_other_models_keep_the_settings_engine_and_its_default_weights() -> None:
    for model in ("sdxl-base", "sd15", "/models/realvis.safetensors"):
        setup = transition_setup(AppSettings(transition_backend="wan"), project_on(model))
        assert setup == TransitionSetup(backend="wan", model=None)
    # the settings' image model overrides the project's: SDXL panels are not toy-world pictures
    overridden = transition_setup(AppSettings(model_source="sdxl-base"), project_on("toyworld"))
    assert overridden == TransitionSetup(backend="ltx")
    chosen = transition_setup(AppSettings(model_source="toyworld"), project_on("sd15"))
    assert chosen.builtin == "toyworld"


def test_an_unknown_engine_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown transition engine 'magic'.*'smp'"):
        transition_setup(AppSettings(transition_backend="magic"), project_on("sd15"))


def test_a_preset_transition_entry_is_read_and_a_broken_one_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    models = {
        "mine": {
            "label": "Mine",
            "repo": "me/mine",
            "kind": "sd15",
            "transition": {
                "model": "me/mine-motion",
                "backend": "ltx",
                "size": 256,
                "frames": 9,
                "steps": 12,
                "fps": 12,
            },
        },
        "broken": {
            "label": "Broken",
            "repo": "me/broken",
            "kind": "sd15",
            "transition": {"model": "x", "backend": "smp", "size": "big"},
        },
    }
    (tmp_path / "models.json").write_text(json.dumps(models))
    monkeypatch.setattr(resources, "MODELS", tmp_path / "models.json")
    with caplog.at_level(logging.WARNING):
        mine = transition_setup(AppSettings(), project_on("mine"))
        broken = transition_setup(AppSettings(transition_backend="wan"), project_on("broken"))
    # a hub preset's video model is a hub id, not a folder of the editor's
    assert mine == TransitionSetup("ltx", "me/mine-motion", (256, 256), 9, 12, 12, builtin="")
    assert broken == TransitionSetup(backend="wan")
    assert "'broken' has an unusable transition entry" in caplog.text
