"""Rebuild ``projects/sample.storyboard`` from ``resources/scripts/lighthouse.txt``.

The script gives scenes, panels, characters and dialogue; this adds what a script cannot say
(notes, balloons, camera moves, transitions, a comic page) so the sample shows every feature a new
user meets. Run: ``.venv/bin/python tools/make_sample.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from storyboard.core.model import (
    Balloon,
    BalloonKind,
    CameraMove,
    Page,
    PanelFrame,
    Point,
    Rect,
    Transition,
    TransitionKind,
)
from storyboard.core.persistence import save_project
from storyboard.core.script import load_script

ROOT = Path(__file__).resolve().parents[1]
NOTES = [
    "Establishing shot, wide. Hold long enough to read the caption.",
    "Low angle, rain streaks. Mira small in frame.",
    "Over-the-shoulder from inside the door.",
    "Tight on Oto's eye in the gap of the door.",
    "Spiral seen from above, vertigo feel.",
    "Glass shards catch the lantern light.",
    "Slow push in on the glowing lens.",
    "Sparks: keep the faces lit from below.",
    "Golden hour, calm after the storm.",
    "Wide, tiny boat, long beam.",
    "Oto centred, sun behind.",
    "Mira walks out of frame right.",
]


def main() -> None:
    result = load_script(ROOT / "resources/scripts/lighthouse.txt", title="The Lighthouse")
    result.raise_for_problems()
    project = result.project
    project.settings.default_style = "comic-book"
    panels = project.ordered_panels()
    for panel, note in zip(panels, NOTES, strict=True):
        panel.notes = note
        if ":" in panel.dialogue:
            speaker, line = panel.dialogue.split(":", 1)
            who = project.character_named(speaker.strip().title())
            panel.balloons.append(
                Balloon(
                    kind=BalloonKind.SPEECH,
                    text=line.strip(),
                    box=Rect(0.55, 0.05, 0.4, 0.22),
                    tail=Point(0.45, 0.5),
                    character_id=who.id if who else None,
                )
            )
        elif panel.dialogue:
            panel.balloons.append(Balloon(kind=BalloonKind.CAPTION, text=panel.dialogue))
    panels[0].camera = CameraMove(start=Rect(0, 0, 1, 1), end=Rect(0.2, 0.15, 0.6, 0.6))
    panels[6].camera = CameraMove(start=Rect(0.1, 0.1, 0.8, 0.8), end=Rect(0.3, 0.3, 0.4, 0.4))
    panels[3].transition = Transition(TransitionKind.CUT, 0)
    panels[7].transition = Transition(TransitionKind.DIP_TO_BLACK, 12)
    panels[8].transition = Transition(TransitionKind.CROSSFADE, 12)
    first_scene = project.ordered_scenes()[0]
    page = Page(
        template="grid-2x2",
        frames=[
            PanelFrame(pid, Rect((i % 2) * 0.5, (i // 2) * 0.5, 0.5, 0.5))
            for i, pid in enumerate(first_scene.panel_ids)
        ],
    )
    project.pages[page.id] = page
    project.page_ids.append(page.id)
    target = ROOT / "projects" / "sample.storyboard"
    shutil.rmtree(target, ignore_errors=True)
    save_project(project, target)
    print(f"wrote {target}: {len(project.panels)} panels")


if __name__ == "__main__":
    main()
