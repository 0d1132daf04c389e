"""Hostile Storyboarder folders: boards whose images, layers and sounds lead out of the folder.

A Storyboarder project from someone else is imported with ``import-storyboarder``; each
:class:`StoryboarderVariant` makes a fresh one-board folder (``storyboarder_folder``) and points
one of its files at the victim's Storyboarder project or secrets: a board or layer URL, a sound's
file name as a traversal or an absolute path, or the image, layer, poster frame, sound, whole
``images/`` folder or ``.storyboarder`` file itself a link. The import reads none of them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.hostile_sandbox import Sandbox, file_part, link, storyboarder_folder


@dataclass(frozen=True, slots=True)
class StoryboarderVariant:
    """A hostile Storyboarder folder; ``build`` returns what to import."""

    name: str
    change: Callable[[Path, Sandbox], None]  # (the Storyboarder folder, sandbox)

    def build(self, sandbox: Sandbox) -> Path:
        folder = sandbox.sandbox / f"sb-{file_part(self.name)}"
        if folder.exists():
            shutil.rmtree(folder)
        storyboarder_folder(folder, "board-1.png")
        self.change(folder, sandbox)
        return folder


def _board(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    file = folder / "story.storyboarder"
    data = json.loads(file.read_text())
    change(data["boards"][0])
    file.write_text(json.dumps(data))


def _aimed(form: str, secret: Path, folder: Path) -> str:
    """A file name in a board reaching ``secret``: a traversal from the folder's ``images/`` or
    the absolute path."""
    return os.path.relpath(secret, folder / "images") if form == "traversal" else str(secret)


def _sb_url(form: str) -> Callable[[Path, Sandbox], None]:
    def change(folder: Path, sandbox: Sandbox) -> None:
        url = _aimed(form, sandbox.victim / "storyboarder" / "images" / "board-1.png", folder)
        (folder / "images" / "board-1.png").unlink()
        _board(folder, lambda board: board.update(url=url))

    return change


def _sb_layer(form: str) -> Callable[[Path, Sandbox], None]:
    def change(folder: Path, sandbox: Sandbox) -> None:
        url = _aimed(form, sandbox.victim / "storyboarder" / "images" / "board-1.png", folder)
        _board(folder, lambda board: board.update(layers={"ink": {"url": url}}))

    return change


def _sb_layer_link(folder: Path, sandbox: Sandbox) -> None:
    link(folder / "images" / "board-1-ink.png", sandbox.victim / "secret.png")
    _board(folder, lambda board: board.update(layers={"ink": {"url": "board-1-ink.png"}}))


def _sb_poster_link(folder: Path, sandbox: Sandbox) -> None:
    (folder / "images" / "board-1.png").unlink()  # no layer: the poster frame is used
    link(folder / "images" / "board-1-posterframe.jpg", sandbox.victim / "secret.png")


def _sb_sound(form: str) -> Callable[[Path, Sandbox], None]:
    """The board's sound: a link to the victim's recording, or a path to it."""

    def change(folder: Path, sandbox: Sandbox) -> None:
        secret = sandbox.victim / "secret.wav"
        if form == "symlink":
            link(folder / "images" / "board-1-audio.wav", secret)
            name = "board-1-audio.wav"
        else:
            name = _aimed(form, secret, folder)
        _board(folder, lambda board: board.update(audio={"filename": name, "duration": 500}))

    return change


def _sb_images_link(folder: Path, sandbox: Sandbox) -> None:
    link(folder / "images", sandbox.victim / "storyboarder" / "images")


def _sb_file_link(folder: Path, sandbox: Sandbox) -> None:
    victim_file = sandbox.victim / "storyboarder" / "story.storyboarder"
    link(folder / "linked.storyboarder", victim_file)


STORYBOARDER: tuple[StoryboarderVariant, ...] = (
    StoryboarderVariant("board-url/traversal", _sb_url("traversal")),
    StoryboarderVariant("board-url/absolute", _sb_url("absolute")),
    StoryboarderVariant("layer-url/traversal", _sb_layer("traversal")),
    StoryboarderVariant("layer-url/absolute", _sb_layer("absolute")),
    StoryboarderVariant(
        "board-image/symlink",
        lambda f, s: link(f / "images" / "board-1.png", s.victim / "secret.png"),
    ),
    StoryboarderVariant("layer-image/symlink", _sb_layer_link),
    StoryboarderVariant("poster/symlink", _sb_poster_link),
    StoryboarderVariant("sound/symlink", _sb_sound("symlink")),
    StoryboarderVariant("sound/traversal", _sb_sound("traversal")),
    StoryboarderVariant("sound/absolute", _sb_sound("absolute")),
    StoryboarderVariant("images/symlink", _sb_images_link),
    StoryboarderVariant("storyboarder-file/symlink", _sb_file_link),
)
