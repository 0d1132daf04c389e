"""Project files: round trips, typed errors for bad input, saves that cannot corrupt."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest

from storyboard.core import atomic
from storyboard.core.assets import AssetStore
from storyboard.core.errors import (
    ProjectCorrupt,
    ProjectNotFound,
    ProjectSaveError,
    ProjectTooNew,
    ProjectUnreadable,
)
from storyboard.core.migrations import CURRENT_VERSION
from storyboard.core.model import Project
from storyboard.core.persistence import PROJECT_FILE, encode, load_project, save_project
from tests.conftest import png_bytes, rich_project


def _objects(value: Any) -> list[Any]:
    """Every dataclass instance reachable from ``value``."""
    found = []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found.append(value)
        for f in dataclasses.fields(value):
            found += _objects(getattr(value, f.name))
    elif isinstance(value, dict):
        for item in value.values():
            found += _objects(item)
    elif isinstance(value, list):
        for item in value:
            found += _objects(item)
    return found


@pytest.fixture
def project() -> Project:
    """The rich project with LoRAs: every field of the format."""
    return rich_project(loras=True)


def test_the_fixture_sets_every_field_of_every_type_away_from_its_default(project: Project) -> None:
    """So the round trip below really covers every field of the format."""
    non_default: dict[str, set[str]] = {}
    all_fields: dict[str, set[str]] = {}
    for obj in _objects(project):
        name = type(obj).__name__
        for f in dataclasses.fields(obj):
            all_fields.setdefault(name, set()).add(f.name)
            if f.default is not dataclasses.MISSING:
                default = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = object()
            if getattr(obj, f.name) != default:
                non_default.setdefault(name, set()).add(f.name)
    assert non_default == all_fields


def test_save_and_load_give_back_every_field(project: Project, tmp_path: Path) -> None:
    bundle = save_project(project, tmp_path / "Rooftops.storyboard")
    loaded = load_project(bundle)
    assert loaded.project == project
    assert loaded.warnings == ["6 asset file(s) are missing from assets/"]
    assert loaded.missing_assets == {
        "a" * 64,
        "b" * 64,
        "c" * 64 + ".wav",
        "d" * 64 + ".mp3",
        "e" * 64 + ".mp4",
        "f" * 64,
    }
    # Saving what was loaded writes the same bytes: saves are stable for version control.
    assert encode(loaded.project) == (bundle / PROJECT_FILE).read_bytes()


def test_project_json_declares_format_and_version(project: Project, tmp_path: Path) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")
    umask = os.umask(0)
    os.umask(umask)
    assert (bundle / PROJECT_FILE).stat().st_mode & 0o777 == 0o666 & ~umask
    data = json.loads((bundle / PROJECT_FILE).read_text())
    assert data["format"] == "storyboard-project"
    assert data["format_version"] == CURRENT_VERSION


def test_load_accepts_the_project_json_path_too(project: Project, tmp_path: Path) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")
    assert load_project(bundle / PROJECT_FILE).project == project


def test_missing_project_is_reported_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFound, match=r"project\.json is missing"):
        load_project(tmp_path / "nothing.storyboard")


def _write_raw(tmp_path: Path, text: str) -> Path:
    bundle = tmp_path / "bad.storyboard"
    bundle.mkdir()
    (bundle / PROJECT_FILE).write_text(text, encoding="utf-8")
    return bundle


def test_invalid_json_names_file_line_and_column(tmp_path: Path) -> None:
    bundle = _write_raw(tmp_path, '{"format": "storyboard-project",\n "format_version": 2,\n oops}')
    with pytest.raises(ProjectCorrupt) as info:
        load_project(bundle)
    message = str(info.value)
    assert str(bundle / PROJECT_FILE) in message
    assert "line 3" in message
    assert "backup" in message  # and says what to do


def _valid_dict(project: Project, tmp_path: Path) -> dict[str, Any]:
    bundle = save_project(project, tmp_path / "ok.storyboard")
    data: dict[str, Any] = json.loads((bundle / PROJECT_FILE).read_text())
    return data


def test_wrong_type_and_missing_field_are_named(project: Project, tmp_path: Path) -> None:
    data = _valid_dict(project, tmp_path)
    data["panels"]["p1"]["duration"] = "long"
    del data["panels"]["p1"]["candidates"][0]["asset"]
    bundle = _write_raw(tmp_path, json.dumps(data))
    with pytest.raises(ProjectCorrupt) as info:
        load_project(bundle)
    message = str(info.value)
    assert "panels.p1.duration" in message
    assert "panels.p1.candidates.0.asset: is missing" in message


def test_file_from_a_newer_editor_is_refused_and_left_alone(tmp_path: Path) -> None:
    text = json.dumps({"format": "storyboard-project", "format_version": CURRENT_VERSION + 1})
    bundle = _write_raw(tmp_path, text)
    with pytest.raises(ProjectTooNew, match="newer version"):
        load_project(bundle)
    assert (bundle / PROJECT_FILE).read_text() == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2]", "JSON object"),
        ('{"format": "something-else", "format_version": 2}', "not a storyboard project"),
        ('{"format": "storyboard-project", "format_version": "2"}', "whole number"),
        ('{"format": "storyboard-project", "format_version": 2, "panels": []}', "panels"),
    ],
)
def test_other_malformed_files_raise_typed_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ProjectCorrupt, match=expected):
        load_project(_write_raw(tmp_path, text))


def test_unknown_keys_are_reported_not_fatal(project: Project, tmp_path: Path) -> None:
    data = _valid_dict(project, tmp_path)
    data["panels"]["p1"]["mood"] = "tense"
    data["future_feature"] = {"x": 1}
    loaded = load_project(_write_raw(tmp_path, json.dumps(data)))
    assert loaded.project == project
    assert "unknown field panels.p1.mood was ignored" in loaded.warnings
    assert "unknown field future_feature was ignored" in loaded.warnings


def test_inconsistent_ids_are_repaired_without_losing_panels(
    project: Project, tmp_path: Path
) -> None:
    data = _valid_dict(project, tmp_path)
    data["scenes"]["s1"]["panel_ids"] = ["p1", "ghost", "p1"]  # p2 dropped out of every scene
    data["panels"]["p3"]["character_ids"] = ["nobody"]
    data["scene_ids"] = ["s2", "s2", "nope"]
    loaded = load_project(_write_raw(tmp_path, json.dumps(data)))
    repaired = loaded.project
    assert set(repaired.panels) == {"p1", "p2", "p3"}
    assert [p.id for p in repaired.ordered_panels()] == ["p3", "p1", "p2"]
    assert repaired.ordered_scenes()[-1].title == "Recovered panels"
    assert repaired.panels["p3"].character_ids == []
    assert any("Recovered panels" in w for w in loaded.warnings)


def test_missing_image_files_do_not_stop_the_project_from_opening(
    project: Project, tmp_path: Path
) -> None:
    bundle = tmp_path / "x.storyboard"
    store = AssetStore(bundle)
    real = store.put(png_bytes())
    project.panels["p2"].image = real
    save_project(project, bundle)
    loaded = load_project(bundle)
    assert {"a" * 64, "b" * 64} <= loaded.missing_assets
    assert real not in loaded.missing_assets


def test_unreadable_file_is_a_typed_error(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")

    def denied(self: Path) -> bytes:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ProjectUnreadable, match="permission denied"):
        load_project(bundle)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
        (PermissionError(errno.EACCES, "Permission denied"), "read-only"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only"),
    ],
)
def test_failed_save_keeps_the_previous_save(
    project: Project,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: OSError,
    expected: str,
) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")
    before = (bundle / PROJECT_FILE).read_bytes()
    project.settings.title = "Changed"

    def failing_fsync(fd: int) -> None:
        raise error

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    with pytest.raises(ProjectSaveError, match=expected) as info:
        save_project(project, bundle)
    assert "previous save is intact" in str(info.value)
    assert (bundle / PROJECT_FILE).read_bytes() == before
    assert sorted(p.name for p in bundle.iterdir()) == ["assets", PROJECT_FILE]  # no temp left


def test_a_first_save_into_a_read_only_folder_says_nothing_was_made(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(ProjectSaveError) as info:
        save_project(project, tmp_path / "new.storyboard")
    message = str(info.value)
    assert "read-only; no project was created" in message and "Pick a folder" in message
    assert "previous save" not in message and "Save As" not in message


@pytest.mark.parametrize(
    ("name", "advice"),
    [
        ("story.txt", "new NAME --from-script"),
        ("film.fountain", "File > New from Script"),
        ("photo.png", "Open the project's folder"),
    ],
)
def test_a_file_given_as_a_project_is_named_for_what_it_is(
    tmp_path: Path, name: str, advice: str
) -> None:
    file = tmp_path / name
    file.write_text("[Bob] a man\n\n[Bob] waves\n")
    with pytest.raises(ProjectNotFound) as info:
        load_project(file)
    assert "this is a file, not a project" in str(info.value) and advice in str(info.value)
    assert "Not a directory" not in str(info.value) and "backup" not in str(info.value)


@pytest.mark.parametrize("fail_at", ["open", "write", "fsync", "replace"])
def test_a_save_interrupted_at_any_step_leaves_a_loadable_project(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    bundle = save_project(project, tmp_path / "x.storyboard")
    edited = rich_project()
    edited.panels["p1"].dialogue = "a much longer line " * 500

    class Crash(Exception):
        pass

    def crash(*args: object, **kwargs: object) -> None:
        raise Crash

    if fail_at == "open":
        monkeypatch.setattr(atomic.os, "open", crash)
    elif fail_at == "write":
        real_fdopen = os.fdopen

        def half_writer(fd: int, mode: str) -> Any:
            handle = real_fdopen(fd, mode)

            def write(data: bytes) -> int:
                handle.raw.write(data[: len(data) // 2])  # type: ignore[attr-defined]
                raise Crash

            handle.write = write  # type: ignore[method-assign]
            return handle

        monkeypatch.setattr(atomic.os, "fdopen", half_writer)
    elif fail_at == "fsync":
        monkeypatch.setattr(atomic.os, "fsync", crash)
    else:
        monkeypatch.setattr(Path, "replace", crash)
    with pytest.raises(Crash):
        save_project(edited, bundle)
    monkeypatch.undo()
    assert load_project(bundle).project == project


def test_save_as_copies_the_images_the_project_uses(project: Project, tmp_path: Path) -> None:
    first = tmp_path / "first.storyboard"
    store = AssetStore(first)
    used, unused = store.put(png_bytes((1, 2, 3))), store.put(png_bytes((9, 9, 9)))
    project.panels["p2"].image = used
    save_project(project, first)
    second = save_project(project, tmp_path / "second.storyboard", assets_from=first)
    assert AssetStore(second).stored() == {used}
    assert AssetStore(second).path(used).read_bytes() == store.path(used).read_bytes()
    assert unused in store.stored()


def test_out_of_range_values_are_fixed_and_reported(project: Project, tmp_path: Path) -> None:
    data = _valid_dict(project, tmp_path)
    data["settings"]["fps"] = 12.0
    data["settings"]["aspect_ratio"] = -1
    data["panels"]["p2"]["duration"] = 0
    data["panels"]["p1"]["transition"]["direction"] = "diagonal"
    loaded = load_project(_write_raw(tmp_path, json.dumps(data)))
    assert loaded.project.settings.fps == 23.976
    assert loaded.project.settings.aspect_ratio == pytest.approx(16 / 9)
    assert loaded.project.panels["p2"].duration == 1
    assert loaded.project.panels["p1"].transition.direction == "left"
    assert len(loaded.warnings) == 5  # four fixes + the missing files


def test_deeply_nested_json_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectCorrupt, match="nested too deeply"):
        load_project(_write_raw(tmp_path, "[" * 100_000 + "]" * 100_000))


KILLED_SAVER = """
import sys
from storyboard.core.persistence import save_project
from tests.conftest import rich_project
a, b = rich_project(), rich_project()
b.panels["p1"].dialogue = "x" * 200_000  # a large save takes long enough to be killed inside
print("ready", flush=True)
while True:
    save_project(a, sys.argv[1])
    save_project(b, sys.argv[1])
"""


def test_killing_the_editor_mid_save_never_corrupts_the_project(tmp_path: Path) -> None:
    import random
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    bundle = save_project(rich_project(), tmp_path / "x.storyboard")
    versions = {rich_project().panels["p1"].dialogue, "x" * 200_000}
    rng = random.Random(7)
    for _ in range(6):
        child = subprocess.Popen(
            [sys.executable, "-c", KILLED_SAVER, str(bundle)],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.15))
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert load_project(bundle).project.panels["p1"].dialogue in versions
