"""A Storyboarder file from someone else never aborts the import with an unexpected error: each
bad value is a warning on its board (the rest comes over), a broken file is a typed error naming
it, and what comes over can be saved."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from storyboard.core.assets import AssetStore
from storyboard.core.errors import ImportFailed
from storyboard.core.persistence import load_project, save_project
from storyboard.core.storyboarder import import_storyboarder
from storyboard.core.storyboarder_boards import MAX_SOUND_BYTES

HOUR = 3600  # a board lasts at most an hour


def write(folder: Path, text: str, name: str = "hostile") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images").mkdir(exist_ok=True)
    file = folder / f"{name}.storyboarder"
    file.write_text(text, encoding="utf-8")
    return file


def boards(*items: str, head: str = "") -> str:
    """A Storyboarder JSON text; ``items`` are raw JSON board objects (so they can hold the
    ``Infinity`` and ``NaN`` that Python's json reads and other tools write)."""
    return "{" + head + '"boards": [' + ", ".join(items) + "]}"


def good_image(folder: Path, name: str) -> None:
    Image.new("RGB", (16, 9), (0, 128, 0)).save(folder / "images" / name)


def test_deep_nesting_is_a_typed_error_naming_the_file(tmp_path: Path) -> None:
    file = write(tmp_path, boards("[" * 100_000 + "]" * 100_000))
    with pytest.raises(ImportFailed, match=r"hostile\.storyboarder.*nested too deeply"):
        import_storyboarder(file, AssetStore(tmp_path / "out.storyboard"))


@pytest.mark.parametrize(
    ("board", "problem"),
    [
        ('{"duration": Infinity}', "duration"),
        ('{"duration": NaN}', "duration"),
        ('{"duration": -Infinity}', "duration"),
        ('{"duration": 1e300}', "duration"),
        ('{"duration": 2000, "audio": {"duration": Infinity}}', "sound"),
        ('{"duration": 2000, "audio": {"duration": 1e18}}', "sound"),
    ],
)
def test_impossible_timings_are_warnings_on_their_board(
    tmp_path: Path, board: str, problem: str
) -> None:
    file = write(tmp_path, boards('{"duration": 1000}', board, '{"duration": 3000}'))
    project, warnings = import_storyboarder(file, AssetStore(tmp_path / "out.storyboard"))
    first, second, third = project.ordered_panels()
    assert (first.duration, third.duration) == (24, 72)  # the good boards are untouched
    assert 1 <= second.duration <= HOUR * 24
    assert any(w.startswith("hostile.storyboarder, board 2:") and problem in w for w in warnings)
    save_project(project, tmp_path / "saved.storyboard")  # and it all saves and opens again
    assert len(load_project(tmp_path / "saved.storyboard").project.panels) == 3


@pytest.mark.parametrize("timing", ["Infinity", "NaN", "1e300", "-5"])
def test_an_impossible_default_timing_is_one_warning(tmp_path: Path, timing: str) -> None:
    file = write(tmp_path, boards("{}", "{}", head=f'"defaultBoardTiming": {timing}, '))
    project, warnings = import_storyboarder(file, AssetStore(tmp_path / "out.storyboard"))
    assert [p.duration for p in project.ordered_panels()] == [48, 48]  # Storyboarder's 2 s
    assert sum("default board timing" in w for w in warnings) == 1


@pytest.mark.parametrize(
    ("head", "fps", "aspect"),
    [
        ('"fps": Infinity, "aspectRatio": Infinity, ', 24.0, 16 / 9),
        ('"fps": NaN, "aspectRatio": NaN, ', 24.0, 16 / 9),
        ('"fps": 1e308, "aspectRatio": 1e308, ', 24.0, 16 / 9),
    ],
)
def test_impossible_fps_and_aspect_are_warnings(
    tmp_path: Path, head: str, fps: float, aspect: float
) -> None:
    file = write(tmp_path, boards("{}", head=head))
    project, warnings = import_storyboarder(file, AssetStore(tmp_path / "out.storyboard"))
    assert (project.settings.fps, project.settings.aspect_ratio) == (fps, aspect)
    assert any("fps" in w for w in warnings)
    assert any("aspect ratio" in w for w in warnings)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels and holds a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(100_000, 100_000), (10_000, 9_000), (60_000, 1)])
def test_a_decompression_bomb_is_a_warning_and_the_other_boards_come_over(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    file = write(tmp_path, boards('{"url": "bomb.png"}', '{"url": "fine.png"}'))
    (tmp_path / "images" / "bomb.png").write_bytes(png_header(*size))
    good_image(tmp_path, "fine.png")
    project, warnings = import_storyboarder(file, AssetStore(tmp_path / "out.storyboard"))
    bomb, fine = project.ordered_panels()
    assert bomb.image is None and fine.image is not None
    assert any("board 1" in w and "bomb.png" in w and "too large" in w for w in warnings)


@pytest.mark.parametrize("stamp", ["1e20", "Infinity", "NaN", "-1e20", "253402300800000"])
def test_an_impossible_last_edited_date_is_a_warning(tmp_path: Path, stamp: str) -> None:
    file = write(tmp_path, boards(f'{{"url": "b.png", "lastEdited": {stamp}}}'))
    good_image(tmp_path, "b.png")
    project, warnings = import_storyboarder(file, AssetStore(tmp_path / "out.storyboard"))
    (panel,) = project.ordered_panels()
    assert panel.image is not None and panel.candidates[0].created == ""
    assert any("board 1" in w and "last edited" in w for w in warnings)


def test_a_lone_surrogate_is_repaired_on_the_way_in(tmp_path: Path) -> None:
    """Half an emoji (a lone UTF-16 surrogate, as a JSON escape) would make the project
    impossible to save; it becomes U+FFFD with a warning, and whole emoji stay whole."""
    text = boards(
        '{"dialogue": "MIRA: hi \\ud83d", "action": "\\udc00 runs", "notes": "ok \\ud83d\\ude00"}'
    )
    file = write(tmp_path, text)
    project, warnings = import_storyboarder(file, AssetStore(tmp_path / "out.storyboard"))
    (panel,) = project.ordered_panels()
    assert panel.dialogue == "MIRA: hi \ufffd"
    assert panel.action == "\ufffd runs"
    assert panel.notes == "ok \U0001f600"
    assert any("board 1" in w and "broken characters" in w for w in warnings)
    save_project(project, tmp_path / "saved.storyboard")
    reloaded = load_project(tmp_path / "saved.storyboard").project
    assert reloaded.ordered_panels()[0].dialogue == "MIRA: hi \ufffd"


def test_a_storyboarder_file_with_a_broken_name_gets_a_repaired_title(tmp_path: Path) -> None:
    """A file name that is not valid UTF-8 reaches Python with lone surrogates in it."""
    name = b"sc\xe8ne".decode("utf-8", "surrogateescape")
    file = write(tmp_path, json.dumps({"boards": [{}]}), name=name)
    project, _ = import_storyboarder(file, AssetStore(tmp_path / "out.storyboard"))
    assert [s.title for s in project.ordered_scenes()] == ["sc\ufffdne"]
    assert project.settings.title == "sc\ufffdne"
    save_project(project, tmp_path / "saved.storyboard")


def test_an_image_linking_outside_the_storyboarder_folder_is_not_read(tmp_path: Path) -> None:
    """A board image may be a symbolic link (an archive can hold one): what it points at
    outside the Storyboarder folder stays out of the project."""
    secret = tmp_path / "elsewhere" / "private.png"
    secret.parent.mkdir()
    Image.new("RGB", (16, 9), (255, 0, 0)).save(secret)
    file = write(tmp_path / "board", boards('{"url": "b.png"}'))
    (tmp_path / "board" / "images" / "b.png").symlink_to(secret)
    project, warnings = import_storyboarder(file, AssetStore(tmp_path / "out.storyboard"))
    (panel,) = project.ordered_panels()
    assert panel.image is None
    assert not list((tmp_path / "out.storyboard").rglob("*.png"))
    assert any("board 1" in w and "outside the Storyboarder folder" in w for w in warnings)


# -- sounds and layers (what the import keeps since it stopped flattening) ----------------------


def board_with_sound(folder: Path, filename: str) -> Path:
    return write(folder, boards(json.dumps({"audio": {"filename": filename, "duration": 500}})))


@pytest.mark.parametrize("form", ["link", "traversal", "absolute"])
def test_a_sound_outside_the_storyboarder_folder_is_not_read(tmp_path: Path, form: str) -> None:
    secret = tmp_path / "elsewhere" / "secret.wav"
    secret.parent.mkdir()
    secret.write_bytes(b"RIFF somebody else's recording")
    folder = tmp_path / "board"
    name = {"link": "b.wav", "traversal": "../../elsewhere/secret.wav", "absolute": str(secret)}
    file = board_with_sound(folder, name[form])
    if form == "link":
        (folder / "images" / "b.wav").symlink_to(secret)
    store = AssetStore(tmp_path / "out.storyboard")
    project, warnings = import_storyboarder(file, store)
    (panel,) = project.ordered_panels()
    assert panel.audio is None and store.stored() == set()
    assert any(w.startswith("hostile.storyboarder, board 1:") for w in warnings)
    assert panel.duration == 48  # the board itself still comes over (Storyboarder's 2 s)


def test_a_sound_of_an_unknown_kind_or_absurd_size_is_left_out(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        boards(
            '{"audio": {"filename": "run.exe"}}',
            '{"audio": {"filename": "huge.wav"}}',
            '{"audio": {"filename": ""}, "duration": 1000}',
            '{"audio": {"filename": 5}}',
        ),
    )
    (tmp_path / "images" / "run.exe").write_bytes(b"MZ")
    with (tmp_path / "images" / "huge.wav").open("wb") as huge:  # sparse: no disk used
        huge.truncate(MAX_SOUND_BYTES + 1)
    store = AssetStore(tmp_path / "out.storyboard")
    project, warnings = import_storyboarder(file, store)
    assert [p.audio for p in project.ordered_panels()] == [None] * 4
    assert store.stored() == set()
    assert any("board 1" in w and ".exe sounds cannot be stored" in w for w in warnings)
    assert any("board 2" in w and "too large for a board's sound" in w for w in warnings)


@pytest.mark.parametrize("opacity", ["NaN", "Infinity", "5", "-1", '"half"'])
def test_an_impossible_layer_opacity_is_a_warning(tmp_path: Path, opacity: str) -> None:
    layers = f'{{"reference": {{"url": "r.png", "opacity": {opacity}}}}}'
    file = write(tmp_path, boards(f'{{"url": "b.png", "layers": {layers}}}'))
    good_image(tmp_path, "r.png")
    project, warnings = import_storyboarder(file, AssetStore(tmp_path / "out.storyboard"))
    (layer,) = project.ordered_panels()[0].layers
    assert (layer.name, layer.opacity) == ("reference", 0.75)  # Storyboarder's default
    if opacity != '"half"':
        assert any("opacity" in w and "not between 0 and 1" in w for w in warnings)
    save_project(project, tmp_path / "saved.storyboard")  # and it all saves


def test_one_bad_layer_leaves_the_others(tmp_path: Path) -> None:
    layers = (
        '{"fill": {"url": "fill.png"}, "ink": {"url": "bomb.png"}, "tone": {"url": "gone.png"}}'
    )
    file = write(tmp_path, boards(f'{{"url": "b.png", "layers": {layers}}}'))
    good_image(tmp_path, "fill.png")
    (tmp_path / "images" / "bomb.png").write_bytes(png_header(100_000, 100_000))
    project, warnings = import_storyboarder(file, AssetStore(tmp_path / "out.storyboard"))
    (panel,) = project.ordered_panels()
    assert [layer.name for layer in panel.layers] == ["fill"] and panel.image is not None
    assert any("bomb.png is too large" in w for w in warnings)
    assert any("gone.png" in w and "tone layer's image file is missing" in w for w in warnings)


def test_a_board_uid_is_an_id_only_when_it_is_a_plain_name(tmp_path: Path) -> None:
    file = write(tmp_path, boards('{"uid": "../x"}', '{"uid": "AB12C"}', '{"uid": "AB12C"}'))
    project, _ = import_storyboarder(file, AssetStore(tmp_path / "out.storyboard"))
    first, second, third = project.ordered_panels()
    assert first.id != "../x" and second.id == "AB12C" and third.id != "AB12C"
    save_project(project, tmp_path / "saved.storyboard")
    assert load_project(tmp_path / "saved.storyboard").warnings == []
