"""Edits as commands: each one does what the artist asked, and any history undoes exactly."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard.core.commands import (
    AddBalloon,
    AddCandidate,
    AddItem,
    AddScene,
    Batch,
    Change,
    Command,
    EditFields,
    MoveItem,
    RemoveBalloon,
    RemoveItem,
    RemoveScene,
    accept_image,
)
from storyboard.core.model import (
    FPS_CHOICES,
    Balloon,
    Candidate,
    Character,
    Page,
    Panel,
    Project,
    Scene,
)
from storyboard.core.numbering import panel_numbers
from storyboard.core.panel_commands import (
    InsertPanels,
    MovePanels,
    RemovePanels,
    duplicate_panels,
)
from storyboard.core.story_edits import remove_character, rename_character, set_fps
from tests.conftest import rich_project


def order(project: Project) -> list[str]:
    return [p.id for p in project.ordered_panels()]


def test_edit_fields_sets_and_restores(project: Project) -> None:
    command = EditFields("panel", "p1", {"dialogue": "New line", "duration": 12}, "Edit dialogue")
    change = command.apply(project)
    assert project.panels["p1"].dialogue == "New line"
    assert project.panels["p1"].duration == 12
    assert change == Change(panels=frozenset({"p1"}))
    command.revert(project)
    assert project == rich_project()


def test_edit_of_an_unknown_field_is_refused(project: Project) -> None:
    with pytest.raises(AttributeError, match="no field"):
        EditFields("panel", "p1", {"mood": "tense"}).apply(project)
    assert project == rich_project()


def test_typing_merges_into_one_step() -> None:
    first = EditFields("panel", "p1", {"dialogue": "H"}, merge_key=1)
    assert first.merge(EditFields("panel", "p1", {"dialogue": "Hello"}, merge_key=1))
    assert first.changes == {"dialogue": "Hello"}
    assert not first.merge(EditFields("panel", "p1", {"dialogue": "Hello!"}, merge_key=2))
    assert not first.merge(EditFields("panel", "p2", {"dialogue": "x"}, merge_key=1))
    assert not first.merge(EditFields("panel", "p1", {"notes": "x"}, merge_key=1))
    assert not EditFields("panel", "p1", {"notes": "a"}).merge(
        EditFields("panel", "p1", {"notes": "b"})
    )


def test_later_edits_cannot_change_what_undo_restores(project: Project) -> None:
    command = EditFields("panel", "p1", {"character_ids": ["oto"]})
    command.apply(project)
    project.panels["p1"].character_ids.append("mira")  # mutate the live list
    command.revert(project)
    assert project.panels["p1"].character_ids == ["mira"]


def test_move_panels_across_scenes_and_back(project: Project) -> None:
    command = MovePanels(["p1"], "s2", 1)
    change = command.apply(project)
    assert project.scenes["s1"].panel_ids == ["p2"]
    assert project.scenes["s2"].panel_ids == ["p3", "p1"]
    assert change.structure and change.scenes == {"s1", "s2"}
    # numbers follow the order: the moved panel is now scene 2's second panel (override sticks)
    assert panel_numbers(project)["p2"] == "1A"
    assert panel_numbers(project)["p3"] == "2A"
    command.revert(project)
    assert project == rich_project()


def test_move_within_a_scene_uses_drop_indicator_rows() -> None:
    project = Project()
    scene = Scene(id="s", panel_ids=["a", "b", "c", "d"])
    project.scenes["s"], project.scene_ids = scene, ["s"]
    project.panels = {pid: Panel(id=pid) for pid in "abcd"}
    MovePanels(["a"], "s", 3).apply(project)  # dropped before "d"
    assert scene.panel_ids == ["b", "c", "a", "d"]
    MovePanels(["b", "c"], "s", 4).apply(project)  # dropped at the end
    assert scene.panel_ids == ["a", "d", "b", "c"]


def test_delete_several_panels_is_one_undo_step(project: Project) -> None:
    command = RemovePanels(["p1", "p3"])
    command.apply(project)
    assert order(project) == ["p2"]
    assert set(project.panels) == {"p2"}
    command.revert(project)
    assert project == rich_project()


def test_duplicate_keeps_content_with_new_ids(project: Project) -> None:
    command = duplicate_panels(project, ["p1"])
    command.apply(project)
    assert len(order(project)) == 4
    copy_id = project.scenes["s1"].panel_ids[1]
    clone = project.panels[copy_id]
    assert copy_id != "p1"
    assert clone.prompt == project.panels["p1"].prompt
    assert clone.image == project.panels["p1"].image
    assert clone.balloons[0].id != "b1"
    assert clone.number_override is None
    assert panel_numbers(project)[copy_id] == "1B"


def test_remove_scene_restores_panels_and_position(project: Project) -> None:
    command = RemoveScene("s1")
    command.apply(project)
    assert project.scene_ids == ["s2"]
    assert set(project.panels) == {"p3"}
    command.revert(project)
    assert project == rich_project()


def test_rename_character_rewrites_prompts(project: Project) -> None:
    command = rename_character(project, "mira", "Mirabel")
    command.apply(project)
    assert project.characters["mira"].name == "Mirabel"
    assert project.panels["p1"].prompt == "[Mirabel] runs across a rooftop at dusk"
    assert command.label == "Rename Mira to Mirabel"
    with pytest.raises(ValueError, match="already a character"):
        rename_character(project, "oto", "mirabel")
    command.revert(project)
    assert project == rich_project()


def test_remove_character_takes_it_out_of_panels_and_balloons(project: Project) -> None:
    command = remove_character(project, "mira")
    command.apply(project)
    assert "mira" not in project.characters
    assert project.panels["p1"].character_ids == []
    assert project.panels["p1"].character_regions == {}
    assert project.panels["p1"].balloons[0].character_id is None
    command.revert(project)
    assert project == rich_project()


def test_changing_fps_keeps_seconds(project: Project) -> None:
    set_fps(project, 30.0).apply(project)
    assert project.settings.fps == 30.0
    assert project.panels["p1"].duration == 72  # 60 frames at 25 fps = 2.4 s = 72 at 30
    assert project.panels["p1"].transition.frames == 14
    with pytest.raises(ValueError, match="fps must be one of"):
        set_fps(project, 12.0)


# -- random histories ---------------------------------------------------------------------------

texts = st.text(max_size=12)


@st.composite
def command_for(draw: st.DrawFn, project: Project) -> Command:
    panels = list(project.panels)
    scenes = list(project.scene_ids)
    characters = list(project.character_ids)
    balloons = [b.id for p in project.panels.values() for b in p.balloons]
    choices = ["add_scene", "insert_panel", "settings", "add_character", "add_page", "fps"]
    if panels:
        choices += ["edit_panel", "remove_panels", "move_panels", "duplicate", "balloon"]
        choices += ["candidate", "batch"]
    if scenes:
        choices += ["edit_scene", "remove_scene", "move_scene"]
    if characters:
        choices += ["rename_character", "remove_character", "edit_character"]
    if balloons:
        choices += ["remove_balloon", "edit_balloon"]
    if project.page_ids:
        choices += ["remove_page", "move_page"]
    kind = draw(st.sampled_from(sorted(choices)))
    some_panels = st.lists(st.sampled_from(panels or ["-"]), min_size=1, max_size=3, unique=True)
    match kind:
        case "edit_panel":
            field, value = draw(
                st.sampled_from(
                    [
                        ("dialogue", draw(texts)),
                        ("duration", draw(st.integers(1, 500))),
                        ("character_ids", draw(st.lists(st.sampled_from(characters or ["x"])))),
                        ("seed_locked", draw(st.booleans())),
                    ]
                )
            )
            return EditFields("panel", draw(st.sampled_from(panels)), {field: value})
        case "batch":
            pid = draw(st.sampled_from(panels))
            return Batch(
                "two edits",
                [
                    EditFields("panel", pid, {"notes": draw(texts)}),
                    EditFields("panel", pid, {"notes": draw(texts), "action": draw(texts)}),
                ],
            )
        case "remove_panels":
            return RemovePanels(draw(some_panels))
        case "move_panels":
            target = draw(st.sampled_from(scenes))
            index = draw(st.integers(0, len(project.scenes[target].panel_ids)))
            return MovePanels(draw(some_panels), target, index)
        case "duplicate":
            return duplicate_panels(project, draw(some_panels))
        case "insert_panel":
            if not scenes:
                return AddItem("scenes", Scene(title=draw(texts)), 0)
            target = draw(st.sampled_from(scenes))
            index = draw(st.integers(0, len(project.scenes[target].panel_ids)))
            return InsertPanels(target, index, [Panel(prompt=draw(texts))])
        case "balloon":
            return AddBalloon(draw(st.sampled_from(panels)), Balloon(text=draw(texts)))
        case "remove_balloon":
            return RemoveBalloon(draw(st.sampled_from(balloons)))
        case "edit_balloon":
            return EditFields("balloon", draw(st.sampled_from(balloons)), {"text": draw(texts)})
        case "candidate":
            pid = draw(st.sampled_from(panels))
            asset = draw(st.sampled_from(["c" * 64, "d" * 64]))
            if draw(st.booleans()):
                return accept_image(pid, asset)
            return AddCandidate(pid, Candidate(asset=asset, seed=draw(st.integers(0, 9))))
        case "add_scene":
            new_panels = [Panel(prompt=draw(texts)) for _ in range(draw(st.integers(0, 2)))]
            scene = Scene(title=draw(texts), panel_ids=[p.id for p in new_panels])
            return AddScene(scene, draw(st.integers(0, len(scenes))), new_panels)
        case "edit_scene":
            return EditFields("scene", draw(st.sampled_from(scenes)), {"title": draw(texts)})
        case "remove_scene":
            return RemoveScene(draw(st.sampled_from(scenes)))
        case "move_scene":
            return MoveItem("scenes", draw(st.sampled_from(scenes)), draw(st.integers(0, 5)))
        case "add_character":
            name = f"Hero{len(characters)}"
            return AddItem("characters", Character(name=name), draw(st.integers(0, 3)))
        case "rename_character":
            cid = draw(st.sampled_from(characters))
            return rename_character(project, cid, f"{project.characters[cid].name}x")
        case "remove_character":
            return remove_character(project, draw(st.sampled_from(characters)))
        case "edit_character":
            cid = draw(st.sampled_from(characters))
            return EditFields("character", cid, {"seed": draw(st.integers(0, 99))})
        case "add_page":
            return AddItem("pages", Page(template=draw(texts)), 0)
        case "remove_page":
            return RemoveItem("pages", draw(st.sampled_from(project.page_ids)))
        case "move_page":
            return MoveItem("pages", draw(st.sampled_from(project.page_ids)), 0)
        case "fps":
            return set_fps(project, draw(st.sampled_from(FPS_CHOICES)))
        case _:
            steps = draw(st.integers(1, 80))
            return EditFields("generation", "", {"steps": steps})


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_history_undoes_to_the_original_and_redoes_to_the_end(data: st.DataObject) -> None:
    project = rich_project()
    history: list[Command] = []
    for _ in range(data.draw(st.integers(1, 12), label="length")):
        command = data.draw(command_for(project))
        command.apply(project)
        history.append(command)
        # the story stays consistent after every edit
        listed = [pid for scene in project.ordered_scenes() for pid in scene.panel_ids]
        assert sorted(listed) == sorted(project.panels)
    final = copy.deepcopy(project)
    for command in reversed(history):
        command.revert(project)
    assert project == rich_project()
    for command in history:
        command.apply(project)
    assert project == final


def test_balloon_from_dialogue_knows_the_speaker(project: Project) -> None:
    from storyboard.core.model import BalloonKind
    from storyboard.core.story_edits import balloon_from_dialogue

    command = balloon_from_dialogue(project, "p1")  # "MIRA: Not again!", Mira has a region
    command.apply(project)
    balloon = project.panels["p1"].balloons[-1]
    assert (balloon.kind, balloon.text, balloon.character_id) == (
        BalloonKind.SPEECH,
        "Not again!",
        "mira",
    )
    assert balloon.tail is not None and 0.1 <= balloon.tail.x <= 0.4  # at Mira's region
    EditFields("panel", "p3", {"dialogue": "Meanwhile, across town..."}).apply(project)
    balloon_from_dialogue(project, "p3").apply(project)
    assert project.panels["p3"].balloons[-1].kind == BalloonKind.CAPTION
    with pytest.raises(ValueError, match="no dialogue"):
        balloon_from_dialogue(project, "p2")
