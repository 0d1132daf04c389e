"""The image store: deduplicated, immutable, cleaned only on request."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from storyboard.core.assets import AssetStore, is_media_id
from storyboard.core.bundle_paths import OutsideBundle
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


# -- ids and links from someone else's project stay inside the bundle -----------------------------


@pytest.mark.parametrize("asset", ["../../x", "/etc/hostname", "a" * 64 + "/../x", "", "A" * 64])
def test_an_id_that_is_not_a_hash_names_no_file(tmp_path: Path, asset: str) -> None:
    store = AssetStore(tmp_path / "b.storyboard")
    with pytest.raises(OutsideBundle, match="is not an asset id"):
        store.path(asset)
    assert store.file(asset) is None and not store.has(asset)


def test_an_asset_file_linked_out_of_the_bundle_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes((255, 0, 255)))
    store = AssetStore(tmp_path / "b.storyboard")
    store.root.mkdir(parents=True)
    asset = hashlib.sha256(b"anything").hexdigest()
    (store.root / f"{asset}.png").symlink_to(secret)
    assert store.file(asset) is None and not store.has(asset)
    assert asset not in store.stored()
    # storing the real image replaces the link itself: the file it pointed at is untouched
    data = png_bytes((255, 0, 255))
    stored = store.put(data)
    assert stored == hashlib.sha256(data).hexdigest()
    other = store.put_file(secret)  # the same bytes: same id, a real file this time
    assert other == stored and not store.path(stored).is_symlink()


def test_clean_up_never_deletes_through_a_linked_assets_folder(
    project: Project, tmp_path: Path
) -> None:
    other = AssetStore(tmp_path / "other.storyboard")
    theirs = other.put(png_bytes((9, 9, 9)))
    bundle = tmp_path / "mine.storyboard"
    bundle.mkdir()
    (bundle / "assets").symlink_to(other.root, target_is_directory=True)
    store = AssetStore(bundle)
    assert store.leaves_bundle()
    assert store.stored() == set()  # its files are not ours to list
    with pytest.raises(OutsideBundle, match="nothing in it was deleted"):
        store.clean_up(project)
    assert other.has(theirs)


def test_save_as_never_writes_outside_the_new_bundle(project: Project, tmp_path: Path) -> None:
    old = tmp_path / "old.storyboard"
    save_project(project, old)
    (tmp_path / "escaped.png").write_bytes(png_bytes())  # old/assets/../../escaped.png
    project.panels["p2"].image = "../../escaped"  # what an unchecked project.json could hold
    new = tmp_path / "deep" / "er" / "new.storyboard"
    save_project(project, new, assets_from=old)
    assert sorted(p.name for p in (tmp_path / "deep" / "er").iterdir()) == ["new.storyboard"]
    assert [p.name for p in (tmp_path / "deep").iterdir()] == ["er"]
