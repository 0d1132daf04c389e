"""A finished transition clip becomes its panel's generated transition: the MP4 goes into the
asset store, and the panel's transition becomes ``GENERATED`` with the clip's length in the
project's frames. The editor's queue and the ``transitions`` command both record clips here.

The clip comes from the motion engine (``inference.motion.engine.TransitionClip``); only what this
needs of it is named (:class:`Clip`), so the core imports neither PyAV nor torch.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from storyboard.core.assets import AssetStore
from storyboard.core.commands import EditFields
from storyboard.core.model import Project, Transition, TransitionKind


class Clip(Protocol):
    @property
    def frames(self) -> Sequence[object]: ...

    @property
    def fps(self) -> int: ...

    def write_mp4(self, path: Path) -> Path: ...


def store_clip(store: AssetStore, clip: Clip) -> str:
    """Write the clip as an MP4 into the asset store; its asset id. OSError when the project
    folder takes no more (the caller holds the clip or says what is left)."""
    with tempfile.TemporaryDirectory() as folder:
        return store.put_file(clip.write_mp4(Path(folder) / "transition.mp4"))


def generated_transition(
    project: Project, panel_id: str, asset: str, clip: Clip
) -> EditFields | None:
    """The edit that makes ``asset`` the panel's transition, lasting as long as the clip plays;
    None when the panel was deleted meanwhile (the clip then stays with its job)."""
    panel = project.panels.get(panel_id)
    if panel is None:
        return None
    seconds = len(clip.frames) / clip.fps
    frames = max(1, round(seconds * project.settings.fps))
    transition = Transition(TransitionKind.GENERATED, frames, panel.transition.direction, asset)
    return EditFields("panel", panel.id, {"transition": transition}, "Generated transition")
