"""One timed ``StoryEngine.generate`` call of the engine benchmark (:mod:`bench.ml.engine`):
the moments of its progress events and images, to split its time into parts, the checks that a
regenerate only read its bank, a call beside another process's disk read, a new engine's first
call, an op profile of a call, the rest between timed calls and the report's table."""

from __future__ import annotations

import gc
import json
import logging
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

import torch

from bench.ml.csa import Row
from inference.engine.story_engine import StoryEngine
from inference.results import GeneratedImage, Progress
from storyboard.core.jobs import PanelJob, PanelRequest, StoryRequest

logger = logging.getLogger(__name__)


class Timed:
    """One ``generate`` call with the moments of its events, to split its time into parts."""

    def __init__(self, engine: StoryEngine, request: StoryRequest | PanelRequest) -> None:
        self.engine, self.request = engine, request
        self.start = self.end = 0.0
        self.first_step: dict[str, float] = {}  # phase -> when its first batch was about to start
        self.delivered: list[tuple[float, GeneratedImage]] = []
        self.streamed: tuple[float, float] | None = None  # a bank read from its file: times

    def __call__(self) -> None:
        self.start = time.perf_counter()
        self.engine.generate(self.request, progress=self._progress, on_image=self._image)
        self.end = time.perf_counter()
        bank = self.engine.banks.get_loaded("hero")
        self.streamed = bank.stream_seconds if bank is not None else None

    def _progress(self, p: Progress) -> None:
        if p.step == 0 and p.phase not in self.first_step:
            self.first_step[p.phase] = time.perf_counter()

    def _image(self, image: GeneratedImage) -> None:
        self.delivered.append((time.perf_counter(), image))

    def until_first_step(self, phase: str) -> float:
        """Seconds from the call to the first denoising step of ``phase``: for a read, the bank
        lookup and load plus the prompt encoding."""
        return self.first_step[phase] - self.start

    def after_last_image(self) -> float:
        """Seconds from the last delivered image to the return: for an identity run, saving the
        bank to the cache folder."""
        return self.end - self.delivered[-1][0]

    def phases(self) -> list[str]:
        """The denoising phases run, in order ("identity", "panels")."""
        return [phase for phase in self.first_step if phase != "loading"]


class BesideDiskRead(Timed):
    """A call timed while another process reads ``files`` (started with the call, and added to
    ``readers`` for the caller to wait for once the timing is over): what a disk read alone
    costs a panel, with no bank and no reader thread in this process."""

    def __init__(
        self,
        engine: StoryEngine,
        request: StoryRequest | PanelRequest,
        files: list[Path],
        readers: list[subprocess.Popen[bytes]],
    ) -> None:
        super().__init__(engine, request)
        self.files, self.readers = files, readers

    def __call__(self) -> None:
        command = ["cat", *map(str, self.files)]
        self.readers.append(subprocess.Popen(command, stdout=subprocess.DEVNULL))
        super().__call__()


class FirstRun:
    """A new engine's first call, as ``main.py generate`` makes one: it loads the model, then
    draws the request. :meth:`close` frees the engine's memory after the timing."""

    def __init__(self, like: StoryEngine, request: StoryRequest | PanelRequest) -> None:
        self.engine = StoryEngine(request.model, device=str(like.device), dtype=like.dtype)
        self.request = request

    def __call__(self) -> None:
        self.engine.generate(self.request)

    def close(self) -> None:
        self.engine.unload()


def profile(call: Timed, path: Path) -> None:
    """Run ``call`` under torch.profiler; write its op table (by GPU time, then by CPU time).

    This is how the cost of the one-panel read is found: it shows whether the extra time is GPU
    work (kernels) or host work between kernels.
    """
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    activities = [ProfilerActivity.CPU]
    if torch.cuda.is_available():
        activities.append(ProfilerActivity.CUDA)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with torch_profile(activities=activities) as prof:
        call()
    wall = time.perf_counter() - start
    table = prof.key_averages()
    kernels = [e for e in table if e.device_type == torch.autograd.DeviceType.CUDA]
    gpu = sum(e.self_device_time_total for e in kernels) / 1e6
    cpu = table.self_cpu_time_total / 1e6
    text = [f"wall {wall:.3f} s under the profiler, GPU kernels {gpu:.3f} s, CPU ops {cpu:.3f} s"]
    for key in ("self_device_time_total", "self_cpu_time_total"):
        text.append(table.table(sort_by=key, row_limit=30, max_name_column_width=60))
    path.with_suffix(".txt").write_text("\n\n".join(text))
    logger.info("profile %s: wall %.3f s, GPU kernels %.3f s", path.name, wall, gpu)


def panels_of(request: StoryRequest | PanelRequest) -> tuple[PanelJob, ...]:
    return (request.panel,) if isinstance(request, PanelRequest) else request.panels


def note_read(row: Row, call: Timed, from_disk: bool = False) -> None:
    """Note the time to the first step of a regenerate, after checking that it only read.

    A regenerate that ran the identity phase again would time the wrong thing, so it is refused.
    """
    made = [image.identity_of for _, image in call.delivered]
    if call.phases() != ["panels"] or made != [None]:
        raise RuntimeError(
            f"the regenerate did not read the saved bank (phases {call.phases()}, images {made})"
        )
    row.notes["to_first_step_s"] = call.until_first_step("panels")
    if from_disk and call.streamed is not None:
        row.notes["bank_read_s"], row.notes["read_waited_s"] = call.streamed


def settle(seconds: float) -> None:
    """Let the last run's after-effects pass before the next is timed. A plain panel run right
    after an evicted-file regenerate took 3.65 s against 2.31 s (H100, medians of five)."""
    if seconds <= 0:
        return
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    time.sleep(seconds)


def format_table(rows: list[Row]) -> str:
    """Markdown table of the rows."""
    lines = [
        "| mode | res | seconds | ratio to plain panel | peak GiB total | notes |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        notes = ", ".join(f"{k} {v:.2f}" for k, v in r.notes.items())
        ratio = f"{r.ratio:.3f}x" if r.ratio else ""
        res = str(r.res) if r.res else ""
        peak = f"{r.peak_total_gib:.2f}" if r.peak_total_gib else ""
        lines.append(f"| {r.mode} | {res} | {r.seconds:.2f} | {ratio} | {peak} | {notes} |")
    return "\n".join(lines)


def write_report(path: Path | None, env: dict[str, str], rows: list[Row]) -> None:
    """Print the table, and write the JSON (after every resolution, so a timeout keeps rows)."""
    print(format_table(rows), flush=True)
    write_json(path, env, rows)


def write_json(path: Path | None, env: dict[str, str], rows: list[Row]) -> None:
    """The rows as JSON (nothing without a path)."""
    if path is not None:
        path.write_text(json.dumps({"env": env, "rows": [asdict(r) for r in rows]}, indent=1))
