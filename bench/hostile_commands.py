"""The commands every hostile project is run through: each one that reads or writes a project.

A :class:`Command` turns a bundle and an output folder into the command line
(``storyboard.cli``); ``bench/hostile_runs.py`` runs each on a fresh copy of every variant.
``generate`` is ``slow`` (a model load per run) and only runs when asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    argv: Callable[[Path, Path], list[str]]  # (bundle, output folder) -> the command line
    slow: bool = False


SIZE = ["--size", "128x72"]


def _pages(out: Path) -> str:
    (out / "pages").mkdir(exist_ok=True)
    return str(out / "pages")


COMMANDS: tuple[Command, ...] = (
    Command("info", lambda b, o: ["info", str(b)]),
    Command("info --json", lambda b, o: ["info", "--json", str(b)]),
    Command("clean-up --dry-run", lambda b, o: ["clean-up", "--dry-run", str(b)]),
    Command("clean-up", lambda b, o: ["clean-up", str(b)]),
    Command("clean-up --caches", lambda b, o: ["clean-up", "--caches", str(b)]),
    Command(
        "export-pdf comic + PNG pages",
        lambda b, o: ["export-pdf", str(b), "-o", str(o / "comic.pdf"), "--png-dir", _pages(o)],
    ),
    Command(
        "export-pdf sheets",
        lambda b, o: ["export-pdf", str(b), "--kind", "sheets", "-o", str(o / "sheets.pdf")],
    ),
    Command(
        "export-video mp4", lambda b, o: ["export-video", str(b), "-o", str(o / "a.mp4"), *SIZE]
    ),
    Command(
        "export-video fcpxml",
        lambda b, o: ["export-video", str(b), "-o", str(o / "a.fcpxml"), *SIZE],
    ),
    Command(
        "export-video otio (media folder)",
        lambda b, o: ["export-video", str(b), "-o", str(o / "a.otio"), *SIZE],
    ),
    Command(
        "export-storyboarder",
        lambda b, o: ["export-storyboarder", str(b), "-o", str(o / "storyboarder")],
    ),
    Command(
        "export-video png frames",
        lambda b, o: ["export-video", str(b), "-o", str(o / "frames"), *SIZE],
    ),
    Command("export-ora", lambda b, o: ["export-ora", str(b), "-o", str(o / "ora")]),
    Command("print-size --dry-run", lambda b, o: ["print-size", str(b), "--dry-run"]),
    Command(
        "generate",
        lambda b, o: ["generate", str(b), "--size", "64x64", "--steps", "1", "--device", "cpu"],
        slow=True,
    ),
)


def generate_command(model: str) -> Command:
    """``generate`` with another model (a tiny test model folder, say) instead of the built-in."""
    size = ["--size", "64x64", "--steps", "1", "--device", "cpu"]
    return Command("generate", lambda b, o: ["generate", str(b), "--model", model, *size], True)
