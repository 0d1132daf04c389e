"""Rebuild ``projects/sample.storyboard``: "The Lost Hat", drawn by the built-in toyworld model.

The story is a StoryDiffusion script (``STORY`` below): its characters and panel prompts use only
the words the toyworld model knows (:mod:`training.toyworld.world`: a person's size, hair,
glasses, clothes and hat, a pose, a position and one of six scenes), so the sample generates out
of the box, offline, in 64 x 64 px. The captions and dialogue after ``#`` are plain English: they
are for the comic and the animatic, the model never reads them. This adds what a script cannot
say (notes, balloons, camera moves, transitions, a comic page) so the sample shows every feature a
new user meets. Run: ``.venv/bin/python tools/make_sample.py``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from storyboard.core.model import (
    Balloon,
    BalloonKind,
    CameraMove,
    Page,
    Point,
    Rect,
    Transition,
    TransitionKind,
)
from storyboard.core.page_templates import frames_for
from storyboard.core.persistence import save_project
from storyboard.core.script import parse_script

ROOT = Path(__file__).resolve().parents[1]
TITLE = "The Lost Hat"
GRAN = (
    "a small person with short white hair and glasses wearing a purple shirt and a brown skirt "
    "without a hat"
)
STORY = f"""\
[Mia] a small person with long red hair wearing a yellow shirt and a blue skirt
[Leo] a tall person with short black hair and glasses wearing a green shirt and gray trousers and a black hat

## Sunday morning
[NC] a tall person with long blond hair wearing an orange shirt walking in the middle in the park #A sunny Sunday in the park.
[Mia] waving on the left in the park #MIA: Leo! Over here!
[Mia] walking in the middle in the park #MIA: Why the long face?
[Leo] standing on the right in the park #LEO: I lost my hat. My lucky black hat!

## The search
[Mia] walking on the left and [Leo] walking on the right, on the beach #MIA: Don't worry. We'll find it.
[Leo] standing in the middle in the city #LEO: Not on the beach. Not in the city...
[Mia] waving on the right in the snow #MIA: Not in the snow either!
[Mia] standing on the left and [Leo] standing on the right, at night #They looked until the stars came out.

## Gran's house
[NC] {GRAN} standing on the left in a room #GRAN: There you are! Did you find it?
[NC] {GRAN} waving on the left in a room #GRAN: Leo, dear... what's that on your head?
[Leo] standing in the middle in a room #LEO: My hat! It was there all day?
[Mia] waving on the right in a room #MIA: Next time, check your head first!
"""  # noqa: E501  (one panel a line: that is the script format)
NOTES = [
    "Establishing shot, wide. Hold long enough to read the caption.",
    "Mia spots Leo off frame right and waves.",
    "Mia walks over; her smile fades.",
    "The gag: the hat is plainly on his head. Nobody mentions it.",
    "Wide and low along the shore, both walking.",
    "Leo alone between the buildings, searching.",
    "Slow push in on Mia, arms up in the snow.",
    "Both tired under the stars. Dip to black after.",
    "Gran at home, warm light. Crossfade in.",
    "Gran waves at Leo's head, off frame right.",
    "Leo touches the hat. Beat.",
    "Mia laughing, waving goodbye. The end.",
]
POSITIONS = {"on the left": 14 / 64, "in the middle": 0.5, "on the right": 50 / 64}
"""The centre of a person at each position, as a fraction of the picture's width (toyworld)."""
_POSITION = re.compile("|".join(POSITIONS))


def speaker_x(prompt: str, name: str) -> float:
    """Where the speaker stands: the first position phrase after their ``[Name]`` (or anywhere)."""
    tag = prompt.find(f"[{name}]")
    found = _POSITION.search(prompt, max(tag, 0))
    return POSITIONS[found.group(0)] if found else 0.5


def speech_balloon(prompt: str, speaker: str, line: str, character_id: str | None) -> Balloon:
    """A balloon above the speaker's head, its tail pointing down at them."""
    x = speaker_x(prompt, speaker)
    left = min(max(x - 0.22, 0.03), 0.53)
    return Balloon(
        kind=BalloonKind.SPEECH,
        text=line,
        box=Rect(left, 0.03, 0.44, 0.18),
        tail=Point(x, 0.3),
        character_id=character_id,
    )


def main() -> None:
    result = parse_script(STORY, kind="storydiffusion", title=TITLE)
    result.raise_for_problems()
    project = result.project
    settings = project.settings
    settings.aspect_ratio = 1.0  # the toyworld model draws square pictures
    settings.default_style = "none"  # its prompts are its own words: no style phrases around them
    generation = settings.generation
    generation.model = "toyworld"
    generation.width, generation.height = 64, 64
    generation.steps, generation.guidance, generation.scheduler = 20, 4.0, "ddim"
    panels = project.ordered_panels()
    for panel, note in zip(panels, NOTES, strict=True):
        panel.notes = note
        if ":" in panel.dialogue:
            speaker, line = (part.strip() for part in panel.dialogue.split(":", 1))
            who = project.character_named(speaker.title())
            name, character_id = (who.name, who.id) if who else ("", None)
            panel.balloons.append(speech_balloon(panel.prompt, name, line, character_id))
        elif panel.dialogue:
            panel.balloons.append(Balloon(kind=BalloonKind.CAPTION, text=panel.dialogue))
        if len(panel.character_ids) > 1:  # a box each: each drawn from their own prompt
            for character_id in panel.character_ids:
                name = project.characters[character_id].name
                left = 0.0 if speaker_x(panel.prompt, name) < 0.5 else 0.5
                panel.character_regions[character_id] = Rect(left, 0.0, 0.5, 1.0)
    panels[0].camera = CameraMove(start=Rect(0, 0, 1, 1), end=Rect(0.2, 0.15, 0.6, 0.6))
    panels[6].camera = CameraMove(start=Rect(0.1, 0.1, 0.8, 0.8), end=Rect(0.3, 0.3, 0.4, 0.4))
    panels[3].transition = Transition(TransitionKind.CUT, 0)
    panels[7].transition = Transition(TransitionKind.DIP_TO_BLACK, 12)
    panels[8].transition = Transition(TransitionKind.CROSSFADE, 12)
    # a laid-out first page: a 2x3 grid's frames are about square, like the pictures (a 2x2
    # grid's tall frames would crop away the people on the left and right); the rest paginates
    first_page = [panel.id for panel in panels[:6]]
    page = Page(
        template="grid-2x3", frames=frames_for("grid-2x3", first_page, settings.reading_order)
    )
    project.pages[page.id] = page
    project.page_ids.append(page.id)
    target = ROOT / "projects" / "sample.storyboard"
    shutil.rmtree(target, ignore_errors=True)
    save_project(project, target)
    print(f"wrote {target}: {len(project.panels)} panels")


if __name__ == "__main__":
    main()
