"""The motion benchmark at a tiny size: every method on held-out clips of both move sizes, judged
by the motion reader, with the paper's four metrics; the renderer's own frames score as the
readers' floor and a crossfade of a large move does not."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from bench.motion.quality import (
    MODEL_ROWS,
    MOTION_READER,
    MOVES,
    ROWS,
    run,
    table,
    zero_transformer,
)
from inference.model_loading import load_pipeline, resolve
from inference.motion.video_model import VideoModel, assemble
from training.motion.toy_parts import new_image_encoder, new_motion_adapter, new_predictor
from training.toyworld.motion_reader import save_motion_reader, train_motion_reader


def toy_models() -> dict[str, VideoModel]:
    """The three model rows as the benchmark builds them, from untrained new parts."""
    pipe = load_pipeline(resolve("toyworld"), torch.float32)
    made = {}
    for name in MODEL_ROWS:
        torch.manual_seed(0)
        made[name] = assemble(
            pipe,
            new_motion_adapter(pipe.unet.config),
            new_image_encoder(),
            new_predictor(int(pipe.unet.config.cross_attention_dim)),
            base_schedule=True,
        )
    made["temporal-only"].use_tokens = False
    zero_transformer(made["interpolation-only"])
    return made


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's own judge; a briefly trained one where it is not in the checkout."""
    if MOTION_READER.is_file():
        return MOTION_READER
    path = tmp_path_factory.mktemp("reader") / "motion-reader.safetensors"
    save_motion_reader(train_motion_reader(300, batch=16, seed=0, log_every=1000), path)
    return path


@pytest.mark.slow
def test_every_method_on_both_move_sizes_is_judged(reader: Path) -> None:
    rows = run(pairs=2, steps=1, frames=4, guidance=2.0, models=toy_models(), motion_reader=reader)
    assert [(r.method, r.move) for r in rows] == [(m, move) for move in MOVES for m in ROWS]
    for row in rows:
        values = (row.x_error_px, row.scores.lpips_first, row.scores.clipsim_frames)
        assert all(math.isfinite(v) for v in values), row
        assert 0 <= row.frame_accuracy <= row.look_intact <= 1, row
    by = {(r.method, r.move): r for r in rows}
    # the true frames are read close to where the person is; a crossfade's ghosts are not
    assert by["renderer", "large"].x_error_px < by["crossfade", "large"].x_error_px
    lines = table(rows).splitlines()
    assert len(lines) == 2 + len(rows) and lines[2].startswith("| smp | small | 2 |")


def test_interpolation_only_is_the_predictor_without_its_transformer() -> None:
    pipe = load_pipeline(resolve("toyworld"), torch.float32)
    predictor = new_predictor(int(pipe.unet.config.cross_attention_dim))
    model = assemble(pipe, new_motion_adapter(pipe.unet.config), new_image_encoder(), predictor)
    with torch.no_grad():
        for p in model.predictor.parameters():
            p.add_(torch.randn_like(p) * 0.05)  # as if trained
        zero_transformer(model)
        start, end = torch.randn(1, 128), torch.randn(1, 128)
        hidden = model.predictor.in_proj(torch.lerp(start, end, 0.5)[:, None])
        hidden = hidden + model.predictor.frame_pos[1:2]
        tokens = model.predictor(start, end, 3)[:, 1:2]
    torch.testing.assert_close(tokens, model.predictor.project(hidden))
