"""Ids from project.json become file names only once the loader has checked them.

Object ids that are not plain names are renamed with every reference following; asset ids that
are not content hashes refuse the project with the JSON path of the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storyboard.core.errors import ProjectCorrupt
from storyboard.core.model import Project
from storyboard.core.persistence import encode, load_project, save_project
from storyboard.core.project_ids import is_slug

HOSTILE = {
    "panel": "../../models/v1",
    "character": "/home/someone/.ssh/id",
    "scene": "a/b",
    "page": "..",
}


def _bundle(tmp_path: Path, data: dict[str, Any]) -> Path:
    bundle = tmp_path / "x.storyboard"
    bundle.mkdir(exist_ok=True)
    (bundle / "project.json").write_text(json.dumps(data))
    return bundle


def _hostile(project: Project) -> dict[str, Any]:
    """The rich project with one panel, character, scene and page under a path-like id, every
    reference following, and a balloon and candidate id that are paths too."""
    data = json.loads(encode(project))
    text = json.dumps(data)
    for old, new in (("p1", HOSTILE["panel"]), ("mira", HOSTILE["character"])):
        text = text.replace(f'"{old}"', json.dumps(new))
    data = json.loads(text)
    for kind, old, order in (("scenes", "s1", "scene_ids"), ("pages", "pg1", "page_ids")):
        new = HOSTILE[kind[:-1]]
        data[kind][new] = data[kind].pop(old)
        data[kind][new]["id"] = new
        data[order] = [new if i == old else i for i in data[order]]
    panel = data["panels"][HOSTILE["panel"]]
    panel["balloons"][0]["id"] = "../b1"
    panel["candidates"][0]["id"] = "c1\x00"
    return data


def test_path_like_object_ids_are_renamed_and_every_reference_follows(
    project: Project, tmp_path: Path
) -> None:
    loaded = load_project(_bundle(tmp_path, _hostile(project)))
    repaired = loaded.project
    ids = [*repaired.panels, *repaired.scenes, *repaired.characters, *repaired.pages]
    assert all(is_slug(i) for i in ids)
    assert not set(HOSTILE.values()) & set(ids)
    # nothing lost, and every reference points at the renamed objects
    assert len(repaired.panels) == 3 and len(repaired.characters) == 2
    first = next(p for p in repaired.panels.values() if p.prompt.startswith("[Mira] runs"))
    mira = repaired.character_named("Mira")
    assert mira is not None and mira.id != HOSTILE["character"]
    assert first.character_ids == [mira.id]
    assert list(first.character_regions) == [mira.id]
    assert first.balloons[0].character_id == mira.id
    assert is_slug(first.balloons[0].id) and is_slug(first.candidates[0].id)
    chase = next(s for s in repaired.ordered_scenes() if s.title == "Chase")
    assert chase.panel_ids[0] == first.id
    assert repaired.scene_ids[0] == chase.id
    page = repaired.pages[repaired.page_ids[0]]
    assert page.frames[0].panel_id == first.id
    assert [p.prompt for p in repaired.ordered_panels()] == [
        p.prompt for p in project.ordered_panels()
    ]
    assert any(w.startswith("1 panel id(s) were not plain names") for w in loaded.warnings)
    assert "1 character id(s) were not plain names ('/home/someone/.ssh/id') and were renamed" in (
        loaded.warnings
    )
    # saved again, it opens without a warning about ids
    again = load_project(save_project(repaired, tmp_path / "again.storyboard"))
    assert again.project == repaired
    assert not [w for w in again.warnings if "plain names" in w]


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("panels.p1.image", "../../../secret"),
        ("panels.p1.candidates[0].asset", "/etc/passwd"),
        ("panels.p1.layers[0].asset", "f" * 63 + "/"),
        ("panels.p1.audio", "../x.wav"),
        ("panels.p1.transition.clip", "e" * 64 + ".mp4/../../x.mp4"),
        ("characters.mira.reference_images[0]", "A" * 64),
        ("settings.soundtrack", "d" * 64 + ".exe"),
    ],
)
def test_an_asset_id_that_is_not_a_content_hash_refuses_the_project(
    project: Project, tmp_path: Path, where: str, value: str
) -> None:
    data = json.loads(encode(project))
    node: Any = data
    steps = where.replace("[", ".").replace("]", "").split(".")
    for step in steps[:-1]:
        node = node[int(step)] if step.isdigit() else node[step]
    last = steps[-1]
    node[int(last) if last.isdigit() else last] = value
    with pytest.raises(ProjectCorrupt) as error:
        load_project(_bundle(tmp_path, data))
    assert f"{where}: {value!r} is not" in str(error.value)
    assert "project.json" in str(error.value)


def test_well_formed_ids_load_unchanged(project: Project, tmp_path: Path) -> None:
    loaded = load_project(save_project(project, tmp_path / "ok.storyboard"))
    assert loaded.project == project
    assert not [w for w in loaded.warnings if "plain names" in w]
