"""Paths built from project data stay inside the project's folder, links followed."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.core.bundle_paths import (
    OutsideBundle,
    cache_folder,
    check_layout,
    confined,
    inside,
    readable_file,
    remove,
)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    (tmp_path / "b.storyboard" / "assets").mkdir(parents=True)
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "secret.png").write_bytes(b"secret")
    return tmp_path / "b.storyboard"


@pytest.mark.parametrize(
    "part", ["../x", "..", ".", "", "/etc/passwd", "a/b", "a\\..\\b", "a\x00b"]
)
def test_only_plain_names_are_joined(bundle: Path, part: str) -> None:
    with pytest.raises(OutsideBundle, match="not a plain file name"):
        confined(bundle, "assets", part)


def test_a_plain_name_inside_is_accepted_even_before_it_exists(bundle: Path) -> None:
    assert confined(bundle, "assets", "new.png") == bundle / "assets" / "new.png"
    assert confined(bundle, "cache", "thumbs", "x.png") == bundle / "cache" / "thumbs" / "x.png"


def test_a_link_out_of_the_bundle_is_refused_and_one_inside_is_not(bundle: Path) -> None:
    victim = bundle.parent / "victim"
    (bundle / "assets" / "out.png").symlink_to(victim / "secret.png")
    (bundle / "assets" / "dangling.png").symlink_to(victim / "nothing-yet.png")
    (bundle / "assets" / "real.png").write_bytes(b"ok")
    (bundle / "assets" / "in.png").symlink_to(bundle / "assets" / "real.png")
    for name in ("out.png", "dangling.png"):
        with pytest.raises(OutsideBundle, match="leads outside the project folder"):
            confined(bundle, "assets", name)
        assert readable_file(bundle, "assets", name) is None
    assert readable_file(bundle, "assets", "in.png") == bundle / "assets" / "in.png"


def test_a_folder_linked_out_refuses_everything_below_it(bundle: Path) -> None:
    (bundle / "cache").symlink_to(bundle.parent / "victim", target_is_directory=True)
    with pytest.raises(OutsideBundle):
        confined(bundle, "cache", "thumbs", "x.png")
    assert cache_folder(bundle, "identity") is None
    assert not inside(bundle, bundle / "cache" / "secret.png")


def test_a_link_loop_is_outside_not_a_crash(bundle: Path) -> None:
    (bundle / "assets" / "loop.png").symlink_to(bundle / "assets" / "loop.png")
    assert readable_file(bundle, "assets", "loop.png") is None


def test_remove_deletes_a_link_never_its_target(bundle: Path) -> None:
    secret = bundle.parent / "victim" / "secret.png"
    link = bundle / "assets" / "x.png"
    link.symlink_to(secret)
    assert remove(bundle, link)
    assert not link.is_symlink() and secret.read_bytes() == b"secret"
    assert not remove(bundle, link)  # already gone


def test_remove_refuses_a_folder_and_anything_in_a_folder_linked_out(bundle: Path) -> None:
    with pytest.raises(OutsideBundle, match="is a folder"):
        remove(bundle, bundle / "assets")
    (bundle / "linked").symlink_to(bundle.parent / "victim", target_is_directory=True)
    with pytest.raises(OutsideBundle, match="not deleted"):
        remove(bundle, bundle / "linked" / "secret.png")
    assert (bundle.parent / "victim" / "secret.png").exists()


def test_the_layout_refuses_project_json_or_assets_outside_and_skips_an_outside_cache(
    bundle: Path,
) -> None:
    assert check_layout(bundle, "project.json") == []
    (bundle / "cache").symlink_to(bundle.parent / "victim", target_is_directory=True)
    assert check_layout(bundle, "project.json") == [
        "cache/ leads outside the project folder; it is not used"
    ]
    (bundle / "assets").rmdir()
    (bundle / "assets").symlink_to(bundle.parent / "victim", target_is_directory=True)
    with pytest.raises(OutsideBundle, match=r"assets: leads outside the project folder \(to "):
        check_layout(bundle, "project.json")
