"""Letter all panels: one step for every panel with dialogue and no balloon; a script's project
comes lettered."""

from __future__ import annotations

import copy

from storyboard.core.lettering import letter_all
from storyboard.core.model import Balloon, BalloonKind, Panel, Project, Scene
from storyboard.core.script import parse_script


def project_with(dialogues: list[str], lettered: set[int]) -> Project:
    project = Project()
    scene = Scene(title="One")
    for i, text in enumerate(dialogues):
        panel = Panel(id=f"p{i}", dialogue=text)
        if i in lettered:
            panel.balloons = [Balloon(text="by hand")]
        project.panels[panel.id] = panel
        scene.panel_ids.append(panel.id)
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    return project


def test_letter_all_letters_the_unlettered_panels_in_one_undoable_step() -> None:
    project = project_with(["Hello.", "", "Hi!", "Bye.", "  "], lettered={3})
    before = copy.deepcopy(project)
    lettering = letter_all(project)
    assert (lettering.lettered, lettering.already) == (2, 1)
    assert lettering.message == "Lettered 2 panels; 1 panel already had balloons"
    assert lettering.command is not None and lettering.command.label == "Letter 2 panels"
    lettering.command.apply(project)
    assert [len(p.balloons) for p in project.ordered_panels()] == [1, 0, 1, 1, 0]
    assert project.panels["p0"].balloons[0].text == "Hello."
    assert project.panels["p3"].balloons[0].text == "by hand"  # left alone
    again = letter_all(project)
    assert again.command is None
    assert again.message == "No panel to letter: no panel has dialogue without a balloon; " \
        "3 panels already had balloons"  # fmt: skip
    lettering.command.revert(project)
    assert project == before


def test_a_project_made_from_a_script_comes_lettered() -> None:
    result = parse_script(
        "[Mira] a person with red hair\n\n## Storm\n"
        "[Mira] walking on the beach #MIRA: One last delivery.\n"
        "[Mira] waving in the park\n"
    )
    first, second = result.project.ordered_panels()
    assert [b.text for b in first.balloons] == ["One last delivery."]
    assert first.balloons[0].kind == BalloonKind.SPEECH
    assert second.balloons == []  # no dialogue, no balloon
