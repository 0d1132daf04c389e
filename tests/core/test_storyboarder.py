"""Storyboarder projects come over with their boards, text, timing and drawings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from storyboard.core.assets import AssetStore
from storyboard.core.errors import ImportFailed
from storyboard.core.model import LayerKind, Project
from storyboard.core.numbering import panel_numbers
from storyboard.core.storyboarder import import_storyboarder
from storyboard.core.storyboarder_format import new_shots_for, shot_numbers


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


# -- what Storyboarder keeps comes over -----------------------------------------------------------


def layer_png(
    path: Path,
    color: tuple[int, int, int, int],
    box: tuple[int, int, int, int],
    size: tuple[int, int] = (32, 18),
) -> None:
    """A transparent layer with one coloured rectangle, as Storyboarder saves layers."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste(color, box)
    image.save(path, compress_level=1)


def storyboarder_scene(
    folder: Path,
    name: str,
    new_shots: list[bool],
    *,
    fps: float = 24,
    aspect: float = 16 / 9,
    size: tuple[int, int] = (32, 18),
) -> Path:
    """A Storyboarder 3 scene: each board has reference, fill, ink and notes layer files (named
    as Storyboarder names them, ``size`` pixels: Storyboarder's are 900 high), the first a
    sound, every board its newShot mark."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    boards = []
    for index, new_shot in enumerate(new_shots):
        uid = f"U{index:04d}"
        url = f"board-{index + 1}-{uid}.png"
        layers = {}
        for layer, color, box in (
            ("reference", (0, 200, 0, 255), (0, 0, 32, 18)),
            ("fill", (255, 0, 0, 255), (0, 0, 16, 18)),
            ("ink", (0, 0, 0, 255), (4, 4, 8, 8)),
            ("notes", (0, 0, 255, 255), (20, 2, 30, 6)),
        ):
            layer_png(images / url.replace(".png", f"-{layer}.png"), color, box, size)
            layers[layer] = {"url": url.replace(".png", f"-{layer}.png")}
        layers["reference"]["opacity"] = 0.5
        board: dict[str, object] = {
            "uid": uid,
            "url": url,
            "newShot": new_shot,
            "lastEdited": 1_700_000_000_000 + index,
            "layers": layers,
            "duration": 1000 + 500 * index,
            "dialogue": f"line {index}",
            "action": f"action {index}",
            "notes": f"notes {index}",
        }
        if index == 0:
            (images / f"{uid}-audio-1.wav").write_bytes(b"RIFF....WAVEfmt fake sound")
            board["audio"] = {"filename": f"{uid}-audio-1.wav", "duration": 1200}
        boards.append(board)
    data = {
        "version": "3.0.0",
        "aspectRatio": aspect,
        "fps": fps,
        "defaultBoardTiming": 2000,
        "boards": boards,
    }
    file = folder / f"{name}.storyboarder"
    file.write_text(json.dumps(data, indent=2))
    return file


def numbers_of(project: Project) -> list[str]:
    numbers = panel_numbers(project)
    return [numbers[panel.id] for panel in project.ordered_panels()]


def test_shot_numbers_come_over_as_the_panels_numbers(tmp_path: Path) -> None:
    source = storyboarder_scene(tmp_path / "s", "chase", [True, False, True, False, False])
    project, _ = import_storyboarder(source, AssetStore(tmp_path / "o.storyboard"))
    assert numbers_of(project) == ["1A", "1B", "2A", "2B", "2C"]  # as Storyboarder shows them
    overrides = [panel.number_override for panel in project.ordered_panels()]
    assert overrides == [None, None, "2A", "2B", "2C"]  # only where ours would differ
    assert [s.title for s in project.ordered_scenes()] == ["chase"]


def test_without_new_shot_marks_every_board_is_a_shot(tmp_path: Path) -> None:
    source = storyboarder_scene(tmp_path / "s", "plain", [False, False, False])
    project, _ = import_storyboarder(source, AssetStore(tmp_path / "o.storyboard"))
    assert numbers_of(project) == ["1A", "2A", "3A"]


def test_layers_come_over_named_with_their_opacity_and_pixels(tmp_path: Path) -> None:
    source = storyboarder_scene(tmp_path / "s", "layers", [False])
    store = AssetStore(tmp_path / "o.storyboard")
    project, warnings = import_storyboarder(source, store)
    (panel,) = project.ordered_panels()
    assert [(layer.name, layer.kind, layer.opacity, layer.visible) for layer in panel.layers] == [
        ("reference", LayerKind.SKETCH, 0.5, True),
        ("fill", LayerKind.SKETCH, 1.0, True),
        ("ink", LayerKind.SKETCH, 1.0, True),
        ("notes", LayerKind.NOTES, 1.0, True),
    ]
    for layer in panel.layers:
        assert layer.asset is not None
        stored = Image.open(store.path(layer.asset))
        original = Image.open(source.parent / "images" / f"board-1-U0000-{layer.name}.png")
        assert stored.convert("RGBA").tobytes() == original.convert("RGBA").tobytes()
    assert panel.image is not None and panel.candidates[0].model == "Storyboarder drawing"
    with Image.open(store.path(panel.image)) as flat:  # what Storyboarder shows
        assert flat.getpixel((24, 12)) == (127, 227, 127)  # half-opaque reference on white
        assert flat.getpixel((2, 12)) == (255, 0, 0)  # fill above it
        assert flat.getpixel((5, 5)) == (0, 0, 0)  # ink above that
        assert flat.getpixel((25, 3)) == (0, 0, 255)  # notes on top
    assert panel.id == "U0000"  # the board's uid: an export writes the same file names
    assert not warnings


def test_reference_opacity_defaults_to_storyboarders(tmp_path: Path) -> None:
    source = storyboarder_scene(tmp_path / "s", "ref", [False])
    data = json.loads(source.read_text())
    del data["boards"][0]["layers"]["reference"]["opacity"]
    source.write_text(json.dumps(data))
    project, _ = import_storyboarder(source, AssetStore(tmp_path / "o.storyboard"))
    assert project.ordered_panels()[0].layers[0].opacity == 0.75  # exporters/common.js


def test_board_sounds_are_copied_into_the_project(tmp_path: Path) -> None:
    source = storyboarder_scene(tmp_path / "s", "sound", [False, False])
    store = AssetStore(tmp_path / "o.storyboard")
    project, _ = import_storyboarder(source, store)
    first, second = project.ordered_panels()
    assert first.audio is not None and first.audio.endswith(".wav")
    sound = store.file(first.audio)
    assert sound is not None
    assert sound.read_bytes() == (source.parent / "images" / "U0000-audio-1.wav").read_bytes()
    assert second.audio is None
    assert first.duration == 29  # 1.2 s: as long as its sound (the board says 1 s)


def test_scene_files_come_in_scene_order(tmp_path: Path) -> None:
    """A Storyboarder script project names its scene folders Scene-1-..., Scene-10-...: read
    as numbers, not as letters."""
    for number in (1, 2, 10):
        folder = tmp_path / "storyboards" / f"Scene-{number}-ROOF-G{number}"
        storyboarder_scene(folder, folder.name, [False])
    project, _ = import_storyboarder(tmp_path, AssetStore(tmp_path / "o.storyboard"))
    titles = [scene.title for scene in project.ordered_scenes()]
    assert titles == ["ROOF", "ROOF", "ROOF"]  # the scene id (G2) is not part of the title
    assert project.scene_ids == ["G1", "G2", "G10"]  # but kept for an export
    assert numbers_of(project) == ["1A", "1A", "1A"]  # each scene's first shot, as shown there


def test_storyboarders_shot_numbering() -> None:
    """``updateSceneTiming`` in main-window.js, quirks included (after Z comes A2)."""
    assert shot_numbers([]) == []
    assert shot_numbers([False, False]) == ["1A", "2A"]
    assert shot_numbers([False, True, False]) == ["1A", "2A", "2B"]
    long = shot_numbers([True] + [False] * 30)
    assert long[25:28] == ["1Z", "1A2", "1B2"]
    for numbers in (["1A", "1B", "2A"], ["1A", "2A", "3A"], ["1A"], ["1A", "1B"], long):
        assert shot_numbers(new_shots_for(numbers)) == numbers
    assert new_shots_for(["1A", "2A"]) == [False, False]
