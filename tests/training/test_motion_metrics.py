"""The paper's transition metrics: definitions on known clips, AlexNet LPIPS loading, the CLI."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import torch
from PIL import Image

from inference.errors import ModelUnavailable
from inference.motion.clip_io import write_png_frames
from tests.fixtures.tiny_motion import tiny_image_encoder
from training.motion import metrics
from training.motion.lpips import AlexNetLPIPS, feature_distance, load_alexnet_lpips


def _moving(n: int) -> list[Image.Image]:
    out = []
    for i in range(n):
        a = np.zeros((32, 32, 3), np.uint8)
        a[4:12, 3 * i : 3 * i + 8] = (255, 200, 0)
        out.append(Image.fromarray(a))
    return out


def test_first_and_adjacent_pairs_follow_the_paper() -> None:
    pixels = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 3, 2, 2)
    distance = lambda a, b: (a - b).abs().mean((1, 2, 3))  # noqa: E731
    embed = lambda x: torch.stack([torch.ones(x.shape[0]), x[:, 0, 0, 0]], dim=1)  # noqa: E731
    scores = metrics.score_clip(pixels, distance, embed)
    assert scores.lpips_first == pytest.approx((1 + 2 + 3) / 3)  # frame 0 against 1, 2, 3
    assert scores.lpips_frames == pytest.approx(1.0)  # every adjacent pair differs by 1
    e = torch.nn.functional.normalize(embed(pixels), dim=-1)
    assert scores.clipsim_first == pytest.approx(float((e[1:] @ e[0]).mean()))
    assert scores.clipsim_frames == pytest.approx(float((e[:-1] * e[1:]).sum(-1).mean()))


def test_lpips_formula_is_zero_on_equal_images_and_symmetric() -> None:
    torch.manual_seed(0)
    net = AlexNetLPIPS().eval()
    a, b = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(net(a, a), torch.zeros(2))
        assert torch.allclose(net(a, b), net(b, a)) and (net(a, b) > 0).all()
    pooled = lambda x: [x, torch.nn.functional.avg_pool2d(x, 2)]  # noqa: E731
    assert feature_distance(pooled, a, b).shape == (2,)


def test_alexnet_lpips_loads_torchvision_and_lpips_files(tmp_path) -> None:
    torch.manual_seed(1)
    source = AlexNetLPIPS()
    trunk = {f"features.{k}": v for k, v in source.features.state_dict().items()}
    trunk["classifier.1.weight"] = torch.zeros(2, 2)  # torchvision's file has the head too
    torch.save(trunk, tmp_path / "alexnet.pth")
    channels = (64, 192, 384, 256, 256)
    torch.save(
        {f"lin{i}.model.1.weight": torch.full((1, c, 1, 1), 0.5) for i, c in enumerate(channels)},
        tmp_path / "alex.pth",
    )
    net = load_alexnet_lpips(tmp_path / "alexnet.pth", tmp_path / "alex.pth")
    a, b = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(net(a, b), source(a, b) * 0.5, rtol=1e-4)
    with pytest.raises(ModelUnavailable, match="alexnet-owt"):
        load_alexnet_lpips(tmp_path / "missing.pth")


def test_cli_scores_a_folder_of_clips(tmp_path, capsys) -> None:
    from inference.motion.clip_io import write_mp4

    tiny_image_encoder().save_pretrained(tmp_path / "clip")
    clips = tmp_path / "clips"
    write_png_frames([Image.new("RGB", (32, 32), (9, 90, 200))] * 4, clips / "still")
    write_mp4(_moving(6), clips / "moving.mp4", Fraction(8))
    out = tmp_path / "scores.json"
    args = [str(clips), "--clip", str(tmp_path / "clip"), "--size", "32", "--json", str(out)]
    assert metrics.main(args) == 0
    report = json.loads(out.read_text())
    assert report["lpips_backbone"] == "clip-substitute" and report["clips"] == 2
    still = report["per_clip"][str(clips / "still")]
    assert still["lpips_first"] == pytest.approx(0, abs=1e-6)
    assert still["clipsim_frames"] == pytest.approx(1, abs=1e-5)
    moving = report["per_clip"][str(clips / "moving.mp4")]
    assert moving["lpips_first"] > moving["lpips_frames"] > 0
    assert "lpips_first" in capsys.readouterr().out
    assert metrics.main([str(tmp_path / "empty-nothing"), "--clip", str(tmp_path / "clip")]) == 1
