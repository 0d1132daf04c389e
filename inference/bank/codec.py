"""How identity-bank entries are stored: 8-bit floats with one scale per token.

A bank entry is a layer's input tokens, ``(G, M, C)`` in the pipeline dtype. Stored as is, the
SDXL bank of 4 identity panels at 1024 px is 9.1 GiB: after its file is evicted from the page
cache, a regenerated panel waits for the disk (2.1 GB/s on the lent H100) far longer than the
panel takes. Encoded, each value is one byte (float8 e4m3) and each token carries the float32
factor that maps its largest magnitude to fp8's largest value (448); that halves an fp16 bank, on
the GPU, in pinned memory and on disk.

Why fp8 and not int8: the tokens of diffusion UNets have a few channels far larger than the rest,
and with an int8 scale per token those channels would leave the others a handful of levels. fp8
keeps about two significant digits at every magnitude. The read re-projects the tokens into keys
and values, which averages the rounding over the channels; panels change only slightly (see
``docs/benchmarks.md``).

An encoded entry is one ``uint8`` tensor ``(G, M, C + 4)``: C fp8 bytes, then the scale's four
bytes. So the bank's writer, file, stream and pinned buffers handle it like any other tensor, and
a ``uint8`` entry is known to be encoded. Where fp8 is not available (Apple MPS) or the channels
are not a multiple of 4 (the scale would be misaligned), entries stay in the pipeline dtype, as
they do on devices that :attr:`IdentityBank.encode_on` leaves out.
"""

from __future__ import annotations

import torch

STORED = torch.uint8
"""The dtype of an encoded entry."""
_FP8 = torch.float8_e4m3fn
_FP8_MAX = 448.0
_SCALE_BYTES = 4


def encodes(device: torch.device, channels: int) -> bool:
    """Whether entries of this many channels on this device are stored encoded."""
    return device.type in ("cuda", "cpu") and channels % _SCALE_BYTES == 0


def stored_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of the encoded form of an entry of ``shape``."""
    return (*shape[:-1], shape[-1] + _SCALE_BYTES)


def encode(tokens: torch.Tensor) -> torch.Tensor:
    """``(..., C)`` floating tokens -> ``(..., C + 4)`` bytes (fp8 values, then the scale)."""
    if tokens.numel() == 0:  # (CSA rate 0: nothing sampled)
        return tokens.new_empty(stored_shape(tuple(tokens.shape)), dtype=STORED)
    amax = tokens.abs().amax(dim=-1, keepdim=True).float()
    scale = (amax / _FP8_MAX).clamp_(min=torch.finfo(torch.float32).tiny)
    values = (tokens.float() / scale).to(_FP8)
    return torch.cat([values.view(STORED), scale.view(STORED)], dim=-1)


def decode(stored: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Inverse of :func:`encode` in ``dtype``; an entry that is not encoded is only cast."""
    if stored.dtype != STORED:
        return stored.to(dtype)
    values = stored[..., :-_SCALE_BYTES].view(_FP8).to(dtype)
    scale = stored[..., -_SCALE_BYTES:].view(torch.float32)
    return values.mul_(scale)  # (computed in float32, so a tiny scale loses nothing)
