"""LoRAs in projects: kept in the file, found only where LoRAs may be, put into requests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from storyboard.core.errors import ProjectCorrupt
from storyboard.core.jobs import Overrides, build_story_request
from storyboard.core.lora_files import (
    PROJECT_LORAS,
    LoraUnavailable,
    find_lora,
    list_loras,
    lora_roots,
    relative_name,
)
from storyboard.core.migrations import CURRENT_VERSION
from storyboard.core.model import Character, LoraUse, Panel, Project, Rect, Scene
from storyboard.core.persistence import PROJECT_FILE, load_project, save_project

DATA = Path(__file__).parent.parent / "data"


def _file(path: Path, size: int = 10) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def _project() -> Project:
    """Mia (with a LoRA and trigger words) alone in 1A; Mia and Leo boxed in 1B."""
    project = Project()
    project.settings.default_style = "none"
    mia = Character(id="mia", name="Mia", description="a girl in a red coat")
    mia.loras = [LoraUse("chars/mia.safetensors", 0.8, "miachar")]
    leo = Character(id="leo", name="Leo", description="a tall man")
    leo.loras = [LoraUse("leo.safetensors", 1.0, "leochar")]
    project.characters = {"mia": mia, "leo": leo}
    project.character_ids = ["mia", "leo"]
    alone = Panel(id="p1", prompt="[Mia] in the park", character_ids=["mia"])
    boxed = Panel(id="p2", prompt="[Mia] and [Leo] talking", character_ids=["mia", "leo"])
    boxed.character_regions = {"mia": Rect(0, 0, 0.5, 1), "leo": Rect(0.5, 0, 0.5, 1)}
    project.panels = {"p1": alone, "p2": boxed}
    project.scenes = {"s": Scene(id="s", panel_ids=["p1", "p2"])}
    project.scene_ids = ["s"]
    project.settings.loras = [LoraUse("ink.safetensors", 0.5, "inkstyle")]
    project.settings.style_loras = {"none": [LoraUse("flat.safetensors", 1.2, "")]}
    return project


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """A project bundle with its own loras/ and a user LoRA folder (like ComfyUI's)."""
    bundle = tmp_path / "Story.storyboard"
    user = tmp_path / "ComfyUI" / "models" / "loras"
    _file(bundle / PROJECT_LORAS / "ink.safetensors")
    for name in ("chars/mia.safetensors", "leo.safetensors", "flat.safetensors"):
        _file(user / name)
    return bundle, user


# ---------------------------------------------------------------------------------- the file
def test_loras_survive_a_save_and_load(tmp_path: Path) -> None:
    project = _project()
    save_project(project, tmp_path)
    data = json.loads((tmp_path / PROJECT_FILE).read_text())
    assert data["format_version"] == CURRENT_VERSION == 3
    assert data["characters"]["mia"]["loras"] == [
        {"file": "chars/mia.safetensors", "weight": 0.8, "trigger_words": "miachar"}
    ]
    assert load_project(tmp_path).project == project


@pytest.mark.parametrize("weight", [4.5, -10, "nan"])
def test_a_weight_out_of_range_names_the_field(tmp_path: Path, weight: object) -> None:
    save_project(_project(), tmp_path)
    data = json.loads((tmp_path / PROJECT_FILE).read_text())
    data["characters"]["leo"]["loras"][0]["weight"] = float(weight)  # type: ignore[arg-type]
    (tmp_path / PROJECT_FILE).write_text(json.dumps(data))
    with pytest.raises(ProjectCorrupt, match=r"characters\.leo\.loras\.0\.weight"):
        load_project(tmp_path)


def test_a_version_2_project_opens_without_loras_and_saves_as_3(tmp_path: Path) -> None:
    bundle = shutil.copytree(DATA / "format-v2" / "Heist.storyboard", tmp_path / "H.storyboard")
    loaded = load_project(bundle)
    assert loaded.warnings == []
    project = loaded.project
    assert [c.name for c in project.ordered_characters()] == ["Vera", "Jules"]
    assert all(c.loras == [] for c in project.characters.values())
    assert project.settings.loras == [] and project.settings.style_loras == {}
    save_project(project, bundle)
    assert json.loads((bundle / PROJECT_FILE).read_text())["format_version"] == 3


# ---------------------------------------------------------------------------------- finding
def test_a_name_is_found_in_the_project_first_then_the_user_folders(
    folders: tuple[Path, Path],
) -> None:
    bundle, user = folders
    roots = lora_roots(bundle, [str(user), ""])
    assert roots == [bundle / PROJECT_LORAS, user]
    _file(user / "ink.safetensors")
    assert find_lora("ink.safetensors", roots) == bundle / PROJECT_LORAS / "ink.safetensors"
    assert find_lora("chars/mia.safetensors", roots) == user / "chars" / "mia.safetensors"
    with pytest.raises(LoraUnavailable, match=r"'gone\.safetensors' was not found in .*loras"):
        find_lora("gone.safetensors", roots)


@pytest.mark.parametrize(
    "name",
    ["../secret.safetensors", "/etc/secret.safetensors", "chars/../../secret.safetensors"],
)
def test_a_name_never_leads_out_of_its_folder(folders: tuple[Path, Path], name: str) -> None:
    bundle, user = folders
    _file(bundle.parent / "secret.safetensors")
    with pytest.raises(LoraUnavailable, match="leads outside the LoRA folders"):
        find_lora(name, lora_roots(bundle, [str(user)]))


def test_a_link_leading_out_is_refused(folders: tuple[Path, Path], tmp_path: Path) -> None:
    bundle, user = folders
    secret = _file(tmp_path / "elsewhere" / "secret.safetensors")
    (bundle / PROJECT_LORAS / "linked.safetensors").symlink_to(secret)
    with pytest.raises(LoraUnavailable, match="leads outside"):
        find_lora("linked.safetensors", lora_roots(bundle, [str(user)]))
    assert "linked.safetensors" not in [f.name for f in list_loras([bundle / PROJECT_LORAS])]


def test_a_project_loras_folder_leading_out_is_not_used(tmp_path: Path) -> None:
    bundle = tmp_path / "Theirs.storyboard"
    bundle.mkdir()
    _file(tmp_path / "victim" / "secret.safetensors")
    (bundle / PROJECT_LORAS).symlink_to(tmp_path / "victim")
    assert lora_roots(bundle, []) == []
    with pytest.raises(LoraUnavailable, match="not found"):
        find_lora("secret.safetensors", lora_roots(bundle, []))


def test_only_safetensors_load(folders: tuple[Path, Path]) -> None:
    bundle, user = folders
    _file(user / "old.ckpt")
    with pytest.raises(LoraUnavailable, match="only safetensors"):
        find_lora("old.ckpt", lora_roots(bundle, [str(user)]))


def test_the_folders_are_listed_and_a_picked_file_gets_its_name(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    bundle, user = folders
    _file(user / "notes.txt")
    roots = lora_roots(bundle, [str(user)])
    listed = [(f.name, f.size) for f in list_loras(roots)]
    assert listed == [
        ("chars/mia.safetensors", 10),
        ("flat.safetensors", 10),
        ("ink.safetensors", 10),
        ("leo.safetensors", 10),
    ]
    assert relative_name(user / "chars" / "mia.safetensors", roots) == "chars/mia.safetensors"
    assert relative_name(_file(tmp_path / "Downloads" / "x.safetensors"), roots) is None


# ---------------------------------------------------------------------------------- requests
def test_a_panel_gets_project_style_and_character_loras_with_trigger_words(
    folders: tuple[Path, Path],
) -> None:
    bundle, user = folders
    request = build_story_request(
        _project(), ["p1"], bundle=bundle, overrides=Overrides(lora_folders=(str(user),))
    )
    job = request.panels[0]
    assert [(f.name, f.weight) for f in job.loras] == [
        ("ink.safetensors", 0.5),
        ("flat.safetensors", 1.2),
        ("chars/mia.safetensors", 0.8),
    ]
    assert job.loras[0].path == str(bundle / PROJECT_LORAS / "ink.safetensors")
    assert job.prompt == "inkstyle, miachar, a girl in a red coat in the park"
    # Mia's identity panel is drawn with the same LoRAs
    (mia,) = [c for c in request.characters if c.character_id == "mia"]
    assert mia.identity_panels[0].loras == job.loras


def test_a_boxed_panel_gets_no_character_lora_nor_its_trigger_words(
    folders: tuple[Path, Path],
) -> None:
    bundle, user = folders
    overrides = Overrides(lora_folders=(str(user),))
    job = build_story_request(_project(), ["p2"], bundle=bundle, overrides=overrides).panels[0]
    assert [f.name for f in job.loras] == ["ink.safetensors", "flat.safetensors"]
    assert "miachar" not in job.prompt and "leochar" not in job.prompt
    assert job.prompt.startswith("inkstyle, ")
    assert all("miachar" not in text for _, text in job.region_prompts)
    assert all(text.startswith("inkstyle") for _, text in job.region_prompts)


def test_the_same_file_twice_loads_once_with_the_weights_added(
    folders: tuple[Path, Path],
) -> None:
    bundle, user = folders
    project = _project()
    project.characters["mia"].loras.append(LoraUse("ink.safetensors", 0.25))
    overrides = Overrides(lora_folders=(str(user),))
    job = build_story_request(project, ["p1"], bundle=bundle, overrides=overrides).panels[0]
    assert (job.loras[0].name, job.loras[0].weight) == ("ink.safetensors", 0.75)
    assert len(job.loras) == 3


def test_a_missing_lora_is_a_message_naming_the_panel_and_its_owner(
    folders: tuple[Path, Path],
) -> None:
    bundle, _user = folders
    with pytest.raises(LoraUnavailable, match=r"panel 1A: the LoRA of style none: 'flat"):
        build_story_request(_project(), ["p1"], bundle=bundle)
    project = _project()
    project.settings.style_loras = {}
    project.characters["mia"].loras[0].file = "../../etc/passwd.safetensors"
    with pytest.raises(LoraUnavailable, match=r"the LoRA of character Mia: .* leads outside"):
        build_story_request(project, ["p1"], bundle=bundle)


def test_a_new_weight_or_file_version_changes_the_fingerprint(
    folders: tuple[Path, Path],
) -> None:
    bundle, user = folders
    overrides = Overrides(lora_folders=(str(user),))
    project = _project()
    first = build_story_request(project, ["p1"], bundle=bundle, overrides=overrides)
    project.characters["mia"].loras[0].weight = 0.9
    reweighted = build_story_request(project, ["p1"], bundle=bundle, overrides=overrides)
    _file(user / "chars" / "mia.safetensors", size=11)
    rewritten = build_story_request(project, ["p1"], bundle=bundle, overrides=overrides)
    prints = [r.panels[0].loras[2].fingerprint() for r in (first, reweighted, rewritten)]
    assert len(set(prints)) == 3
