"""LoRA files on the loaded pipeline: loaded once each, switched per pipeline call.

Each request's panels carry the LoRAs they are drawn with (``PanelJob.loras``, resolved from the
project by :mod:`storyboard.core.panel_loras`). :meth:`LoraAdapters.use` makes that set the active
one before a batch's prompts are encoded (a LoRA may change the text encoders too): each file is
loaded once as a peft adapter through diffusers' ``load_lora_weights`` (diffusers/peft and kohya
key names both load; diffusers converts the kohya ones), and ``set_adapters`` gives each its
weight; a batch without LoRAs runs with the adapters disabled, exactly the plain model.

The adapters are never fused: a batch's set changes from one call to the next, and unfused peft
layers wrap only ``to_q``/``to_k``/``to_v``/``to_out`` and the like, never the attention
processors, so the Consistent Self-Attention and regional-prompt processors stay on their layers
(``tests/inference/test_loras.py`` checks this after loading and after a fuse).

A LoRA applies to a whole UNet pass; it cannot be limited to a region of the picture. So every
panel of one pipeline call must share one set (the story run cuts batches by it), and a panel
drawing regional prompts is given no character LoRA (``storyboard.core.panel_loras``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from inference.errors import GenerationError
from storyboard.core.lora_files import LoraFile

logger = logging.getLogger(__name__)

MAX_LOADED = 8  # adapters kept on the model between calls; older unused ones are deleted


def lora_set(jobs: Sequence[Any]) -> tuple[LoraFile, ...]:
    """The one LoRA set the panels of a pipeline call share (GenerationError otherwise)."""
    sets = {job.loras for job in jobs}
    if len(sets) > 1:
        labels = ", ".join(job.label for job in jobs)
        raise GenerationError(
            f"panels {labels} must be drawn together but use different LoRAs; a LoRA applies to "
            "the whole picture, so give them the same style and characters' LoRAs"
        )
    return next(iter(sets), ())


def adapter_name(lora: LoraFile) -> str:
    """One adapter per file version (name, size, time), whatever its weight."""
    key = f"{lora.path}@{lora.size}:{lora.modified_ns}"
    return "lora_" + hashlib.sha256(key.encode()).hexdigest()[:16]


class LoraAdapters:
    """The LoRA adapters loaded on one pipeline, and which are active."""

    def __init__(self, pipe: Any, before_load: Callable[[], None] | None = None) -> None:
        self.pipe = pipe
        self.before_load = before_load  # the fast path unfuses QKV projections LoRAs wrap
        self.loaded: list[str] = []  # adapter names, least recently used first
        self.active: tuple[tuple[str, float], ...] = ()

    def use(self, loras: Sequence[LoraFile]) -> None:
        """Make ``loras`` (with their weights) the active set; none: the plain model."""
        wanted = tuple((self._load(lora), lora.weight) for lora in loras)
        if wanted == self.active:
            return
        if wanted:
            self.pipe.enable_lora()
            names, weights = zip(*wanted, strict=True)
            self.pipe.set_adapters(list(names), list(weights))
        elif self.loaded:
            self.pipe.disable_lora()
        self.active = wanted
        self._forget(keep={name for name, _ in wanted})

    def _load(self, lora: LoraFile) -> str:
        name = adapter_name(lora)
        if name in self.loaded:
            self.loaded.remove(name)
            self.loaded.append(name)
            return name
        logger.info("loading LoRA %s", lora.path)
        if self.before_load is not None:
            self.before_load()
        try:
            self.pipe.load_lora_weights(lora.path, adapter_name=name)
        except FileNotFoundError as exc:
            raise GenerationError(f"the LoRA {lora.name} is gone ({lora.path})") from exc
        except (ValueError, RuntimeError, KeyError, OSError) as exc:
            self._delete(name)
            raise GenerationError(
                f"the LoRA {lora.name} could not be loaded on this model: {exc}. It may be made "
                "for another base model (SD 1.5 and SDXL LoRAs do not mix) or in a format "
                "diffusers does not read"
            ) from exc
        self.loaded.append(name)
        self.active = ()  # loading may change which adapters are active
        return name

    def _forget(self, keep: set[str]) -> None:
        while len(self.loaded) > MAX_LOADED:
            old = next((n for n in self.loaded if n not in keep), None)
            if old is None:
                return
            self._delete(old)
            self.loaded.remove(old)

    def _delete(self, name: str) -> None:
        try:
            self.pipe.delete_adapters(name)
        except (ValueError, KeyError, RuntimeError, AttributeError) as exc:
            logger.debug("adapter %s not deleted: %s", name, exc)
