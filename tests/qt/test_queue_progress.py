"""The queue dock's progress bar and time left, while the real engine denoises a tiny SDXL story
on the worker thread: what the bar shows at each step, and the estimate drawn from it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from inference.worker import EngineSettings, StepReport
from storyboard.core.jobs import Overrides, build_story_request
from storyboard.core.script import parse_script
from storyboard.qt.controller import GenerationController, Job, JobState
from storyboard.qt.document import Document
from storyboard.qt.widgets.queue import JobRow, QueuePanel
from tests.fixtures.engine_helpers import save_tiny
from tests.fixtures.torch_setup import quiet_single_thread_torch

STEPS = 3
# Six panels of one character: its three identity panels are one batch, the other three run
# two at a time (the batch size), so the batches hold 3, 2 and 1 images.
SCRIPT = "[Ann] a painter in a red coat\n\n" + "".join(
    f"[Ann] {action}\n" for action in ("paints", "waves", "sits", "reads", "sleeps", "runs")
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    quiet_single_thread_torch()
    return save_tiny("sdxl", tmp_path_factory.mktemp("models") / "tiny-sdxl")


@pytest.fixture
def controller(app: QApplication) -> Iterator[GenerationController]:
    made = GenerationController()  # the real engine, on the worker thread
    yield made
    made.shutdown()


class BarWatch(QObject):
    """Reads the dock's bar as each step report arrives (queued after the controller's own
    slot, so the row has been refreshed from that report)."""

    def __init__(self, queue: QueuePanel) -> None:
        super().__init__()
        self.queue = queue
        self.seen: list[tuple[StepReport, int]] = []

    @Slot(str, object)
    def on_report(self, job_id: str, report: StepReport) -> None:
        self.seen.append((report, self.queue.rows[job_id].bar.value()))


def test_the_bar_shows_the_denoising_done_and_never_moves_back(
    controller: GenerationController, qtbot: QtBot, tiny_model: Path
) -> None:
    project = parse_script(SCRIPT).project
    overrides = Overrides(model=str(tiny_model), steps=STEPS, size=(32, 32), batch_size=2)
    request = build_story_request(project, overrides=overrides)
    document = Document(project)
    queue = QueuePanel(controller)
    qtbot.addWidget(queue)
    watch = BarWatch(queue)
    controller.worker.progress.connect(watch.on_report)
    every_value: list[int] = []
    controller.changed.connect(lambda job_id: every_value.append(queue.rows[job_id].bar.value()))

    job = controller.enqueue("story", request, document, EngineSettings(device="cpu"))
    qtbot.waitUntil(lambda: job.state in (JobState.DONE, JobState.FAILED), timeout=120_000)
    assert job.state == JobState.DONE, job.error
    assert job.images_total == 6 == len(job.assets)

    steps = [(len(r.progress.labels), r.progress.step) for r, _ in watch.seen if r.progress.total]
    assert steps == [(n, s) for n in (3, 2, 1) for s in range(STEPS + 1)]
    for report, bar in watch.seen:
        p = report.progress
        # the images finished, plus the steps done of the batch, each of its panels counted
        done = p.images_done + (p.step / p.total if p.total else 0) * len(p.labels)
        assert bar == int(done / 6 * 1000), (p.labels, p.step)
    assert every_value == sorted(every_value), "the bar moved back"
    assert every_value[-1] == 1000


def running(images_total: int, started_ago: float, **where: int) -> Job:
    job = Job("story", None, None, EngineSettings())  # type: ignore[arg-type]
    job.state, job.images_total = JobState.RUNNING, images_total
    job.started = time.perf_counter() - started_ago
    for name, value in where.items():
        setattr(job, name, value)
    return job


def test_the_time_left_is_the_time_so_far_scaled_by_the_work_left(app: QApplication) -> None:
    """A quarter of the work took a minute: three minutes are left, whether the quarter is one
    finished image of four or the first half of a batch of two."""
    rows = {
        "one image of four": JobRow(running(4, 60.0, images_done=1)),
        "half a batch of two": JobRow(running(4, 60.0, step=1, total=2, batch=2)),
        "three images of four": JobRow(running(4, 60.0, images_done=3)),
        "nothing yet": JobRow(running(4, 60.0)),
        "first of thirty": JobRow(running(30, 60.0, images_done=1)),
    }
    left = {name: row.status.text().partition(" · ")[2] for name, row in rows.items()}
    assert left == {
        "one image of four": "about 3:00 left",
        "half a batch of two": "about 3:00 left",
        "three images of four": "about 0:20 left",
        "nothing yet": "",  # no estimate before any work is done
        "first of thirty": "about 29:00 left",  # a long story has one after its first image
    }
