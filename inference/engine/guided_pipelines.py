"""The guided pipelines of the loaded model: img2img, inpainting, ControlNet and T2I-Adapter.

Each method is a diffusers pipeline made with ``from_pipe`` from the engine's loaded pipeline: the
UNet, VAE and text encoders are shared (no second copy in memory), and so are the CSA processors
installed on the UNet, so a guided panel reads its characters' identity banks like any other.
ControlNet (scribble/lineart) and T2I-Adapter (sketch) take the artist's weights, loaded once per
folder; missing files are ``ModelUnavailable`` with the download command, and only that method
fails.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from inference.errors import ModelUnavailable
from inference.model_loading import ModelKind
from storyboard.core.model import GuidanceMethod

logger = logging.getLogger(__name__)

WEIGHT_REPOS = {
    (GuidanceMethod.CONTROLNET, ModelKind.SD15): "lllyasviel/control_v11p_sd15_scribble",
    (GuidanceMethod.CONTROLNET, ModelKind.SDXL): "xinsir/controlnet-scribble-sdxl-1.0",
    (GuidanceMethod.T2I_ADAPTER, ModelKind.SD15): "TencentARC/t2iadapter_sketch_sd15v2",
    (GuidanceMethod.T2I_ADAPTER, ModelKind.SDXL): "TencentARC/t2i-adapter-sketch-sdxl-1.0",
}
_NAMES = {GuidanceMethod.CONTROLNET: "ControlNet", GuidanceMethod.T2I_ADAPTER: "T2I-Adapter"}
_CLASSES = {
    (GuidanceMethod.IMG2IMG, ModelKind.SD15): "StableDiffusionImg2ImgPipeline",
    (GuidanceMethod.IMG2IMG, ModelKind.SDXL): "StableDiffusionXLImg2ImgPipeline",
    (GuidanceMethod.INPAINT, ModelKind.SD15): "StableDiffusionInpaintPipeline",
    (GuidanceMethod.INPAINT, ModelKind.SDXL): "StableDiffusionXLInpaintPipeline",
    (GuidanceMethod.CONTROLNET, ModelKind.SD15): "StableDiffusionControlNetPipeline",
    (GuidanceMethod.CONTROLNET, ModelKind.SDXL): "StableDiffusionXLControlNetPipeline",
    (GuidanceMethod.T2I_ADAPTER, ModelKind.SD15): "StableDiffusionAdapterPipeline",
    (GuidanceMethod.T2I_ADAPTER, ModelKind.SDXL): "StableDiffusionXLAdapterPipeline",
}


class GuidedPipelines:
    """The guided pipelines of one loaded model, made on first use and kept."""

    def __init__(self, base: Any, kind: ModelKind, device: torch.device) -> None:
        self.base = base
        self.kind = kind
        self.device = device
        self._made: dict[tuple[GuidanceMethod, str | None], Any] = {}

    def pipeline(self, method: GuidanceMethod, weights: str | None) -> Any:
        """The pipeline for ``method`` (raises ModelUnavailable for missing guidance weights)."""
        key = (method, weights if method in _NAMES else None)
        if key not in self._made:
            import diffusers

            extra = {}
            if method in _NAMES:
                for old in [k for k in self._made if k[0] is method]:
                    del self._made[old]  # one ControlNet / adapter in memory at a time
                extra = {_argument(method): self._load_weights(method, weights)}
            cls = getattr(diffusers, _CLASSES[(method, self.kind)])
            made = cls.from_pipe(self.base, **extra)
            made.set_progress_bar_config(disable=True)
            self._made[key] = made
        return self._made[key]

    def _load_weights(self, method: GuidanceMethod, weights: str | None) -> Any:
        import diffusers

        name = _NAMES[method]
        repo = WEIGHT_REPOS[(method, self.kind)]
        folder = Path(weights).expanduser() if weights else None
        fix = (
            f"Download {name} weights for {self.kind.upper()} once, e.g. with: hf download {repo} "
            f"--local-dir <folder>, and choose that folder in Settings; or pick another guidance "
            "method (img2img needs no extra weights)"
        )
        if folder is None:
            raise ModelUnavailable(name, [f"no {name} folder is set"], fix)
        if not (folder / "config.json").is_file():
            raise ModelUnavailable(name, [f"{folder} holds no config.json"], fix)
        cls = (
            diffusers.ControlNetModel
            if method is GuidanceMethod.CONTROLNET
            else diffusers.T2IAdapter
        )
        try:
            module = cls.from_pretrained(
                str(folder), torch_dtype=self.base.unet.dtype, local_files_only=True
            )
        except Exception as exc:
            lines = str(exc).strip().splitlines()
            reason = f"{type(exc).__name__}: {lines[0][:300] if lines else ''}"
            raise ModelUnavailable(name, [f"{folder} could not be loaded ({reason})"], fix) from exc
        logger.info("loaded %s from %s", name, folder)
        return module.to(self.device)


def _argument(method: GuidanceMethod) -> str:
    return "controlnet" if method is GuidanceMethod.CONTROLNET else "adapter"
