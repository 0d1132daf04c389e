"""A project written as a Storyboarder project: in the shape Storyboarder's reader expects, and
read back (import -> export -> import) with every field Storyboarder has."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from storyboard.cli import main
from storyboard.core.assets import AssetStore
from storyboard.core.model import (
    Candidate,
    LayerKind,
    Panel,
    PanelLayer,
    Project,
    Scene,
)
from storyboard.core.numbering import panel_numbers
from storyboard.core.persistence import save_project
from storyboard.core.storyboarder import import_storyboarder
from storyboard.core.storyboarder_format import (
    LAYER_ORDER,
    REQUIRED_BOARD_KEYS,
    REQUIRED_KEYS,
    board_image_size,
    posterframe_url,
    thumbnail_size,
    thumbnail_url,
)
from storyboard.export.output import ExportCancelled, ExportError
from storyboard.export.storyboarder_project import export_storyboarder
from tests.core.test_storyboarder import storyboarder_scene


def wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(b"\x10\x00" * int(8000 * seconds))
    return out.getvalue()


def scene_with_sound(
    folder: Path, name: str, new_shots: list[bool], *, fps: float = 24, aspect: float = 16 / 9
) -> Path:
    """A Storyboarder scene at Storyboarder's board size whose first board has a real 1.5 s
    sound."""
    size = board_image_size(aspect)
    file = storyboarder_scene(folder, name, new_shots, fps=fps, aspect=aspect, size=size)
    (folder / "images" / "U0000-audio-1.wav").write_bytes(wav(1.5))
    data = json.loads(file.read_text())
    data["boards"][0]["audio"]["duration"] = 1500
    file.write_text(json.dumps(data))
    return file


def imported(source: Path, bundle: Path) -> tuple[Project, AssetStore]:
    store = AssetStore(bundle)
    project, warnings = import_storyboarder(source, store)
    assert not warnings, warnings
    return project, store


def everything_storyboarder_has(project: Project, store: AssetStore) -> list[Any]:
    """Per scene: its title and per board its number, uid, durations, texts, layers (name, kind,
    opacity and file: the asset id is the hash of its bytes) and sound; with the project's
    aspect ratio and fps."""

    def sound(asset: str | None) -> bytes | None:
        path = store.file(asset)
        return path.read_bytes() if path is not None else None

    numbers = panel_numbers(project)
    return [
        project.settings.aspect_ratio,
        project.settings.fps,
        [
            (
                scene.title,
                [
                    (
                        numbers[pid],
                        pid,
                        (panel := project.panels[pid]).duration,
                        panel.dialogue,
                        panel.action,
                        panel.notes,
                        [
                            (x.name, x.kind, x.opacity, x.asset, store.has(x.asset or ""))
                            for x in panel.layers
                        ],
                        sound(panel.audio),
                    )
                    for pid in scene.panel_ids
                ],
            )
            for scene in project.ordered_scenes()
        ],
    ]


def test_a_storyboarder_scene_comes_back_as_it_went(tmp_path: Path) -> None:
    """import -> export -> import keeps numbers, scene, layers, durations, texts, sound, aspect
    ratio and fps; the exported file is the shape of the one Storyboarder wrote."""
    source = scene_with_sound(tmp_path / "chase", "chase", [True, False, True, False], fps=25)
    first, store = imported(source, tmp_path / "first.storyboard")
    (tmp_path / "out").mkdir()
    result = export_storyboarder(first, store.bundle, tmp_path / "out" / "chase")
    assert result.files == [tmp_path / "out" / "chase" / "chase.storyboarder"]
    assert result.warnings == []
    again, again_store = imported(result.files[0], tmp_path / "again.storyboard")
    assert everything_storyboarder_has(again, again_store) == everything_storyboarder_has(
        first, store
    )
    numbers = panel_numbers(again)
    assert [numbers[p.id] for p in again.ordered_panels()] == ["1A", "1B", "2A", "2B"]
    original = json.loads(source.read_text())["boards"]
    written = json.loads(result.files[0].read_text())["boards"]
    assert [b["newShot"] for b in written] == [b["newShot"] for b in original]
    assert [b["url"] for b in written] == [b["url"] for b in original]  # same uids, same files
    assert [b["lastEdited"] for b in written] == [b["lastEdited"] for b in original]
    assert [sorted(b["layers"]) for b in written] == [sorted(b["layers"]) for b in original]
    assert written[0]["audio"] == {"filename": "U0000-audio.wav", "duration": 1500}


def test_a_script_project_keeps_its_scenes(tmp_path: Path) -> None:
    for number, title, shots in ((1, "ROOF", [True, False]), (2, "STREET", [False, False])):
        folder = tmp_path / "src" / "storyboards" / f"Scene-{number}-{title}-G{number}"
        scene_with_sound(folder, folder.name, shots)
    first, store = imported(tmp_path / "src", tmp_path / "first.storyboard")
    result = export_storyboarder(first, store.bundle, tmp_path / "Film")
    assert [f.relative_to(tmp_path / "Film").as_posix() for f in result.files] == [
        "storyboards/Scene-1-ROOF-G1/Scene-1-ROOF-G1.storyboarder",
        "storyboards/Scene-2-STREET-G2/Scene-2-STREET-G2.storyboarder",
    ]
    script = (tmp_path / "Film" / "Film.fountain").read_text()
    assert ".ROOF #1-G1#" in script and ".STREET #2-G2#" in script  # how Storyboarder finds them
    settings = json.loads((tmp_path / "Film" / "storyboards" / "storyboard.settings").read_text())
    assert settings == {"lastScene": 0, "aspectRatio": first.settings.aspect_ratio}
    again, again_store = imported(tmp_path / "Film", tmp_path / "again.storyboard")
    assert [s.title for s in again.ordered_scenes()] == ["ROOF", "STREET"]
    assert everything_storyboarder_has(again, again_store) == everything_storyboarder_has(
        first, store
    )


def test_the_file_has_what_storyboarders_reader_needs(tmp_path: Path) -> None:
    """Checked against Storyboarder 3.0.0: ``load``, ``migrateScene``, ``verifyScene`` and
    ``updateSceneTiming`` in src/js/window/main-window.js read these keys unchecked;
    ``boardOrderedLayerFilenames`` and ``getMediaDescription`` in src/js/models/board.js read
    layer and sound files from images/; ``verifyScene`` wants every layer file and thumbnail
    there (else it warns and paints placeholders) and a poster frame (else it makes them);
    ``migrateScene`` moves a file found at a board's own url into its fill layer, so none may be
    there."""
    project, store = native_project(tmp_path)
    result = export_storyboarder(project, store.bundle, tmp_path / "Native")
    (file,) = result.files
    data = json.loads(file.read_text())
    assert all(key in data for key in REQUIRED_KEYS)
    assert data["version"] == "3.0.0" and data["defaultBoardTiming"] == 2000
    assert isinstance(data["aspectRatio"], float) and isinstance(data["fps"], float)
    images = file.parent / "images"
    assert len(data["boards"]) == 2
    for index, board in enumerate(data["boards"]):
        assert all(key in board for key in REQUIRED_BOARD_KEYS), sorted(board)
        assert board["url"] == f"board-{index + 1}-{board['uid']}.png"
        assert board["number"] == index + 1 and isinstance(board["duration"], int)
        assert isinstance(board["newShot"], bool) and isinstance(board["lastEdited"], int)
        assert set(board["layers"]) <= set(LAYER_ORDER)
        assert not (images / board["url"]).exists()
        for layer in board["layers"].values():
            with Image.open(images / layer["url"]) as png:
                assert png.size == board_image_size(project.settings.aspect_ratio)
                assert png.mode == "RGBA"
        with Image.open(images / thumbnail_url(board["url"])) as thumbnail:
            assert thumbnail.size == thumbnail_size(project.settings.aspect_ratio)
        with Image.open(images / posterframe_url(board["url"])) as poster:
            assert poster.format == "JPEG"
    assert [b["time"] for b in data["boards"]] == [0, data["boards"][0]["duration"]]
    assert (images / data["boards"][0]["audio"]["filename"]).read_bytes() == wav(0.5)


def native_project(tmp_path: Path) -> tuple[Project, AssetStore]:
    """A project made here: a generated image, a sketch at half opacity, notes, a mask and a
    hidden layer on the first panel, a sound; the second panel empty."""
    store = AssetStore(tmp_path / "native.storyboard")
    art = store.put(png((0, 0, 255, 255), (64, 36)))
    sketch = store.put(png((255, 0, 0, 255), (64, 36)))
    notes = store.put(png((0, 255, 0, 255), (64, 36), box=(0, 0, 8, 8)))
    first = Panel(
        id="p1",
        dialogue="MIRA: Go!",
        action="She runs.",
        notes="fast",
        duration=36,
        image=art,
        candidates=[Candidate(asset=art, model="toyworld", created="2025-01-02T03:04:05+00:00")],
        audio=store.put_media(wav(0.5), "wav"),
        layers=[
            PanelLayer(LayerKind.SKETCH, sketch, opacity=0.5),
            PanelLayer(LayerKind.NOTES, notes),
            PanelLayer(LayerKind.MASK, sketch),
            PanelLayer(LayerKind.SKETCH, sketch, visible=False, name="ink"),
        ],
    )
    second = Panel(id="p2", duration=24)
    project = Project()
    scene = Scene(id="s1", title="Run", panel_ids=["p1", "p2"])
    project.scenes, project.scene_ids = {"s1": scene}, ["s1"]
    project.panels = {"p1": first, "p2": second}
    return project, store


def png(
    color: tuple[int, int, int, int], size: tuple[int, int], box: tuple[int, ...] | None = None
) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste(color, box or (0, 0, *size))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_panel_made_here_becomes_a_layered_board(tmp_path: Path) -> None:
    project, store = native_project(tmp_path)
    result = export_storyboarder(project, store.bundle, tmp_path / "Native")
    board = json.loads(result.files[0].read_text())["boards"][0]
    layers = board["layers"]
    assert list(layers) == ["reference", "fill", "notes"]  # Storyboarder's order, bottom up
    assert layers["reference"]["opacity"] == 1.0  # the generated image, as Storyboarder imports
    assert "opacity" not in layers["fill"]  # Storyboarder draws fill at full opacity ...
    images = result.files[0].parent / "images"
    with Image.open(images / layers["fill"]["url"]) as fill:
        assert fill.getpixel((10, 10)) == (255, 0, 0, 128)  # ... so the sketch's 50% is in it
    with Image.open(images / posterframe_url(board["url"])) as poster:
        red, green, blue = poster.getpixel((400, 400))
        assert red > 100 and blue > 100 and green < 40  # half red over the blue image
    assert (board["duration"], board["lastEdited"]) == (1500, 1735787045000)
    assert result.warnings == [
        "panel 1A: a mask, a hidden sketch layer left out (Storyboarder has no such layer)"
    ]
    reread, _ = import_storyboarder(result.files[0], AssetStore(tmp_path / "back.storyboard"))
    assert [x.name for x in reread.ordered_panels()[0].layers] == ["reference", "fill", "notes"]
    assert [p.id for p in reread.ordered_panels()] == ["p1", "p2"]


def test_names_from_the_project_never_make_paths(tmp_path: Path) -> None:
    """Scene titles, panel ids and layer names come from a project that may be someone
    else's: they never name a file outside the folder."""
    project, store = native_project(tmp_path)
    project.panels["p1"].layers[0].name = "../../escape"
    project.panels["p1"].id = "../x"
    project.panels["../x"] = project.panels.pop("p1")
    other = Scene(id="../../s2", title="../../Über/..\\ scene #9#", panel_ids=[])
    project.scenes[other.id] = other
    project.scene_ids.append(other.id)
    project.scenes["s1"].panel_ids[0] = "../x"
    before = sorted(tmp_path.rglob("*"))
    result = export_storyboarder(project, store.bundle, tmp_path / "out")
    after = sorted(p for p in tmp_path.rglob("*") if not p.is_relative_to(tmp_path / "out"))
    assert after == before  # nothing written anywhere else
    names = [f.relative_to(tmp_path / "out").as_posix() for f in result.files]
    assert names[1].startswith("storyboards/Scene-2-Über-scene-9-")
    scene_id = names[1].split("/")[1].rsplit("-", 1)[1]
    headings = (tmp_path / "out" / "out.fountain").read_text().splitlines()
    assert f"./../Über/..\\ scene 9 #2-{scene_id}#" in headings  # one heading, one scene id
    boards = json.loads(result.files[0].read_text())["boards"]
    assert boards[0]["uid"].isalnum() and boards[0]["url"].startswith("board-1-")


def test_a_folder_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    project, store = native_project(tmp_path)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="is not empty"):
        export_storyboarder(project, store.bundle, tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["keep.txt"]


def test_a_folder_whose_parent_is_missing_says_so_and_makes_nothing(tmp_path: Path) -> None:
    project, store = native_project(tmp_path)
    target = tmp_path / "no such folder" / "board"
    with pytest.raises(ExportError, match=r"its folder does not exist.*Create the folder"):
        export_storyboarder(project, store.bundle, target)
    assert not target.parent.exists()


def test_a_cancelled_export_leaves_nothing(tmp_path: Path) -> None:
    project, store = native_project(tmp_path)
    calls: list[int] = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 1  # after the first board

    with pytest.raises(ExportCancelled):
        export_storyboarder(project, store.bundle, tmp_path / "gone", cancelled=cancelled)
    assert not (tmp_path / "gone").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportCancelled):
        export_storyboarder(project, store.bundle, tmp_path / "empty", cancelled=lambda: True)
    assert list((tmp_path / "empty").iterdir()) == []  # a folder we did not make stays


def test_the_command_exports_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, store = native_project(tmp_path)
    bundle = save_project(project, tmp_path / "Run.storyboard")
    for asset in project.referenced_assets():
        AssetStore(bundle).copy_from(store, asset)
    assert main(["export-storyboarder", str(bundle), "-o", str(tmp_path / "Run")]) == 0
    out, err = capsys.readouterr()
    assert out == (
        f"exported 2 boards in 1 scene(s) to {tmp_path / 'Run'}; "
        f"open {tmp_path / 'Run' / 'Run.storyboarder'} in Storyboarder\n"
    )
    assert (
        err == "warning: panel 1A: a mask, a hidden sketch layer left out "
        "(Storyboarder has no such layer)\n"
    )
    assert main(["export-storyboarder", str(bundle), "-o", str(tmp_path / "Run")]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'Run'}: is not empty. Give the name of a new or empty folder\n"
    )


def test_an_image_bomb_in_the_project_is_not_decoded(tmp_path: Path) -> None:
    from tests.core.test_storyboarder_hostile import png_header

    project, store = native_project(tmp_path)
    bomb = store.put(png_header(100_000, 100_000))
    project.panels["p1"].layers[0].asset = bomb
    result = export_storyboarder(project, store.bundle, tmp_path / "out")
    assert "panel 1A: the fill image is too large; left out" in result.warnings
    board = json.loads(result.files[0].read_text())["boards"][0]
    assert list(board["layers"]) == ["reference", "notes"]  # the rest of the board is there
