"""The attribute reader: a small CNN that reads a toy-world picture's scene and main person.

It is the judge of the consistency benchmark (:mod:`bench.ml.consistency`): it reads the
scene, the person's appearance, position and pose from a generated picture. It is trained on the
renderer's pictures only (pictures with one person), with noise, blur and, when a VAE is given, the
VAE's round trip as augmentation, so that it reads generated pictures (which carry the decoder's
softness) as well as rendered ones. Its accuracy on fresh renders is part of the model card.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - the usual name

from storyboard.core.resources import RESOURCES
from training.toyworld.render import render
from training.toyworld.world import APPEARANCE, PERSON_ATTRIBUTES, SCENES, sample_world

logger = logging.getLogger(__name__)

READER_FILE = RESOURCES / "models" / "toyworld-reader.safetensors"
READ = ("scene", *APPEARANCE, "position", "pose")
CLASSES = {"scene": len(SCENES), **{k: len(PERSON_ATTRIBUTES[k]) for k in READ[1:]}}


class AttributeReader(nn.Module):
    """Four strided conv layers, then one linear head per attribute (input 64x64 in [0, 1])."""

    def __init__(self) -> None:
        super().__init__()
        widths = (32, 64, 96, 128)
        layers: list[nn.Module] = []
        previous = 3
        for width in widths:  # 64 -> 32 -> 16 -> 8 -> 4
            layers += [nn.Conv2d(previous, width, 3, padding=1), nn.GELU()]
            layers += [nn.Conv2d(width, width, 3, stride=2, padding=1), nn.GELU()]
            previous = width
        self.features = nn.Sequential(*layers)
        self.hidden = nn.Linear(widths[-1] * 16, 256)
        self.heads = nn.ModuleDict({k: nn.Linear(256, n) for k, n in CLASSES.items()})

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.features(images * 2 - 1).flatten(1)
        x = F.gelu(self.hidden(x))
        return {k: head(x) for k, head in self.heads.items()}

    @torch.no_grad()
    def read(self, images: torch.Tensor, batch: int = 256) -> dict[str, torch.Tensor]:
        """The most likely value index of every attribute, per picture."""
        self.eval()
        device = next(self.parameters()).device
        parts: dict[str, list[torch.Tensor]] = {k: [] for k in CLASSES}
        for start in range(0, images.shape[0], batch):
            logits = self(images[start : start + batch].to(device, torch.float32))
            for k, v in logits.items():
                parts[k].append(v.argmax(-1).cpu())
        return {k: torch.cat(v) for k, v in parts.items()}


def truth(batch_people: dict[str, torch.Tensor], scene: torch.Tensor) -> dict[str, torch.Tensor]:
    """The labels the reader should give (person slot 0)."""
    return {"scene": scene, **{k: batch_people[k][:, 0] for k in READ[1:]}}


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Noise, occasional blur and small brightness changes, drawn per picture."""
    n = images.shape[0]
    device = images.device
    r = torch.rand((n, 3), generator=generator).to(device)
    blurred = F.interpolate(F.avg_pool2d(images, 2), scale_factor=2, mode="bilinear")
    images = torch.where((r[:, 0] < 0.3).view(-1, 1, 1, 1), blurred, images)
    images = images * (0.92 + 0.16 * r[:, 1]).view(-1, 1, 1, 1)
    noise = torch.randn(images.shape, generator=generator).to(device)
    return (images + noise * (0.06 * r[:, 2]).view(-1, 1, 1, 1)).clamp(0, 1)


def train_reader(
    *,
    steps: int,
    batch: int = 256,
    device: torch.device | str = "cpu",
    seed: int = 0,
    round_trip: Callable[[torch.Tensor], torch.Tensor] | None = None,
    log_every: int = 200,
) -> AttributeReader:
    """A reader trained from scratch on ``steps`` batches of fresh single-person renders.

    ``round_trip`` (the VAE's encode/decode) is applied to half of each batch.
    """
    device = torch.device(device)
    torch.manual_seed(seed)
    reader = AttributeReader().to(device)
    optimiser = torch.optim.AdamW(reader.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, 2e-3, total_steps=steps)
    generator = torch.Generator().manual_seed(seed)
    started = time.monotonic()
    for step in range(steps):
        world = sample_world(batch, generator, two_people=0.0)
        images = render(world, device)
        if round_trip is not None:
            half = batch // 2
            with torch.no_grad():
                images = torch.cat([round_trip(images[:half]).float(), images[half:]])
        images = augment(images, generator)
        labels = truth(world.people, world.scene)
        logits = reader(images)
        loss = sum(F.cross_entropy(logits[k], labels[k].to(device)) for k in CLASSES)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[union-attr]
        optimiser.step()
        schedule.step()
        if log_every and (step % log_every == 0 or step == steps - 1):
            logger.info(
                "reader step %d/%d loss %.4f (%.0f s)",
                step,
                steps,
                float(loss),
                time.monotonic() - started,
            )
    return reader.eval()


def accuracy(
    reader: AttributeReader,
    *,
    count: int = 2000,
    seed: int = 12345,
    device: torch.device | str = "cpu",
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, float]:
    """Share of fresh single-person renders whose every attribute is read right, per attribute."""
    generator = torch.Generator().manual_seed(seed)
    world = sample_world(count, generator, two_people=0.0)
    images = render(world, device)
    if transform is not None:
        with torch.no_grad():
            images = torch.cat(
                [transform(images[i : i + 256]).float() for i in range(0, count, 256)]
            )
    read = reader.to(device).read(images)
    labels = truth(world.people, world.scene)
    return {k: float((read[k] == labels[k]).float().mean()) for k in CLASSES}


def save_reader(reader: AttributeReader, path: Path = READER_FILE) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to("cpu", torch.float16).contiguous() for k, v in reader.state_dict().items()
    }
    save_file(state, str(path))


def load_reader(path: Path = READER_FILE) -> AttributeReader:
    """The shipped reader; raises FileNotFoundError naming the file when it is missing."""
    from safetensors.torch import load_file

    if not path.is_file():
        raise FileNotFoundError(f"the toy-world attribute reader {path} is missing")
    reader = AttributeReader()
    reader.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()})
    return reader.eval()
