"""The Semantic Motion Predictor: per-frame conditioning tokens from the start and end panels.

The paper (StoryDiffusion, Sec. 3.2) encodes both panels with a CLIP image encoder, interpolates
the two embeddings linearly over the L frames, refines that sequence with a transformer and feeds
each frame's result to the video UNet's cross-attention next to the text tokens. What the paper
leaves open is filled in as IP-Adapter does it (see research/motion.md section 1.4): the pooled,
projected CLIP embedding per panel, a learned position embedding per frame, a pre-norm transformer
(so a zeroed transformer is the identity and the output is the interpolation projected), and a
linear map to ``tokens_per_frame`` tokens of the UNet's cross-attention width with a LayerNorm.
The paper's 12 heads do not divide its width of 1024, so the default is 16.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from inference.errors import ModelUnavailable

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
DEFAULT_IMAGE_ENCODER = "h94/IP-Adapter/models/image_encoder"
"""OpenCLIP ViT-H/14 as a transformers ``CLIPVisionModelWithProjection`` (1024-d projection), the
encoder the paper names; IP-Adapter's copy is the one diffusers users already have."""


@dataclass(frozen=True, slots=True)
class PredictorConfig:
    """Sizes of a predictor; saved next to its weights, so a file always loads with its shapes."""

    clip_dim: int = 1024  # projection_dim of the CLIP image encoder
    width: int = 1024
    layers: int = 8
    heads: int = 16
    max_frames: int = 16  # frame-position embeddings; AnimateDiff v2 is a 16-frame model
    tokens_per_frame: int = 4
    cross_attention_dim: int = 768  # the video UNet's text-token width (SD 1.5: 768)
    ff_mult: int = 4
    dropout: float = 0.0
    image_encoder: str = DEFAULT_IMAGE_ENCODER  # what the embeddings came from in training

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if min(self.clip_dim, self.width, self.layers, self.max_frames, self.tokens_per_frame) < 1:
            raise ValueError(f"every size must be positive: {self}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PredictorConfig:
        """Known keys only, so a config written by a newer version with extra keys still loads."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            logger.warning("ignoring unknown predictor config keys %s", unknown)
        return cls(**{k: v for k, v in data.items() if k in names})


def interpolate(start: torch.Tensor, end: torch.Tensor, frames: int) -> torch.Tensor:
    """``frames`` embeddings from ``start`` (B, D) to ``end`` (B, D), ends included: (B, L, D)."""
    if frames < 2:
        raise ValueError(f"a transition needs at least 2 frames, got {frames}")
    t = torch.linspace(0.0, 1.0, frames, device=start.device, dtype=start.dtype)[None, :, None]
    return torch.lerp(start[:, None, :], end[:, None, :], t)


class SemanticMotionPredictor(nn.Module):
    """Start and end CLIP image embeddings in, (B, L, tokens_per_frame, cross_dim) tokens out."""

    def __init__(self, config: PredictorConfig) -> None:
        super().__init__()
        self.config = config
        self.in_proj = nn.Linear(config.clip_dim, config.width)
        self.frame_pos = nn.Parameter(torch.randn(config.max_frames, config.width) * 0.02)
        layer = nn.TransformerEncoderLayer(
            config.width,
            config.heads,
            config.ff_mult * config.width,
            config.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,  # residual stream untouched by the norms: zero weights = identity
        )
        self.transformer = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.out_proj = nn.Linear(
            config.width, config.tokens_per_frame * config.cross_attention_dim
        )
        self.out_norm = nn.LayerNorm(config.cross_attention_dim)

    def forward(self, start: torch.Tensor, end: torch.Tensor, frames: int) -> torch.Tensor:
        if frames > self.config.max_frames:
            raise ValueError(
                f"this predictor was built for at most {self.config.max_frames} frames, "
                f"not {frames}"
            )
        hidden = self.in_proj(interpolate(start, end, frames)) + self.frame_pos[:frames]
        return self.project(self.transformer(hidden))

    def project(self, hidden: torch.Tensor) -> torch.Tensor:
        """Transformer width (B, L, W) to per-frame tokens (B, L, N, C)."""
        c = self.config
        tokens = self.out_proj(hidden).unflatten(-1, (c.tokens_per_frame, c.cross_attention_dim))
        return self.out_norm(tokens)


# ---------------------------------------------------------------------------------- files
def save_predictor(predictor: SemanticMotionPredictor, folder: Path) -> Path:
    """Write ``folder/config.json`` and ``folder/model.safetensors``; returns the folder."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in predictor.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_NAME), metadata={"format": "pt"})
    text = json.dumps(asdict(predictor.config), indent=1)
    (folder / CONFIG_NAME).write_text(text + "\n", encoding="utf-8")
    return folder


def load_predictor(
    source: str | Path,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> SemanticMotionPredictor:
    """A predictor from its folder (or the ``model.safetensors`` inside it), in eval mode.

    Raises :class:`ModelUnavailable` naming what was looked for, and how to get a predictor.
    """
    from safetensors.torch import load_file

    path = Path(source).expanduser()
    folder = path.parent if path.suffix == ".safetensors" else path
    weights = path if path.suffix == ".safetensors" else folder / WEIGHTS_NAME
    config_file = folder / CONFIG_NAME
    fix = (
        "Train one with `python -m training.motion.train` in a clone of the editor's repository "
        "(its checkpoints hold a predictor/ folder), pick that folder in Settings, or switch the "
        "transition engine to LTX-Video"
    )
    missing = [str(p) for p in (weights, config_file) if not p.is_file()]
    if missing:
        raise ModelUnavailable(str(source), [f"no {m}" for m in missing], fix)
    try:
        config = PredictorConfig.from_dict(json.loads(config_file.read_text(encoding="utf-8")))
        predictor = SemanticMotionPredictor(config)
        predictor.load_state_dict(load_file(str(weights)))
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        logger.debug("loading the predictor %s failed", folder, exc_info=True)
        raise ModelUnavailable(
            str(source), [f"{folder} could not be loaded: {type(exc).__name__}: {exc}"], fix
        ) from exc
    return predictor.to(device=device, dtype=dtype).eval()
