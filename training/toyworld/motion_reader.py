"""The motion reader: a small CNN that reads a toy-world frame's person (where they stand, their
pose and their look) and the scene.

It is the whole judge of the motion benchmark: it reads each frame of a generated clip back into
the person's centre ``x`` (pixels, continuous), pose (standing, waving, walking), every look
attribute (:data:`~training.toyworld.world.APPEARANCE`: hair, hairstyle, shirt, ...) and the
scene, which the benchmark compares with the motion the clip was asked for and with the look and
scene of its start panel. ``x`` comes from a soft arg-max over the columns of a 16x16 feature
map, each column adding its own offset: a read that moves with the figure (the convolutions are
shift-equivariant), within a pixel after about a hundred steps of 32 frames. The pose and the look
are read from the full-resolution strip of the frame around that ``x``, wherever the person
walks (the attribute reader, :mod:`training.toyworld.reader`, learned only the three position
slots and misreads a person a few pixels off them). It trains on fresh single frames
(:func:`~training.toyworld.motion.sample_labelled_frames`) with the attribute reader's noise and
blur (and, with ``--vae``, the shipped VAE's round trip on half of them), and is measured on the
frames of held-out clips: those numbers (:func:`measure`) are the floor of the benchmark, the
error it reports for clips drawn exactly.

``python -m training.toyworld.motion_reader --steps N --batch B --out PATH [--device cuda] [--vae]``
trains one, measures the saved weights and writes the numbers next to them (``PATH`` with
``.json``). On a CPU, where the VAE's round trip costs far more than a training step,
``--vae --vae-per-step 2 --vae-bank 512`` keeps 512 round-tripped frames and renews two a step
(:class:`RoundTripBank`); on a GPU, ``--steps 2000 --batch 256 --device cuda --vae`` round-trips
half of every batch. The weights in ``bench/motion/weights`` came from ``OMP_NUM_THREADS=1 python
-m training.toyworld.motion_reader --steps 3000 --batch 32 --vae --vae-per-step 2 --vae-bank 512``
(25 minutes of training on a shared CPU): on 128 held-out clips of 16 frames, x within 0.13 px on
average, pose 99.8%, scene 100%, the whole look right in 99.0% of frames (97.9% after the VAE's
round trip), hair 100% (98.8%).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - the usual name

from training.toyworld.motion import POSES, X_MAX, X_MIN, render_clips, sample_labelled_frames
from training.toyworld.reader import augment
from training.toyworld.render import SIZE
from training.toyworld.world import APPEARANCE, PERSON_ATTRIBUTES, SCENES

logger = logging.getLogger(__name__)

HELD_OUT_SEED = 1_000_003
"""The measuring clips' seed, far from any training seed."""
STRIP_SLACK = 2.0
"""How far (px) from the true ``x`` training cuts the look's strip: the read ``x`` is within
3 px of it on every held-out frame, mostly within a fraction of a pixel."""


def _conv(a: int, b: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(a, b, 3, stride=stride, padding=1), nn.GroupNorm(8, b), nn.GELU()]


CLASSES: dict[str, int] = {
    "pose": len(POSES),
    "scene": len(SCENES),
    **{k: len(PERSON_ATTRIBUTES[k]) for k in APPEARANCE},
}
"""Everything the reader reads as a class, and how many values each has (world.py's order)."""

WEIGHTS = {"hair": 3.0, "hairstyle": 2.0, "pose": 2.0}
"""Cross-entropy weights of the heads that learn slowest (the others weigh 1): the hair's colour
is a few pixels of a small person's head, often a single row under a hat's brim, and a walker
whose legs are closed differs from a standing person only by arms held a pixel out. In 600-step
trials they raised the share of frames with the whole look right from 91% to 94%."""

STRIP = 28
"""Width in pixels of the strip around the person that the look is read from: a tall walker's
swinging arms reach 10 px from their centre, which leaves 4 px for a misread ``x``."""


def strip(frames: torch.Tensor, x: torch.Tensor, width: int = STRIP) -> torch.Tensor:
    """The ``width`` columns of each frame centred on ``x`` (pixels), whole pixels copied as they
    are (no resampling to soften a one-pixel line of hair), zeros beyond the frame's edge."""
    half = width // 2
    padded = F.pad(frames, (half, half))
    left = x.detach().floor().long().clamp(0, frames.shape[-1] - 1)  # padded index of x - half
    columns = left[:, None] + torch.arange(width, device=frames.device)
    n, c, h, _ = frames.shape
    return padded.gather(3, columns[:, None, None, :].expand(n, c, h, width))


class MotionReader(nn.Module):
    """Frames ``(N, 3, 64, 64)`` in [-1, 1] -> ``x`` (pixels) and the logits of the pose, the
    scene and every look attribute (:data:`CLASSES`).

    Convolutions (each group-normalised) down to 16x16; there, each cell scores how likely the
    person's centre lies in it and where within its 4 px column; the scores summed over rows give
    a distribution over the 16 columns whose mean (column centre plus offset) is ``x``. The scene
    comes from those features pooled over the whole frame. The person (pose and look) is read by
    its own convolutions from the full-resolution strip of the frame around ``x`` (:func:`strip`),
    where the person always stands in the middle: a pair of glasses or the one row of hair
    below a hat's brim is gone at 16x16. The strip's features go to the heads both pooled
    (mean and max) and as a coarse map (8 channels at 16x7), which says where in the figure a
    colour is: red hair, a red hat and a red shirt differ in little but their place; read from
    the pooled features alone, hair and pose learned about twice as slowly. (A pose pooled from
    16x16 features where the person is, as this reader first did, learned slower still.) The
    strip's convolutions are the widest (24 to 64 channels): at 16 to 48, hair took longer.
    About 223,000 parameters.
    """

    centres: torch.Tensor

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(  # 64 -> 32 -> 16
            *_conv(3, w), *_conv(w, w, 2), *_conv(w, 2 * w), *_conv(2 * w, 2 * w, 2)
        )
        self.place = nn.Sequential(*_conv(2 * w, 2 * w), nn.Conv2d(2 * w, 2, 1))
        self.scene = nn.Sequential(
            nn.Linear(4 * w, 4 * w), nn.GELU(), nn.Linear(4 * w, len(SCENES))
        )
        a, b, c, d = (3 * w // 2, 2 * w, 3 * w, 4 * w)
        self.person = nn.Sequential(  # the strip, 64 x 28 -> 32 x 14 -> 16 x 7
            *_conv(3, a), *_conv(a, b, 2), *_conv(b, c), *_conv(c, d, 2), *_conv(d, d), *_conv(d, d)
        )
        self.layout = nn.Conv2d(d, 8, 1)
        self.hidden = nn.Sequential(nn.Linear(8 * 16 * (STRIP // 4) + 2 * d, 4 * w), nn.GELU())
        self.heads = nn.ModuleDict(
            {k: nn.Linear(4 * w, len(PERSON_ATTRIBUTES[k])) for k in ("pose", *APPEARANCE)}
        )
        cell = SIZE / 16
        self.register_buffer("centres", (torch.arange(16) + 0.5) * cell, persistent=False)
        self.cell = cell

    def forward(
        self, frames: torch.Tensor, at: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """``"x"`` in pixels ``(N,)`` and the logits ``(N, classes)`` of each of :data:`CLASSES`.

        ``at``: where to cut the person's strip (pixels, per frame) instead of the ``x`` read, as
        training does (from the true ``x``, while the read one is still wrong).
        """
        f = self.features(frames)
        score, offset = self.place(f).unbind(1)  # (N, 16, 16) each: rows, columns
        column = score.logsumexp(1)  # (N, 16)
        within = (score.softmax(1) * offset).sum(1)  # each column's offset, weighted by row
        where = self.centres + self.cell * torch.tanh(within)
        x = (column.softmax(-1) * where).sum(-1)
        scene = self.scene(torch.cat([f.mean((2, 3)), f.amax((2, 3))], dim=1))
        person = self.person(strip(frames, x if at is None else at))
        pooled = [person.mean((2, 3)), person.amax((2, 3)), self.layout(person).flatten(1)]
        hidden = self.hidden(torch.cat(pooled, dim=1))
        return {"x": x, "scene": scene} | {k: head(hidden) for k, head in self.heads.items()}

    @torch.no_grad()
    def read_all(self, frames: torch.Tensor, batch: int = 512) -> dict[str, torch.Tensor]:
        """Per frame, on the CPU: ``"x"`` (pixels, float) and the value index (long) of the pose,
        the scene and each look attribute (:data:`CLASSES`, world.py's value order)."""
        self.eval()
        device = next(self.parameters()).device
        parts: dict[str, list[torch.Tensor]] = {k: [] for k in ("x", *CLASSES)}
        for start in range(0, frames.shape[0], batch):
            out = self(frames[start : start + batch].to(device, torch.float32))
            parts["x"].append(out["x"].float().cpu())
            for k in CLASSES:
                parts[k].append(out[k].argmax(-1).cpu())
        return {k: torch.cat(v) for k, v in parts.items()}

    @torch.no_grad()
    def read(self, frames: torch.Tensor, batch: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
        """The person's ``x`` (pixels, float) and pose index (long) per frame, on the CPU."""
        out = self.read_all(frames, batch)
        return out["x"], out["pose"]


class RoundTripBank:
    """Frames after the VAE's round trip, with their labels, each kept for several steps.

    The round trip costs about 90 ms a frame on one CPU thread, several times a training step's
    share of a frame: round-tripping half of every batch would make CPU training about five
    times slower. The bank round-trips ``per_step`` fresh frames a step in place of its oldest
    and hands out random ones; with ``size == per_step`` every frame is used once, in the step
    that drew it.
    """

    def __init__(
        self,
        round_trip: Callable[[torch.Tensor], torch.Tensor],
        size: int,
        per_step: int,
        generator: torch.Generator,
        device: torch.device,
    ) -> None:
        if not 0 < per_step <= size:
            raise ValueError(f"round-trip {per_step} frames a step into a bank of {size}")
        self.round_trip = round_trip
        self.per_step = per_step
        self.generator = generator
        self.device = device
        self.pictures, self.labels = self._draw(size)
        self.oldest = 0

    def _draw(self, count: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        sample = sample_labelled_frames(count, generator=self.generator, device=self.device)
        with torch.no_grad():
            pictures = torch.cat(
                [self.round_trip((part + 1) / 2).float() for part in sample.frames.split(64)]
            )
        labels = {"x": sample.x, "pose": sample.pose, "scene": sample.scene, **sample.people}
        return pictures, labels

    def __len__(self) -> int:
        return int(self.pictures.shape[0])

    def step(self, count: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Round-trips ``per_step`` fresh frames into the bank, then hands out ``count`` of its
        frames (in [0, 1]) and their labels, no frame twice."""
        pictures, labels = self._draw(self.per_step)
        slots = (self.oldest + torch.arange(self.per_step)) % len(self)
        self.pictures[slots.to(self.pictures.device)] = pictures
        for k, v in labels.items():
            self.labels[k][slots] = v
        self.oldest = int(slots[-1] + 1) % len(self)
        chosen = torch.randperm(len(self), generator=self.generator)[:count]
        return self.pictures[chosen.to(self.pictures.device)], {
            k: v[chosen] for k, v in self.labels.items()
        }


def train_motion_reader(
    steps: int,
    batch: int = 256,
    device: torch.device | str = "cpu",
    seed: int = 0,
    log_every: int = 200,
    *,
    lr: float = 3e-3,
    round_trip: Callable[[torch.Tensor], torch.Tensor] | None = None,
    round_trips_per_step: int | None = None,
    bank: int | None = None,
) -> MotionReader:
    """A reader trained from scratch on ``steps`` batches of fresh single frames (any ``x`` a
    person fits at, any pose and walking phase, any look and scene), with the attribute reader's
    noise and blur.

    ``round_trip`` (the VAE's encode and decode, on pictures in [0, 1]): half of each batch then
    comes from a :class:`RoundTripBank` of ``bank`` frames (at least half a batch, the default)
    that round-trips ``round_trips_per_step`` fresh frames a step (default: half a batch, each
    frame used once), so that the reader reads generated frames, which carry the decoder's
    softness.
    """
    device = torch.device(device)
    torch.manual_seed(seed)
    reader = MotionReader().to(device)
    optimiser = torch.optim.AdamW(reader.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, lr, total_steps=max(steps, 1))
    generator = torch.Generator().manual_seed(seed)
    half = batch // 2 if round_trip is not None else 0
    trips: RoundTripBank | None = None
    if round_trip is not None:
        per_step = round_trips_per_step or half
        size = max(bank or 0, half, per_step)
        trips = RoundTripBank(round_trip, size, per_step, generator, device)
        logger.info("round-tripped %d frames through the VAE", size)
    started = time.monotonic()
    reader.train()
    for step in range(steps):
        sample = sample_labelled_frames(batch - half, generator=generator, device=device)
        pictures = (sample.frames + 1) / 2
        labels = {"x": sample.x, "pose": sample.pose, "scene": sample.scene, **sample.people}
        if trips is not None:
            kept, kept_labels = trips.step(half)
            pictures = torch.cat([kept, pictures])
            labels = {k: torch.cat([kept_labels[k], v]) for k, v in labels.items()}
        frames = augment(pictures, generator) * 2 - 1
        x = labels["x"]
        # the look's strip is cut around the true x, off by up to STRIP_SLACK px as a read x may be
        at = x + STRIP_SLACK * (2 * torch.rand(x.shape, generator=generator) - 1)
        out = reader(frames, at=at.to(device))
        read_x = out["x"]
        x_loss = F.smooth_l1_loss(read_x, x.to(device), beta=1.0) / (X_MAX - X_MIN)
        classes = torch.stack(
            [WEIGHTS.get(k, 1.0) * F.cross_entropy(out[k], labels[k].to(device)) for k in CLASSES]
        )
        loss = x_loss * 10 + classes.sum()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        if log_every and (step % log_every == 0 or step == steps - 1):
            error = float((read_x.detach().cpu() - x).abs().mean())
            logger.info(
                "motion reader step %d/%d loss %.4f x error %.2f px (%.0f s)",
                step,
                steps,
                float(loss.detach()),
                error,
                time.monotonic() - started,
            )
    return reader.eval()


def measure(
    reader: MotionReader,
    *,
    clips: int = 128,
    frames: int = 16,
    seed: int = HELD_OUT_SEED,
    device: torch.device | str = "cpu",
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, float]:
    """The reader on every frame of fresh clips: mean absolute ``x`` error (px), the share of
    frames read within 3 px, the accuracy of the pose, the scene and each look attribute
    (``"hair_accuracy"``, ...), ``"look_intact"``, the share of frames whose every look attribute
    is read right (what the benchmark asks of a generated frame's person); and, for scale, the
    error of always answering the frames' mean ``x``. ``transform``: applied to the frames (in
    [0, 1]) first, e.g. the VAE's round trip."""
    batch = render_clips(clips, frames, seed=seed, device=device)
    images = batch.frames.flatten(0, 1)
    if transform is not None:
        with torch.no_grad():
            images = torch.cat(
                [transform((part + 1) / 2).float() * 2 - 1 for part in images.split(256)]
            )
    read = reader.to(device).read_all(images)
    truth = {
        "pose": batch.pose.flatten(),
        "scene": batch.scene.repeat_interleave(frames),
        **{k: v.repeat_interleave(frames) for k, v in batch.people.items()},
    }
    right = {k: read[k] == truth[k] for k in CLASSES}
    truth_x = batch.x.flatten()
    error = (read["x"] - truth_x).abs()
    look = torch.stack([right[k] for k in APPEARANCE]).all(0)
    return {
        "frames": int(truth_x.numel()),
        "x_mae_px": float(error.mean()),
        "x_within_3px": float((error <= 3).float().mean()),
        **{f"{k}_accuracy": float(right[k].float().mean()) for k in CLASSES},
        "look_intact": float(look.float().mean()),
        "mean_x_mae_px": float((truth_x - truth_x.mean()).abs().mean()),
    }


def save_motion_reader(reader: MotionReader, path: Path) -> None:
    """The weights as fp16 safetensors (about 450 KB): the reads of the reloaded reader are what
    :func:`main` measures."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to("cpu", torch.float16).contiguous() for k, v in reader.state_dict().items()
    }
    save_file(state, str(path))


def load_motion_reader(path: Path, device: torch.device | str = "cpu") -> MotionReader:
    """A saved reader (in fp32); raises FileNotFoundError naming the file when it is missing."""
    from safetensors.torch import load_file

    if not Path(path).is_file():
        raise FileNotFoundError(f"the toy-world motion reader {path} is missing")
    reader = MotionReader()
    reader.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()})
    return reader.to(device).eval()


def vae_round_trip(device: torch.device | str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The shipped toy-world VAE's encode and decode of pictures in [0, 1]."""
    from diffusers import AutoencoderKL

    from training.toyworld.model import MODEL_DIR
    from training.toyworld.train import round_trip

    vae = AutoencoderKL.from_pretrained(
        str(MODEL_DIR / "vae"), local_files_only=True, torch_dtype=torch.float32
    )
    return round_trip(vae.to(device).eval().requires_grad_(False))


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--out", type=Path, required=True, help="the weights (.safetensors)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clips", type=int, default=128, help="held-out clips to measure on")
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument(
        "--vae",
        action="store_true",
        help="train on the shipped VAE's round trip too (half of each batch) and measure after "
        "it as well",
    )
    parser.add_argument(
        "--vae-per-step",
        type=int,
        default=None,
        help="frames round-tripped a step (default: half a batch; fewer on a CPU)",
    )
    parser.add_argument(
        "--vae-bank", type=int, default=None, help="round-tripped frames kept (RoundTripBank)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    vae = vae_round_trip(args.device) if args.vae else None
    started = time.monotonic()
    reader = train_motion_reader(
        args.steps,
        args.batch,
        args.device,
        args.seed,
        args.log_every,
        round_trip=vae,
        round_trips_per_step=args.vae_per_step,
        bank=args.vae_bank,
    )
    trained = time.monotonic() - started
    save_motion_reader(reader, args.out)
    reader = load_motion_reader(args.out, args.device)  # measure what was saved
    scores = measure(reader, clips=args.clips, device=args.device)
    if vae is not None:
        after = measure(reader, clips=args.clips, device=args.device, transform=vae)
        scores |= {f"{k}_vae": v for k, v in after.items() if k not in ("frames", "mean_x_mae_px")}
    scores |= {"steps": args.steps, "batch": args.batch, "train_seconds": round(trained, 1)}
    if vae is not None:
        per_step = args.vae_per_step or args.batch // 2
        scores |= {
            "vae_per_step": per_step,
            "vae_bank": max(args.vae_bank or 0, args.batch // 2, per_step),
        }
    args.out.with_suffix(".json").write_text(json.dumps(scores, indent=2) + "\n")
    print(json.dumps(scores, indent=2))
    return scores


if __name__ == "__main__":
    main()
