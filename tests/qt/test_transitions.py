"""Generated transitions from the editor: a job on the worker, the clip stored as a video asset
and played as the panel's transition; missing weights point to the model-free transitions."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from inference.worker import EngineSettings
from storyboard.core.model import TransitionKind
from storyboard.core.settings import AppSettings
from storyboard.core.transition_jobs import TransitionJob
from storyboard.qt.controller import GenerationController, JobState
from storyboard.qt.document import Document
from storyboard.qt.main_window import MainWindow
from tests.qt.fake_engine import FakeEngine, FakeTransitions

WAIT = 20_000


@pytest.fixture
def failing() -> list[str]:
    return []


@pytest.fixture
def studio(app: QApplication, sample_copy: object, failing: list[str]) -> Iterator[MainWindow]:
    def transitions(job: TransitionJob, settings: EngineSettings) -> FakeTransitions:
        return FakeTransitions(job, settings, failing[0] if failing else "")

    controller = GenerationController(FakeEngine, transitions)
    document, _ = Document.open(sample_copy)  # type: ignore[arg-type]
    window = MainWindow(AppSettings(model_source="tiny/test"), document, controller)
    window.show()
    window.generation.story.trigger()  # every panel gets an image first
    yield window
    window.document.undo_stack.setClean()
    window.document._unsaved_results = False
    window.close()


def done(window: MainWindow) -> bool:
    return all(j.state in (JobState.DONE, JobState.FAILED) for j in window.controller.jobs)


def test_a_generated_transition_becomes_the_panels_clip(studio: MainWindow, qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    first = studio.timeline_model.panel_ids()[0]
    studio.timeline.select_panels([first])
    assert studio.generation.generate_transition()
    qtbot.waitUntil(lambda: done(studio) and len(studio.controller.jobs) == 2, timeout=WAIT)
    job = studio.controller.jobs[-1]
    assert job.state == JobState.DONE and job.label == "Transition 1A → 1B"
    transition = studio.document.project.panels[first].transition
    assert transition.kind == TransitionKind.GENERATED
    assert transition.clip is not None and transition.clip.endswith(".mp4")
    assert transition.frames == 48  # 16 frames at 8 fps = 2 s at the project's 24 fps
    clip = studio.document.assets.path(transition.clip)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(clip)],
        capture_output=True,
        text=True,
        check=True,
    )
    stream = json.loads(probe.stdout)["streams"][0]
    assert stream["codec_name"] == "h264" and int(stream["nb_read_frames"]) == 16


def test_missing_weights_suggest_the_model_free_transitions(
    studio: MainWindow, qtbot: QtBot, failing: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        "storyboard.qt.generation_actions.show_error",
        lambda parent, title, text: shown.append(text),
    )
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    failing.append("model")
    studio.timeline.select_panels(studio.timeline_model.panel_ids()[:1])
    studio.generation.generate_transition()
    qtbot.waitUntil(lambda: done(studio) and len(studio.controller.jobs) == 2, timeout=WAIT)
    assert studio.controller.jobs[-1].error_kind == "model"
    assert "crossfade, dip, wipe, push or morph" in shown[-1]


def test_no_transition_without_both_images(
    studio: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        "storyboard.qt.generation_actions.show_error",
        lambda parent, title, text: shown.append(text),
    )
    studio.controller.cancel_all()
    qtbot.waitUntil(lambda: studio.controller.running() is None, timeout=WAIT)
    last = studio.timeline_model.panel_ids()[-1]
    studio.timeline.select_panels([last])
    assert not studio.generation.generate_transition()
    assert "is the last one" in shown[-1]
