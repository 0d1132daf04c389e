"""Lone surrogates (half of an emoji) load repaired, and any save failure is a typed error."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from storyboard.core.autosave import Autosave
from storyboard.core.errors import ProjectCorrupt, ProjectSaveError
from storyboard.core.model import Candidate
from storyboard.core.persistence import PROJECT_FILE, encode, load_project, save_project
from storyboard.core.text_repair import repair_surrogates
from tests.conftest import rich_project

HALF_EMOJI = "\ud83d"  # the first half of 😀 without its second half


def _project_json_with(tmp_path: Path, edit: str) -> Path:
    """A saved rich project whose JSON text gets ``edit`` applied (raw text, \\u escapes kept)."""
    bundle = save_project(rich_project(), tmp_path / "x.storyboard")
    file = bundle / PROJECT_FILE
    data = json.loads(file.read_text(encoding="utf-8"))
    data["panels"]["p1"]["dialogue"] = "MARKER_DIALOGUE"
    data["panels"]["p1"]["balloons"][0]["text"] = "MARKER_BALLOON"
    data["characters"]["mira"]["name"] = "MARKER_NAME"
    text = json.dumps(data, indent=1)
    text = text.replace("MARKER_DIALOGUE", "Look out\\ud83d!")
    text = text.replace("MARKER_BALLOON", "\\udc00 boom")
    text = text.replace("MARKER_NAME", edit)
    file.write_text(text, encoding="utf-8")
    return bundle


def test_a_lone_surrogate_loads_repaired_with_a_warning_naming_the_field(tmp_path: Path) -> None:
    bundle = _project_json_with(tmp_path, "Mira \\ud800")

    loaded = load_project(bundle)

    panel = loaded.project.panels["p1"]
    assert panel.dialogue == "Look out\ufffd!"
    assert panel.balloons[0].text == "\ufffd boom"
    assert loaded.project.characters["mira"].name == "Mira \ufffd"
    repaired = [w for w in loaded.warnings if "broken character" in w]
    assert sorted(w.split(":")[0] for w in repaired) == [
        "characters.mira.name",
        "panels.p1.balloons[0].text",
        "panels.p1.dialogue",
    ]
    save_project(loaded.project, bundle)  # raised UnicodeEncodeError before
    again = load_project(bundle)
    assert again.project.panels["p1"].dialogue == "Look out\ufffd!"
    assert not [w for w in again.warnings if "broken character" in w]


def test_a_whole_emoji_is_kept(tmp_path: Path) -> None:
    bundle = _project_json_with(tmp_path, "Mira \\ud83d\\ude00")
    loaded = load_project(bundle)
    assert loaded.project.characters["mira"].name == "Mira \U0001f600"
    assert not [w for w in loaded.warnings if w.startswith("characters.mira.name")]


def test_ids_that_repair_to_the_same_key_are_refused_not_merged(tmp_path: Path) -> None:
    bundle = save_project(rich_project(), tmp_path / "x.storyboard")
    file = bundle / PROJECT_FILE
    data = json.loads(file.read_text(encoding="utf-8"))
    data["scenes"]["s\ud800"] = data["scenes"]["s1"] | {"id": "s\ud800"}
    data["scenes"]["s\ud801"] = data["scenes"]["s1"] | {"id": "s\ud801"}
    file.write_text(json.dumps(data), encoding="utf-8")  # ensure_ascii: \ud800 escapes
    with pytest.raises(ProjectCorrupt, match=r"scenes\.s\ufffd: two keys differ only"):
        load_project(bundle)


def test_text_that_came_in_another_way_is_repaired_on_save(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An import or a paste can put a lone surrogate in memory: Save and autosave still work."""
    project = rich_project()
    project.panels["p2"].notes = "pasted " + HALF_EMOJI
    with caplog.at_level(logging.WARNING):
        bundle = save_project(project, tmp_path / "x.storyboard")
        Autosave(bundle).write(project)
    assert load_project(bundle).project.panels["p2"].notes == "pasted \ufffd"
    assert "panels.p2.notes" in caplog.text
    assert project.panels["p2"].notes == "pasted " + HALF_EMOJI  # the open project is unchanged


def test_a_project_that_cannot_be_encoded_is_a_typed_save_error(tmp_path: Path) -> None:
    bundle = save_project(rich_project(), tmp_path / "x.storyboard")
    before = (bundle / PROJECT_FILE).read_bytes()
    project = rich_project()
    project.panels["p1"].candidates.append(Candidate("b" * 64, settings={"x": object()}))  # type: ignore[dict-item]

    with pytest.raises(ProjectSaveError, match="previous save is intact"):
        save_project(project, bundle)
    with pytest.raises(ProjectSaveError, match="could not be written as JSON"):
        Autosave(bundle).write(project)
    assert (bundle / PROJECT_FILE).read_bytes() == before


def test_repair_handles_any_depth() -> None:
    deep: list[object] = ["\ud800"]
    for _ in range(50_000):
        deep = [deep]
    _, paths = repair_surrogates(deep)
    assert len(paths) == 1 and paths[0].endswith("[0]")


def test_encode_of_a_clean_project_is_unchanged() -> None:
    assert json.loads(encode(rich_project()))["panels"]["p1"]["id"] == "p1"
