"""Character reference images through IP-Adapter (optional weights the artist downloads).

With an IP-Adapter loaded, a panel whose character has a reference image is conditioned on that
image as well as on the text. The adapter is a layer-wide setting in diffusers (one scale for the
whole batch), so a batch is either all panels with references (scale on) or all without (scale 0,
which makes the output exactly that of the plain model): the engine splits batches accordingly.

Expected layout, as in the ``h94/IP-Adapter`` repository: ``<folder>/sdxl_models/ip-adapter_sdxl
.safetensors`` + ``<folder>/sdxl_models/image_encoder/`` for SDXL, ``<folder>/models/ip-adapter_sd15
.safetensors`` + ``<folder>/models/image_encoder/`` for SD 1.5. The adapter must be loaded before
Consistent Self-Attention is installed (loading it resets every attention processor).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image

from inference.errors import ModelUnavailable
from inference.model_loading import ModelKind

LAYOUT = {
    ModelKind.SDXL: ("sdxl_models", "ip-adapter_sdxl.safetensors"),
    ModelKind.SD15: ("models", "ip-adapter_sd15.safetensors"),
}
REPO = "h94/IP-Adapter"
DEFAULT_SCALE = 0.6


def load_ip_adapter(pipe: Any, folder: str, kind: ModelKind) -> None:
    """Load the adapter of ``kind`` from ``folder`` into ``pipe`` or raise ModelUnavailable."""
    sub, weight = LAYOUT[kind]
    root = Path(folder).expanduser()
    needed = [root / sub / weight, root / sub / "image_encoder" / "config.json"]
    missing = [str(p) for p in needed if not p.is_file()]
    fix = (
        f"Download the IP-Adapter weights once with: hf download {REPO} --include "
        f'"{sub}/{weight}" --include "{sub}/image_encoder/*" --local-dir {root}, '
        "or turn reference images off"
    )
    if missing:
        raise ModelUnavailable("IP-Adapter", [f"missing {', '.join(missing)}"], fix)
    try:
        pipe.load_ip_adapter(str(root), subfolder=sub, weight_name=weight, local_files_only=True)
    except Exception as exc:
        reason = (
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc) else ''}"
        )
        raise ModelUnavailable(
            "IP-Adapter", [f"{root} could not be loaded ({reason})"], fix
        ) from exc


def reference_embeds(
    pipe: Any, reference: str, device: torch.device, cfg: bool
) -> list[torch.Tensor]:
    """``ip_adapter_image_embeds`` of one reference image, for a whole batch.

    diffusers repeats the given embedding for every image of the call (a batch of different
    references would be mixed up), so the engine makes one call per reference. With guidance the
    layout is ``[uncond; cond]``, uncond being zeros.
    """
    image = Image.open(reference).convert("RGB")
    with torch.no_grad():
        embeds, negative = pipe.encode_image(image, device, 1)
    embeds = embeds[:, None]  # (1, one image, D)
    return [torch.cat([negative[:, None], embeds]) if cfg else embeds]


def no_reference_embeds(pipe: Any, device: torch.device, cfg: bool) -> list[torch.Tensor]:
    """Placeholder embeddings for a batch without a reference (used with scale 0)."""
    dim = pipe.image_encoder.config.projection_dim
    dtype = next(pipe.image_encoder.parameters()).dtype
    return [torch.zeros(((2 if cfg else 1), 1, dim), device=device, dtype=dtype)]
