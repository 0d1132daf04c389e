"""Generation from the editor with a scripted engine on the real worker thread: queue order,
cancel, retry, failure isolation, results of deleted panels, and the queue dock."""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from inference.worker import EngineSettings
from storyboard.core import assets as assets_module
from storyboard.core.generation_parameters import parse_parameters
from storyboard.core.panel_commands import RemovePanels
from storyboard.core.settings import AppSettings
from storyboard.qt.controller import GenerationController, Job, JobState
from storyboard.qt.document import Document
from storyboard.qt.main_window import MainWindow
from tests.qt.fake_engine import FakeEngine

WAIT = 10_000


@pytest.fixture
def engines() -> list[FakeEngine]:
    return []


@pytest.fixture
def script() -> dict[str, object]:
    """What the next engine will do: {"fail_with": [...], "step_gate": Event}."""
    return {}


@pytest.fixture
def gate(script: dict[str, object]) -> threading.Event:
    """Holds the next engine before each of its steps until it is set."""
    event = threading.Event()
    script["step_gate"] = event
    return event


@pytest.fixture
def controller(
    app: QApplication, engines: list[FakeEngine], script: dict[str, object]
) -> Iterator[GenerationController]:
    def factory(settings: EngineSettings) -> FakeEngine:
        engine = FakeEngine(settings, **script)  # type: ignore[arg-type]
        engines.append(engine)
        return engine

    made = GenerationController(factory)
    yield made
    made.shutdown()


@pytest.fixture
def studio(
    app: QApplication, sample_copy: object, controller: GenerationController
) -> Iterator[MainWindow]:
    document, _ = Document.open(sample_copy)  # type: ignore[arg-type]
    window = MainWindow(AppSettings(model_source="tiny/test"), document, controller)
    window.show()
    yield window
    window.document.undo_stack.setClean()
    window.document._unsaved_results = False
    window.controller.held.clear()  # a failed test must not leave a question open at close
    window.close()


def settled(controller: GenerationController) -> bool:
    return all(
        j.state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED) for j in controller.jobs
    )


def test_the_controller_says_when_it_is_busy(studio: MainWindow, qtbot: QtBot) -> None:
    """The bank read-ahead stops while a job runs: it needs to hear when one starts and when the
    queue has nothing left to run."""
    said: list[bool] = []
    studio.controller.busy.connect(said.append)
    studio.generation.story.trigger()
    studio.generation.story.trigger()  # waits behind the first
    qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
    assert said == [True, True, False]  # each job's start, then the idle queue


def test_generate_story_records_every_image_as_it_arrives(studio: MainWindow, qtbot: QtBot) -> None:
    document = studio.document
    recorded: list[str] = []
    studio.controller.image_recorded.connect(lambda panel, asset: recorded.append(panel))
    studio.generation.story.trigger()
    qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
    job = studio.controller.jobs[0]
    assert job.state == JobState.DONE
    assert len(recorded) == 12 == len(set(recorded))
    for panel in document.project.panels.values():
        assert len(panel.candidates) == 1
        assert panel.image == panel.candidates[0].asset  # first image accepted
        assert document.assets.has(panel.image)
        stored = document.assets.file(panel.image)
        assert stored is not None
        with Image.open(stored) as image:  # the PNG says how it was made
            prompt, _, entries = parse_parameters(image.text["parameters"])
        assert prompt == panel.candidates[0].prompt and entries["Model"] == "fake"
        assert entries["Seed"] == str(panel.candidates[0].seed)
    assert document.undo_stack.count() == 0  # generation is not an undoable edit
    assert studio.isWindowModified()
    assert document.autosave is not None and document.autosave.recovery.is_file()
    row = studio.queue.rows[job.id]
    assert row.status.text() == "done: 12 image(s)"

    # the same story again (same seeds and settings): the same pictures, not kept twice
    studio.generation.story.trigger()
    qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
    again = studio.controller.jobs[1]
    assert all(len(panel.candidates) == 1 for panel in document.project.panels.values())
    assert studio.queue.rows[again.id].status.text() == (
        "done: 12 image(s), 12 as before (same seeds: More variants makes new ones)"
    )
    # each row has the height of its title, bar and two status lines: none covers another
    jobs = studio.queue.list
    first, second = (jobs.visualItemRect(jobs.item(i)) for i in range(2))
    assert first.height() >= studio.queue.rows[job.id].minimumHeight()
    assert not first.intersects(second)


def test_queue_runs_in_order_and_reorders_waiting_jobs(
    studio: MainWindow, qtbot: QtBot, gate: threading.Event, engines: list[FakeEngine]
) -> None:
    ids = studio.timeline_model.panel_ids()
    studio.timeline.select_panels(ids[:1])
    studio.generation.regenerate()  # job 1 runs (held at its first step)
    studio.timeline.select_panels(ids[1:2])
    studio.generation.regenerate()  # job 2 waits
    studio.timeline.select_panels(ids[2:3])
    studio.generation.regenerate()  # job 3 waits
    first, second, third = studio.controller.jobs
    qtbot.waitUntil(lambda: first.state == JobState.RUNNING, timeout=WAIT)
    assert (second.state, third.state) == (JobState.QUEUED, JobState.QUEUED)
    studio.controller.move(third.id, -1)  # third before second
    assert studio.controller.jobs == [first, third, second]
    gate.set()
    qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
    done = [r.panels[0].panel_id for r in engines[0].requests]  # type: ignore[union-attr]
    assert done == [ids[0], ids[2], ids[1]]


def test_cancel_running_within_a_step_and_queued_at_once(
    studio: MainWindow, qtbot: QtBot, gate: threading.Event
) -> None:
    studio.generation.story.trigger()
    studio.generation.story.trigger()
    running, waiting = studio.controller.jobs
    qtbot.waitUntil(lambda: running.state == JobState.RUNNING, timeout=WAIT)
    studio.controller.cancel(waiting.id)
    assert waiting.state == JobState.CANCELLED
    studio.controller.cancel(running.id)
    gate.set()
    qtbot.waitUntil(lambda: running.state == JobState.CANCELLED, timeout=WAIT)
    assert "kept" in running.error
    assert len(running.assets) <= 1  # stopped within one step of the first image


def test_a_failing_job_does_not_stop_the_queue_and_can_be_retried(
    studio: MainWindow, qtbot: QtBot, script: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    script["fail_with"] = ["bug", "error", ""]
    shown: list[str] = []
    monkeypatch.setattr(
        "storyboard.qt.generation_actions.show_error",
        lambda parent, title, text: shown.append(text),
    )
    ids = studio.timeline_model.panel_ids()
    for panel in ids[:3]:
        studio.timeline.select_panels([panel])
        studio.generation.regenerate()
    qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
    states = [j.state for j in studio.controller.jobs]
    assert states == [JobState.FAILED, JobState.FAILED, JobState.DONE]
    assert "Unexpected ZeroDivisionError" in studio.controller.jobs[0].error
    assert "the prompt is empty" in shown[1]
    studio.controller.retry(studio.controller.jobs[0].id)
    qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
    assert studio.controller.jobs[-1].state == JobState.DONE
    assert studio.controller.worker_thread.isRunning()  # the worker survived it all


def test_a_job_that_exits_or_is_interrupted_fails_and_the_queue_goes_on(
    studio: MainWindow, qtbot: QtBot, script: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SystemExit and KeyboardInterrupt are not Exceptions: they left the job "running" for
    ever and stalled the queue."""
    script["fail_with"] = ["exit", "interrupt", ""]
    monkeypatch.setattr("storyboard.qt.generation_actions.show_error", lambda *args: None)
    ids = studio.timeline_model.panel_ids()
    for panel in ids[:3]:
        studio.timeline.select_panels([panel])
        studio.generation.regenerate()
    qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
    jobs = studio.controller.jobs
    assert [j.state for j in jobs] == [JobState.FAILED, JobState.FAILED, JobState.DONE]
    assert "SystemExit" in jobs[0].error and "KeyboardInterrupt" in jobs[1].error
    assert studio.controller.worker_thread.isRunning()


def test_missing_model_offers_to_choose_one_and_retries(
    studio: MainWindow, qtbot: QtBot, script: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    script["fail_with"] = ["model"]

    def choose(dialog: object) -> int:
        dialog.source.setText("/models/mine")  # type: ignore[attr-defined]
        return 1

    monkeypatch.setattr("storyboard.qt.generation_actions.ModelDialog.exec", choose)
    studio.timeline.select_panels(studio.timeline_model.panel_ids()[:1])
    studio.generation.regenerate()
    qtbot.waitUntil(
        lambda: len(studio.controller.jobs) == 2 and settled(studio.controller), timeout=WAIT
    )
    failed, retried = studio.controller.jobs
    assert failed.error_kind == "model" and "nowhere/model" in failed.error
    assert retried.state == JobState.DONE
    assert retried.request.model == "/models/mine"
    assert studio.settings.model_source == "/models/mine"


def test_out_of_memory_retry_uses_low_vram(
    studio: MainWindow, qtbot: QtBot, script: dict[str, object], monkeypatch: pytest.MonkeyPatch,
    engines: list[FakeEngine],
) -> None:  # fmt: skip
    script["fail_with"] = ["memory"]
    monkeypatch.setattr(QMessageBox, "exec", lambda box: 0)
    monkeypatch.setattr(QMessageBox, "clickedButton", lambda box: box.buttons()[0])
    studio.timeline.select_panels(studio.timeline_model.panel_ids()[:1])
    studio.generation.regenerate()
    qtbot.waitUntil(
        lambda: len(studio.controller.jobs) == 2 and settled(studio.controller), timeout=WAIT
    )
    assert studio.controller.jobs[1].settings.low_vram
    assert engines[-1].settings.low_vram  # a new engine, in low-VRAM mode


def test_out_of_memory_on_the_cpu_offers_no_low_vram_retry(
    studio: MainWindow, qtbot: QtBot, script: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Low-VRAM mode moves work from the GPU to the host: it cannot help the host itself."""
    script["fail_with"] = ["host memory"]
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        "storyboard.qt.generation_actions.show_error",
        lambda parent, title, text: shown.append((title, text)),
    )
    monkeypatch.setattr(QMessageBox, "exec", lambda box: pytest.fail("a low-VRAM question"))
    studio.timeline.select_panels(studio.timeline_model.panel_ids()[:1])
    studio.generation.regenerate()
    qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
    assert [j.state for j in studio.controller.jobs] == [JobState.FAILED]
    ((title, text),) = shown
    assert "failed" in title and text.startswith("out of memory on cpu while generating")
    assert not studio.settings.low_vram


def test_image_for_a_deleted_panel_is_kept_with_the_job(
    studio: MainWindow, qtbot: QtBot, gate: threading.Event
) -> None:
    target = studio.timeline_model.panel_ids()[0]
    studio.timeline.select_panels([target])
    studio.generation.regenerate()
    job = studio.controller.jobs[0]
    qtbot.waitUntil(lambda: job.state == JobState.RUNNING, timeout=WAIT)
    studio.document.push(RemovePanels([target]))
    gate.set()
    qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
    assert job.state == JobState.DONE
    assert len(job.orphans) == 1 and studio.document.assets.has(job.orphans[0])
    assert "deleted panels kept here" in studio.queue.rows[job.id].status.text()
    studio.document.undo_stack.undo()  # the panel comes back; nothing crashed meanwhile
    assert target in studio.document.project.panels


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Folders whose asset writes fail as on a full disk, for as long as they are listed."""
    full: list[Path] = []
    write = assets_module.atomic_write

    def refuse(path: Path, data: bytes) -> None:
        if any(path.is_relative_to(folder) for folder in full):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        write(path, data)

    monkeypatch.setattr(assets_module, "atomic_write", refuse)
    return full


def test_results_wait_in_memory_while_the_disk_is_full(
    studio: MainWindow,
    qtbot: QtBot,
    full_disk: list[Path],
    answer: list[QMessageBox.StandardButton],
) -> None:
    document = studio.document
    full_disk.append(document.bundle)
    studio.generation.story.trigger()
    qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
    job = studio.controller.jobs[0]
    assert job.state == JobState.DONE and job.held == 12  # the queue went on; nothing dropped
    assert all(not panel.candidates for panel in document.project.panels.values())
    assert studio.banner.isVisible() and "No space left on device" in studio.banner.label.text()
    assert "12 generated result(s) are kept in memory" in studio.banner.label.text()
    assert "12 not written to disk yet" in studio.queue.rows[job.id].status.text()
    studio.controller.clear_finished()
    assert studio.controller.jobs == [job]  # still shown while its images wait

    answer.append(QMessageBox.StandardButton.No)  # closing would lose them: it asks first
    assert not studio.close() and studio.isVisible()

    studio.banner.action.click()  # still full: the banner stays, nothing is lost
    assert job.held == 12 and studio.banner.isVisible()
    full_disk.clear()  # the artist freed some space
    assert studio.banner.action.text() == "Write them now"
    studio.banner.action.click()
    assert job.held == 0 and not studio.banner.isVisible() and not studio.controller.held
    for panel in document.project.panels.values():
        assert len(panel.candidates) == 1 and document.assets.has(panel.candidates[0].asset)
        assert panel.image == panel.candidates[0].asset
    assert studio.queue.rows[job.id].status.text() == "done: 12 image(s)"


def test_save_as_on_another_drive_writes_the_held_results(
    studio: MainWindow, qtbot: QtBot, full_disk: list[Path], tmp_path: Path
) -> None:
    document = studio.document
    full_disk.append(document.bundle)
    studio.timeline.select_panels(studio.timeline_model.panel_ids()[:2])
    studio.generation.regenerate()
    qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
    assert len(studio.controller.held) == 2
    assert studio.files.save_to(tmp_path / "elsewhere" / "copy.storyboard")
    assert not studio.controller.held and not studio.banner.isVisible()
    assert document.bundle == tmp_path / "elsewhere" / "copy.storyboard"
    made = [document.project.panels[pid] for pid in studio.timeline_model.panel_ids()[:2]]
    assert all(document.assets.has(panel.candidates[-1].asset) for panel in made)


def held_story(studio: MainWindow, qtbot: QtBot) -> Job:
    """Start the story; its job, once running (held before its first step by ``gate``)."""
    studio.generation.story.trigger()
    qtbot.waitUntil(lambda: studio.controller.running() is not None, timeout=WAIT)
    job = studio.controller.running()
    assert job is not None
    return job


def test_closing_while_generating_asks_and_stops_the_thread(
    studio: MainWindow,
    qtbot: QtBot,
    gate: threading.Event,
    answer: list[QMessageBox.StandardButton],
) -> None:
    held_story(studio, qtbot)
    answer.append(QMessageBox.StandardButton.No)
    assert not studio.close()
    answer.extend([QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.Discard])
    gate.set()
    assert studio.close()
    assert not studio.controller.worker_thread.isRunning()


def test_closing_after_cancelling_asks_nothing_about_the_generation(
    studio: MainWindow,
    qtbot: QtBot,
    gate: threading.Event,
    answer: list[QMessageBox.StandardButton],
) -> None:
    """A job told to stop may still be loading its model: closing does not ask to stop it again."""
    job = held_story(studio, qtbot)
    studio.controller.cancel(job.id)
    assert studio.controller.running() is job  # still running until its next step
    answer.append(QMessageBox.StandardButton.No)  # what a question would be answered
    gate.set()
    assert studio.close()
    assert answer == [QMessageBox.StandardButton.No]  # none was asked
    assert not studio.controller.worker_thread.isRunning()


def test_thumbnails_of_generated_images_are_cached_on_disk(
    studio: MainWindow, qtbot: QtBot
) -> None:
    studio.generation.story.trigger()
    qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
    asset = studio.document.project.ordered_panels()[0].image
    assert asset is not None
    studio.thumbnails.get(asset)  # ask for it: it loads on a pool thread
    studio.thumbnails.wait()
    qtbot.waitUntil(lambda: studio.thumbnails.get(asset) is not None, timeout=WAIT)
    image = studio.thumbnails.get(asset)
    assert image is not None and not image.isNull()
    assert (studio.document.bundle / "cache" / "thumbs" / f"{asset}.png").is_file()


def test_a_real_tiny_pipeline_generates_from_the_editor(
    app: QApplication, qtbot: QtBot, tmp_path: object
) -> None:
    """End to end on CPU: the real engine loads a tiny SDXL folder on the worker thread."""
    from pathlib import Path

    import torch

    from storyboard.core.script import parse_script
    from tests.fixtures.tiny_pipelines import tiny_sdxl

    torch.set_num_threads(1)
    folder = Path(str(tmp_path)) / "tiny-sdxl"
    tiny_sdxl().save_pretrained(folder)
    result = parse_script("[Ann] a painter in a red coat\n\n[Ann] paints a wall\n[Ann] waves\n")
    project = result.project
    generation = project.settings.generation
    generation.width = generation.height = 32
    generation.steps = 2
    generation.exact_size = True
    for character in project.characters.values():
        character.identity.identity_panels = 1
    controller = GenerationController()
    window = MainWindow(
        AppSettings(model_source=str(folder), device="cpu"), Document(project), controller
    )
    window.generation.story.trigger()
    qtbot.waitUntil(lambda: settled(controller), timeout=120_000)
    job = controller.jobs[0]
    assert job.state == JobState.DONE, job.error
    for panel in window.document.project.panels.values():
        assert panel.image is not None and panel.candidates[0].model
        assert window.document.assets.has(panel.image)
    window.document.undo_stack.setClean()
    window.document._unsaved_results = False
    window.close()


def test_starting_a_generation_shows_the_queue_and_cancel_needs_no_selection(
    studio: MainWindow, qtbot: QtBot, gate: threading.Event
) -> None:
    try:
        queue = studio.queue
        assert queue.visibleRegion().isEmpty()  # behind the Player
        assert not queue.cancel.isEnabled()  # nothing to cancel
        studio.generation.story.trigger()
        studio.generation.story.trigger()
        studio.generation.story.trigger()
        running, second, third = studio.controller.jobs
        qtbot.waitUntil(lambda: running.state == JobState.RUNNING, timeout=WAIT)
        assert not queue.visibleRegion().isEmpty()  # raised as the job started
        assert queue.selected_job() is None
        assert queue.cancel.isEnabled()
        queue.list.setCurrentRow(2)  # selected: Cancel drops it and leaves the running one
        queue.cancel.click()
        assert third.state == JobState.CANCELLED
        assert (running.state, second.state) == (JobState.RUNNING, JobState.QUEUED)
        queue.list.clearSelection()
        queue.cancel.click()  # no job selected: the running one stops
        gate.set()
        qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
        assert (running.state, second.state) == (JobState.CANCELLED, JobState.DONE)
        assert not queue.cancel.isEnabled()  # everything finished
    finally:  # a failure leaves no job running for the window's close to ask about
        studio.controller.cancel_all()
        gate.set()
        qtbot.waitUntil(lambda: settled(studio.controller), timeout=WAIT)
