"""A finished clip becomes its panel's generated transition (the editor and the command share
this): the MP4 in the asset store, the transition GENERATED, as long as the clip plays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.core.model import Project, TransitionKind
from storyboard.core.persistence import load_project, save_project
from storyboard.core.transition_clips import generated_transition, store_clip


@dataclass
class Clip:
    frames: list[object]
    fps: int
    data: bytes = b"\x00\x00\x00\x18ftypisom not really a movie"

    def write_mp4(self, path: Path) -> Path:
        path.write_bytes(self.data)
        return path


def test_a_clip_becomes_the_panels_transition_and_survives_a_reload(
    project: Project, tmp_path: Path
) -> None:
    bundle = tmp_path / "p.storyboard"
    store = AssetStore(bundle)
    clip = Clip(frames=[None] * 16, fps=8)
    asset = store_clip(store, clip)
    assert asset.endswith(".mp4") and store.file(asset).read_bytes() == clip.data  # type: ignore[union-attr]
    edit = generated_transition(project, "p1", asset, clip)
    assert edit is not None
    edit.apply(project)
    transition = project.panels["p1"].transition
    assert transition.kind == TransitionKind.GENERATED and transition.clip == asset
    assert transition.frames == 50  # 2 s at the project's 25 fps
    assert transition.direction == "up"  # the panel's own direction is kept
    save_project(project, bundle)
    assert load_project(bundle).project.panels["p1"].transition == transition
    edit.revert(project)  # a command like any other: reverting restores the old transition
    assert project.panels["p1"].transition.kind == TransitionKind.PUSH


def test_a_panel_deleted_meanwhile_gets_no_edit(project: Project) -> None:
    assert generated_transition(project, "gone", "a" * 64 + ".mp4", Clip([None] * 4, 8)) is None
