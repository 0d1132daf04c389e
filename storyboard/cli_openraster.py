"""``export-ora`` and ``import-ora``: panels to layered OpenRaster files for paint programs, and
a file painted there back into a panel's layers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from storyboard.core.assets import AssetStore
from storyboard.core.model import Project
from storyboard.core.numbering import find_panels, panel_numbers
from storyboard.core.openraster import import_commands, import_ora
from storyboard.core.ownership import Program, ProjectLock
from storyboard.core.persistence import checked_encode, load_project, project_file, save_project
from storyboard.core.save_guard import check_unchanged


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FOLDER")
    parser.add_argument("--panels", metavar="1A,1B", help="only these panels (default: all)")
    parser.add_argument(
        "--psd", action="store_true", help="layered Photoshop .psd files instead of .ora"
    )


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", type=Path)
    parser.add_argument("panel", help="the panel number, e.g. 1A")
    parser.add_argument("file", type=Path, metavar="FILE.ora")


def _panel_ids(project: Project, numbers: str) -> list[str]:
    try:
        return find_panels(project, [n for n in numbers.split(",") if n.strip()])
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None


def run_export_ora(args: argparse.Namespace) -> int:
    from storyboard.export.openraster import OraOptions, export_ora

    loaded = load_project(args.project)
    wanted = tuple(_panel_ids(loaded.project, args.panels)) if args.panels else None
    kind = "psd" if args.psd else "ora"
    result = export_ora(loaded.project, loaded.path, args.output, OraOptions(wanted, kind))
    for warning in result.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    what = "Photoshop (.psd)" if args.psd else "OpenRaster"
    sys.stdout.write(f"wrote {len(result.paths)} {what} file(s) to {args.output}\n")
    return 0


def run_import_ora(args: argparse.Namespace) -> int:
    loaded = load_project(args.project)
    panel_ids = _panel_ids(loaded.project, args.panel)
    if len(panel_ids) != 1:
        raise ValueError("name one panel to import into, e.g. 1A")
    panel_id = panel_ids[0]
    lock = ProjectLock.for_command(
        loaded.path, Program.IMPORT_ORA, "Close it in the editor first, or import from the editor"
    )
    try:
        check_unchanged(project_file(loaded.path), loaded.digest)  # saved by someone meanwhile
        project = loaded.project
        panel = project.panels[panel_id]
        result = import_ora(args.file, panel, AssetStore(loaded.path))
        add, edit = import_commands(result, panel)
        accepted = result.image != panel.image
        if add is not None:
            add.apply(project)
        edit.apply(project)
        lock.check()
        save_project(project, loaded.path, data=checked_encode(project, loaded.path))
    finally:
        lock.release()
    for warning in result.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    number = panel_numbers(project)[panel_id]
    image = "its image kept"
    if accepted:
        image = "a new image, accepted" if add is not None else "an earlier image, accepted"
    sys.stdout.write(f"imported {len(result.layers)} layer(s) into panel {number} ({image})\n")
    return 0
