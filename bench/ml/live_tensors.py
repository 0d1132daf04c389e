"""What holds a device's memory: every live tensor on it, sorted by what owns it.

``torch.cuda.memory_allocated`` says how much is held, not by what. This walks the garbage
collector's objects once, keeps the tensors on one device (each storage counted once, so views
are not counted twice), and names each storage by its owner: a parameter or buffer of one of the
pipeline's modules (by module), an identity bank, or "other", whose storages are listed by shape
and dtype, the largest first, so a leftover (a second copy of weights, a step's activations kept
alive) shows what it is.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from bench.ml.csa import GIB


def _storage(tensor: torch.Tensor) -> tuple[int, int]:
    storage = tensor.untyped_storage()
    return storage.data_ptr(), storage.nbytes()


def census(
    device: torch.device,
    modules: Mapping[str, Any],
    named: Mapping[str, Iterable[torch.Tensor]] | None = None,
    top: int = 15,
) -> dict[str, Any]:
    """GiB held on ``device`` per owner: each of ``modules`` (name -> nn.Module), each group of
    ``named`` tensors (e.g. a bank), and the rest, with its ``top`` largest storages described."""
    owner: dict[int, str] = {}
    for name, module in modules.items():
        if isinstance(module, torch.nn.Module):
            for tensor in [*module.parameters(), *module.buffers()]:
                if tensor.device == device:
                    owner.setdefault(_storage(tensor)[0], name)
    for name, tensors in (named or {}).items():
        for tensor in tensors:
            if isinstance(tensor, torch.Tensor) and tensor.device == device:
                owner.setdefault(_storage(tensor)[0], name)
    seen: dict[int, tuple[int, str]] = {}
    for obj in gc.get_objects():
        try:
            if not isinstance(obj, torch.Tensor) or obj.device != device:
                continue
            pointer, size = _storage(obj)
        except Exception:  # fake, meta or freed tensors: not memory held here
            continue
        if pointer and pointer not in seen:
            seen[pointer] = (size, f"{tuple(obj.shape)} {str(obj.dtype).removeprefix('torch.')}")
    totals: dict[str, float] = defaultdict(float)
    others: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pointer, (size, what) in seen.items():
        name = owner.get(pointer, "other")
        totals[name] += size / GIB
        if name == "other":
            others[what][0] += 1
            others[what][1] += size
    largest = sorted(others.items(), key=lambda item: -item[1][1])[:top]
    return {
        "gib": {name: round(gib, 3) for name, gib in sorted(totals.items())},
        "total_gib": round(sum(totals.values()), 3),
        "other_largest": [
            {"tensor": what, "count": count, "gib": round(size / GIB, 3)}
            for what, (count, size) in largest
        ],
    }
