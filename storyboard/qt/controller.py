"""The generation queue, on the GUI thread: jobs wait here, one runs on the worker's thread.

The controller never waits for the worker: it sends a job with a queued signal and reacts to the
worker's signals. Every image is stored in the project's asset store and recorded as a candidate
the moment it arrives (accepted where the panel had none; a print-size result always, as it is
the accepted picture enlarged), then the project is autosaved. An image
whose panel was deleted meanwhile is kept with its job (and in the asset store), never dropped.
An image the project folder cannot take (a full disk, a read-only folder, an unplugged drive) is
held in memory, in order, until :meth:`GenerationController.store_held` writes it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QImage

from inference.results import GeneratedImage, Progress
from inference.worker import (
    EngineFactory,
    EngineSettings,
    InferenceWorker,
    StepReport,
    TransitionFactory,
    real_engine,
    real_transition_engine,
)
from storyboard.core.commands import EditFields
from storyboard.core.jobs import (
    PanelRequest,
    StoryRequest,
    generated_png,
    new_candidate,
    record_commands,
)
from storyboard.core.print_jobs import PrintSizeRequest, print_record_commands
from storyboard.core.transition_clips import generated_transition, store_clip
from storyboard.core.transition_jobs import TransitionJob
from storyboard.qt.document import Document

log = logging.getLogger(__name__)
_ids = itertools.count(1)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass(eq=False)
class Job:
    label: str
    request: StoryRequest | PanelRequest | PrintSizeRequest | TransitionJob
    document: Document
    settings: EngineSettings
    id: str = field(default_factory=lambda: f"job-{next(_ids)}")
    state: JobState = JobState.QUEUED
    phase: str = ""
    note: str = ""  # what the worker waits for besides denoising ("Preparing the model ...")
    step: int = 0
    total: int = 0
    images_done: int = 0
    images_total: int = 0
    batch: int = 1  # images in the batch being denoised, as the last report named them
    batch_start: int = 0  # images finished before that batch
    preview: QImage | None = None
    started: float = 0.0
    error: str = ""
    error_kind: str = ""  # model, memory, cancelled, error
    assets: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # images of panels deleted meanwhile
    repeated: int = 0  # pictures their panel already had (same seed and settings): kept once
    held: int = 0  # results in memory that the project folder could not take yet
    cancel: threading.Event = field(default_factory=threading.Event)

    def fraction(self) -> float:
        """Share of the denoising done: the finished images, and the steps done of the batch,
        each of its images counted. It never moves back while the batch's images arrive."""
        if not self.images_total:
            return 0.0
        within = self.step / self.total if self.total else 0.0
        denoised = max(self.images_done, self.batch_start + within * self.batch)
        return min(1.0, denoised / self.images_total)

    def eta_seconds(self) -> float | None:
        done = self.fraction()
        if self.state != JobState.RUNNING or done <= 0.02:
            return None
        return (time.perf_counter() - self.started) * (1 - done) / done


def pil_to_qimage(image: Any) -> QImage:
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    qimage = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888)
    return qimage.copy()  # own the pixels


class GenerationController(QObject):
    changed = Signal(str)  # job id (state, progress or preview)
    jobs_changed = Signal()  # added, removed or reordered
    job_failed = Signal(str)  # job id, for the window to offer a fix
    image_recorded = Signal(str, str)  # panel id, asset id
    progress_latency = Signal(float)  # seconds from the worker's report to the GUI (benchmark)
    busy = Signal(bool)  # True as a job starts, False once none runs and none waits
    storage_failed = Signal(str)  # why results are held in memory, and what to do
    _run = Signal(str, object, object, object)

    def __init__(
        self,
        engine_factory: EngineFactory = real_engine,
        transition_factory: TransitionFactory = real_transition_engine,
    ) -> None:
        super().__init__()
        self.jobs: list[Job] = []
        self.held: list[tuple[Job, Any]] = []  # (job, GeneratedImage or clip) not yet on disk
        self._held_because: OSError | None = None  # the write that failed last
        self.worker_thread = QThread()
        self.worker_thread.setObjectName("inference")
        self.worker = InferenceWorker(engine_factory, transition_factory)
        self.worker.moveToThread(self.worker_thread)
        self._run.connect(self.worker.run)
        self.worker.progress.connect(self._progress)
        self.worker.preview.connect(self._preview)
        self.worker.image_ready.connect(self._image)
        self.worker.clip_ready.connect(self._clip)
        self.worker.finished.connect(self._finished)
        self.worker.failed.connect(self._failed)

    # -- the queue ------------------------------------------------------------------------------

    def job(self, job_id: str) -> Job:
        return next(j for j in self.jobs if j.id == job_id)

    def running(self) -> Job | None:
        return next((j for j in self.jobs if j.state == JobState.RUNNING), None)

    def enqueue(
        self,
        label: str,
        request: StoryRequest | PanelRequest | PrintSizeRequest | TransitionJob,
        document: Document,
        settings: EngineSettings,
    ) -> Job:
        job = Job(label, request, document, settings)
        job.images_total = _image_count(request)
        self.jobs.append(job)
        self.jobs_changed.emit()
        self._start_next()
        return job

    def cancel(self, job_id: str) -> None:
        """A queued job is dropped at once; the running one stops within one denoising step."""
        job = self.job(job_id)
        if job.state == JobState.QUEUED:
            job.state = JobState.CANCELLED
            self.changed.emit(job.id)
        elif job.state == JobState.RUNNING:
            job.cancel.set()

    def cancel_all(self) -> None:
        for job in list(self.jobs):
            self.cancel(job.id)

    def move(self, job_id: str, delta: int) -> None:
        """Reorder waiting jobs (running and finished ones keep their place)."""
        waiting = [j for j in self.jobs if j.state == JobState.QUEUED]
        job = self.job(job_id)
        if job not in waiting:
            return
        target = waiting.index(job) + delta
        if not 0 <= target < len(waiting):
            return
        other = waiting[target]
        a, b = self.jobs.index(job), self.jobs.index(other)
        self.jobs[a], self.jobs[b] = other, job
        self.jobs_changed.emit()

    def retry(self, job_id: str, settings: EngineSettings | None = None) -> Job:
        old = self.job(job_id)
        return self.enqueue(old.label, old.request, old.document, settings or old.settings)

    def clear_finished(self) -> None:
        self.jobs = [j for j in self.jobs if j.state not in FINISHED or j.held]  # held: still shown
        self.jobs_changed.emit()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel everything and stop the thread; True when it stopped in time."""
        self.cancel_all()
        self.worker_thread.quit()
        return self.worker_thread.wait(timeout_ms)

    def _start_next(self) -> None:
        if self.running() is not None:
            return
        job = next((j for j in self.jobs if j.state == JobState.QUEUED), None)
        if job is None:
            self.busy.emit(False)
            return
        if not self.worker_thread.isRunning():  # started on the first job: no idle thread
            self.worker_thread.start()
        job.state = JobState.RUNNING
        job.started = time.perf_counter()
        self.changed.emit(job.id)
        self.busy.emit(True)
        self._run.emit(job.id, job.request, job.settings, job.cancel)

    # -- the worker's reports -------------------------------------------------------------------

    def _progress(self, job_id: str, report: StepReport) -> None:
        self.progress_latency.emit(time.perf_counter() - report.sent)
        job = self.job(job_id)
        progress: Progress = report.progress
        job.phase, job.step, job.total = progress.phase, progress.step, progress.total
        job.note = progress.note
        job.images_done = progress.images_done or job.images_done
        job.batch, job.batch_start = max(1, len(progress.labels)), progress.images_done
        self.changed.emit(job_id)

    def _preview(self, job_id: str, index: int, image: Any) -> None:
        if index == 0:
            self.job(job_id).preview = pil_to_qimage(image)
            self.changed.emit(job_id)

    def _image(self, job_id: str, image: GeneratedImage) -> None:
        self._deliver(self.job(job_id), image)

    def _clip(self, job_id: str, clip: Any) -> None:
        self._deliver(self.job(job_id), clip)

    def _deliver(self, job: Job, result: Any) -> None:
        """Record a result, or hold it when the project folder can't take it: nothing made is
        dropped for want of disk space, and nothing overtakes a result already held."""
        if self.held:
            self._hold(job, result)
            return
        try:
            self._record(job, result)
        except OSError as exc:
            log.warning("holding %s's results in memory: %s", job.id, exc)
            self._held_because = exc
            self._hold(job, result)

    def store_held(self) -> int:
        """Write the held results, in order (after space was freed or the project was saved
        elsewhere). Returns how many are still held: the first failure stops and says why."""
        waiting, self.held = self.held, []
        for index, (job, result) in enumerate(waiting):
            try:
                self._record(job, result)
            except OSError as exc:
                self.held, self._held_because = waiting[index:], exc
                self.storage_failed.emit(self._held_message())
                break
            job.held -= 1
            self.changed.emit(job.id)
        return len(self.held)

    def _hold(self, job: Job, result: Any) -> None:
        self.held.append((job, result))
        job.held += 1
        self.changed.emit(job.id)
        self.storage_failed.emit(self._held_message())

    def _held_message(self) -> str:
        error = self._held_because
        assert error is not None
        where = Path(error.filename).parent if error.filename else "the project folder"
        return (
            f"Could not write to {where}: {error.strerror or error}. {len(self.held)} generated "
            "result(s) are kept in memory, nothing is lost. Free some disk space (or make the "
            "folder writable), then click Write them now; or use File > Save as… to move the "
            "project to another drive."
        )

    def _record(self, job: Job, result: Any) -> None:
        if isinstance(result, GeneratedImage):
            self._record_image(job, result)
        else:
            self._record_clip(job, result)
        try:
            job.document.write_recovery()
        except Exception as exc:  # the result is stored; a failed autosave is only reported
            log.warning("autosave after a result failed: %s", exc)
        self.changed.emit(job.id)

    def _record_image(self, job: Job, image: GeneratedImage) -> None:
        document = job.document
        png = generated_png(image.png, image.job, model=image.model, settings=image.settings)
        asset = document.assets.put(png)
        job.assets.append(asset)
        job.images_done = len(job.assets)
        panel_id = image.job.panel_id
        if panel_id not in document.project.panels:
            job.orphans.append(asset)
            log.info("panel %s was deleted; its image %s stays with %s", panel_id, asset, job.id)
            return
        candidate = new_candidate(asset, image.job, model=image.model, settings=image.settings)
        accept: EditFields | None
        if isinstance(job.request, PrintSizeRequest):  # the larger version is the one shown
            add, accept = print_record_commands(panel_id, candidate)
        else:
            add, accept = record_commands(document.project, panel_id, candidate)
        if not document.record_result(add).panels:  # a picture the panel already had
            job.repeated += 1
        if accept is not None:  # the first image of a panel is shown at once
            document.record_result(accept)
        self.image_recorded.emit(panel_id, asset)

    def _record_clip(self, job: Job, clip: Any) -> None:
        """A transition clip: stored as a video asset and played as the panel's transition."""
        request = job.request
        assert isinstance(request, TransitionJob)
        document = job.document
        asset = store_clip(document.assets, clip)
        job.assets.append(asset)
        job.images_done = 1
        edit = generated_transition(document.project, request.panel_id, asset, clip)
        if edit is None:
            job.orphans.append(asset)
            return
        document.record_result(edit)

    def _finished(self, job_id: str, made: int) -> None:
        job = self.job(job_id)
        job.state = JobState.DONE
        self.changed.emit(job_id)
        self._start_next()

    def _failed(self, job_id: str, kind: str, message: str) -> None:
        job = self.job(job_id)
        job.state = JobState.CANCELLED if kind == "cancelled" else JobState.FAILED
        job.error, job.error_kind = message, kind
        self.changed.emit(job_id)
        if job.state == JobState.FAILED:
            self.job_failed.emit(job_id)
        self._start_next()


def _image_count(request: StoryRequest | PanelRequest | PrintSizeRequest | TransitionJob) -> int:
    if isinstance(request, PanelRequest | TransitionJob):
        return 1
    if isinstance(request, PrintSizeRequest):
        return len(request.jobs)
    requested = {p.panel_id for p in request.panels}
    extra = {
        p.panel_id
        for c in request.characters
        for p in c.identity_panels
        if p.panel_id not in requested
    }
    return len(requested) + len(extra)
