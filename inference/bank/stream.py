"""Reading a saved identity bank onto the GPU while the panel that needs it is being denoised.

A bank file is large (9 GiB for SDXL at 1024 px: larger than the model), and reading it whole
before the first step made regenerating one panel 1.5 s slower with the file in the page cache.
But step s of the denoising loop only needs the bank's entries of step s, and the file keeps
each step's entries together (entry names start with the step, and safetensors lays tensors out
in name order). So background threads read the file step by step, each step in a few large
reads, and each layer call waits only for its own step.

A reader fills a pinned host buffer with a file read and copies it to the GPU asynchronously on a
side stream, both without the GIL. Two things that were tried first held up the thread that
launches the UNet's kernels (a single SDXL panel is bound by that thread): copying from pageable
memory, which the driver does synchronously through its own staging, and reading per entry, whose
thousands of small Python steps kept taking the GIL.
"""

from __future__ import annotations

import contextlib
import json
import logging
import struct
import threading
import time
from dataclasses import dataclass
from io import FileIO
from pathlib import Path

import torch

from inference.bank.writer import DTYPE_NAMES

logger = logging.getLogger(__name__)

_DTYPES = {name: dtype for dtype, name in DTYPE_NAMES.items()}
Key = tuple[str, int]


def entry_name(layer: str, step: int) -> str:
    """The tensor name of a bank entry: step first, so name order is denoising order."""
    return f"{step:04d}@{layer}"


@dataclass(frozen=True)
class StoredEntry:
    """Where one (layer, step) entry lies in a safetensors file."""

    layer: str
    step: int
    dtype: torch.dtype
    shape: tuple[int, ...]
    offset: int  # from the start of the file
    nbytes: int


@dataclass(frozen=True)
class StoredStep:
    """The entries of one step: one contiguous byte range of the file."""

    step: int
    start: int
    end: int
    entries: tuple[StoredEntry, ...]


def stored_entries(path: Path) -> list[StoredEntry]:
    """The bank entries of a safetensors file, read from its header (the format is a u64 header
    length, a JSON header with each tensor's dtype, shape and byte range, then the data). The
    file was checked whole by ``safe_open`` first."""
    with path.open("rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
    header.pop("__metadata__", None)
    out = []
    for name, info in header.items():
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"unexpected dtype {info['dtype']} in {path}")
        step, _, layer = name.partition("@")
        shape = tuple(int(s) for s in info["shape"])
        begin, end = (8 + length + int(o) for o in info["data_offsets"])
        out.append(StoredEntry(layer, int(step), _DTYPES[info["dtype"]], shape, begin, end - begin))
    return out


def stored_steps(entries: list[StoredEntry]) -> list[StoredStep]:
    """The entries grouped by step, in step order; refuses a file whose steps are not each one
    byte range (it would have to be read almost whole for every step)."""
    by_step: dict[int, list[StoredEntry]] = {}
    for entry in entries:
        by_step.setdefault(entry.step, []).append(entry)
    steps = []
    for step in sorted(by_step):
        group = by_step[step]
        start = min(e.offset for e in group)
        end = max(e.offset + e.nbytes for e in group)
        if end - start != sum(e.nbytes for e in group):
            raise ValueError(f"the entries of step {step} are not stored together")
        steps.append(StoredStep(step, start, end, tuple(group)))
    return steps


class _Staging:
    """A few pinned host buffers used in turn, so that copies to the GPU are asynchronous DMA.

    Pieces of 64 MB: fewer pieces (each a few Python steps that take the GIL from the thread
    launching the UNet's kernels) interfered less with the denoising. A warm regenerate at
    1024 px took 1.30x a plain panel with 16 MB pieces, 1.20x with 64 MB and 1.21x with 256 MB
    (H100, ``docs/benchmarks.md``).
    """

    SLOTS = 3
    CHUNK = 64 * 1024 * 1024

    def __init__(self) -> None:
        self.buffers = [
            torch.empty(self.CHUNK, dtype=torch.uint8, pin_memory=True) for _ in range(self.SLOTS)
        ]
        self.copied: list[torch.cuda.Event | None] = [None] * self.SLOTS
        self.turn = 0

    def read(
        self, handle: FileIO, start: int, target: torch.Tensor, side: torch.cuda.Stream
    ) -> None:
        """Fill the GPU byte tensor ``target`` from the file at ``start``, chunk by chunk."""
        for offset in range(0, target.numel(), self.CHUNK):
            size = min(self.CHUNK, target.numel() - offset)
            slot = self.turn % self.SLOTS
            self.turn += 1
            done = self.copied[slot]
            if done is not None:
                done.synchronize()  # its last copy to the GPU has left the buffer
            host = self.buffers[slot][:size]
            _read_into(handle, start + offset, host)
            target[offset : offset + size].copy_(host, non_blocking=True)
            event = torch.cuda.Event()
            event.record(side)
            self.copied[slot] = event


def _read_into(handle: FileIO, offset: int, target: torch.Tensor) -> None:
    """Fill the contiguous CPU byte tensor ``target`` from the file at ``offset`` (a plain read:
    through a memory map every 4 KiB page faulted and the read fell behind the denoising)."""
    view = target.numpy().data
    handle.seek(offset)
    got = 0
    while got < len(view):
        count = handle.readinto(view[got:])
        if not count:
            raise OSError("the identity bank file ended early")
        got += count


class BankStream:
    """A background read of a bank file onto ``device`` (a GPU; the CPU works the same way, with
    no streams); :meth:`take` waits for the step of one entry."""

    READERS = 2
    """Threads reading at once, taking the steps in turn."""

    def __init__(self, path: Path, entries: list[StoredEntry], device: torch.device) -> None:
        self.path, self.device = path, device
        self.entries = {(e.layer, e.step): e for e in entries}
        self.steps = stored_steps(entries)
        self._ready: dict[Key, torch.Tensor] = {}
        self._events: dict[int, torch.cuda.Event] = {}
        self._done = threading.Condition()
        self._running = self.READERS
        self._error: BaseException | None = None
        self._started = time.perf_counter()
        self.read_seconds = 0.0
        """Seconds from the start until the last step was read (0 while reading)."""
        self.waited_seconds = 0.0
        """Seconds that :meth:`take` callers spent waiting for a step not read yet."""
        self._threads = [
            threading.Thread(target=self._run, args=(self.steps[i :: self.READERS],), daemon=True)
            for i in range(self.READERS)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, steps: list[StoredStep]) -> None:
        cuda = self.device.type == "cuda"
        try:
            side = torch.cuda.Stream(device=self.device) if cuda else None
            staging = _Staging() if cuda else None
            with (
                self.path.open("rb", buffering=0) as handle,
                torch.cuda.stream(side) if side is not None else contextlib.nullcontext(),
            ):
                for step in steps:
                    data = torch.empty(step.end - step.start, dtype=torch.uint8, device=self.device)
                    event = None
                    if staging is None or side is None:
                        _read_into(handle, step.start, data)
                    else:
                        staging.read(handle, step.start, data, side)
                        event = torch.cuda.Event()
                        event.record(side)
                    self._publish(step, data, event)
        except BaseException as exc:  # handed to the thread that waits for an entry
            self._error = exc
            logger.warning("reading identity bank %s failed: %s", self.path, exc)
        with self._done:
            self._running -= 1
            if not self._running:
                self.read_seconds = time.perf_counter() - self._started
            self._done.notify_all()

    def _publish(
        self, step: StoredStep, data: torch.Tensor, event: torch.cuda.Event | None
    ) -> None:
        views = {}
        for e in step.entries:
            raw = data[e.offset - step.start : e.offset - step.start + e.nbytes]
            views[(e.layer, e.step)] = raw.view(e.dtype).view(e.shape)
        with self._done:
            self._ready.update(views)
            if event is not None:
                self._events[step.step] = event
            self._done.notify_all()

    def take(self, key: Key) -> torch.Tensor:
        """Entry ``key`` on the device, usable on the current stream (waits for it if need be)."""
        with self._done:
            if key not in self._ready:
                waiting = time.perf_counter()
            while key not in self._ready:
                if not self._running:
                    raise OSError(f"identity bank {self.path} has no readable entry {key}") from (
                        self._error
                    )
                self._done.wait()
                if key in self._ready:
                    self.waited_seconds += time.perf_counter() - waiting
            tensor = self._ready[key]
            event = self._events.get(key[1])
        if event is not None:
            current = torch.cuda.current_stream(self.device)
            current.wait_event(event)
            tensor.record_stream(current)
        return tensor

    def join(self) -> dict[Key, torch.Tensor]:
        """Every entry, once all are read; raises what stopped the read."""
        for thread in self._threads:
            thread.join()
        if self._error is not None or len(self._ready) != len(self.entries):
            raise OSError(f"identity bank {self.path} could not be read whole") from self._error
        return {key: self.take(key) for key in self._ready}
