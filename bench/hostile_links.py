"""Hostile links inside a bundle: entries of a project folder that lead into the victim folder.

``project.json``, ``assets/`` or ``cache/`` linked out, an image, a bank, a thumbnail or an
external editor's copy replaced by a link to a secret file, a recovery file or a lock that is
somebody else's. Each once made a command read, show, overwrite or delete what the link reached;
now a project whose ``project.json`` or ``assets/`` leads out is refused, and the rest open with
the link left unused.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from bench.hostile_sandbox import BANK_DIGEST, Sandbox, Variant, link
from storyboard.core.persistence import PROJECT_FILE


def _first_image(bundle: Path) -> str:
    data = json.loads((bundle / PROJECT_FILE).read_text(encoding="utf-8"))
    return str(data["panels"]["p1"]["image"])


def _link_variant(
    entry: str, opens: bool, aim: Callable[[Path, Sandbox], tuple[Path, Path]]
) -> Variant:
    def change(bundle: Path, sandbox: Sandbox) -> None:
        entry_link, target = aim(bundle, sandbox)
        link(entry_link, target)

    return Variant(f"{entry}/symlink", entry, "symlink", opens=opens, change=change)


def _fresh_other(sandbox: Sandbox) -> Path:
    """A copy of the victim's other project file, written now (newer than any bundle)."""
    copy = sandbox.victim / "recent-project.json"
    if not copy.exists():
        shutil.copyfile(sandbox.victim / "other.storyboard" / PROJECT_FILE, copy)
    return copy


def _assets_out_with_autosave(bundle: Path, sandbox: Sandbox) -> None:
    """``assets/`` linked out, and an autosave beside it: the editor offered to open a project
    it refused from its autosave."""
    link(bundle / "assets", sandbox.victim / "other.storyboard" / "assets")
    shutil.copyfile(bundle / PROJECT_FILE, bundle / "recovery.json")


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
    Variant("assets+recovery/symlink", "assets", "symlink", False, _assets_out_with_autosave),
)
