"""The editor's Save and autosave with text or values a file cannot hold: repaired or shown."""

from __future__ import annotations

import pytest

from storyboard.core.model import Candidate
from storyboard.core.persistence import load_project
from storyboard.qt.main_window import MainWindow


def test_save_repairs_half_an_emoji_pasted_into_a_panel(window: MainWindow) -> None:
    panel = window.document.project.ordered_panels()[0]
    panel.dialogue = "Look \ud83d"  # as a paste or an import can leave it
    window.document.mark_unsaved()

    assert window.files.save()

    assert window.document.path is not None
    saved = load_project(window.document.path).project.panels[panel.id]
    assert saved.dialogue == "Look \ufffd"


def test_a_save_that_cannot_be_encoded_is_shown_not_raised(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        "storyboard.qt.project_files.show_error",
        lambda parent, title, message, details="": shown.append((title, message)),
    )
    panel = window.document.project.ordered_panels()[0]
    panel.candidates.append(Candidate("c" * 64, settings={"x": object()}))  # type: ignore[dict-item]
    window.document.mark_unsaved()

    assert not window.files.save()
    window.files.autosave_now()

    assert shown and shown[0][0] == "The project was not saved"
    assert "previous save is intact" in shown[0][1]
    assert window.document.is_modified()
    assert window.banner.isVisible()
