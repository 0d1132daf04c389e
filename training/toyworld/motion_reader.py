"""The motion reader: a small CNN that reads where a toy-world frame's person stands and their pose.

It is the judge of the motion benchmark: it reads each frame of a generated clip back into the
person's centre ``x`` (pixels, continuous) and pose (standing, waving, walking), which the benchmark
compares with the motion the clip was asked for. ``x`` comes from a soft arg-max over the columns
of a 16x16 feature map, each column adding its own offset: a read that moves with the figure (the
convolutions are shift-equivariant), within a pixel after about a hundred steps of 32 frames. It
trains on fresh single frames (:func:`~training.toyworld.motion.sample_frames`) with the attribute
reader's noise and blur (and, with ``--vae``, the shipped VAE's round trip on half of them), and
is measured on the frames of held-out clips: those numbers (:func:`measure`) are the floor of the
benchmark, the error it reports for clips drawn exactly.

``python -m training.toyworld.motion_reader --steps N --batch B --out PATH [--device cuda] [--vae]``
trains one, measures it and writes the numbers next to the weights (``PATH`` with ``.json``). On a
CPU, 2000 steps of 32 frames (about 9 minutes on one thread) read x within 0.14 px on average and
every pose right; on a GPU, ``--steps 2000 --batch 256 --device cuda --vae`` is the run meant for
the shipped weights.
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

from training.toyworld.motion import POSES, X_MAX, X_MIN, render_clips, sample_frames
from training.toyworld.reader import augment
from training.toyworld.render import SIZE

logger = logging.getLogger(__name__)

HELD_OUT_SEED = 1_000_003
"""The measuring clips' seed, far from any training seed."""


def _conv(a: int, b: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(a, b, 3, stride=stride, padding=1), nn.GroupNorm(8, b), nn.GELU()]


class MotionReader(nn.Module):
    """Frames ``(N, 3, 64, 64)`` in [-1, 1] -> ``x`` (pixels) and pose logits.

    Convolutions (each group-normalised) down to 16x16; there, each cell scores how likely the
    person's centre lies in it and where within its 4 px column; the scores summed over rows give
    a distribution over the 16 columns whose mean (column centre plus offset) is ``x``. The pose
    comes from deeper features pooled where the person is (weighted by those scores) and
    everywhere (max): a pose pooled over the whole frame alone learned several times slower, lost
    among trees, windows and stars.
    """

    centres: torch.Tensor

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(  # 64 -> 32 -> 16
            *_conv(3, w), *_conv(w, w, 2), *_conv(w, 2 * w), *_conv(2 * w, 2 * w, 2)
        )
        self.place = nn.Sequential(*_conv(2 * w, 2 * w), nn.Conv2d(2 * w, 2, 1))
        self.deeper = nn.Sequential(*_conv(2 * w, 4 * w), *_conv(4 * w, 4 * w))
        self.pose = nn.Sequential(nn.Linear(8 * w, 4 * w), nn.GELU(), nn.Linear(4 * w, len(POSES)))
        cell = SIZE / 16
        self.register_buffer("centres", (torch.arange(16) + 0.5) * cell, persistent=False)
        self.cell = cell

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` in pixels ``(N,)`` and pose logits ``(N, 3)``."""
        f = self.features(frames)
        score, offset = self.place(f).unbind(1)  # (N, 16, 16) each: rows, columns
        column = score.logsumexp(1)  # (N, 16)
        within = (score.softmax(1) * offset).sum(1)  # each column's offset, weighted by row
        where = self.centres + self.cell * torch.tanh(within)
        x = (column.softmax(-1) * where).sum(-1)
        deep = self.deeper(f)
        weights = score.flatten(1).softmax(-1).detach()  # where the person is
        around = (deep.flatten(2) * weights[:, None]).sum(-1)
        pooled = torch.cat([around, deep.amax((2, 3))], dim=1)
        return x, self.pose(pooled)

    @torch.no_grad()
    def read(self, frames: torch.Tensor, batch: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
        """The person's ``x`` (pixels, float) and pose index (long) per frame, on the CPU."""
        self.eval()
        device = next(self.parameters()).device
        xs, poses = [], []
        for start in range(0, frames.shape[0], batch):
            x, logits = self(frames[start : start + batch].to(device, torch.float32))
            xs.append(x.float().cpu())
            poses.append(logits.argmax(-1).cpu())
        return torch.cat(xs), torch.cat(poses)


def train_motion_reader(
    steps: int,
    batch: int = 256,
    device: torch.device | str = "cpu",
    seed: int = 0,
    log_every: int = 200,
    *,
    lr: float = 3e-3,
    round_trip: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> MotionReader:
    """A reader trained from scratch on ``steps`` batches of fresh single frames (any ``x`` a
    person fits at, any pose and walking phase), with the attribute reader's noise and blur.

    ``round_trip`` (the VAE's encode and decode, on pictures in [0, 1]) is applied to half of
    each batch, so that the reader reads generated frames, which carry the decoder's softness.
    """
    device = torch.device(device)
    torch.manual_seed(seed)
    reader = MotionReader().to(device)
    optimiser = torch.optim.AdamW(reader.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, lr, total_steps=max(steps, 1))
    generator = torch.Generator().manual_seed(seed)
    started = time.monotonic()
    reader.train()
    for step in range(steps):
        frames, x, pose = sample_frames(batch, generator=generator, device=device)
        pictures = (frames + 1) / 2
        if round_trip is not None:
            half = batch // 2
            with torch.no_grad():
                pictures = torch.cat([round_trip(pictures[:half]).float(), pictures[half:]])
        frames = augment(pictures, generator) * 2 - 1
        read_x, logits = reader(frames)
        x_loss = F.smooth_l1_loss(read_x, x.to(device), beta=1.0) / (X_MAX - X_MIN)
        loss = x_loss * 10 + F.cross_entropy(logits, pose.to(device))
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
    frames read within 3 px, the pose accuracy; and, for scale, the error of always answering
    the frames' mean ``x``. ``transform``: applied to the frames (in [0, 1]) first, e.g. the
    VAE's round trip."""
    batch = render_clips(clips, frames, seed=seed, device=device)
    images = batch.frames.flatten(0, 1)
    if transform is not None:
        with torch.no_grad():
            images = torch.cat(
                [transform((part + 1) / 2).float() * 2 - 1 for part in images.split(256)]
            )
    x, pose = reader.to(device).read(images)
    truth_x, truth_pose = batch.x.flatten(), batch.pose.flatten()
    error = (x - truth_x).abs()
    return {
        "frames": int(truth_x.numel()),
        "x_mae_px": float(error.mean()),
        "x_within_3px": float((error <= 3).float().mean()),
        "pose_accuracy": float((pose == truth_pose).float().mean()),
        "mean_x_mae_px": float((truth_x - truth_x.mean()).abs().mean()),
    }


def save_motion_reader(reader: MotionReader, path: Path) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to("cpu", torch.float32).contiguous() for k, v in reader.state_dict().items()
    }
    save_file(state, str(path))


def load_motion_reader(path: Path, device: torch.device | str = "cpu") -> MotionReader:
    """A saved reader; raises FileNotFoundError naming the file when it is missing."""
    from safetensors.torch import load_file

    if not Path(path).is_file():
        raise FileNotFoundError(f"the toy-world motion reader {path} is missing")
    reader = MotionReader()
    reader.load_state_dict(load_file(str(path)))
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
        help="train on the shipped VAE's round trip too and measure after it as well",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    vae = vae_round_trip(args.device) if args.vae else None
    started = time.monotonic()
    reader = train_motion_reader(
        args.steps, args.batch, args.device, args.seed, args.log_every, round_trip=vae
    )
    trained = time.monotonic() - started
    save_motion_reader(reader, args.out)
    scores = measure(reader, clips=args.clips, device=args.device)
    if vae is not None:
        after = measure(reader, clips=args.clips, device=args.device, transform=vae)
        scores |= {f"{k}_vae": v for k, v in after.items() if k not in ("frames", "mean_x_mae_px")}
    scores |= {"steps": args.steps, "batch": args.batch, "train_seconds": round(trained, 1)}
    args.out.with_suffix(".json").write_text(json.dumps(scores, indent=2) + "\n")
    print(json.dumps(scores, indent=2))
    return scores


if __name__ == "__main__":
    main()
