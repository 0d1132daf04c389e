"""A scripted stand-in for StoryEngine: real requests in, real-looking reports out, no torch."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from inference.errors import Cancelled, GenerationError, ModelUnavailable, OutOfMemory
from inference.results import GeneratedImage, Progress
from inference.worker import EngineSettings
from storyboard.core.jobs import PanelRequest, StoryRequest
from storyboard.core.print_jobs import PRINT_DPI, UPSCALED_FROM, PrintSizeRequest
from storyboard.core.transition_jobs import TransitionJob

FAILURES = {
    "model": lambda: ModelUnavailable("nowhere/model", ["the hub cache"], "pick a folder"),
    "memory": lambda: OutOfMemory("cuda", "lower the size, or enable low VRAM"),
    "host memory": lambda: OutOfMemory("cpu while generating", "Try to lower the image size."),
    "error": lambda: GenerationError("the prompt is empty"),
    "bug": lambda: ZeroDivisionError("division by zero"),
    "exit": lambda: SystemExit(3),  # a library calling sys.exit() inside a job
    "interrupt": lambda: KeyboardInterrupt("stop"),
}


def png(color: tuple[int, int, int], size: tuple[int, int] = (16, 9)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


@dataclass
class FakeEngine:
    settings: EngineSettings
    steps: int = 3
    fail_with: list[str] = field(default_factory=list)  # one entry per request: "" = succeed
    step_gate: threading.Event | None = None  # when set, each step waits for it (tests pause)
    requests: list[StoryRequest | PanelRequest | PrintSizeRequest] = field(default_factory=list)

    def generate(
        self,
        request: StoryRequest | PanelRequest | PrintSizeRequest,
        progress: Callable[[Progress], None] | None = None,
        cancelled: Callable[[], bool] | threading.Event | None = None,
        on_image: Callable[[GeneratedImage], None] | None = None,
    ) -> list[GeneratedImage]:
        self.requests.append(request)
        failure = self.fail_with.pop(0) if self.fail_with else ""
        if failure:
            raise FAILURES[failure]()
        if isinstance(request, PrintSizeRequest):
            return self._print_size(request, progress, cancelled, on_image)
        story = request.as_story() if isinstance(request, PanelRequest) else request
        made: list[GeneratedImage] = []
        for number, job in enumerate(story.panels):
            for step in range(1, self.steps + 1):
                if self.step_gate is not None:
                    self.step_gate.wait(5)
                if isinstance(cancelled, threading.Event) and cancelled.is_set():
                    raise Cancelled(len(made))
                preview = Image.new("RGB", (8, 8), (step * 40, 0, 0))
                if progress is not None:
                    progress(
                        Progress(
                            "panels",
                            (job.label,),
                            step,
                            self.steps,
                            number,
                            len(story.panels),
                            (preview,),
                        )
                    )
            s = story.sampling
            settings: dict[str, str | int | float | bool | None] = {
                "steps": s.steps,
                "guidance": s.guidance,
                "scheduler": s.scheduler,
                "width": 16,
                "height": 9,
            }  # as the real engine records them
            image = GeneratedImage(
                job, png((number * 30 % 255, 90, 160)), 16, 9, "fake", None, settings
            )
            made.append(image)
            if on_image is not None:
                on_image(image)
        return made

    def _print_size(
        self,
        request: PrintSizeRequest,
        progress: Callable[[Progress], None] | None,
        cancelled: Callable[[], bool] | threading.Event | None,
        on_image: Callable[[GeneratedImage], None] | None,
    ) -> list[GeneratedImage]:
        """Each panel at its target size, named as made from its source (as the engine does)."""
        made: list[GeneratedImage] = []
        for number, job in enumerate(request.jobs):
            for step in range(1, self.steps + 1):
                if self.step_gate is not None:
                    self.step_gate.wait(5)
                if isinstance(cancelled, threading.Event) and cancelled.is_set():
                    raise Cancelled(len(made))
                if progress is not None:
                    labels = (job.panel.label,)
                    total = len(request.jobs)
                    progress(Progress("print size", labels, step, self.steps, number, total))
            settings: dict[str, str | int | float | bool | None] = {
                UPSCALED_FROM: job.source_asset,
                PRINT_DPI: job.dpi,
                "width": job.width,
                "height": job.height,
            }
            size = (job.width, job.height)
            image = GeneratedImage(
                job.panel, png((200, 90, 20), size), *size, "fake", None, settings
            )
            made.append(image)
            if on_image is not None:
                on_image(image)
        return made


@dataclass
class FakeClip:
    """What the motion engine returns: frames at an fps, writable as MP4 (real, via PyAV)."""

    frames: list[Image.Image]
    fps: int

    def write_mp4(self, path: Path) -> Path:
        from inference.motion.clip_io import write_mp4

        return write_mp4(self.frames, path, self.fps)


@dataclass
class FakeTransitions:
    job: TransitionJob
    settings: EngineSettings
    fail_with: str = ""
    step_gate: threading.Event | None = None  # when set, each clip waits for it (tests pause)
    made: list[TransitionJob] = field(default_factory=list)  # the jobs it finished

    def generate(
        self,
        job: TransitionJob,
        progress: Callable[[Progress], None] | None = None,
        cancelled: Callable[[], bool] | threading.Event | None = None,
    ) -> FakeClip:
        if self.fail_with:
            raise FAILURES[self.fail_with]()
        if self.step_gate is not None:
            self.step_gate.wait(5)
        if isinstance(cancelled, threading.Event) and cancelled.is_set():
            raise Cancelled(0)
        start, end = Image.open(job.start).convert("RGB"), Image.open(job.end).convert("RGB")
        size = (64, 64)
        frames = [
            Image.blend(start.resize(size), end.resize(size), n / (job.frames - 1))
            for n in range(job.frames)
        ]
        if progress is not None:
            progress(Progress("transition", (job.label,), 1, 1, 0, 1))
        self.made.append(job)
        return FakeClip(frames, job.fps)
