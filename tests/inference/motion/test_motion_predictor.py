"""The Semantic Motion Predictor: shapes, the interpolation it starts from, files."""

from __future__ import annotations

import json

import pytest
import torch

from inference.errors import ModelUnavailable
from inference.motion.predictor import (
    PredictorConfig,
    SemanticMotionPredictor,
    interpolate,
    load_predictor,
    save_predictor,
)
from tests.fixtures.tiny_motion import PREDICTOR, tiny_predictor


def test_interpolate_includes_both_ends_and_is_linear() -> None:
    start, end = torch.zeros(2, 3), torch.ones(2, 3) * 4
    out = interpolate(start, end, 5)
    assert out.shape == (2, 5, 3)
    assert torch.equal(out[:, 0], start) and torch.equal(out[:, -1], end)
    assert torch.allclose(out[0, :, 0], torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0]))


def test_output_shape_is_tokens_per_frame_at_cross_attention_width() -> None:
    predictor = tiny_predictor().eval()
    out = predictor(torch.randn(3, 16), torch.randn(3, 16), 7)
    assert out.shape == (3, 7, PREDICTOR.tokens_per_frame, PREDICTOR.cross_attention_dim)


def test_zeroed_transformer_gives_the_interpolation_projected() -> None:
    predictor = tiny_predictor().eval()
    with torch.no_grad():
        for p in predictor.transformer.parameters():
            p.zero_()
    start, end = torch.randn(2, 16), torch.randn(2, 16)
    with torch.no_grad():
        got = predictor(start, end, 6)
        hidden = predictor.in_proj(interpolate(start, end, 6)) + predictor.frame_pos[:6]
        want = predictor.project(hidden)
    assert torch.allclose(got, want, atol=1e-6)
    # and the projection is not trivial: frames differ along the interpolation
    assert not torch.allclose(got[:, 0], got[:, -1])


def test_more_frames_than_position_embeddings_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 8 frames"):
        tiny_predictor()(torch.randn(1, 16), torch.randn(1, 16), 9)


def test_heads_must_divide_width() -> None:
    with pytest.raises(ValueError, match="divisible"):
        PredictorConfig(width=1024, heads=12)


def test_save_and_load_give_identical_outputs(tmp_path) -> None:
    predictor = tiny_predictor(seed=3).eval()
    folder = save_predictor(predictor, tmp_path / "predictor")
    assert json.loads((folder / "config.json").read_text())["width"] == PREDICTOR.width
    for source in (folder, folder / "model.safetensors"):
        loaded = load_predictor(source)
        assert isinstance(loaded, SemanticMotionPredictor) and loaded.config == PREDICTOR
        start, end = torch.randn(2, 16), torch.randn(2, 16)
        with torch.no_grad():
            assert torch.equal(predictor(start, end, 8), loaded(start, end, 8))


def test_missing_predictor_is_model_unavailable_with_a_fix(tmp_path) -> None:
    with pytest.raises(ModelUnavailable) as caught:
        load_predictor(tmp_path / "nowhere")
    assert "model.safetensors" in str(caught.value)
    assert "python -m training.motion.train" in caught.value.fix
