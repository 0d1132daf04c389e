"""Hostile values in the id fields of ``project.json``: asset ids, object ids, panel numbers.

Each field that names a file (an asset id becomes ``assets/<id>.png``, a character id a bank file
``cache/identity/<id>-*.safetensors``, a panel number an FCPXML placeholder still) gets every
form of hostile value in turn: a traversal or an absolute path aimed at the victim folder, and
odd names (``..``, separators, NUL, newlines, very long, empty). A hostile asset id is refused
(the project does not open); a hostile object id is repaired by the loader (it opens).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.hostile_sandbox import Sandbox, Variant, link
from storyboard.core.persistence import PROJECT_FILE


def _edit(bundle: Path, change: Callable[[dict[str, Any]], None]) -> None:
    file = bundle / PROJECT_FILE
    data = json.loads(file.read_text(encoding="utf-8"))
    change(data)
    file.write_text(json.dumps(data), encoding="utf-8")


# -- asset fields -------------------------------------------------------------------------------

# field -> (the media extension, or None for an image; how to set it in project.json)
_ASSET_FIELDS: dict[str, tuple[str | None, Callable[[dict[str, Any], str], None]]] = {
    "panels.image": (None, lambda d, v: d["panels"]["p1"].__setitem__("image", v)),
    "panels.candidates.asset": (
        None,
        lambda d, v: d["panels"]["p2"]["candidates"][0].__setitem__("asset", v),
    ),
    "panels.layers.asset": (
        None,
        lambda d, v: d["panels"]["p1"]["layers"][0].__setitem__("asset", v),
    ),
    "characters.reference_images": (
        None,
        lambda d, v: d["characters"]["hero"].__setitem__("reference_images", [v]),
    ),
    "panels.audio": ("wav", lambda d, v: d["panels"]["p1"].__setitem__("audio", v)),
    "panels.transition.clip": (
        "mp4",
        lambda d, v: d["panels"]["p1"]["transition"].__setitem__("clip", v),
    ),
    "settings.soundtrack": ("wav", lambda d, v: d["settings"].__setitem__("soundtrack", v)),
}


def _secret(sandbox: Sandbox, media: str | None) -> Path:
    return sandbox.victim / (f"secret.{media}" if media else "secret.png")


def _asset_value(form: str, bundle: Path, sandbox: Sandbox, media: str | None) -> str:
    """The hostile id: where the old ``AssetStore.path`` (``assets/<id>`` for media ids,
    ``assets/<id>.png`` for anything else) would have found the victim's secret."""
    secret = _secret(sandbox, media)
    stem = secret.with_suffix("") if media is None else secret  # ".png" was appended
    if form == "traversal":
        return os.path.relpath(stem, bundle / "assets")
    if form == "absolute":
        return str(stem)
    if form == "malformed":
        return "not-a-hash"
    if form == "uppercase":
        return "A" * 64 + (f".{media}" if media else "")
    if form == "nul":
        return "0" * 63 + "\x00"
    raise ValueError(form)


def _asset_variant(field: str, form: str) -> Variant:
    media, setter = _ASSET_FIELDS[field]

    def change(bundle: Path, sandbox: Sandbox) -> None:
        if form == "symlink":  # a well-formed id whose file is a link to the victim's secret
            asset = hashlib.sha256(f"{field} secret".encode()).hexdigest()
            name = f"{asset}.{media}" if media else f"{asset}.png"
            asset = name if media else asset
            link(bundle / "assets" / name, _secret(sandbox, media))
        else:
            asset = _asset_value(form, bundle, sandbox, media)
        _edit(bundle, lambda data: setter(data, asset))

    return Variant(f"{field}/{form}", field, form, opens=form == "symlink", change=change)


ASSET_FORMS = ("traversal", "absolute", "malformed", "uppercase", "nul", "symlink")

# -- object ids ---------------------------------------------------------------------------------

ID_FORMS = (
    "traversal",
    "absolute",
    "dots",
    "separator",
    "backslash",
    "nul",
    "newline",
    "long",
    "unicode",
    "empty",
)


def _id_value(form: str, bundle: Path, sandbox: Sandbox) -> str:
    """A hostile id aimed at the victim's models: ``cache/identity/<id>-*.safetensors`` was
    ``victim/models/v1-*.safetensors`` for the traversal."""
    aim = sandbox.victim / "models" / "v1"
    values = {
        "traversal": os.path.relpath(aim, bundle / "cache" / "identity"),
        "absolute": str(aim),
        "dots": "..",
        "separator": "a/../../b",
        "backslash": "..\\..\\victim",
        "nul": "a\x00b",
        "newline": "a\nb",
        "long": "x" * 300,
        "unicode": "héros",
        "empty": "",
    }
    return values[form]


def _rename(data: dict[str, Any], kind: str, old: str, new: str) -> None:
    """Give object ``old`` of ``kind`` the id ``new`` everywhere project.json refers to it."""
    objects = data[kind]
    objects[new] = objects.pop(old)
    objects[new]["id"] = new
    order = {"scenes": "scene_ids", "characters": "character_ids", "pages": "page_ids"}
    if kind in order:
        data[order[kind]] = [new if i == old else i for i in data[order[kind]]]
    if kind == "panels":
        for scene in data["scenes"].values():
            scene["panel_ids"] = [new if i == old else i for i in scene["panel_ids"]]
        for page in data["pages"].values():
            for frame in page["frames"]:
                frame["panel_id"] = new if frame["panel_id"] == old else frame["panel_id"]
    if kind == "characters":
        for panel in data["panels"].values():
            panel["character_ids"] = [new if i == old else i for i in panel["character_ids"]]
            regions = panel["character_regions"]
            panel["character_regions"] = {(new if k == old else k): v for k, v in regions.items()}
            for balloon in panel["balloons"]:
                if balloon["character_id"] == old:
                    balloon["character_id"] = new


_ID_FIELDS: dict[str, Callable[[dict[str, Any], str], None]] = {  # inner ids first (_everything)
    "panels.balloons.id": lambda d, v: d["panels"]["p1"]["balloons"][0].__setitem__("id", v),
    "panels.candidates.id": lambda d, v: d["panels"]["p1"]["candidates"][0].__setitem__("id", v),
    "characters.id": lambda d, v: _rename(d, "characters", "hero", v),
    "panels.id": lambda d, v: _rename(d, "panels", "p1", v),
    "scenes.id": lambda d, v: _rename(d, "scenes", "s1", v),
    "pages.id": lambda d, v: _rename(d, "pages", "pg1", v),
}


def _id_variant(field: str, form: str) -> Variant:
    def change(bundle: Path, sandbox: Sandbox) -> None:
        value = _id_value(form, bundle, sandbox)
        _edit(bundle, lambda data: _ID_FIELDS[field](data, value))

    return Variant(f"{field}/{form}", field, form, opens=True, change=change)


def _everything(bundle: Path, sandbox: Sandbox) -> None:
    """Every id field hostile at once (traversals), plus a cache leading out."""

    def change(data: dict[str, Any]) -> None:
        for field, setter in _ID_FIELDS.items():
            suffix = "" if field == "characters.id" else field  # the bank aims at models/v1
            setter(data, _id_value("traversal", bundle, sandbox) + suffix)

    _edit(bundle, change)
    link(bundle / "cache", sandbox.victim / "cache")


# -- panel numbers ------------------------------------------------------------------------------


def _number_variant(form: str) -> Variant:
    """A manual panel number is text, but the FCPXML export names a placeholder still by it."""

    def change(bundle: Path, sandbox: Sandbox) -> None:
        aim = sandbox.victim / "number"
        value = {"traversal": "/../../../../victim/number", "absolute": str(aim)}.get(form, "3/A")
        _edit(bundle, lambda data: data["panels"]["p3"].__setitem__("number_override", value))

    return Variant(f"panels.number_override/{form}", "panels.number_override", form, True, change)


# -- the variants -------------------------------------------------------------------------------


def asset_variants() -> list[Variant]:
    """Every asset field in every form (only a link to the secret leaves a project that opens)."""
    return [_asset_variant(f, form) for f in _ASSET_FIELDS for form in ASSET_FORMS]


def id_variants() -> list[Variant]:
    """Every object id field in every form (all repaired on load)."""
    return [_id_variant(f, form) for f in _ID_FIELDS for form in ID_FORMS]


ALL_IDS = Variant("all-ids/traversal", "every id", "traversal", True, _everything)


def number_variants() -> list[Variant]:
    """Panel numbers that look like paths."""
    return [_number_variant(form) for form in ("traversal", "absolute", "separator")]
