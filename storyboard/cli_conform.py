"""``main.py conform PROJECT TIMELINE``: an editor's changes to the animatic, applied back.

The timeline (``.otio``, FCP7 ``.xml`` or ``.edl``) is read and matched to the panels
(:mod:`storyboard.core.conform`); the summary says what changes and what could not be matched.
``--dry-run`` stops there. Otherwise the command takes the project's lock like ``generate`` and
``clean-up`` (an editor holding it refuses the conform: conform from the editor instead, where it
is one undo step), checks ``project.json`` is still the one it read, and saves.

OpenTimelineIO is imported only when the command runs, so ``main.py --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from storyboard.core.ownership import Program, ProjectLock
from storyboard.core.persistence import checked_encode, load_project, project_file, save_project
from storyboard.core.save_guard import check_unchanged


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path)
    parser.add_argument(
        "timeline", type=Path, metavar="TIMELINE", help="the edited timeline: .otio, .xml or .edl"
    )
    parser.add_argument("--dry-run", action="store_true", help="only print what would change")


def run_conform(args: argparse.Namespace) -> int:
    from storyboard.core.conform import conform
    from storyboard.export.timeline_read import read_timeline

    loaded = load_project(args.project, remove_temps=False)
    edited = read_timeline(args.timeline, loaded.project.settings.fps)
    result = conform(loaded.project, edited)
    if args.dry_run or result.command is None:
        if args.dry_run and result.command:
            head = f"would conform {loaded.path} to {args.timeline}"
        else:
            head = f"checked {loaded.path} against {args.timeline}"
        _report(head, result.lines())
        return 0
    lock = ProjectLock.for_command(
        loaded.path,
        Program.CONFORM,
        "Close it there first, or conform in the editor (File > Conform to edited timeline…)",
    )
    try:
        check_unchanged(project_file(loaded.path), loaded.digest)  # saved before we locked
        result.command.apply(loaded.project)
        data = checked_encode(loaded.project, loaded.path)
        save_project(loaded.project, loaded.path, data=data)
    finally:
        lock.release()
    _report(f"conformed {loaded.path} to {args.timeline}", result.lines())
    return 0


def _report(head: str, lines: list[str]) -> None:
    sys.stdout.write("\n".join([head, *lines]) + "\n")
