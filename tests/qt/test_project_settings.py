"""Project settings and panel sounds: edits through commands, one undo step, media stored once."""

from __future__ import annotations

import wave
from pathlib import Path

from storyboard.qt.main_window import MainWindow
from storyboard.qt.widgets.project_settings import ProjectSettingsDialog


def a_wav(path: Path, seconds: float = 0.5) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x10" * int(8000 * seconds))
    return path


def test_project_settings_change_fps_aspect_and_soundtrack_in_one_step(
    window: MainWindow, tmp_path: Path
) -> None:
    project = window.document.project
    first = project.ordered_panels()[0]
    seconds = first.duration / project.settings.fps
    dialog = ProjectSettingsDialog(window.document, window)
    dialog.title.setText("The Lost Hat (director's cut)")
    dialog.fps.setCurrentIndex(dialog.fps.findData(30.0))
    dialog.aspect.setCurrentIndex(dialog.aspect.findText("2.39:1 scope"))
    dialog.steps.setValue(12)
    dialog.use_soundtrack_file(a_wav(tmp_path / "theme.wav"))
    command = dialog.command()
    assert command is not None
    window.document.push(command)
    settings = project.settings
    assert (settings.title, settings.fps, settings.aspect_ratio) == (
        "The Lost Hat (director's cut)",
        30.0,
        2.39,
    )
    assert settings.generation.steps == 12
    assert settings.soundtrack is not None and settings.soundtrack.endswith(".wav")
    assert window.document.assets.has(settings.soundtrack)
    assert abs(first.duration / 30.0 - seconds) < 1 / 30  # panels keep their length in seconds
    assert window.document.undo_stack.count() == 1
    window.document.undo_stack.undo()
    assert (settings.fps, settings.soundtrack) == (24.0, None)
    assert ProjectSettingsDialog(window.document, window).command() is None  # nothing changed


def test_a_panel_gets_its_own_sound(window: MainWindow, tmp_path: Path) -> None:
    panel_id = window.timeline_model.panel_ids()[1]
    window.timeline.select_panels([panel_id])
    sound = window.inspector.sound
    sound.use_file(a_wav(tmp_path / "line.wav"))
    panel = window.document.project.panels[panel_id]
    assert panel.audio is not None and window.document.assets.has(panel.audio)
    sound.gain.setValue(-6.0)
    assert panel.audio_gain_db == -6.0
    assert [window.document.undo_stack.text(i) for i in range(2)] == ["Set sound", "Sound gain"]
