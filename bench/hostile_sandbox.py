"""The sandbox hostile projects are built in, the victim folder they aim at, and the base project.

Every hostile variant starts as a copy of one ordinary, valid project (``base.storyboard``) and
changes one thing in it (:class:`Variant`); what it aims at is the *victim* folder beside the
sandbox, whose files carry a secret (a magenta image, a tone, a text) that no output of the base
project can show by chance. The variants themselves are in ``bench/hostile_projects.py`` (and
``bench/hostile_storyboarder.py`` for Storyboarder folders).

Layout of a :class:`Sandbox` (``make_sandbox(root)``)::

    root/victim/      files a hostile project aims at: secret.png (magenta), secret.wav,
                      secret.mp4 (magenta), notes.txt, models/v1*.safetensors, cache/,
                      other.storyboard/ (another project and its assets), storyboarder/
    root/sandbox/     base.storyboard (the ordinary project), then one copy per variant
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.hostile_media import mp4, png, wav
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
from storyboard.core.persistence import save_project

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
        target = sandbox.sandbox / f"{name or file_part(self.name)}.storyboard"
        if target.exists() or target.is_symlink():
            shutil.rmtree(target)
        shutil.copytree(sandbox.base, target, symlinks=True)
        self.change(target, sandbox)
        return target


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
    storyboarder_folder(victim / "storyboarder", "board-1.png", secret=True)
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


def storyboarder_folder(folder: Path, url: str, *, secret: bool = False) -> None:
    """A Storyboarder project: one ``.storyboarder`` file with one board and its image (the
    victim's, with its secret text and image, or the base of a hostile Storyboarder variant)."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    text = SECRET_TEXT if secret else "Look out!"
    board = {"url": url, "dialogue": text, "duration": 500, "layers": {}}
    document = {"fps": 24, "aspectRatio": 1.7777, "boards": [board]}
    (folder / "story.storyboarder").write_text(json.dumps(document))
    (folder / "images" / url).write_bytes(png(SECRET_RGB if secret else _GREEN))


def link(entry: Path, target: Path) -> None:
    """Make ``entry`` (inside a bundle) a symbolic link to ``target``, replacing what was there."""
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry)
    elif entry.exists() or entry.is_symlink():
        entry.unlink()
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.symlink_to(target, target_is_directory=target.is_dir())


def file_part(name: str) -> str:
    """A variant's name as a file name in the sandbox (its ``/`` and ``<>`` replaced)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
