"""The image store: deduplicated, immutable, cleaned only on request."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from storyboard.core.assets import AssetStore, is_media_id
from storyboard.core.commands import AddCandidate
from storyboard.core.errors import ProjectError
from storyboard.core.model import Candidate, Project
from storyboard.core.panel_commands import RemovePanels
from storyboard.core.persistence import save_project
from tests.conftest import png_bytes


def test_same_image_is_stored_once_under_its_hash(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    data = png_bytes()
    first, second = store.put(data), store.put(data)
    assert first == second == hashlib.sha256(data).hexdigest()
    assert [p.name for p in store.root.iterdir()] == [f"{first}.png"]


def test_non_png_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="only PNG"):
        AssetStore(tmp_path).put(b"GIF89a....")


def test_images_of_deleted_panels_stay_until_an_explicit_clean_up(
    project: Project, tmp_path: Path
) -> None:
    store = AssetStore(tmp_path)
    kept, dropped = store.put(png_bytes((1, 1, 1))), store.put(png_bytes((2, 2, 2)))
    AddCandidate("p2", Candidate(asset=kept)).apply(project)
    AddCandidate("p3", Candidate(asset=dropped)).apply(project)
    RemovePanels(["p3"]).apply(project)
    assert store.stored() == {kept, dropped}  # nothing is deleted automatically
    assert store.unreferenced(project) == {dropped}
    assert store.clean_up(project) == [dropped]
    assert store.stored() == {kept}


def test_sounds_and_clips_are_kept_under_their_hash_and_extension(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    sound = b"RIFF\x00\x00\x00\x00WAVEfmt "
    line = store.put_media(sound, ".WAV")
    assert line == hashlib.sha256(sound).hexdigest() + ".wav"
    assert store.path(line) == store.root / line
    assert store.path(line).read_bytes() == sound
    image = store.put(png_bytes())
    assert store.path(image) == store.root / f"{image}.png"  # images keep their old form
    clip = tmp_path / "move.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    assert store.put_file(clip).endswith(".mp4")
    assert store.stored() == {line, image, store.put_file(clip)}
    assert is_media_id(line) and not is_media_id(image)


def test_unknown_media_kinds_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="cannot be stored"):
        AssetStore(tmp_path).put_media(b"MZ", "exe")


def test_clean_up_and_missing_cover_audio_and_clips(project: Project, tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    line, music, move = (
        store.put_media(bytes([n]) * 8, ext) for n, ext in enumerate(["wav", "mp3", "mp4"])
    )
    stale = store.put_media(b"old take", "wav")
    project.panels["p1"].audio = line
    project.settings.soundtrack = music
    project.panels["p1"].transition.clip = move
    assert {line, music, move} <= project.referenced_assets()
    assert store.missing({line, music, move, "f" * 64 + ".wav"}) == {"f" * 64 + ".wav"}
    assert store.clean_up(project) == [stale]
    assert store.stored() == {line, music, move}


def test_save_as_copies_sounds_and_clips(project: Project, tmp_path: Path) -> None:
    first = tmp_path / "a.storyboard"
    store = AssetStore(first)
    project.panels["p1"].audio = store.put_media(b"dialogue", "ogg")
    save_project(project, first)
    second = save_project(project, tmp_path / "b.storyboard", assets_from=first)
    assert AssetStore(second).path(project.panels["p1"].audio).read_bytes() == b"dialogue"
