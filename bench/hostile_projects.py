"""Hostile projects: bundles whose ids, paths and links try to reach files outside their folder.

A project (or a Storyboarder folder) may come from someone else. Each :class:`Variant` turns a
copy of one ordinary, valid project into a hostile one: a traversal (``../``), an absolute path or
an odd name in one id field, or a link inside the bundle to a file of the *victim* folder beside
the sandbox. ``bench/hostile_runs.py`` runs the commands on them and checks that the victim was
neither changed nor shown in an export; the tests (``tests/core/test_hostile_projects.py``,
``tests/qt/test_hostile_editor.py``) and the reliability benchmark use the same variants.

Layout of a :class:`Sandbox` (``make_sandbox(root)``)::

    root/victim/      files a hostile project aims at: secret.png (magenta), secret.wav,
                      secret.mp4 (magenta), notes.txt, models/v1*.safetensors, cache/,
                      other.storyboard/ (another project and its assets), storyboarder/
    root/sandbox/     base.storyboard (the ordinary project), then one copy per variant

Usage::

    sandbox = make_sandbox(tmp)
    for variant in variants(sandbox):
        bundle = variant.build(sandbox)            # a fresh hostile copy in sandbox/
        ...
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.core.assets import AssetStore
from storyboard.core.model import (
    Balloon,
    Candidate,
    Character,
    LayerKind,
    Page,
    Panel,
    PanelFrame,
    PanelLayer,
    Project,
    Rect,
    Scene,
    Transition,
    TransitionKind,
)
from storyboard.core.persistence import PROJECT_FILE, save_project

SECRET_RGB = (255, 0, 255)  # magenta: no colour of the base project comes near it
SECRET_TEXT = "SECRET-FROM-THE-VICTIM"
BANK_DIGEST = "0123456789abcdef" * 2  # a bank file name's digest (32 hex digits)

# the base project's own colours (none near magenta)
_GREEN, _BLUE, _YELLOW = (40, 160, 60), (50, 80, 200), (200, 200, 40)


@dataclass(frozen=True, slots=True)
class Sandbox:
    """Where hostile projects are built (``sandbox``) and what they aim at (``victim``)."""

    root: Path

    @property
    def sandbox(self) -> Path:
        return self.root / "sandbox"

    @property
    def victim(self) -> Path:
        return self.root / "victim"

    @property
    def base(self) -> Path:
        return self.sandbox / "base.storyboard"


@dataclass(frozen=True, slots=True)
class Variant:
    """One hostile change to the base project.

    ``opens``: whether the project must still open (the loader repairs it or the hostile part is
    harmless: commands then succeed) or be refused with a typed error (exit status 2).
    """

    name: str  # "<field or entry>/<form>", unique
    field: str  # the JSON field or bundle entry attacked
    form: str  # traversal, absolute, symlink, dots, separator, nul, ...
    opens: bool
    change: Callable[[Path, Sandbox], None]  # (bundle, sandbox): make the copy hostile

    def build(self, sandbox: Sandbox, name: str | None = None) -> Path:
        """A fresh copy of the base project in the sandbox with this change applied."""
        target = sandbox.sandbox / f"{name or _file_part(self.name)}.storyboard"
        if target.exists() or target.is_symlink():
            shutil.rmtree(target)
        shutil.copytree(sandbox.base, target, symlinks=True)
        self.change(target, sandbox)
        return target


@dataclass(frozen=True, slots=True)
class StoryboarderVariant:
    """A hostile Storyboarder folder; ``build`` returns what to import."""

    name: str
    change: Callable[[Path, Sandbox], None]  # (the Storyboarder folder, sandbox)

    def build(self, sandbox: Sandbox) -> Path:
        folder = sandbox.sandbox / f"sb-{_file_part(self.name)}"
        if folder.exists():
            shutil.rmtree(folder)
        _storyboarder_folder(folder, "board-1.png")
        self.change(folder, sandbox)
        return folder


# -- media --------------------------------------------------------------------------------------


def png(color: tuple[int, int, int], size: tuple[int, int] = (64, 36), alpha: int = 255) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", size, (*color, alpha)).save(out, format="PNG")
    return out.getvalue()


def wav(seconds: float = 0.5, tone: bool = False, rate: int = 8000) -> bytes:
    """Mono 16-bit PCM: silence, or a loud square wave (the victim's secret sound)."""
    frames = int(seconds * rate)
    samples = (((12000 if (i // 10) % 2 else -12000) if tone else 0) for i in range(frames))
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return out.getvalue()


def mp4(color: tuple[int, int, int], frames: int = 8, size: tuple[int, int] = (64, 36)) -> bytes:
    """A short clip of one colour (PyAV, x264), as a generated transition would be."""
    import tempfile

    import av
    import numpy as np

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        with av.open(str(path), "w") as container:
            stream = container.add_stream("libx264", rate=24)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            picture = np.zeros((size[1], size[0], 3), dtype=np.uint8)
            picture[:] = color
            for _ in range(frames):
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        return path.read_bytes()


# -- the sandbox --------------------------------------------------------------------------------


def make_sandbox(root: Path) -> Sandbox:
    """Create the victim folder and the base project under ``root`` (which may exist)."""
    sandbox = Sandbox(Path(root))
    victim = sandbox.victim
    (victim / "models").mkdir(parents=True, exist_ok=True)
    (victim / "cache").mkdir(exist_ok=True)
    (victim / "secret.png").write_bytes(png(SECRET_RGB))
    (victim / "secret.wav").write_bytes(wav(tone=True))
    (victim / "secret.mp4").write_bytes(mp4(SECRET_RGB))
    (victim / "notes.txt").write_text(f"{SECRET_TEXT}: somebody else's notes\n")
    (victim / "models" / "v1.safetensors").write_bytes(b"weights" * 100)
    (victim / "models" / f"v1-{BANK_DIGEST}.safetensors").write_bytes(b"bank" * 100)
    # what a sweep of killed saves' temporary files would take for its own, an hour old
    leftover = victim / "cache" / "identity" / f".hero-{BANK_DIGEST}.safetensors.0123456789ab.tmp"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"somebody's half-written file")
    os.utime(leftover, (leftover.stat().st_atime - 7200, leftover.stat().st_mtime - 7200))
    other = victim / "other.storyboard"
    store = AssetStore(other)
    image = store.put(png(SECRET_RGB))
    store.put(png((1, 2, 3)))  # unreferenced there: what a clean-up would delete
    project = Project()
    scene = Scene(title=SECRET_TEXT)
    panel = Panel(prompt=SECRET_TEXT, dialogue=SECRET_TEXT, image=image)
    panel.candidates.append(Candidate(asset=image))
    scene.panel_ids.append(panel.id)
    project.scenes[scene.id], project.scene_ids = scene, [scene.id]
    project.panels[panel.id] = panel
    save_project(project, other)
    _storyboarder_folder(victim / "storyboarder", "board-1.png", secret=True)
    sandbox.sandbox.mkdir(parents=True, exist_ok=True)
    _base_project(sandbox.base)
    return sandbox


def _base_project(bundle: Path) -> None:
    """An ordinary project using every kind of asset: images, candidates, a sketch layer, a
    character's reference image, a panel sound, a generated transition clip and a soundtrack."""
    store = AssetStore(bundle)
    green, blue = store.put(png(_GREEN)), store.put(png(_BLUE))
    sketch = store.put(png((0, 0, 0), alpha=0))
    reference = store.put(png(_YELLOW))
    sound = store.put_media(wav(), "wav")
    clip = store.put_media(mp4(_BLUE), "mp4")
    soundtrack = store.put_media(wav(1.0), "wav")
    hero = Character(id="hero", name="Hero", description="a courier", reference_images=[reference])
    friend = Character(id="friend", name="Friend", description="an old robot", seed=3)
    first = Panel(
        id="p1",
        prompt="[Hero] runs on a roof",
        character_ids=["hero"],
        character_regions={"hero": Rect(0.1, 0.1, 0.5, 0.8)},
        dialogue="HERO: Again!",
        balloons=[Balloon(id="b1", text="Again!", character_id="hero")],
        duration=12,
        transition=Transition(TransitionKind.GENERATED, 6, clip=clip),
        image=green,
        candidates=[Candidate(asset=green, id="c1")],
        audio=sound,
        layers=[PanelLayer(LayerKind.SKETCH, sketch)],
    )
    second = Panel(
        id="p2",
        prompt="[Hero] and [Friend] in the rain",
        character_ids=["hero", "friend"],
        duration=12,
        transition=Transition(TransitionKind.CROSSFADE, 4),
        image=blue,
        candidates=[Candidate(asset=blue, id="c2")],
    )
    third = Panel(id="p3", prompt="[Friend] waits", character_ids=["friend"], duration=12)
    project = Project()
    project.settings.title = "Base"
    project.settings.soundtrack = soundtrack
    project.scenes = {
        "s1": Scene(id="s1", title="Roof", panel_ids=["p1", "p2"]),
        "s2": Scene(id="s2", title="Street", panel_ids=["p3"]),
    }
    project.scene_ids = ["s1", "s2"]
    project.panels = {"p1": first, "p2": second, "p3": third}
    project.characters = {"hero": hero, "friend": friend}
    project.character_ids = ["hero", "friend"]
    frames = [PanelFrame(pid, Rect(0, i / 3, 1, 1 / 3)) for i, pid in enumerate(["p1", "p2", "p3"])]
    project.pages = {"pg1": Page(id="pg1", template="rows-3", frames=frames)}
    project.page_ids = ["pg1"]
    save_project(project, bundle)


def _storyboarder_folder(folder: Path, url: str, *, secret: bool = False) -> None:
    """A Storyboarder project: one ``.storyboarder`` file with one board and its image."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    text = SECRET_TEXT if secret else "Look out!"
    board = {"url": url, "dialogue": text, "duration": 500, "layers": {}}
    document = {"fps": 24, "aspectRatio": 1.7777, "boards": [board]}
    (folder / "story.storyboarder").write_text(json.dumps(document))
    (folder / "images" / url).write_bytes(png(SECRET_RGB if secret else _GREEN))


# -- editing a bundle's project.json ------------------------------------------------------------


def _edit(bundle: Path, change: Callable[[dict[str, Any]], None]) -> None:
    file = bundle / PROJECT_FILE
    data = json.loads(file.read_text(encoding="utf-8"))
    change(data)
    file.write_text(json.dumps(data), encoding="utf-8")


def _link(entry: Path, target: Path) -> None:
    """Make ``entry`` (inside a bundle) a symbolic link to ``target``, replacing what was there."""
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry)
    elif entry.exists() or entry.is_symlink():
        entry.unlink()
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.symlink_to(target, target_is_directory=target.is_dir())


def _file_part(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


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
            _link(bundle / "assets" / name, _secret(sandbox, media))
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


# -- links inside the bundle --------------------------------------------------------------------


def _first_image(bundle: Path) -> str:
    data = json.loads((bundle / PROJECT_FILE).read_text(encoding="utf-8"))
    return str(data["panels"]["p1"]["image"])


def _link_variant(
    entry: str, opens: bool, aim: Callable[[Path, Sandbox], tuple[Path, Path]]
) -> Variant:
    def change(bundle: Path, sandbox: Sandbox) -> None:
        link, target = aim(bundle, sandbox)
        _link(link, target)

    return Variant(f"{entry}/symlink", entry, "symlink", opens=opens, change=change)


LINKS: tuple[Variant, ...] = (
    # clean-up followed it and deleted the other project's files
    _link_variant(
        "assets", False, lambda b, s: (b / "assets", s.victim / "other.storyboard" / "assets")
    ),
    # an accepted image's file replaced by a link to the secret: exports drew it
    _link_variant(
        "assets/<image>.png",
        True,
        lambda b, s: (b / "assets" / f"{_first_image(b)}.png", s.victim / "secret.png"),
    ),
    _link_variant(
        "project.json",
        False,
        lambda b, s: (b / PROJECT_FILE, s.victim / "other.storyboard" / PROJECT_FILE),
    ),
    _link_variant("cache", True, lambda b, s: (b / "cache", s.victim / "cache")),
    _link_variant(
        "cache/identity", True, lambda b, s: (b / "cache" / "identity", s.victim / "models")
    ),
    _link_variant(
        "cache/identity/<bank>",
        True,
        lambda b, s: (
            b / "cache" / "identity" / f"hero-{BANK_DIGEST}.safetensors",
            s.victim / "models" / "v1.safetensors",
        ),
    ),
    _link_variant(
        "cache/thumbs/<image>.png",
        True,
        lambda b, s: (b / "cache" / "thumbs" / f"{_first_image(b)}.png", s.victim / "secret.png"),
    ),
    _link_variant(
        "cache/external/panel-p1.png",
        True,
        lambda b, s: (b / "cache" / "external" / "panel-p1.png", s.victim / "notes.txt"),
    ),
    # another project's file, newer than this one's: the editor offered to "recover" it
    _link_variant("recovery.json", True, lambda b, s: (b / "recovery.json", _fresh_other(s))),
    _link_variant("session.lock", True, lambda b, s: (b / "session.lock", s.victim / "notes.txt")),
)


def _fresh_other(sandbox: Sandbox) -> Path:
    """A copy of the victim's other project file, written now (newer than any bundle)."""
    copy = sandbox.victim / "recent-project.json"
    if not copy.exists():
        shutil.copyfile(sandbox.victim / "other.storyboard" / PROJECT_FILE, copy)
    return copy


def _assets_out_with_autosave(bundle: Path, sandbox: Sandbox) -> None:
    """``assets/`` linked out, and an autosave beside it: the editor offered to open a project
    it refused from its autosave."""
    _link(bundle / "assets", sandbox.victim / "other.storyboard" / "assets")
    shutil.copyfile(bundle / PROJECT_FILE, bundle / "recovery.json")


def _everything(bundle: Path, sandbox: Sandbox) -> None:
    """Every id field hostile at once (traversals), plus a cache leading out."""
    data = json.loads((bundle / PROJECT_FILE).read_text(encoding="utf-8"))
    for field, setter in _ID_FIELDS.items():
        suffix = "" if field == "characters.id" else field  # the bank aims at models/v1
        setter(data, _id_value("traversal", bundle, sandbox) + suffix)
    (bundle / PROJECT_FILE).write_text(json.dumps(data), encoding="utf-8")
    _link(bundle / "cache", sandbox.victim / "cache")


def variants() -> list[Variant]:
    """Every hostile project variant (about a hundred): asset fields x forms, object ids x forms,
    links inside the bundle, all the ids at once, and panel numbers that look like paths."""
    found = [_asset_variant(f, form) for f in _ASSET_FIELDS for form in ASSET_FORMS]
    found += [_id_variant(f, form) for f in _ID_FIELDS for form in ID_FORMS]
    found += LINKS
    found.append(
        Variant("assets+recovery/symlink", "assets", "symlink", False, _assets_out_with_autosave)
    )
    found.append(Variant("all-ids/traversal", "every id", "traversal", True, _everything))
    found += [_number_variant(form) for form in ("traversal", "absolute", "separator")]
    return found


def _number_variant(form: str) -> Variant:
    """A manual panel number is text, but the FCPXML export names a placeholder still by it."""

    def change(bundle: Path, sandbox: Sandbox) -> None:
        aim = sandbox.victim / "number"
        value = {"traversal": "/../../../../victim/number", "absolute": str(aim)}.get(form, "3/A")
        _edit(bundle, lambda data: data["panels"]["p3"].__setitem__("number_override", value))

    return Variant(f"panels.number_override/{form}", "panels.number_override", form, True, change)


# -- Storyboarder -------------------------------------------------------------------------------


def _board(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    file = folder / "story.storyboarder"
    data = json.loads(file.read_text())
    change(data["boards"][0])
    file.write_text(json.dumps(data))


def _sb_url(form: str) -> Callable[[Path, Sandbox], None]:
    def change(folder: Path, sandbox: Sandbox) -> None:
        secret = sandbox.victim / "storyboarder" / "images" / "board-1.png"
        url = os.path.relpath(secret, folder / "images") if form == "traversal" else str(secret)
        (folder / "images" / "board-1.png").unlink()
        _board(folder, lambda board: board.update(url=url))

    return change


def _sb_layer(form: str) -> Callable[[Path, Sandbox], None]:
    def change(folder: Path, sandbox: Sandbox) -> None:
        secret = sandbox.victim / "storyboarder" / "images" / "board-1.png"
        url = os.path.relpath(secret, folder / "images") if form == "traversal" else str(secret)
        _board(folder, lambda board: board.update(layers={"ink": {"url": url}}))

    return change


def _sb_layer_link(folder: Path, sandbox: Sandbox) -> None:
    _link(folder / "images" / "board-1-ink.png", sandbox.victim / "secret.png")
    _board(folder, lambda board: board.update(layers={"ink": {"url": "board-1-ink.png"}}))


def _sb_poster_link(folder: Path, sandbox: Sandbox) -> None:
    (folder / "images" / "board-1.png").unlink()  # no layer: the poster frame is used
    _link(folder / "images" / "board-1-posterframe.jpg", sandbox.victim / "secret.png")


def _sb_sound(form: str) -> Callable[[Path, Sandbox], None]:
    """The board's sound: a link to the victim's recording, or a path to it."""

    def change(folder: Path, sandbox: Sandbox) -> None:
        secret = sandbox.victim / "secret.wav"
        if form == "symlink":
            _link(folder / "images" / "board-1-audio.wav", secret)
            name = "board-1-audio.wav"
        else:
            name = (
                os.path.relpath(secret, folder / "images") if form == "traversal" else str(secret)
            )
        _board(folder, lambda board: board.update(audio={"filename": name, "duration": 500}))

    return change


def _sb_images_link(folder: Path, sandbox: Sandbox) -> None:
    _link(folder / "images", sandbox.victim / "storyboarder" / "images")


def _sb_file_link(folder: Path, sandbox: Sandbox) -> None:
    victim_file = sandbox.victim / "storyboarder" / "story.storyboarder"
    _link(folder / "linked.storyboarder", victim_file)


STORYBOARDER: tuple[StoryboarderVariant, ...] = (
    StoryboarderVariant("board-url/traversal", _sb_url("traversal")),
    StoryboarderVariant("board-url/absolute", _sb_url("absolute")),
    StoryboarderVariant("layer-url/traversal", _sb_layer("traversal")),
    StoryboarderVariant("layer-url/absolute", _sb_layer("absolute")),
    StoryboarderVariant(
        "board-image/symlink",
        lambda f, s: _link(f / "images" / "board-1.png", s.victim / "secret.png"),
    ),
    StoryboarderVariant("layer-image/symlink", _sb_layer_link),
    StoryboarderVariant("poster/symlink", _sb_poster_link),
    StoryboarderVariant("sound/symlink", _sb_sound("symlink")),
    StoryboarderVariant("sound/traversal", _sb_sound("traversal")),
    StoryboarderVariant("sound/absolute", _sb_sound("absolute")),
    StoryboarderVariant("images/symlink", _sb_images_link),
    StoryboarderVariant("storyboarder-file/symlink", _sb_file_link),
)
