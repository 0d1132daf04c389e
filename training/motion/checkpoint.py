"""Training checkpoints as safetensors (no pickles), so resuming runs no code from the file.

``checkpoint-000500/`` holds ``predictor/`` (config + weights, loadable by the app as is),
``unet_trained.safetensors`` (only the UNet tensors that were trained, if any), the optimizer's
moments as ``optimizer.safetensors`` with its hyper-parameters in ``state.json``, and the step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch

from inference.motion.predictor import save_predictor

UNET_FILE = "unet_trained.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"
_NAME = re.compile(r"checkpoint-(\d+)$")


def checkpoint_dir(out: Path, step: int) -> Path:
    return out / f"checkpoint-{step:06d}"


def latest_checkpoint(out: Path) -> Path | None:
    """The checkpoint of the highest step in ``out`` that was written completely."""
    steps: dict[int, Path] = {}
    for path in out.glob("checkpoint-*"):
        match = _NAME.search(path.name)
        if match and (path / STATE_FILE).is_file():
            steps[int(match.group(1))] = path
    return steps[max(steps)] if steps else None


def save_checkpoint(
    folder: Path,
    *,
    step: int,
    predictor: Any,
    unet_trained: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    extra: dict[str, Any],
) -> Path:
    """Write a checkpoint; ``state.json`` goes last, so a half-written one is never resumed."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_predictor(predictor, folder / "predictor")
    if unet_trained:
        save_file(_cpu(unet_trained), str(folder / UNET_FILE))
    tensors, groups = _flatten(optimizer)
    save_file(tensors, str(folder / OPTIMIZER_FILE))
    state = {"step": step, "param_groups": groups, **extra}
    (folder / STATE_FILE).write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    return folder


def load_training_state(folder: Path, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Restore the optimizer from ``folder``; returns ``state.json`` (step and run settings)."""
    from safetensors.torch import load_file

    state: dict[str, Any] = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    moments: dict[int, dict[str, torch.Tensor]] = {}
    for key, tensor in load_file(str(folder / OPTIMIZER_FILE)).items():
        index, name = key.split(".", 1)
        moments.setdefault(int(index), {})[name] = tensor
    optimizer.load_state_dict({"state": moments, "param_groups": state["param_groups"]})
    return state


def load_unet_trained(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    path = folder / UNET_FILE
    return load_file(str(path)) if path.is_file() else {}


def _cpu(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}


def _flatten(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[Any]]:
    """Per-parameter state as ``"<index>.<name>"`` tensors; the groups (plain numbers) as JSON."""
    saved = optimizer.state_dict()
    tensors = {
        f"{index}.{name}": value if isinstance(value, torch.Tensor) else torch.tensor(value)
        for index, entry in saved["state"].items()
        for name, value in entry.items()
    }
    return _cpu(tensors), saved["param_groups"]
