"""A training checkpoint as a video model folder the editor loads (``video_model.json`` inside).

``python -m training.motion.export --checkpoint OUT/checkpoint-003000 --image-encoder ENC
--base toyworld --out resources/models/toyworld-motion --frames 16 --size 64``

The motion modules a run trained become a diffusers ``MotionAdapter`` folder, the image encoder
and the predictor are copied, all in fp16 (what the editor runs on a GPU; the CPU upcasts), and
the manifest records the base model and its schedule. ``--adapter-only`` writes the motion
adapter alone (the temporal-only baseline of the motion benchmark, which uses no tokens).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from inference.model_loading import load_pipeline, resolve
from inference.motion.predictor import load_predictor, save_predictor
from inference.motion.video_folder import MANIFEST
from training.motion.checkpoint import STATE_FILE, load_unet_trained
from training.motion.toy_parts import new_motion_adapter

logger = logging.getLogger(__name__)


def motion_adapter(checkpoint: Path, base: str) -> Any:
    """The checkpoint's trained motion modules as a ``MotionAdapter`` for ``base``'s UNet."""
    trained = load_unet_trained(checkpoint)
    other = sorted(k for k in trained if "motion_modules." not in k)
    if other:
        raise ValueError(f"the run trained more than motion modules (e.g. {other[0]})")
    unet_config = load_pipeline(resolve(base), torch.float32).unet.config
    adapter = new_motion_adapter(unet_config)
    result = adapter.load_state_dict(trained, strict=False)
    buffers = {name for name, _ in adapter.named_buffers()}  # fixed sinusoids, never trained
    missing = sorted(set(result.missing_keys) - buffers)
    if missing or result.unexpected_keys:
        raise ValueError(
            f"the checkpoint's motion modules do not fit {base}'s UNet: "
            f"{len(missing)} missing, {len(result.unexpected_keys)} unexpected tensors"
        )
    return adapter


def export(
    checkpoint: Path,
    out: Path,
    *,
    base: str,
    image_encoder: Path | None,
    frames: int,
    size: int,
    adapter_only: bool = False,
) -> Path:
    """Write the folder; returns it."""
    out.mkdir(parents=True, exist_ok=True)
    motion_adapter(checkpoint, base).half().save_pretrained(out / "motion_adapter")
    if adapter_only:
        return out
    from transformers import CLIPVisionModelWithProjection

    if image_encoder is None:
        raise ValueError("a whole video model needs --image-encoder")
    encoder = CLIPVisionModelWithProjection.from_pretrained(str(image_encoder))
    encoder.half().save_pretrained(out / "image_encoder")
    predictor = load_predictor(checkpoint / "predictor").half()
    predictor.config = replace(predictor.config, image_encoder="image_encoder")  # the copy beside
    save_predictor(predictor, out / "predictor")
    manifest = {
        "format": 1,
        "base": base,
        "motion_adapter": "motion_adapter",
        "image_encoder": "image_encoder",
        "predictor": "predictor",
        "schedule": "base",
        "frames": frames,
        "size": size,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    state = json.loads((checkpoint / STATE_FILE).read_text(encoding="utf-8"))
    record = {"step": state["step"], "args": state.get("args", {})}
    probe = image_encoder / "probe.json"
    if probe.is_file():
        record["image_encoder"] = json.loads(probe.read_text(encoding="utf-8"))
    (out / "training.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    p = argparse.ArgumentParser(prog="python -m training.motion.export", description=__doc__)
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--base", default="toyworld")
    p.add_argument("--image-encoder", type=Path)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--adapter-only", action="store_true")
    args = p.parse_args(argv)
    try:
        folder = export(
            args.checkpoint,
            args.out,
            base=args.base,
            image_encoder=args.image_encoder,
            frames=args.frames,
            size=args.size,
            adapter_only=args.adapter_only,
        )
    except (OSError, ValueError) as exc:
        logger.error("%s", exc)
        return 1
    logger.info("wrote %s", folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
