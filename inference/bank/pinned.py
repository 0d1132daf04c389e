"""Page-locked (pinned) host buffers for an offloaded identity bank, allocated off the hot path.

Pinning memory is slow: torch's pinned allocator measured about 2.8 GB/s on the H100 machine, i.e.
~3.5 s for the 9 GiB bank of a 1024 px write that itself takes ~5 s, and it rounds every block up to
a power of two. Here each step's entries share one exact-size buffer, pre-faulted by a parallel
``zero_()`` and then registered with ``cudaHostRegister``, and the buffers are made by a background
thread in step order while the GPU works on the earlier steps. A write only waits if the thread
falls behind.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
import weakref
from collections.abc import Mapping, Sequence

import torch

logger = logging.getLogger(__name__)


def _unregister(ptr: int) -> None:
    with contextlib.suppress(Exception):  # at interpreter shutdown there is nothing to do
        torch.cuda.cudart().cudaHostUnregister(ptr)


def pinned_empty(numel: int, dtype: torch.dtype) -> torch.Tensor:
    """A 1-D pinned CPU tensor of exactly ``numel`` elements (falls back to torch's allocator)."""
    if numel == 0:
        return torch.empty(0, dtype=dtype)
    try:
        buffer = torch.empty(numel, dtype=dtype)
        buffer.zero_()  # fault the pages in with all intra-op threads before pinning
        nbytes = numel * buffer.element_size()
        err = torch.cuda.cudart().cudaHostRegister(buffer.data_ptr(), nbytes, 0)
        if int(err) != 0:
            raise RuntimeError(f"cudaHostRegister failed with {err}")
    except (AttributeError, RuntimeError) as exc:
        logger.debug("cudaHostRegister unavailable (%s); using torch's pinned allocator", exc)
        return torch.empty(numel, dtype=dtype, pin_memory=True)
    weakref.finalize(buffer, _unregister, buffer.data_ptr())
    return buffer


class StepBuffers:
    """One pinned buffer per denoising step, made by a background thread in step order.

    ``layout[step]`` lists the (layer, shape) entries of that step; ``view(layer, step)`` waits
    for that step's buffer and returns the entry's slice of it.
    """

    def __init__(
        self,
        layout: Mapping[int, Sequence[tuple[str, tuple[int, ...]]]],
        dtype: torch.dtype,
    ) -> None:
        self._layout = {s: list(entries) for s, entries in sorted(layout.items())}
        self._dtype = dtype
        self._ready = {s: threading.Event() for s in self._layout}
        self._stop = threading.Event()
        self._views: dict[tuple[str, int], torch.Tensor] = {}
        self._buffers: list[torch.Tensor] = []
        self.alloc_seconds = 0.0
        self.wait_seconds = 0.0
        self._thread = threading.Thread(target=self._run, name="bank-pinning", daemon=True)
        self._thread.start()

    @property
    def nbytes(self) -> int:
        """Bytes pinned so far."""
        return sum(b.numel() * b.element_size() for b in self._buffers)

    def _run(self) -> None:
        for step, entries in self._layout.items():
            if self._stop.is_set():
                self._ready[step].set()
                continue
            try:
                start = time.perf_counter()
                sizes = [math.prod(shape) for _, shape in entries]
                buffer = pinned_empty(sum(sizes), self._dtype)
                self._buffers.append(buffer)
                offset = 0
                for (layer, shape), size in zip(entries, sizes, strict=True):
                    self._views[(layer, step)] = buffer[offset : offset + size].view(shape)
                    offset += size
                self.alloc_seconds += time.perf_counter() - start
            except Exception:
                logger.exception("pinning the bank buffer of step %d failed", step)
            finally:
                self._ready[step].set()

    def view(self, layer: str, step: int, shape: torch.Size) -> torch.Tensor | None:
        """The pinned slot for (layer, step), or None if none was planned with this shape."""
        ready = self._ready.get(step)
        if ready is None:
            return None
        if not ready.is_set():
            start = time.perf_counter()
            ready.wait()
            self.wait_seconds += time.perf_counter() - start
        view = self._views.get((layer, step))
        if view is None or view.shape != shape:
            return None
        return view

    def join(self, stop: bool = False) -> None:
        """Wait for the thread; with ``stop``, skip the buffers not started yet (a cancelled
        write needs no more of them)."""
        if stop:
            self._stop.set()
        self._thread.join()
