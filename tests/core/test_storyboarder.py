"""Storyboarder projects come over with their boards, text, timing and drawings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from storyboard.core.assets import AssetStore
from storyboard.core.errors import ImportFailed
from storyboard.core.storyboarder import import_storyboarder


def _board(uid: str, index: int, **extra: object) -> dict[str, object]:
    return {"uid": uid, "url": f"board-{index}-{uid}.png", "newShot": False, **extra}


def make_storyboarder(folder: Path, name: str = "scene-1", fps: int = 24) -> Path:
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    # board 1: a red fill layer under a transparent ink layer with one black pixel
    Image.new("RGBA", (16, 9), (255, 0, 0, 255)).save(images / "board-1-AAAAA.png")
    ink = Image.new("RGBA", (16, 9), (0, 0, 0, 0))
    ink.putpixel((3, 3), (0, 0, 0, 255))
    ink.save(images / "board-1-AAAAA-ink.png")
    # board 2: only a poster frame (older Storyboarder exports)
    Image.new("RGB", (16, 9), (0, 0, 255)).save(images / "board-2-BBBBB-posterframe.jpg")
    data = {
        "version": "2.0.1",
        "aspectRatio": 2.39,
        "fps": fps,
        "defaultBoardTiming": 2000,
        "boards": [
            _board(
                "AAAAA",
                1,
                dialogue="MIRA: Run!",
                action="Mira sprints.",
                notes="handheld",
                duration=3000,
                layers={"ink": {"url": "board-1-AAAAA-ink.png"}},
            ),
            _board("BBBBB", 2, audio={"filename": "x.wav", "duration": 5000}),
            _board("CCCCC", 3),  # its image is missing
        ],
    }
    file = folder / f"{name}.storyboarder"
    file.write_text(json.dumps(data))
    return file


def test_boards_become_panels_with_text_timing_and_images(tmp_path: Path) -> None:
    source = make_storyboarder(tmp_path / "src")
    store = AssetStore(tmp_path / "out.storyboard")
    project, warnings = import_storyboarder(source, store)

    assert project.settings.aspect_ratio == 2.39
    assert [s.title for s in project.ordered_scenes()] == ["scene-1"]
    first, second, third = project.ordered_panels()
    assert (first.dialogue, first.action, first.notes) == (
        "MIRA: Run!",
        "Mira sprints.",
        "handheld",
    )
    assert first.duration == 72  # 3 s at 24 fps
    assert second.duration == 120  # lasts as long as its 5 s sound
    assert third.duration == 48  # the default board timing

    assert first.image is not None and first.candidates[0].asset == first.image
    with Image.open(store.path(first.image)) as flat:
        assert flat.getpixel((0, 0)) == (255, 0, 0)  # fill layer
        assert flat.getpixel((3, 3)) == (0, 0, 0)  # ink drawn on top
    assert second.image is not None  # from the poster frame
    assert third.image is None
    assert any("board-3-CCCCC.png" in w and "no image" in w for w in warnings)


def test_a_folder_of_storyboarder_files_becomes_scenes(tmp_path: Path) -> None:
    make_storyboarder(tmp_path / "storyboards" / "a", "Scene-1-Opening")
    make_storyboarder(tmp_path / "storyboards" / "b", "Scene-2-Chase", fps=12)
    project, _ = import_storyboarder(tmp_path, AssetStore(tmp_path / "o.storyboard"))
    assert [s.title for s in project.ordered_scenes()] == ["Scene-1-Opening", "Scene-2-Chase"]
    assert len(project.panels) == 6


def test_unsupported_fps_is_mapped_and_reported(tmp_path: Path) -> None:
    source = make_storyboarder(tmp_path, fps=12)
    project, warnings = import_storyboarder(source, AssetStore(tmp_path / "o.storyboard"))
    assert project.settings.fps == 23.976
    assert any("12 fps is not supported" in w for w in warnings)


@pytest.mark.parametrize("content", ["not json", "[1]", '{"boards": 5}'])
def test_broken_files_are_typed_errors(tmp_path: Path, content: str) -> None:
    file = tmp_path / "bad.storyboarder"
    file.write_text(content)
    with pytest.raises(ImportFailed, match=r"bad\.storyboarder"):
        import_storyboarder(file, AssetStore(tmp_path / "o.storyboard"))


def test_a_folder_without_boards_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match=r"no \.storyboarder file"):
        import_storyboarder(tmp_path, AssetStore(tmp_path / "o.storyboard"))


def test_board_urls_are_file_names_in_images_never_paths(tmp_path: Path) -> None:
    source = make_storyboarder(tmp_path / "src")
    Image.new("RGB", (16, 9), (255, 0, 255)).save(tmp_path / "outside.png")
    data = json.loads(source.read_text())
    data["boards"][0]["url"] = "../../outside.png"
    data["boards"][0]["layers"] = {"ink": {"url": str(tmp_path / "outside.png")}}
    data["boards"][1]["url"] = "..\\..\\outside.png"
    source.write_text(json.dumps(data))
    project, _ = import_storyboarder(source, AssetStore(tmp_path / "out.storyboard"))
    assert [p.image for p in project.ordered_panels()] == [None, None, None]


def test_a_storyboarder_file_linked_from_outside_the_folder_is_skipped(tmp_path: Path) -> None:
    make_storyboarder(tmp_path / "src")
    make_storyboarder(tmp_path / "elsewhere", name="private")
    (tmp_path / "src" / "linked.storyboarder").symlink_to(
        tmp_path / "elsewhere" / "private.storyboarder"
    )
    project, _ = import_storyboarder(tmp_path / "src", AssetStore(tmp_path / "out.storyboard"))
    assert [s.title for s in project.ordered_scenes()] == ["scene-1"]
