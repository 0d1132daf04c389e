"""What cuts a generate call short, for the story engine and the motion engine alike.

The artist's cancel reaches a call as ``cancelled`` (a function or a ``threading.Event``); the
call polls it between steps through :func:`cancel_check` and leaves the pipeline by raising
:class:`~inference.results.Stop` from its step callback. The device may also run out of memory.
:func:`interrupts_as_errors` turns both into the typed errors the worker and the CLI show:
``Cancelled`` with the number of images already delivered, and ``OutOfMemory`` naming the device
and what it was doing, with the engine's advice, after the device's cached memory is freed so the
engine stays usable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from inference.errors import Cancelled, OutOfMemory
from inference.results import Stop

Cancel = Callable[[], bool] | threading.Event
"""What a caller passes as ``cancelled``: a function saying whether to stop, or an event."""

OUT_OF_MEMORY = (torch.OutOfMemoryError, MemoryError)
"""Out of memory on the device or on the host (MPS says so in a plain ``RuntimeError``)."""


def cancel_check(cancelled: Cancel | None) -> Callable[[], bool]:
    """``cancelled`` as a function to poll between steps (never true without one)."""
    if cancelled is None:
        return lambda: False
    if isinstance(cancelled, threading.Event):
        return cancelled.is_set
    return cancelled


OUT_OF_MEMORY_WORDS = ("out of memory", "can't allocate memory", "cannot allocate memory")
"""How a plain ``RuntimeError`` says it: MPS ("out of memory"), the CPU allocator ("can't
allocate memory: you tried to allocate 51200000000 bytes")."""


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says that the device or the host ran out of memory."""
    if isinstance(exc, OUT_OF_MEMORY):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(words in text for words in OUT_OF_MEMORY_WORDS)


def free_cached_memory(device: torch.device) -> None:
    """Give the memory torch keeps cached on ``device`` back to the driver."""
    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()


def out_of_memory(device: torch.device, doing: str, advice: str) -> OutOfMemory:
    """The error for running out of memory on ``device`` while ``doing``, the cache freed."""
    free_cached_memory(device)
    return OutOfMemory(f"{device} while {doing}", advice)


@contextmanager
def interrupts_as_errors(
    device: torch.device,
    doing: str,
    advice: Callable[[], str],
    images_kept: Callable[[], int],
    before_freeing: Callable[[], object] = lambda: None,
) -> Iterator[None]:
    """Inside: ``Stop`` becomes ``Cancelled(images_kept())``, running out of memory becomes
    :func:`out_of_memory` (``before_freeing`` first, e.g. to drop references to big tensors);
    every other error passes unchanged."""
    try:
        yield
    except Stop:
        raise Cancelled(images_kept()) from None
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        before_freeing()
        raise out_of_memory(device, doing, advice()) from exc
