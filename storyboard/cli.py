"""The command line: headless commands on project bundles.

Every failure a user can cause (bad arguments, a missing or corrupt project, a bad script, an
unwritable folder) ends as one ``error:`` line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NoReturn

from storyboard.cli_conform import add_arguments as conform_arguments
from storyboard.cli_conform import run_conform
from storyboard.cli_generate import add_arguments as generate_arguments
from storyboard.cli_generate import run_generate
from storyboard.cli_openraster import (
    add_export_arguments,
    add_import_arguments,
    run_export_ora,
    run_import_ora,
)
from storyboard.cli_print_size import add_arguments as print_size_arguments
from storyboard.cli_print_size import run_print_size
from storyboard.cli_transitions import add_arguments as transitions_arguments
from storyboard.cli_transitions import run_transitions
from storyboard.core.assets import AssetStore
from storyboard.core.caches import cache_use, empty_caches
from storyboard.core.disk_errors import describe
from storyboard.core.errors import ProjectError
from storyboard.core.model import FPS_CHOICES, Project
from storyboard.core.numbering import panel_numbers
from storyboard.core.ownership import Program, ProjectLock
from storyboard.core.persistence import (
    BUNDLE_SUFFIX,
    PROJECT_FILE,
    LoadedProject,
    load_project,
    save_error,
    save_project,
)
from storyboard.core.script import ScriptError, load_script
from storyboard.core.sizes import human_size
from storyboard.core.temp_files import remove_stale_temps, stale_temps
from storyboard.core.timeline import frames_to_seconds, timecode, total_frames
from storyboard.export.animatic_cli import add_arguments as export_video_arguments
from storyboard.export.animatic_cli import run_export_video
from storyboard.export.headless import add_arguments as export_pdf_arguments
from storyboard.export.headless import run_export_pdf
from storyboard.version import app_version

log = logging.getLogger("storyboard")


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser(prog: str = "storyboard") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        usage="%(prog)s [PROJECT] | %(prog)s COMMAND ...",
        description="Storyboard editor: consistent characters across every panel, generated "
        "offline on your own GPU. Without a command, opens the editor window (on PROJECT if "
        "given). Commands work on project folders (Name.storyboard).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    parser.add_argument("--version", action="version", version=f"%(prog)s {app_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    info = commands.add_parser("info", help="summarise a project: scenes, panels, characters")
    info.add_argument("project", type=Path)
    info.add_argument("--json", action="store_true", help="machine-readable output")

    new = commands.add_parser("new", help="create a project, optionally from a story script")
    new.add_argument("path", type=Path, help=f"the new project folder (…{BUNDLE_SUFFIX})")
    new.add_argument(
        "--from-script",
        type=Path,
        metavar="FILE",
        help="StoryDiffusion, Fountain or Final Draft (.fdx)",
    )
    new.add_argument("--title")
    new.add_argument("--fps", type=float, choices=FPS_CHOICES, default=24.0)

    imp = commands.add_parser("import-storyboarder", help="convert a Storyboarder project")
    imp.add_argument("source", type=Path, help="a .storyboarder file or a folder of them")
    imp.add_argument("path", type=Path, help="the new project folder")

    sb_export = commands.add_parser(
        "export-storyboarder", help="write the project as a Storyboarder project"
    )
    sb_export.add_argument("project", type=Path)
    sb_export.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="FOLDER",
        help="a new (or empty) folder: FOLDER/FOLDER.storyboarder, or for several scenes a "
        "Storyboarder script project (FOLDER/FOLDER.fountain and storyboards/)",
    )

    clean = commands.add_parser("clean-up", help="delete images no panel or candidate uses")
    clean.add_argument("project", type=Path)
    clean.add_argument("--dry-run", action="store_true", help="only list what would go")
    clean.add_argument(
        "--caches",
        action="store_true",
        help="also empty the identity banks and thumbnails (made again when needed; "
        "an SDXL character's bank is about 9 GiB)",
    )

    generate = commands.add_parser("generate", help="generate panel images (identity panels first)")
    generate_arguments(generate)
    transitions = commands.add_parser(
        "transitions", help="generated clips between neighbouring panels (after generate)"
    )
    transitions_arguments(transitions)
    print_size = commands.add_parser(
        "print-size",
        help="enlarge the panels on comic pages to the pixels their frames need at a dpi",
    )
    print_size_arguments(print_size)
    export_pdf = commands.add_parser("export-pdf", help="comic PDF or storyboard worksheets")
    export_pdf_arguments(export_pdf)
    export_video = commands.add_parser(
        "export-video", help="animatic MP4, GIF, PNGs, or a timeline (.otio, .xml, .edl, .fcpxml)"
    )
    export_video_arguments(export_video)
    export_ora = commands.add_parser(
        "export-ora",
        help="panels as layered OpenRaster files (Krita, GIMP, MyPaint), or --psd Photoshop files",
    )
    add_export_arguments(export_ora)
    import_ora = commands.add_parser(
        "import-ora", help="an OpenRaster file back into a panel's image and layers"
    )
    add_import_arguments(import_ora)
    conform_command = commands.add_parser(
        "conform",
        help="apply an edited timeline (.otio, .xml, .edl): durations, order, removed shots",
    )
    conform_arguments(conform_command)
    commands.add_parser(
        "install-desktop",
        help="add the editor to this user's application menu, with its icon (Linux)",
    )
    return parser


def _bundle_path(path: Path) -> Path:
    return path if path.suffix == BUNDLE_SUFFIX else path.with_name(path.name + BUNDLE_SUFFIX)


def _refuse_existing(path: Path) -> None:
    if (path / PROJECT_FILE).exists():
        raise UsageError(f"{path} already holds a project; pick a new folder name")


def _make_folder(path: Path) -> bool:
    """Make a new project's folder before an import copies images into it, so a folder that
    cannot be written is said first, in words; True when it was made here."""
    made = not path.exists()
    try:
        (path / "assets").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise save_error(path, exc, previous=False) from exc
    return made


@dataclass(slots=True)
class SceneSummary:
    number: int
    title: str
    panels: list[str]


@dataclass(slots=True)
class ProjectSummary:
    title: str
    fps: float
    duration: str
    duration_seconds: float
    scenes: list[SceneSummary]
    panels: int
    panels_with_image: int
    characters: list[str]
    pages: int
    missing_assets: list[str]


def summary(project: Project, missing_assets: set[str]) -> ProjectSummary:
    fps = project.settings.fps
    frames = total_frames(project)
    numbers = panel_numbers(project)
    return ProjectSummary(
        title=project.settings.title,
        fps=fps,
        duration=timecode(frames, fps),
        duration_seconds=round(frames_to_seconds(frames, fps), 3),
        scenes=[
            SceneSummary(index, scene.title, [numbers[pid] for pid in scene.panel_ids])
            for index, scene in enumerate(project.ordered_scenes(), start=1)
        ],
        panels=len(project.panels),
        panels_with_image=sum(1 for p in project.panels.values() if p.image),
        characters=[c.name for c in project.ordered_characters()],
        pages=len(project.pages),
        missing_assets=sorted(missing_assets),
    )


def _print_info(info: ProjectSummary) -> None:
    lines = [
        info.title,
        f"  {info.panels} panels in {len(info.scenes)} scenes ({info.panels_with_image} with an "
        f"image), {info.duration} at {info.fps:g} fps",
        f"  characters: {', '.join(info.characters) or 'none'}",
    ]
    for scene in info.scenes:
        panels = " ".join(scene.panels) or "(empty)"
        lines.append(f"  scene {scene.number}: {scene.title or 'untitled'} - {panels}")
    if info.missing_assets:
        count = len(info.missing_assets)
        lines.append(f"  missing images: {count} (those panels show them as missing)")
    sys.stdout.write("\n".join(lines) + "\n")


def cmd_info(args: argparse.Namespace) -> int:
    loaded = load_project(args.project)
    info = summary(loaded.project, loaded.missing_assets)
    if args.json:
        sys.stdout.write(json.dumps(asdict(info), indent=1, ensure_ascii=False) + "\n")
    else:
        _print_info(info)
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    path = _bundle_path(args.path)
    _refuse_existing(path)
    if args.from_script:
        # titled by --title, else the script's own title page, else the project's name
        result = load_script(
            args.from_script, fps=args.fps, title=args.title, fallback_title=path.stem
        )
        if result.problems:
            raise ScriptError(result.problems, args.from_script)
        project = result.project
    else:
        project = Project()
        project.settings.fps = args.fps
    project.settings.title = args.title or project.settings.title
    if project.settings.title == "Untitled":
        project.settings.title = path.stem
    save_project(project, path)
    sys.stdout.write(f"created {path} ({len(project.panels)} panels)\n")
    return 0


def cmd_import_storyboarder(args: argparse.Namespace) -> int:
    from storyboard.core.storyboarder import import_storyboarder

    path = _bundle_path(args.path)
    _refuse_existing(path)
    made = _make_folder(path)
    try:
        project, warnings = import_storyboarder(args.source, AssetStore(path))
        save_project(project, path)
    except BaseException:
        if made:  # nothing half-imported is left behind
            shutil.rmtree(path, ignore_errors=True)
        raise
    for warning in warnings:
        sys.stderr.write(f"warning: {warning}\n")
    sys.stdout.write(f"imported {len(project.panels)} boards into {path}\n")
    return 0


def cmd_export_storyboarder(args: argparse.Namespace) -> int:
    from storyboard.export.storyboarder_project import export_storyboarder

    loaded = load_project(args.project)
    result = export_storyboarder(loaded.project, loaded.path, args.output)
    for warning in result.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    opened = (
        result.files[0]
        if len(result.files) == 1
        else result.folder / f"{result.folder.name}.fountain"
    )
    sys.stdout.write(
        f"exported {result.boards} boards in {len(result.files)} scene(s) to {result.folder}; "
        f"open {opened} in Storyboarder\n"
    )
    return 0


def cmd_clean_up(args: argparse.Namespace) -> int:
    loaded = load_project(args.project, remove_temps=False)
    # images the editor made but has not saved are named only by its autosave: never delete
    # under an editor or generate
    lock = ProjectLock.for_command(
        loaded.path, Program.CLEAN_UP, "Close it there first, then clean up"
    )
    try:
        _clean_up(args, loaded)
    finally:
        lock.release()
    return 0


def _clean_up(args: argparse.Namespace, loaded: LoadedProject) -> None:
    store = AssetStore(loaded.path)
    if args.dry_run:
        doomed = sorted(store.unreferenced(loaded.project))
        temps = stale_temps(loaded.path)
    else:
        doomed = store.clean_up(loaded.project)
        temps = remove_stale_temps(loaded.path)
    verb = "would delete" if args.dry_run else "deleted"
    sys.stdout.write(f"{verb} {len(doomed)} unused file(s)\n")
    if args.dry_run:  # what would go, so the artist can look before deleting
        for asset in doomed:
            sys.stdout.write(f"  {_listed(store.path(asset), loaded.path)}\n")
    sys.stdout.write(f"{verb} {temps.describe()} left by interrupted saves\n")
    if args.dry_run:
        for path in temps.files:
            sys.stdout.write(f"  {_listed(path, loaded.path)}\n")
    for path in temps.failed:
        sys.stderr.write(f"warning: {path}: could not be deleted\n")
    if args.caches and not args.dry_run:
        emptied = empty_caches(loaded.path)
        listed = ", ".join(use.describe() for use in emptied)
        sys.stdout.write(f"emptied the caches (made again when needed): {listed}\n")
        if any(use.failed for use in emptied):
            sys.stderr.write("warning: some cache files could not be deleted (see above)\n")
        return
    listed = ", ".join(use.describe() for use in cache_use(loaded.path))
    hint = "" if args.caches else "; --caches empties them"
    sys.stdout.write(f"caches (made again when needed): {listed}{hint}\n")


def _listed(path: Path, bundle: Path) -> str:
    """'assets/ab12….png  1.2 MiB': a file of the bundle, relative, with its size."""
    try:
        size = human_size(path.lstat().st_size)
    except OSError:
        size = "gone"
    name = path.relative_to(bundle) if path.is_relative_to(bundle) else path
    return f"{name}  {size}"


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from storyboard.desktop_entry import install_desktop_entry

    written = install_desktop_entry()
    sys.stdout.write(f"added the editor to the application menu: {written[0]}\n")
    return 0


COMMANDS = {
    "info": cmd_info,
    "new": cmd_new,
    "import-storyboarder": cmd_import_storyboarder,
    "export-storyboarder": cmd_export_storyboarder,
    "clean-up": cmd_clean_up,
    "export-pdf": run_export_pdf,
    "export-video": run_export_video,
    "export-ora": run_export_ora,
    "import-ora": run_import_ora,
    "conform": run_conform,  # imports OpenTimelineIO only when it runs
    "generate": run_generate,  # imports torch only when it runs
    "transitions": run_transitions,  # the same
    "print-size": run_print_size,  # the same
    "install-desktop": cmd_install_desktop,
}


def _opens_editor(argv: Sequence[str]) -> bool:
    """No arguments, or one that names a project (an existing path or a ….storyboard name)."""
    if not argv:
        return True
    if len(argv) != 1 or argv[0].startswith("-") or argv[0] in COMMANDS:
        return False
    path = Path(argv[0])
    return path.exists() or path.suffix == BUNDLE_SUFFIX


def _prog() -> str:
    """How the user started us, for usage lines: ``main.py`` in a checkout, else ``storyboard``."""
    return "main.py" if Path(sys.argv[0]).name == "main.py" else "storyboard"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if _opens_editor(argv):
        from storyboard.qt.app import run_editor

        return run_editor(Path(argv[0]) if argv else None)
    try:
        args = build_parser(_prog()).parse_args(argv)
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.ERROR,
            format="%(levelname)s %(name)s: %(message)s",
        )
        return COMMANDS[args.command](args)
    except ScriptError as exc:
        where = f"{exc.path}: " if exc.path else ""
        count = len(exc.problems)
        listed = "; ".join(str(problem) for problem in exc.problems)
        sys.stderr.write(f"error: {where}{count} problem(s) in the script: {listed}\n")
        return 2
    except (UsageError, ProjectError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except OSError as exc:
        cause, advice = describe(exc)
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"error: {where}{cause}. {advice}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:  # a bug of ours: still one line, details in the log with -v
        log.debug("unexpected error", exc_info=True)
        sys.stderr.write(f"error: unexpected {type(exc).__name__}: {exc} (rerun with -v)\n")
        return 1
