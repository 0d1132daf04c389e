"""OpenRaster export read back as a zip (order, storage, stack.xml, PNG sizes) and round trips."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from storyboard.cli import main
from storyboard.core.assets import AssetStore
from storyboard.core.model import LayerKind, Panel, PanelLayer, Project, Scene
from storyboard.core.openraster import import_commands, import_ora
from storyboard.core.persistence import load_project, save_project
from storyboard.export.openraster import OraOptions, export_ora, file_names

RED = (200, 30, 30)


def png_of(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def drawn(size: tuple[int, int], colour: tuple[int, int, int, int], box: tuple[int, ...]) -> bytes:
    """A transparent layer with one filled rectangle, as a stroke leaves it."""
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(layer).rectangle(box, fill=colour)
    return png_of(layer)


def layered_project(bundle: Path) -> Project:
    """1A: a 64 px image (the built-in model's size) under 1024 px layers; 1B: nothing yet."""
    store = AssetStore(bundle)
    project = Project()
    scene = Scene(id="s1")
    first = Panel(id="p1", image=store.put(png_of(Image.new("RGB", (64, 64), RED))))
    first.layers = [
        PanelLayer(
            LayerKind.SKETCH, store.put(drawn((1024, 1024), (0, 0, 0, 255), (0, 0, 99, 99))), 0.7
        ),
        PanelLayer(
            LayerKind.NOTES,
            store.put(drawn((1024, 1024), (0, 0, 255, 255), (900, 900, 1023, 1023))),
            1.0,
            visible=False,
        ),
        PanelLayer(LayerKind.MASK, None, 0.5),
    ]
    second = Panel(id="p2")
    for panel in (first, second):
        project.panels[panel.id] = panel
        scene.panel_ids.append(panel.id)
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    return project


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_the_zip_follows_the_openraster_layout(tmp_path: Path) -> None:
    project = layered_project(tmp_path / "p.storyboard")
    result = export_ora(project, tmp_path / "p.storyboard", tmp_path / "out")
    assert [p.name for p in result.paths] == ["1A.ora", "1B.ora"]
    path = result.paths[0]
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    first = infos[0]
    assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
    raw = path.read_bytes()
    assert raw[30:38] == b"mimetype" and raw[38:54] == b"image/openraster"  # the magic number
    data = members(path)
    assert data["mimetype"] == b"image/openraster"
    assert set(data) == {
        "mimetype",
        "stack.xml",
        "data/image.png",
        "data/layer-1.png",
        "data/layer-2.png",
        "data/layer-3.png",
        "Thumbnails/thumbnail.png",
        "mergedimage.png",
    }
    root = ET.fromstring(data["stack.xml"])
    assert (root.tag, root.get("version"), root.get("w"), root.get("h")) == (
        "image",
        "0.0.6",
        "1024",
        "1024",
    )
    layers = [dict(layer.attrib) for layer in root.iter("layer")]
    assert [(a["name"], a["opacity"], a["visibility"]) for a in layers] == [
        ("Mask", "0.5", "visible"),  # topmost first
        ("Notes", "1", "hidden"),
        ("Sketch", "0.7", "visible"),
        ("Image", "1", "visible"),
    ]
    assert all(a["composite-op"] == "svg:src-over" and a["src"] in data for a in layers)
    for name in ("data/image.png", "data/layer-1.png", "mergedimage.png"):
        assert size_of(data[name]) == (1024, 1024)  # every layer on the one canvas
    assert size_of(data["Thumbnails/thumbnail.png"]) == (256, 256)
    with Image.open(io.BytesIO(data["mergedimage.png"])) as merged:
        rgba = merged.convert("RGBA")
        assert rgba.getpixel((50, 50)) == (60, 9, 9, 255)  # 70% black over red
        assert rgba.getpixel((950, 950)) == (*RED, 255)  # the hidden notes are not merged
    blank = size_of(members(result.paths[1])["data/layer-0.png"])
    assert blank == (1024, 576)  # a panel with nothing: one empty sketch layer, 16:9


def test_round_trip_keeps_layers_opacity_visibility_and_the_image(tmp_path: Path) -> None:
    bundle = tmp_path / "p.storyboard"
    project = layered_project(bundle)
    panel = project.panels["p1"]
    path = export_ora(project, bundle, tmp_path / "out", OraOptions(("p1",))).paths[0]
    result = import_ora(path, panel, AssetStore(bundle))
    assert result.layers == panel.layers  # same assets: the pixels came back unchanged
    assert result.image == panel.image and result.candidate is None
    add, edit = import_commands(result, panel)
    assert add is None and edit.changes == {"layers": panel.layers}  # nothing else changes


def repainted(path: Path, target: Path) -> Path:
    """The file after an artist's session: more sketch, the notes shown at half opacity, a new
    layer on top, and the image painted over."""
    data = members(path)
    root = ET.fromstring(data["stack.xml"])
    stack = root.find("stack")
    assert stack is not None
    for layer in stack.iter("layer"):
        if layer.get("name") == "Notes":
            layer.set("visibility", "visible")
            layer.set("opacity", "0.5")
    stack.insert(0, ET.Element("layer", name="Paint Layer 5", src="data/new.png"))
    data["data/new.png"] = drawn((1024, 1024), (0, 200, 0, 255), (500, 500, 600, 600))
    data["data/layer-1.png"] = drawn((1024, 1024), (0, 0, 0, 255), (0, 0, 300, 300))
    data["data/image.png"] = png_of(Image.new("RGB", (1024, 1024), (20, 20, 200)))
    data["stack.xml"] = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("mimetype", data.pop("mimetype"), zipfile.ZIP_STORED)
        for name, content in data.items():
            archive.writestr(name, content, zipfile.ZIP_DEFLATED)
    return target


def test_painted_changes_come_back_as_one_edit(tmp_path: Path) -> None:
    bundle = tmp_path / "p.storyboard"
    project = layered_project(bundle)
    panel = project.panels["p1"]
    before = list(panel.layers)
    path = export_ora(project, bundle, tmp_path / "out", OraOptions(("p1",))).paths[0]
    result = import_ora(repainted(path, tmp_path / "painted.ora"), panel, AssetStore(bundle))
    kinds = [(layer.kind, layer.opacity, layer.visible) for layer in result.layers]
    assert kinds == [
        (LayerKind.SKETCH, 0.7, True),
        (LayerKind.NOTES, 0.5, True),
        (LayerKind.MASK, 0.5, True),
        (LayerKind.SKETCH, 1.0, True),  # the layer the artist added
    ]
    assert result.layers[0].asset != before[0].asset  # more sketch: new pixels, a new asset
    assert result.layers[1].asset == before[1].asset  # the notes' pixels did not change
    assert result.layers[2].asset is None
    with Image.open(AssetStore(bundle).file(result.layers[0].asset)) as sketch:  # type: ignore[arg-type]
        assert sketch.getpixel((250, 250))[3] == 255
    assert result.candidate is not None and result.image == result.candidate.asset
    add, edit = import_commands(result, panel)
    assert add is not None
    add.apply(project)
    edit.apply(project)
    assert panel.image == result.image and panel.layers == result.layers
    edit.revert(project)  # Undo: the layers and the image as they were; the candidate stays
    assert panel.layers == before and panel.image != result.image
    assert panel.candidates[-1].asset == result.image


def test_file_names_are_panel_numbers_made_safe(tmp_path: Path) -> None:
    project = layered_project(tmp_path / "p.storyboard")
    project.panels["p1"].number_override = "../3A:b"
    project.panels["p2"].number_override = "3a_b"
    assert file_names(project, ["p1", "p2"]) == {"p1": "3A_b.ora", "p2": "3a_b-2.ora"}


def test_cli_export_then_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = tmp_path / "P.storyboard"
    save_project(layered_project(bundle), bundle)
    out = tmp_path / "ora"
    assert main(["export-ora", str(bundle), "-o", str(out), "--panels", "1a"]) == 0
    assert capsys.readouterr().out == f"wrote 1 OpenRaster file(s) to {out}\n"
    assert [p.name for p in out.iterdir()] == ["1A.ora"]
    painted = repainted(out / "1A.ora", tmp_path / "painted.ora")
    assert main(["import-ora", str(bundle), "1A", str(painted)]) == 0
    assert capsys.readouterr().out == "imported 4 layer(s) into panel 1A (a new image, accepted)\n"
    saved = load_project(bundle).project.panels["p1"]
    assert len(saved.layers) == 4 and saved.layers[1].opacity == 0.5
    assert saved.candidates[-1].settings == {"source": "OpenRaster"}
    assert not (bundle / "session.lock").exists()  # the lock is let go
    assert main(["import-ora", str(bundle), "9Z", str(painted)]) == 2
    assert "no panel numbered 9Z" in capsys.readouterr().err
    (tmp_path / "bad.ora").write_bytes(b"not a zip")
    assert main(["import-ora", str(bundle), "1A", str(tmp_path / "bad.ora")]) == 2
    assert "not an OpenRaster file" in capsys.readouterr().err


def test_the_same_layers_as_a_photoshop_file_read_back_by_psd_tools(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from psd_tools import PSDImage

    bundle = tmp_path / "p.storyboard"
    save_project(layered_project(bundle), bundle)
    assert main(["export-ora", str(bundle), "-o", str(tmp_path / "psd"), "--psd"]) == 0
    assert "wrote 2 Photoshop (.psd) file(s)" in capsys.readouterr().out
    psd = PSDImage.open(tmp_path / "psd" / "1A.psd")
    assert psd.size == (1024, 1024)
    layers = list(psd)
    assert [layer.name for layer in layers] == ["Image", "Sketch", "Notes", "Mask"]  # bottom first
    assert [layer.visible for layer in layers] == [True, True, False, True]
    assert [round(layer.opacity / 255, 2) for layer in layers] == [1.0, 0.7, 1.0, 0.5]
    image = layers[0].topil()
    assert image is not None and image.convert("RGB").getpixel((512, 512)) == RED[:3]
    sketch = layers[1].topil()
    assert sketch is not None and sketch.getpixel((50, 50))[3] == 255  # the stroke, unfaded
    # the flattened preview other programs show: the sketch faded over the red image
    flat = psd.composite()
    assert flat is not None and flat.convert("RGB").getpixel((50, 50))[0] < 100
    assert flat.convert("RGB").getpixel((512, 512)) == RED[:3]
