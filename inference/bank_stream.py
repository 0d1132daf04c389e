"""Reading a saved identity bank onto the GPU while the panel that needs it is being denoised.

A bank file is large (9 GiB for SDXL at 1024 px: larger than the model), and reading it whole
before the first step made regenerating one panel 1.5 s slower with the file in the page cache.
But step s of the denoising loop only needs the bank's entries of step s. So the file is read in
step order by a background thread into GPU memory on a side CUDA stream, and each layer call
waits only for its own entry.

The thread spends its time in a file read into a pinned buffer and an asynchronous copy from
there to the GPU (see :class:`_Staging`), both without the GIL, so the thread that launches the
UNet's kernels is not held up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import struct
import threading
from dataclasses import dataclass
from io import FileIO
from pathlib import Path

import torch

logger = logging.getLogger(__name__)

_DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32}
Key = tuple[str, int]


@dataclass(frozen=True)
class StoredEntry:
    """Where one (layer, step) entry lies in a safetensors file."""

    layer: str
    step: int
    dtype: torch.dtype
    shape: tuple[int, ...]
    offset: int  # from the start of the file
    numel: int


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
        layer, _, step = name.rpartition("@")
        shape = tuple(int(s) for s in info["shape"])
        numel = math.prod(shape)
        begin = 8 + length + int(info["data_offsets"][0])
        out.append(StoredEntry(layer, int(step), _DTYPES[info["dtype"]], shape, begin, numel))
    return out


def _call_order(entry: StoredEntry) -> tuple[object, ...]:
    """Step first, then the layer's place in the UNet's forward order (``up_blocks.1`` before
    ``up_blocks.10``: numbers compare as numbers)."""
    parts = re.split(r"(\d+)", entry.layer)
    return (entry.step, *((0, int(p)) if p.isdigit() else (1, p) for p in parts))


class _Staging:
    """A few pinned host buffers, each the size of the largest entry, used in turn.

    A copy from pageable memory to the GPU is done by the driver through its own staging,
    synchronously, and it held up the thread that launches the UNet's kernels: the first step
    waited for the whole bank. From pinned memory the copy is true asynchronous DMA; the thread
    itself fills the pinned buffer with a file read.
    """

    SLOTS = 3

    def __init__(self, entries: list[StoredEntry]) -> None:
        largest = max((e.numel * e.dtype.itemsize for e in entries), default=0)
        self.buffers = [
            torch.empty(largest, dtype=torch.uint8, pin_memory=True) for _ in range(self.SLOTS)
        ]
        self.copied: list[torch.cuda.Event | None] = [None] * self.SLOTS
        self.turn = 0

    def copy(
        self, handle: FileIO, entry: StoredEntry, device: torch.device, side: torch.cuda.Stream
    ) -> tuple[torch.Tensor, torch.cuda.Event]:
        """``entry`` read into a pinned buffer, then copied to ``device`` on ``side``; the event
        marks the end of that copy."""
        slot = self.turn % self.SLOTS
        self.turn += 1
        done = self.copied[slot]
        if done is not None:
            done.synchronize()  # its last copy to the GPU has left the buffer
        nbytes = entry.numel * entry.dtype.itemsize
        host = self.buffers[slot][:nbytes].view(entry.dtype).view(entry.shape)
        _read_into(handle, entry.offset, host)
        tensor = torch.empty(entry.shape, dtype=entry.dtype, device=device)
        tensor.copy_(host, non_blocking=True)
        event = torch.cuda.Event()
        event.record(side)
        self.copied[slot] = event
        return tensor, event


def _read_into(handle: FileIO, offset: int, target: torch.Tensor) -> None:
    """Fill the contiguous CPU tensor ``target`` from the file at ``offset``.

    A plain read (the GIL is released) copies from the page cache in one go; reading through a
    memory map instead took a page fault every 4 KiB and was slower than denoising.
    """
    view = target.view(torch.uint8).reshape(-1).numpy().data
    handle.seek(offset)
    got = 0
    while got < len(view):
        count = handle.readinto(view[got:])
        if not count:
            raise OSError("the identity bank file ended early")
        got += count


class BankStream:
    """A background read of a bank file onto ``device`` (a GPU; the CPU works the same way, with
    no streams); :meth:`take` waits for one entry."""

    READERS = 3
    """Threads reading at once, each a share of the entries in step order: one thread's file
    reads and copies did not keep up with a single SDXL panel's denoising at 1024 px."""

    def __init__(self, path: Path, entries: list[StoredEntry], device: torch.device) -> None:
        self.path, self.device = path, device
        self.entries = {(e.layer, e.step): e for e in entries}
        self.order = sorted(entries, key=_call_order)
        """The entries in the order they are needed; the readers take turns along it."""
        self._ready: dict[Key, tuple[torch.Tensor, torch.cuda.Event | None]] = {}
        self._done = threading.Condition()
        self._running = self.READERS
        self._error: BaseException | None = None
        self._threads = [
            threading.Thread(target=self._run, args=(self.order[i :: self.READERS],), daemon=True)
            for i in range(self.READERS)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, entries: list[StoredEntry]) -> None:
        cuda = self.device.type == "cuda"
        try:
            side = torch.cuda.Stream(device=self.device) if cuda else None
            staging = _Staging(entries) if cuda else None
            with (
                self.path.open("rb", buffering=0) as handle,
                torch.cuda.stream(side) if side is not None else contextlib.nullcontext(),
            ):
                for entry in entries:
                    if staging is None or side is None:
                        tensor = torch.empty(entry.shape, dtype=entry.dtype)
                        _read_into(handle, entry.offset, tensor)
                        event = None
                    else:
                        tensor, event = staging.copy(handle, entry, self.device, side)
                    with self._done:
                        self._ready[(entry.layer, entry.step)] = (tensor, event)
                        self._done.notify_all()
        except BaseException as exc:  # handed to the thread that waits for an entry
            self._error = exc
            logger.warning("reading identity bank %s failed: %s", self.path, exc)
        with self._done:
            self._running -= 1
            self._done.notify_all()

    def take(self, key: Key) -> torch.Tensor:
        """Entry ``key`` on the device, usable on the current stream (waits for it if need be)."""
        with self._done:
            while key not in self._ready:
                if not self._running:
                    raise OSError(f"identity bank {self.path} has no readable entry {key}") from (
                        self._error
                    )
                self._done.wait()
            tensor, event = self._ready[key]
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
