"""Writing an identity bank to its safetensors file, streamed from the GPU in large pieces.

``safetensors.torch.save_file`` needs every tensor on the CPU first: for the 9 GiB bank of an SDXL
write at 1024 px that is a 9 GiB copy from the GPU into pageable memory (which the driver makes
synchronously, through its own staging), then another copy into bytes, then the write; the
identity phase spent 9-15 s on it while the panels after it waited. Here the header is made from
the tensors' shapes alone, and the data goes out through two pinned buffers in turn: the GPU copies
into one on a side stream while the other is written to the file. Nothing waits for the GPU but
the copies, and the host never holds more than the two buffers. At 1024 px the 9.12 GiB file
took 4.1 s instead of 14.6 s on the H100 machine (``docs/benchmarks.md``).

The file is an ordinary safetensors file (header: a u64 length, then JSON with each tensor's dtype,
shape and byte range, padded with spaces to 8 bytes), in name order like the library's own writer,
which :mod:`inference.bank.stream` relies on to read a step as one byte range.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import torch

DTYPE_NAMES = {
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float32: "F32",
    torch.uint8: "U8",  # encoded entries (inference.bank.codec)
}
"""safetensors' names of the dtypes a bank entry can have."""


def header_bytes(tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str]) -> bytes:
    """The length-prefixed JSON header for ``tensors`` written in name order."""
    header: dict[str, object] = {"__metadata__": dict(metadata)}
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name]
        if tensor.dtype not in DTYPE_NAMES:
            raise ValueError(f"a bank entry cannot be {tensor.dtype}")
        size = tensor.numel() * tensor.element_size()
        header[name] = {
            "dtype": DTYPE_NAMES[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw


def _bytes(tensor: torch.Tensor) -> torch.Tensor:
    """The tensor's data as a flat byte tensor (a view when it is contiguous)."""
    return tensor.contiguous().reshape(-1).view(torch.uint8)


class _StagedOut:
    """GPU bytes out to a file through two pinned buffers used in turn."""

    CHUNK = 32 * 1024 * 1024

    def __init__(self, handle: BinaryIO, side: torch.cuda.Stream) -> None:
        self.handle, self.side = handle, side
        self.buffers = [torch.empty(self.CHUNK, dtype=torch.uint8, pin_memory=True) for _ in "ab"]
        self.turn = 0
        self.filled = 0
        self.pending: tuple[torch.Tensor, torch.cuda.Event] | None = None

    def add(self, data: torch.Tensor) -> None:
        while data.numel():
            count = min(self.CHUNK - self.filled, data.numel())
            buffer = self.buffers[self.turn]
            buffer[self.filled : self.filled + count].copy_(data[:count], non_blocking=True)
            self.filled += count
            data = data[count:]
            if self.filled == self.CHUNK:
                self.flush()

    def flush(self) -> None:
        """Queue the filled part of this turn's buffer, then write the previous one."""
        if self.filled:
            event = torch.cuda.Event()
            event.record(self.side)
            filled = self.buffers[self.turn][: self.filled]
            self._write_pending()  # the other buffer is free again once written
            self.pending = (filled, event)
            self.turn, self.filled = 1 - self.turn, 0

    def close(self) -> None:
        self.flush()
        self._write_pending()

    def _write_pending(self) -> None:
        if self.pending is not None:
            data, event = self.pending
            event.synchronize()
            self.handle.write(data.numpy().data)
            self.pending = None


def write_bank_file(
    path: Path,
    tensors: Mapping[str, torch.Tensor],
    metadata: Mapping[str, str],
    ready: torch.cuda.Event | None = None,
) -> None:
    """Write ``tensors`` (CPU or one CUDA device) and ``metadata`` as a safetensors file.

    ``ready`` marks the point on the writing thread's stream after which the GPU tensors hold
    their final values; the copies wait for it (the caller may be another thread).
    """
    names = sorted(tensors)
    devices = {tensors[n].device for n in names if tensors[n].is_cuda}
    # A buffered file writes each piece whole (a raw write may take only part of it); pieces
    # larger than its buffer bypass it.
    with path.open("wb") as handle:
        handle.write(header_bytes(tensors, metadata))
        if not devices:
            for name in names:
                handle.write(_bytes(tensors[name]).numpy().data)
        else:
            (device,) = devices
            side = torch.cuda.Stream(device=device)
            if ready is not None:
                side.wait_event(ready)
            with torch.cuda.stream(side):
                out = _StagedOut(handle, side)
                for name in names:
                    out.add(_bytes(tensors[name].to(device)))
                out.close()
