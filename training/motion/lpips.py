"""LPIPS without torchvision (which would replace the CPU torch build; research/stack-ml.md).

LPIPS (Zhang et al. 2018) compares two images through a network's feature maps: each map is
unit-normalised over channels, the squared difference is weighted per channel, summed over
channels, averaged over space and summed over layers. The paper's numbers use the AlexNet variant.
:class:`AlexNetLPIPS` is that network written out in plain torch, so the published weights load
into it: the AlexNet backbone (torchvision's ``alexnet-owt-7be5be79.pth``) and the per-channel
weights of the ``lpips`` package (``lpips/weights/v0.1/alex.pth``). Without the per-channel
weights every channel counts once (the LPIPS paper's "baseline" variant).

:func:`feature_distance` is the same formula over any feature extractor; the metrics script uses
it with CLIP's hidden layers when the AlexNet files are absent, and says so in its output, since
those numbers are not comparable with the paper's table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn

from inference.errors import ModelUnavailable

Features = Callable[[torch.Tensor], Sequence[torch.Tensor]]

# LPIPS' ScalingLayer: inputs in [-1, 1] shifted and scaled to ImageNet statistics
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
_ALEX_CHANNELS = (64, 192, 384, 256, 256)
ALEXNET_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"


def feature_distance(
    features: Features,
    a: torch.Tensor,
    b: torch.Tensor,
    weights: Sequence[torch.Tensor] | None = None,
) -> torch.Tensor:
    """LPIPS-style distance (N,) between image batches a, b (N, 3, H, W) in [-1, 1]."""
    total = torch.zeros(a.shape[0], device=a.device)
    for i, (fa, fb) in enumerate(zip(features(a), features(b), strict=True)):
        na = fa / (fa.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        nb = fb / (fb.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        diff = (na - nb).pow(2)
        if weights is not None:
            diff = diff * weights[i].view(1, -1, 1, 1).to(diff)
        total = total + diff.sum(1).mean((1, 2)).float()
    return total


class AlexNetLPIPS(nn.Module):
    """AlexNet's convolutional trunk (torchvision layout) with LPIPS' five ReLU taps."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1),
            nn.ReLU(),
        )
        self.taps = (1, 4, 7, 9, 11)
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.ones(c), requires_grad=False) for c in _ALEX_CHANNELS]
        )

    def maps(self, images: torch.Tensor) -> list[torch.Tensor]:
        shift = torch.tensor(_SHIFT, device=images.device).view(1, 3, 1, 1)
        scale = torch.tensor(_SCALE, device=images.device).view(1, 3, 1, 1)
        x = (images - shift) / scale
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                out.append(x)
        return out

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return feature_distance(self.maps, a, b, list(self.weights))


def load_alexnet_lpips(backbone: Path, linear: Path | None = None) -> AlexNetLPIPS:
    """The LPIPS network from torchvision's AlexNet file and (optionally) lpips' ``alex.pth``."""
    model = AlexNetLPIPS()
    fix = (
        f"Download the AlexNet weights from {ALEXNET_URL}, and for the learned channel weights "
        "run `pip download --no-deps lpips` and take lpips/weights/v0.1/alex.pth from the wheel"
    )
    try:
        trunk = torch.load(backbone, map_location="cpu", weights_only=True)
        model.features.load_state_dict(
            {k.removeprefix("features."): v for k, v in trunk.items() if k.startswith("features.")}
        )
        if linear is not None:
            lin = torch.load(linear, map_location="cpu", weights_only=True)
            for i, weight in enumerate(model.weights):
                weight.data.copy_(lin[f"lin{i}.model.1.weight"].flatten())
    except (OSError, KeyError, RuntimeError) as exc:
        raise ModelUnavailable(
            str(backbone), [f"the LPIPS weights could not be read: {type(exc).__name__}"], fix
        ) from exc
    return model.eval().requires_grad_(False)
