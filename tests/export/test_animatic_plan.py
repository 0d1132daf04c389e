"""The animatic plan (timing, transitions, fps, framing) and the frame renderer's pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from storyboard.core.model import CameraMove, Rect, Transition, TransitionKind
from storyboard.core.persistence import load_project
from storyboard.export.animatic import plan_animatic
from storyboard.export.animatic_options import (
    AnimaticOptions,
    CaptionMode,
    Direction,
    Fit,
    PanelAudio,
)
from storyboard.export.fonts import UI_FAMILY, resolved_family
from storyboard.export.frames import FrameRenderer, pixels
from storyboard.export.transitions import FlowMorph, crossfade, push, wipe
from tests.export.animatic_helpers import BLUE, RED, project_with, solid

SMALL = AnimaticOptions(size=(160, 90), captions=CaptionMode.NONE)
SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "sample.storyboard"


def test_cuts_follow_durations_and_transitions_are_centred(tmp_path: Path) -> None:
    project = project_with(tmp_path, [None, None, None], duration=24)
    first = project.ordered_panels()[0]
    first.transition = Transition(TransitionKind.CROSSFADE, 11)
    plan = plan_animatic(project, SMALL)
    assert [(c.start, c.end) for c in plan.clips] == [(0, 24), (24, 48), (48, 72)]
    assert plan.frames == 72
    (fade,) = plan.transitions
    assert (fade.effect, fade.start, fade.end) == (TransitionKind.CROSSFADE, 19, 30)
    assert plan.at(24).t == pytest.approx(0.5)  # the middle of an odd-length crossfade
    assert plan.at(18).transition is None and plan.at(30).transition is None
    assert plan.clip_at(23).index == 0 and plan.clip_at(24).index == 1


def test_output_fps_keeps_seconds_without_drift(tmp_path: Path) -> None:
    project = project_with(tmp_path, [None] * 10, duration=25)  # 25 frames at 24 fps each
    plan = plan_animatic(project, AnimaticOptions(fps=29.97, size=(160, 90)))
    assert plan.fps.numerator == 30000 and plan.fps.denominator == 1001
    assert plan.frames == round(250 / 24 * 30000 / 1001)
    assert all(c.end - c.start in (31, 32) for c in plan.clips)


def test_transition_never_longer_than_a_panel_and_generated_falls_back(tmp_path: Path) -> None:
    project = project_with(tmp_path, [None, None], duration=10)
    project.ordered_panels()[0].transition = Transition(TransitionKind.GENERATED, 40)
    (transition,) = plan_animatic(project, SMALL).transitions
    assert transition.effect is TransitionKind.CROSSFADE  # no clip was generated for this pair
    assert transition.end - transition.start == 10


def test_fit_and_fill_place_the_project_frame(tmp_path: Path) -> None:
    project = project_with(tmp_path, [None])
    fit = plan_animatic(project, AnimaticOptions(size=(1080, 1920), fit=Fit.FIT))
    fill = plan_animatic(project, AnimaticOptions(size=(1080, 1920), fit=Fit.FILL))
    assert fit.picture == (0, 656, 1080, 608)  # 16:9 letterboxed in 9:16
    assert fill.picture[3] == 1920 and fill.picture[2] == round(1920 * 16 / 9)


def test_panel_fits_its_audio_and_the_audio_is_placed(tmp_path: Path) -> None:
    project = project_with(tmp_path, [None, None], duration=24)
    second = project.ordered_panels()[1]
    sound = PanelAudio(tmp_path / "line.wav", seconds=1.5, gain_db=-3)
    options = AnimaticOptions(size=(160, 90), panel_audio={second.id: sound}, fit_to_audio=True)
    plan = plan_animatic(project, options)
    assert plan.clips[1].end - plan.clips[1].start == 36
    assert [(a.path.name, a.start, a.gain_db) for a in plan.audio] == [("line.wav", 24, -3)]


def test_sample_project_plan_and_every_frame_renders(qapp: object) -> None:
    loaded = load_project(SAMPLE)
    plan = plan_animatic(loaded.project, AnimaticOptions(size=(64, 36)))
    assert plan.frames == sum(p.duration for p in loaded.project.panels.values())
    assert {t.effect for t in plan.transitions} == {
        TransitionKind.DIP_TO_BLACK,
        TransitionKind.CROSSFADE,
    }
    renderer = FrameRenderer(plan, loaded.path)
    cards = {pixels(renderer.render(c.start)).tobytes() for c in plan.clips}
    assert len(cards) == len(plan.clips)  # every imageless panel shows its own card


def test_missing_image_file_renders_a_card(qapp: object, tmp_path: Path) -> None:
    project = project_with(tmp_path, [solid(RED)])
    for file in (tmp_path / "assets").iterdir():
        file.unlink()
    renderer = FrameRenderer(plan_animatic(project, SMALL), tmp_path)
    frame = pixels(renderer.render(0))
    assert abs(int(frame[..., 0].mean()) - RED[0]) > 60  # not the (gone) red image


def test_burned_caption_changes_only_its_rectangle(qapp: object, tmp_path: Path) -> None:
    project = project_with(tmp_path, [solid(BLUE)])
    project.ordered_panels()[0].dialogue = "MIRA: We should not be here."
    plain = FrameRenderer(
        plan_animatic(project, SMALL), tmp_path
    )  # alive while its pixels are read
    bare = pixels(plain.render(3)).copy()
    burn = AnimaticOptions(size=(160, 90), captions=CaptionMode.BURN)
    renderer = FrameRenderer(plan_animatic(project, burn), tmp_path)
    captioned = pixels(renderer.render(3))
    changed = np.any(captioned != bare, axis=2)
    box = renderer.caption_rect("MIRA: We should not be here.")
    inside = np.zeros_like(changed)
    inside[box.top() : box.bottom() + 1, box.left() : box.right() + 1] = True
    assert changed[inside].sum() > 50
    assert not changed[~inside].any()
    assert box.bottom() <= 90 * 0.9 + 1  # inside the title-safe area
    assert resolved_family(renderer._caption_font) == UI_FAMILY


def test_zoom_enlarges_as_planned(qapp: object, tmp_path: Path) -> None:
    from tests.export.animatic_helpers import disc

    project = project_with(tmp_path, [disc(30)], duration=24)
    project.ordered_panels()[0].camera = CameraMove(
        Rect(), Rect(0.25, 0.25, 0.5, 0.5), easing="linear"
    )
    renderer = FrameRenderer(plan_animatic(project, AnimaticOptions(size=(320, 180))), tmp_path)

    def width(frame: int) -> int:
        row = pixels(renderer.render(frame))[90, :, 0]
        return int((row > 127).sum())

    first, middle, last = width(0), width(12), width(23)
    assert first == pytest.approx(60, abs=2)
    assert last / first == pytest.approx(2.0, abs=0.08)
    assert middle / first == pytest.approx(1 / (1 - 0.5 * 12 / 23), abs=0.08)


@pytest.mark.parametrize(
    ("direction", "b_side"),
    [
        (Direction.LEFT, (slice(None), slice(-10, None))),
        (Direction.DOWN, (slice(0, 5), slice(None))),
    ],
)
def test_wipe_and_push_directions(direction: Direction, b_side: tuple[slice, slice]) -> None:
    a = np.zeros((40, 80, 4), np.uint8)
    b = np.full((40, 80, 4), 255, np.uint8)
    out = np.empty_like(a)
    wipe(a, b, 0.25, direction, out)
    assert (out[b_side] == 255).all() and out.mean() == pytest.approx(255 * 0.25, rel=0.05)
    push(a, b, 0.25, direction, out)
    assert (out[b_side] == 255).all() and out.mean() == pytest.approx(255 * 0.25, rel=0.05)


def test_morph_gate_accepts_a_move_and_refuses_unrelated_panels() -> None:
    rng = np.random.default_rng(1)
    texture = (rng.random((90, 160)) * 255).astype(np.uint8)
    import cv2

    texture = cv2.GaussianBlur(texture, (9, 9), 0)
    a = np.dstack([texture] * 3 + [np.full_like(texture, 255)])
    moved = np.roll(a, 8, axis=1)
    other = np.dstack(
        [cv2.GaussianBlur((rng.random((90, 160)) * 255).astype(np.uint8), (9, 9), 0)] * 3
        + [np.full_like(texture, 255)]
    )
    assert FlowMorph(a, moved).disagreement < 0.3
    assert FlowMorph(a, other).disagreement > 0.5


def test_refused_morph_renders_a_crossfade(qapp: object, tmp_path: Path) -> None:
    project = project_with(tmp_path, [solid(RED), solid(BLUE)], duration=12)
    project.ordered_panels()[0].transition = Transition(TransitionKind.MORPH, 5)
    plan = plan_animatic(project, AnimaticOptions(size=(160, 90), morph_max_disagreement=0.0))
    renderer = FrameRenderer(plan, tmp_path)
    spec = plan.at(12)
    frame = pixels(renderer.render(12)).copy()
    a = pixels(renderer.render(0)).copy()
    b = pixels(renderer.render(23)).copy()
    expected = np.empty_like(a)
    crossfade(a, b, spec.t, expected)
    assert np.abs(frame[..., :3].astype(int) - expected[..., :3]).max() <= 1
