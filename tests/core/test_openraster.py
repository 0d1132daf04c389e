"""Reading OpenRaster files from anyone: hand-made and hostile .ora files, read in memory only."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

from storyboard.core import openraster
from storyboard.core.assets import AssetStore
from storyboard.core.errors import ImportFailed
from storyboard.core.model import LayerKind, Panel, PanelLayer
from storyboard.core.openraster import import_commands, import_ora, read_ora
from tests.linear_time import cpu_budget


def png(size: tuple[int, int], colour: tuple[int, int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, format="PNG")
    return out.getvalue()


def layer_xml(**attributes: str) -> str:
    return (
        "<layer " + " ".join(f'{k.replace("_", "-")}="{v}"' for k, v in attributes.items()) + "/>"
    )


def make_ora(
    path: Path,
    stack: str,
    members: dict[str, bytes] | None = None,
    size: tuple[int, int] = (40, 20),
    *,
    mimetype: bytes | None = b"image/openraster",
    header: str | None = None,
) -> Path:
    """An .ora as another program writes it: ``stack`` is the inside of the root <stack>."""
    xml = header or f"<?xml version='1.0' encoding='UTF-8'?><image w='{size[0]}' h='{size[1]}'>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if mimetype is not None:
            archive.writestr("mimetype", mimetype, zipfile.ZIP_STORED)
        archive.writestr("stack.xml", f"{xml}<stack>{stack}</stack></image>")
        for name, data in (members or {}).items():
            archive.writestr(name, data)
    return path


def test_layers_come_bottom_up_with_groups_offsets_opacity_and_visibility(tmp_path: Path) -> None:
    stack = (
        layer_xml(name="Top", src="data/top.png", opacity="0.5")
        + "<stack opacity='0.5' visibility='hidden' x='5' y='2'>"
        + layer_xml(name="In group", src="data/small.png", x="10", y="4", opacity="0.8")
        + "</stack>"
        + layer_xml(name="Background", src="data/bg.png")
    )
    members = {
        "data/top.png": png((40, 20), (0, 0, 255, 255)),
        "data/small.png": png((4, 4), (255, 0, 0, 255)),
        "data/bg.png": png((40, 20), (255, 255, 255, 255)),
    }
    size, layers = read_ora(make_ora(tmp_path / "a.ora", stack, members))
    read = list(layers)
    assert size == (40, 20)
    assert [(layer.name, layer.opacity, layer.visible) for layer in read] == [
        ("Background", 1.0, True),
        ("In group", 0.4, False),
        ("Top", 0.5, True),
    ]
    grouped = read[1].pixels
    assert grouped.size == (40, 20)
    assert grouped.getpixel((15, 6)) == (255, 0, 0, 255)  # placed at group + layer offset
    assert grouped.getpixel((14, 6))[3] == 0 and grouped.getpixel((19, 10))[3] == 0


def test_names_say_what_each_layer_becomes(tmp_path: Path) -> None:
    stack = (
        layer_xml(name="Paint Layer 3", src="data/d.png")
        + layer_xml(name="notes", src="data/c.png", visibility="hidden")
        + layer_xml(name="Sketch", src="data/b.png", opacity="0.25")
        + layer_xml(name="Background", src="data/a.png")
    )
    ink = png((40, 20), (0, 0, 0, 255))
    members = {f"data/{c}.png": ink for c in "abcd"}
    store = AssetStore(tmp_path / "p.storyboard")
    panel = Panel(id="p1")
    result = import_ora(make_ora(tmp_path / "b.ora", stack, members), panel, store)
    assert [(layer.kind, layer.opacity, layer.visible) for layer in result.layers] == [
        (LayerKind.SKETCH, 0.25, True),
        (LayerKind.NOTES, 1.0, False),
        (LayerKind.SKETCH, 1.0, True),  # a layer the artist added: drawing, so sketch
    ]
    assert result.candidate is not None and result.image == result.candidate.asset
    assert result.candidate.settings == {"source": "OpenRaster"}
    with Image.open(store.file(result.image)) as image:  # type: ignore[arg-type]
        assert image.mode == "RGB" and image.size == (40, 20)  # opaque: stored without alpha
    add, edit = import_commands(result, panel)
    assert add is not None and edit.label == "Import OpenRaster"


def test_without_an_image_layer_the_panel_keeps_its_image(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "p.storyboard")
    panel = Panel(id="p1", image=store.put(png((8, 8), (1, 2, 3, 255))))
    stack = layer_xml(name="Layer 1", src="data/a.png")
    ora = make_ora(tmp_path / "c.ora", stack, {"data/a.png": png((40, 20), (0, 0, 0, 0))})
    result = import_ora(ora, panel, store)
    assert result.image == panel.image and result.candidate is None
    assert result.layers == [PanelLayer(LayerKind.SKETCH, None, 1.0, True)]  # nothing drawn
    assert any('no layer is called "Image"' in w for w in result.warnings)
    add, edit = import_commands(result, panel)
    assert add is None and "image" not in edit.changes


@pytest.mark.parametrize(
    ("src", "what"),
    [
        ("../../etc/passwd.png", "outside the .ora"),
        ("/etc/passwd.png", "outside the .ora"),
        ("C:/Windows/x.png", "outside the .ora"),
        ("data\\..\\x.png", "outside the .ora"),
        ("data/missing.png", "named in stack.xml but not in the file"),
    ],
)
def test_layer_files_outside_the_zip_are_refused(tmp_path: Path, src: str, what: str) -> None:
    ora = make_ora(tmp_path / "d.ora", layer_xml(name="x", src=src))
    with pytest.raises(ImportFailed, match=what):
        list(read_ora(ora)[1])


def test_nothing_is_extracted_to_disk(tmp_path: Path) -> None:
    inside = tmp_path / "inside"
    inside.mkdir()
    # the zip itself holds an entry that would land outside if anything extracted it
    ora = make_ora(
        inside / "e.ora",
        layer_xml(name="Image", src="data/a.png"),
        {"data/a.png": png((40, 20), (9, 9, 9, 255)), "../escaped.png": b"x"},
    )
    before = sorted(tmp_path.rglob("*"))
    assert len(list(read_ora(ora)[1])) == 1
    assert sorted(tmp_path.rglob("*")) == before


def test_not_openraster(tmp_path: Path) -> None:
    (tmp_path / "x.ora").write_bytes(b"PK not really")
    with pytest.raises(ImportFailed, match="not an OpenRaster file"):
        read_ora(tmp_path / "x.ora")
    wrong = make_ora(tmp_path / "y.ora", "", mimetype=b"image/png")
    with pytest.raises(ImportFailed, match="no image/openraster mimetype"):
        read_ora(wrong)
    with pytest.raises(ImportFailed, match="not valid XML"):
        read_ora(make_ora(tmp_path / "z.ora", "<layer"))


def test_entity_bombs_are_refused_before_parsing(tmp_path: Path) -> None:
    laughs = (
        "<?xml version='1.0'?><!DOCTYPE image [<!ENTITY a 'ha'>"
        + "".join(f"<!ENTITY {chr(98 + i)} '{('&' + chr(97 + i) + ';') * 10}'>" for i in range(9))
        + "]><image w='&j;' h='1'>"
    )
    ora = make_ora(tmp_path / "lol.ora", "", header=laughs)
    with cpu_budget(2.0), pytest.raises(ImportFailed, match="document type or entities"):
        read_ora(ora)


def test_huge_canvases_and_pictures_are_refused_from_their_headers(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="too large"):
        read_ora(make_ora(tmp_path / "a.ora", "", size=(20_000, 20_000)))
    # a PNG whose header claims 64 megapixels: refused before a pixel is decoded
    ihdr = struct.pack(">IIBBBBB", 8000, 8000, 8, 6, 0, 0, 0)
    chunk = (
        struct.pack(">I", len(ihdr))
        + b"IHDR"
        + ihdr
        + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    )
    claimed = b"\x89PNG\r\n\x1a\n" + chunk + b"\0\0\0\0IEND\xaeB`\x82"
    ora = make_ora(
        tmp_path / "b.ora", layer_xml(name="x", src="data/x.png"), {"data/x.png": claimed}
    )
    with cpu_budget(2.0), pytest.raises(ImportFailed, match="8000 x 8000 pixels"):
        list(read_ora(ora)[1])


def test_groups_nested_too_deep_are_refused(tmp_path: Path) -> None:
    deep = "<stack>" * 5_000 + layer_xml(name="x", src="data/a.png") + "</stack>" * 5_000
    with cpu_budget(2.0), pytest.raises(ImportFailed, match="nested deeper than 32"):
        read_ora(make_ora(tmp_path / "deep.ora", deep))


def test_too_many_layers_is_refused_at_once(tmp_path: Path) -> None:
    stack = "".join(layer_xml(name=f"l{i}", src="data/a.png") for i in range(20_000))
    ora = make_ora(tmp_path / "many.ora", stack, {"data/a.png": png((40, 20), (0, 0, 0, 255))})
    with cpu_budget(2.0), pytest.raises(ImportFailed, match="more than 64 layers"):
        read_ora(ora)


def test_zip_bombs_stop_at_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openraster, "MAX_UNPACKED", 1 << 20)
    big = make_ora(tmp_path / "big.ora", "", {"data/zeros.bin": bytes(2 << 20)})
    with pytest.raises(ImportFailed, match="would unpack to 2 MB"):
        read_ora(big)
    # a member larger than a layer may be, read no further than the limit
    monkeypatch.setattr(openraster, "MAX_UNPACKED", 64 << 20)
    monkeypatch.setattr(openraster, "MAX_MEMBER", 1 << 20)
    stack = layer_xml(name="x", src="data/x.png")
    bomb = make_ora(tmp_path / "bomb.ora", stack, {"data/x.png": bytes(8 << 20)})
    with cpu_budget(2.0), pytest.raises(ImportFailed, match="unpacks to more than 1 MB"):
        list(read_ora(bomb)[1])
