"""The inference worker: a QObject living on one long-lived QThread.

It owns the StoryEngine (so the pipeline and the identity banks stay loaded between jobs) and runs
one request at a time. Everything it reports goes out as queued signals to the GUI thread; every
failure (anything raised, ``SystemExit`` and ``KeyboardInterrupt`` included) becomes a ``failed``
signal with a kind the editor can act on, and the thread lives on.
torch is imported on the first job, never when the editor starts.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Signal, Slot

from inference.errors import Cancelled, GenerationError, ModelUnavailable, OutOfMemory
from storyboard.core.transition_jobs import TransitionJob

if TYPE_CHECKING:
    from inference.results import GeneratedImage, Progress
    from storyboard.core.jobs import PanelRequest, StoryRequest
    from storyboard.core.print_jobs import PrintSizeRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How the engine runs (a change of these makes a new engine)."""

    device: str | None = None  # None: best available
    low_vram: bool = False
    model_config: str | None = None
    fast_generation: bool = True  # where it helps (CUDA, not low VRAM); False: never
    cluster: str | None = None  # a Ray cluster ("local", "auto" or its address); None: here


class Engine(Protocol):
    def generate(
        self,
        request: StoryRequest | PanelRequest | PrintSizeRequest,
        progress: Callable[[Progress], None] | None = ...,
        cancelled: Callable[[], bool] | threading.Event | None = ...,
        on_image: Callable[[GeneratedImage], None] | None = ...,
    ) -> list[GeneratedImage]: ...


EngineFactory = Callable[[EngineSettings], Engine]


def real_engine(settings: EngineSettings) -> Engine:
    device = None if settings.device in (None, "auto") else settings.device
    if settings.cluster:  # Ray is imported on the first job (or says how to install it then)
        from inference.cluster.engine import ClusterStoryEngine

        return ClusterStoryEngine(
            settings.cluster,
            device=device,
            low_vram=settings.low_vram,
            model_config=settings.model_config,
        )
    from inference.engine.story_engine import StoryEngine  # torch is loaded here, on the first job

    return StoryEngine(
        device=device,
        low_vram=settings.low_vram,
        model_config=settings.model_config,
        fast=None if settings.fast_generation else False,
    )


class TransitionEngine(Protocol):
    def generate(
        self,
        job: TransitionJob,
        progress: Callable[[Progress], None] | None = ...,
        cancelled: Callable[[], bool] | threading.Event | None = ...,
    ) -> Any: ...


TransitionFactory = Callable[[TransitionJob, EngineSettings], TransitionEngine]


def real_transition_engine(job: TransitionJob, settings: EngineSettings) -> TransitionEngine:
    from inference.motion.jobs import JobEngine  # torch is loaded here, on the first clip

    return JobEngine(job, settings.device, settings.low_vram)


@dataclass(frozen=True, slots=True)
class StepReport:
    """A progress report stamped with when it left the worker (to measure GUI latency)."""

    progress: Progress
    sent: float


class InferenceWorker(QObject):
    progress = Signal(str, object)  # job id, StepReport
    preview = Signal(str, int, object)  # job id, index in batch, PIL preview image
    image_ready = Signal(str, object)  # job id, GeneratedImage
    clip_ready = Signal(str, object)  # job id, a transition clip (frames, fps, write_mp4)
    finished = Signal(str, int)  # job id, images made
    failed = Signal(str, str, str)  # job id, kind (model, memory: GPU, cancelled, error), message

    def __init__(
        self,
        engine_factory: EngineFactory = real_engine,
        transition_factory: TransitionFactory = real_transition_engine,
    ) -> None:
        super().__init__()
        self.engine_factory = engine_factory
        self.engine: Engine | None = None
        self.engine_settings: EngineSettings | None = None
        self.transition_factory = transition_factory
        self.transitions: Any = None  # the motion engine, kept loaded between clips
        self.transition_key: tuple[object, ...] | None = None

    @Slot(str, object, object, object)
    def run(self, job_id: str, request: Any, settings: EngineSettings, cancel: Any) -> None:
        """Run one request (on the worker thread). Never raises: failures become signals."""
        made = 0

        def report(progress: Progress) -> None:
            self.progress.emit(job_id, StepReport(progress, time.perf_counter()))
            for index, image in enumerate(progress.previews):
                self.preview.emit(job_id, index, image)

        def deliver(image: GeneratedImage) -> None:
            nonlocal made
            made += 1
            self.image_ready.emit(job_id, image)

        try:
            if isinstance(request, TransitionJob):
                self.clip_ready.emit(job_id, self._transition(request, settings, report, cancel))
                made = 1
            else:
                engine = self._engine(settings)
                engine.generate(request, progress=report, cancelled=cancel, on_image=deliver)
        except Cancelled:
            self.failed.emit(job_id, "cancelled", f"Cancelled; {made} image(s) kept.")
        except ModelUnavailable as exc:
            self.failed.emit(job_id, "model", str(exc))
        except OutOfMemory as exc:  # GPU memory (low-VRAM mode helps), or the host's (it does not)
            kind = "error" if exc.device.startswith("cpu") else "memory"
            self.failed.emit(job_id, kind, str(exc))
        except GenerationError as exc:
            self.failed.emit(job_id, "error", str(exc))
        except BaseException as exc:
            # A bug, or a library's sys.exit(), must not end the worker thread nor leave the job
            # running: SystemExit and KeyboardInterrupt stalled the queue when only Exception
            # was caught.
            log.error("job %s failed unexpectedly\n%s", job_id, traceback.format_exc())
            self.failed.emit(job_id, "error", f"Unexpected {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(job_id, made)

    def _transition(
        self,
        job: TransitionJob,
        settings: EngineSettings,
        report: Callable[[Progress], None],
        cancel: Any,
    ) -> Any:
        key = (job.backend, job.model, settings.device, settings.low_vram)
        if self.transitions is None or key != self.transition_key:
            self.transitions = None
            self.transitions = self.transition_factory(job, settings)
            self.transition_key = key
        return self.transitions.generate(job, progress=report, cancelled=cancel)

    def _engine(self, settings: EngineSettings) -> Engine:
        if self.engine is None or settings != self.engine_settings:
            self.engine = None  # free the old pipeline before loading a new one
            self.engine = self.engine_factory(settings)
            self.engine_settings = settings
        return self.engine
