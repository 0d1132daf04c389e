"""Generated transitions from the editor: a job on the worker, the clip stored as a video asset
and played as the panel's transition; missing weights point to the model-free transitions. A
scene's or the story's transitions: one job per neighbouring pair, imageless pairs skipped with
one message, clips already made kept unless the user asks, each job cancellable on its own."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from inference.worker import EngineSettings, TransitionEngine, real_transition_engine
from storyboard.core import resources
from storyboard.core.commands import EditFields
from storyboard.core.model import Transition, TransitionKind
from storyboard.core.numbering import panel_numbers
from storyboard.core.persistence import load_project
from storyboard.core.settings import AppSettings
from storyboard.core.transition_jobs import TransitionJob
from storyboard.qt.controller import FINISHED, GenerationController, JobState
from storyboard.qt.document import Document
from storyboard.qt.main_window import MainWindow
from tests.qt.fake_engine import FakeEngine, FakeTransitions

WAIT = 20_000


@pytest.fixture
def script() -> dict[str, object]:
    """What the next transition engine does: {"fail_with": "model", "step_gate": Event,
    "real": True (the editor's own engine factory)}."""
    return {}


@pytest.fixture
def studio(
    app: QApplication, qtbot: QtBot, sample_copy: object, script: dict[str, object]
) -> Iterator[MainWindow]:
    def transitions(job: TransitionJob, settings: EngineSettings) -> TransitionEngine:
        if script.get("real"):
            return real_transition_engine(job, settings)
        fake = {k: v for k, v in script.items() if k in ("fail_with", "step_gate")}
        return FakeTransitions(job, settings, **fake)  # type: ignore[arg-type]

    controller = GenerationController(FakeEngine, transitions)
    document, _ = Document.open(sample_copy)  # type: ignore[arg-type]
    window = MainWindow(AppSettings(model_source="tiny/test"), document, controller)
    window.show()
    window.generation.story.trigger()  # every panel gets an image first
    yield window
    window.controller.cancel_all()  # a failed test must not leave a close question open
    qtbot.waitUntil(lambda: window.controller.running() is None, timeout=WAIT)
    window.document.undo_stack.setClean()
    window.document._unsaved_results = False
    window.close()


def done(window: MainWindow) -> bool:
    return all(j.state in FINISHED for j in window.controller.jobs)


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The messages the Generate menu showed (title: text), instead of modal boxes."""
    messages: list[str] = []
    monkeypatch.setattr(
        "storyboard.qt.generation_actions.show_error",
        lambda parent, title, text: messages.append(f"{title}: {text}"),
    )
    return messages


def numbered(window: MainWindow) -> dict[str, str]:
    """Panel number → id."""
    return {n: pid for pid, n in panel_numbers(window.document.project).items()}


def transition_jobs(window: MainWindow) -> list[str]:
    return [j.label for j in window.controller.jobs if isinstance(j.request, TransitionJob)]


def kinds(window: MainWindow) -> dict[str, TransitionKind]:
    project = window.document.project
    return {n: project.panels[pid].transition.kind for n, pid in numbered(window).items()}


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
    studio: MainWindow, qtbot: QtBot, script: dict[str, object], shown: list[str]
) -> None:
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    script["fail_with"] = "model"
    studio.timeline.select_panels(studio.timeline_model.panel_ids()[:1])
    studio.generation.generate_transition()
    qtbot.waitUntil(lambda: done(studio) and len(studio.controller.jobs) == 2, timeout=WAIT)
    assert studio.controller.jobs[-1].error_kind == "model"
    assert "crossfade, dip, wipe, push or morph" in shown[-1]


def test_no_transition_without_both_images(
    studio: MainWindow, qtbot: QtBot, shown: list[str]
) -> None:
    studio.controller.cancel_all()
    qtbot.waitUntil(lambda: studio.controller.running() is None, timeout=WAIT)
    last = studio.timeline_model.panel_ids()[-1]
    studio.timeline.select_panels([last])
    assert not studio.generation.generate_transition()
    assert "is the last one" in shown[-1]


# -- a scene's and the story's transitions ------------------------------------------------------


def test_the_scenes_pairs_are_queued_and_imageless_ones_named_in_one_message(
    studio: MainWindow, qtbot: QtBot, shown: list[str]
) -> None:
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    ids = numbered(studio)
    studio.document.push(EditFields("panel", ids["1C"], {"image": None}))  # 1C lost its image
    studio.timeline.select_panels([ids["1B"]])
    assert studio.generation.scene_transitions.isEnabled()
    studio.generation.scene_transitions.trigger()
    assert transition_jobs(studio) == ["Transition 1A → 1B"]
    assert shown == [
        "Some transitions were skipped: 2 transition(s) skipped because a panel has no image "
        "yet: 1B → 1C (1C), 1C → 1D (1C). Generate or draw those panels first."
    ]
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    made = kinds(studio)
    assert made["1A"] == TransitionKind.GENERATED
    assert {made[n] for n in ("1B", "1C", "1D", "2A")} == {TransitionKind.CUT}


def test_a_scene_without_images_or_no_selection_says_why_nothing_was_queued(
    studio: MainWindow, qtbot: QtBot, shown: list[str]
) -> None:
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    ids = numbered(studio)
    for number in ("2A", "2B", "2C", "2D"):  # scene 2 has no image left
        studio.document.push(EditFields("panel", ids[number], {"image": None}))
    studio.timeline.select_panels([ids["2B"]])
    assert studio.generation.generate_scene_transitions() == 0
    assert shown[-1].startswith(
        "No transitions generated: no transition can be made: a panel of each pair has no "
        "image yet: 2A → 2B (2A, 2B), 2B → 2C (2B, 2C), 2C → 2D (2C, 2D)."
    )
    studio.timeline.select_panels([])
    assert studio.generation.generate_scene_transitions() == 0
    assert shown[-1] == "No transitions generated: Select a panel of the scene first."
    assert transition_jobs(studio) == []


def test_the_storys_transitions_stop_at_scene_cuts_and_survive_save_and_reopen(
    studio: MainWindow, qtbot: QtBot, shown: list[str], tmp_path: Path
) -> None:
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    studio.generation.story_transitions.trigger()
    assert transition_jobs(studio) == [
        f"Transition {scene}{a} → {scene}{b}"
        for scene in "123"
        for a, b in (("A", "B"), ("B", "C"), ("C", "D"))
    ]
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    assert shown == []
    made = kinds(studio)
    assert {n for n, kind in made.items() if kind == TransitionKind.GENERATED} == {
        f"{scene}{letter}" for scene in "123" for letter in "ABC"
    }
    # the scene cuts keep what the artist chose: scene 2 dips to black into scene 3
    assert (made["1D"], made["2D"], made["3D"]) == (
        TransitionKind.CUT,
        TransitionKind.DIP_TO_BLACK,
        TransitionKind.CUT,
    )
    saved = studio.document.save(tmp_path / "saved.storyboard")
    reopened = load_project(saved)
    assert not reopened.missing_assets
    generated = [
        p.transition for p in reopened.project.panels.values() if p.transition.clip is not None
    ]
    assert len(generated) == 9 and {t.kind for t in generated} == {TransitionKind.GENERATED}
    assert all((saved / "assets" / t.clip).is_file() for t in generated if t.clip)


def test_cancelling_one_transition_leaves_the_others(
    studio: MainWindow, qtbot: QtBot, script: dict[str, object]
) -> None:
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    gate = threading.Event()
    script["step_gate"] = gate
    studio.timeline.select_panels([numbered(studio)["3A"]])
    assert studio.generation.generate_scene_transitions() == 3
    first, second, third = studio.controller.jobs[-3:]
    qtbot.waitUntil(lambda: first.state == JobState.RUNNING, timeout=WAIT)
    studio.controller.cancel(first.id)  # the running one: stops within a step
    studio.controller.cancel(third.id)  # a waiting one: dropped at once
    gate.set()
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    assert [j.state for j in (first, second, third)] == [
        JobState.CANCELLED,
        JobState.DONE,
        JobState.CANCELLED,
    ]
    made = kinds(studio)
    assert made["3A"] == TransitionKind.CROSSFADE  # as it was
    assert made["3B"] == TransitionKind.GENERATED
    assert made["3C"] == TransitionKind.CUT


def answer_next_box(button: str) -> list[str]:
    """Click ``button`` of the next modal message box once it shows; its text is returned."""
    seen: list[str] = []

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)
            return
        seen.append(box.text())
        chosen = next(b for b in box.buttons() if b.text().replace("&", "") == button)
        chosen.click()

    QTimer.singleShot(0, click)
    return seen


def test_clips_already_made_are_kept_unless_the_user_asks_for_them_again(
    studio: MainWindow, qtbot: QtBot
) -> None:
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    ids = numbered(studio)
    studio.timeline.select_panels([ids["1A"]])
    assert studio.generation.generate_scene_transitions() == 3
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    studio.document.push(EditFields("panel", ids["1B"], {"transition": Transition()}))

    asked = answer_next_box("Keep them, make the other 1")
    assert studio.generation.generate_scene_transitions() == 1
    assert "2 of these transitions already have a generated clip (1A → 1B, 1C → 1D)" in asked[0]
    assert transition_jobs(studio)[-1] == "Transition 1B → 1C"
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)

    answer_next_box("Cancel")
    assert studio.generation.generate_scene_transitions() == 0
    answer_next_box("Make them again")
    assert studio.generation.generate_scene_transitions() == 3
    assert transition_jobs(studio)[-3:] == [
        "Transition 1A → 1B",
        "Transition 1B → 1C",
        "Transition 1C → 1D",
    ]
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)


def test_a_missing_model_fails_once_and_cancels_the_pairs_waiting_for_it(
    studio: MainWindow, qtbot: QtBot, script: dict[str, object], shown: list[str]
) -> None:
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    script["fail_with"] = "model"
    studio.generation.story_transitions.trigger()
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    states = [j.state for j in studio.controller.jobs if isinstance(j.request, TransitionJob)]
    assert states == [JobState.FAILED] + [JobState.CANCELLED] * 8
    assert len(shown) == 1
    assert "8 other transition(s) waiting for the same model were cancelled" in shown[0]


def test_a_toy_world_project_uses_its_own_video_model_and_says_when_it_is_missing(
    studio: MainWindow,
    qtbot: QtBot,
    script: dict[str, object],
    shown: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sample is a toy-world project: with no transition model in the settings, its clips
    come from the built-in video model, 64 px. Where that is not installed (here: resources
    without it), the job fails with what to do, through the editor's own engine factory."""
    monkeypatch.setattr(resources, "RESOURCES", tmp_path / "resources")
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    studio.settings.model_source = ""  # the project's own model: toyworld
    script["real"] = True
    studio.timeline.select_panels([numbered(studio)["1A"]])
    assert studio.generation.generate_scene_transitions() == 3
    job = studio.controller.jobs[-3].request
    assert isinstance(job, TransitionJob)
    assert (job.backend, job.builtin, job.width, job.height) == ("smp", "toyworld", 64, 64)
    assert (job.frames, job.steps, job.fps) == (16, 25, 8)
    assert job.model == str(tmp_path / "resources" / "models" / "toyworld-motion")
    qtbot.waitUntil(lambda: done(studio), timeout=WAIT)
    failed = studio.controller.jobs[-3]
    assert failed.state == JobState.FAILED and failed.error_kind == "model"
    assert "the built-in video model of the 'toyworld' preset is missing" in failed.error
    assert "File > Settings" in failed.error
    assert len(shown) == 1 and "2 other transition(s)" in shown[0]
