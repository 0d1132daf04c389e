"""The toy world in motion: clips drawn from a seed, walks of the asked-for distance that the
figure's pixels follow, one look and scene per clip, captions the shipped tokenizer knows, and the
still pictures the shipped model learned from left exactly as they were."""

from __future__ import annotations

import hashlib

import pytest
import torch

from training.toyworld.model import MODEL_DIR
from training.toyworld.motion import (
    STANDING,
    WALKING,
    WAVING,
    X_MAX,
    X_MIN,
    ClipBatch,
    backgrounds,
    render_clips,
    render_frames,
    sample_frames,
    sample_labelled_frames,
)
from training.toyworld.reader import READER_FILE, load_reader
from training.toyworld.render import SLOT_X, render
from training.toyworld.world import APPEARANCE, sample_world


def _person_columns(clips: ClipBatch) -> torch.Tensor:
    """Per frame, the mean column (pixel centre) of the pixels that differ from the clip's scene
    drawn without its person, ``(B, L)``."""
    scene = backgrounds(clips)[:, None]
    person = (clips.frames != scene).any(2).float()  # (B, L, H, W)
    columns = torch.arange(64, dtype=torch.float32) + 0.5
    return (person.sum(2) * columns).sum(2) / person.sum((2, 3))


def test_the_same_seed_draws_the_same_clips() -> None:
    a, b = render_clips(4, 6, seed=1), render_clips(4, 6, seed=1)
    assert a.frames.shape == (4, 6, 3, 64, 64) and a.frames.dtype == torch.float32
    assert a.x.shape == (4, 6) and a.x.dtype == torch.float32
    assert a.pose.shape == (4, 6) and a.pose.dtype == torch.long
    assert len(a.captions) == 4 and a.scene.shape == (4,)
    assert set(a.people) == set(APPEARANCE) and a.people["hair"].shape == (4,)
    assert float(a.frames.min()) >= -1 and float(a.frames.max()) <= 1
    for name in ("frames", "x", "pose", "phase"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert a.captions == b.captions
    other = render_clips(4, 6, seed=2)
    assert not torch.equal(a.frames, other.frames) and not torch.equal(a.x, other.x)
    stream = torch.Generator().manual_seed(1)
    assert torch.equal(render_clips(4, 6, seed=99, generator=stream).frames, a.frames)


def test_walkers_cover_the_asked_distance_and_their_pixels_follow() -> None:
    for move in ((30.0, 40.0), (3.0, 8.0)):
        clips = render_clips(8, 10, seed=3, move=move, change=0.0)
        assert bool((clips.distance >= move[0] - 1e-4).all()), clips.distance
        assert bool((clips.distance <= move[1] + 1e-4).all()), clips.distance
        assert bool((clips.x >= X_MIN).all()) and bool((clips.x <= X_MAX).all())
        assert bool((clips.pose == WALKING).all())
        steps = clips.x.diff(dim=1) * clips.direction.view(-1, 1)
        assert bool((steps >= 0).all())  # always towards the end, never back
        centre = _person_columns(clips)
        assert float((centre - clips.x).abs().max()) < 1.5  # the figure is drawn at x
        moved = centre[:, -1] - centre[:, 0]
        assert torch.allclose(moved, clips.x[:, -1] - clips.x[:, 0], atol=2.0)
    assert set(clips.direction.tolist()) == {-1, 1}


def test_a_walker_swings_and_a_standing_person_does_not() -> None:
    """The same person at the same place: walking frames differ with the phase, standing ones
    are the same picture whatever the phase."""
    clips = render_clips(1, 2, seed=4, move=(0.0, 0.0))
    world = sample_world(1, torch.Generator().manual_seed(4), two_people=0.0)
    x = torch.full((1, 4), 30.0)
    phase = torch.tensor([[0.0, 0.8, 1.6, 2.4]])
    walking = render_frames(world, x, torch.full((1, 4), WALKING), phase)
    standing = render_frames(world, x, torch.full((1, 4), STANDING), phase)
    assert all(not torch.equal(walking[0], walking[k]) for k in (1, 2, 3))
    assert all(torch.equal(standing[0], standing[k]) for k in (1, 2, 3))
    assert bool((clips.x == clips.x[:, :1]).all())  # move (0, 0): nobody walks
    assert not bool((clips.pose == WALKING).any())


def test_still_clips_stand_or_wave_and_change_pose_at_most_once() -> None:
    clips = render_clips(24, 8, seed=5, move=(0.0, 0.0), change=1.0)
    for i in range(24):
        poses = torch.unique_consecutive(clips.pose[i]).tolist()
        assert poses in ([STANDING, WAVING], [WAVING, STANDING]), poses
    kept = render_clips(24, 8, seed=5, move=(0.0, 0.0), change=0.0)
    assert bool((kept.pose == kept.pose[:, :1]).all())
    assert torch.equal(kept.frames, kept.frames[:, :1].expand_as(kept.frames))


def test_walkers_that_stop_early_arrive_and_then_stand_or_wave() -> None:
    clips = render_clips(16, 12, seed=6, move=(10.0, 30.0), change=1.0)
    for i in range(16):
        walked = int((clips.pose[i] == WALKING).sum())
        assert 6 <= walked < 12, clips.pose[i]
        assert int(clips.pose[i, walked]) in (STANDING, WAVING)
        assert bool((clips.x[i, walked - 1 :] == clips.x[i, -1]).all())  # arrived, then still
        assert torch.equal(clips.pose[i, walked:], clips.pose[i, -1:].expand(12 - walked))


def test_the_shipped_reader_reads_one_look_and_scene_from_first_to_last_frame() -> None:
    """Read where its input fits: it was trained on people within 2 px of the three position
    slots, so each clip is read at the first and the last frame that stands that close to one."""
    clips = render_clips(48, 16, seed=7, move=(28.0, 40.0))
    near = torch.stack([(clips.x - s).abs() for s in SLOT_X]).amin(0) < 2  # (B, L)
    frames = torch.arange(16)
    first = torch.where(near, frames, 16).amin(1)
    last = torch.where(near, frames, -1).amax(1)
    rows = torch.arange(48)
    spread = (clips.x[rows, last] - clips.x[rows, first]).abs()
    keep = (last >= 0) & (spread > 14)  # two different slots
    assert int(keep.sum()) > 30
    reader = load_reader(READER_FILE)
    at_first = reader.read((clips.frames[rows, first][keep] + 1) / 2)
    at_last = reader.read((clips.frames[rows, last][keep] + 1) / 2)
    for name in ("scene", *APPEARANCE):
        truth = (clips.scene if name == "scene" else clips.people[name])[keep]
        assert float((at_first[name] == at_last[name]).float().mean()) > 0.9, name
        assert float((at_last[name] == truth).float().mean()) > 0.9, name


def test_captions_use_only_the_shipped_words_and_say_which_way() -> None:
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(str(MODEL_DIR / "tokenizer"))
    clips = render_clips(200, 4, seed=8)
    assert 5 < sum(not c for c in clips.captions) < 40  # the unconditional share
    for i, text in enumerate(clips.captions):
        pieces = tokenizer.tokenize(text)  # each word one token, no byte pieces
        assert pieces == [word + "</w>" for word in text.split()], text
        if not text:
            continue
        direction = int(clips.direction[i])
        if direction:
            side = "right" if direction > 0 else "left"
            assert f"walking {side}" in text, text
        else:
            assert "walking" not in text and ("standing" in text or "waving" in text), text
    stated = sum("hair" in c for c in clips.captions)
    assert 80 < stated < 180  # the look is stated in part, as in still pictures' captions


def test_the_asked_for_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match="2 frames"):
        render_clips(2, 1, seed=0)
    with pytest.raises(ValueError, match="move"):
        render_clips(2, 4, seed=0, move=(10.0, 50.0))


def test_single_frames_show_the_person_at_their_x() -> None:
    frames, x, pose = sample_frames(32, seed=9)
    assert frames.shape == (32, 3, 64, 64) and x.shape == (32,) and pose.shape == (32,)
    assert len(set(pose.tolist())) == 3 and float(x.max() - x.min()) > 20
    labelled = sample_labelled_frames(32, seed=9)  # the same draws, with the look and scene
    assert torch.equal(labelled.frames, frames) and torch.equal(labelled.x, x)
    assert set(labelled.people) == set(APPEARANCE) and labelled.scene.shape == (32,)
    assert all(len(set(v.tolist())) > 1 for v in labelled.people.values())


# ------------------------------------------------------------------------------ still pictures
STILL_PICTURES_SHA256 = "9172f0af0ae54d441e1e71cfda947b3e2a625ca5cdc42bb0d0239a3512585a0e"
"""The 64 still pictures of seed 2024 (a quarter with two people) as 8-bit RGB, from render.py
before clips came: the pictures the shipped model and reader were trained on."""


def test_still_pictures_are_drawn_exactly_as_before() -> None:
    world = sample_world(64, torch.Generator().manual_seed(2024), two_people=0.5)
    pictures = render(world)
    rgb = (pictures * 255).round().to(torch.uint8)
    assert hashlib.sha256(rgb.numpy().tobytes()).hexdigest() == STILL_PICTURES_SHA256
    # and the continuous x, given the slot's own centre, draws the very same pixels
    centre = torch.tensor(SLOT_X)[world.people["position"][:, 0]] + 4 * (world.jitter[:, 7] - 0.5)
    assert torch.equal(render(world, x=centre), pictures)
