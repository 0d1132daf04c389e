"""Exports onto a full disk end in an ExportError naming the file and saying the disk is full,
and leave nothing behind; an export never reports success for an empty or short file.

Two ways to fill a disk: a real one (a filled tmpfs, where it can be mounted: ``full_disk``),
and ``os.write`` failing as on a full disk (runs anywhere: every export file goes through it).
"""

from __future__ import annotations

import errno
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication

from storyboard.cli import main
from storyboard.core.model import Project
from storyboard.core.persistence import load_project
from storyboard.export import output
from storyboard.export.animatic import plan_animatic
from storyboard.export.animatic_options import AnimaticOptions
from storyboard.export.comic_pdf import export_comic_pdf
from storyboard.export.fcpxml import export_fcpxml
from storyboard.export.output import ExportError, staged_file
from storyboard.export.page_png import export_page_pngs
from storyboard.export.sheets_pdf import export_sheets_pdf
from storyboard.export.timeline_files import export_timeline
from storyboard.export.video import export_video
from tests.export.animatic_helpers import BLUE, RED, project_with, solid
from tests.full_disk import no_space

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "sample.storyboard"
DISK_FULL = "could not be written: the disk is full"


def _sample(tmp_path: Path) -> tuple[Project, Path]:
    bundle = Path(shutil.copytree(SAMPLE, tmp_path / "sample.storyboard"))
    return load_project(bundle).project, bundle


def _exports(project: Project, bundle: Path, out: Path) -> dict[str, object]:
    """Each export of the editor and the CLI, writing into ``out``."""
    small = AnimaticOptions(size=(64, 36))
    return {
        "frames": lambda: export_video(project, bundle, out / "frames", small),
        "mp4": lambda: export_video(project, bundle, out / "film.mp4", small),
        "gif": lambda: export_video(project, bundle, out / "film.gif", small),
        "comic": lambda: export_comic_pdf(project, bundle, out / "comic.pdf"),
        "sheets": lambda: export_sheets_pdf(project, bundle, out / "sheets.pdf"),
        "pages": lambda: export_page_pngs(project, bundle, out, dpi=36),
        "fcpxml": lambda: export_fcpxml(plan_animatic(project, small), None, out / "cut.fcpxml"),
        "otio": lambda: export_timeline(project, bundle, out / "cut.otio", small),
        "edl": lambda: export_timeline(project, bundle, out / "cut.edl", small),
    }


WRITTEN_BY_US = ["frames", "comic", "sheets", "pages", "fcpxml"]  # (MP4, GIF: FFmpeg's writes)


@pytest.mark.parametrize("kind", WRITTEN_BY_US)
def test_a_failing_write_is_a_disk_full_error_naming_the_file(
    qapp: QGuiApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    project, bundle = _sample(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(output.os, "write", no_space)
    with pytest.raises(ExportError, match=DISK_FULL) as failed:
        _exports(project, bundle, out)[kind]()  # type: ignore[operator]
    assert str(failed.value.path).startswith(str(out))
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("kind", ["frames", "comic", "sheets"])
def test_a_write_that_stops_short_is_never_a_success(
    qapp: QGuiApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A write that takes part of the bytes and then nothing more (no error)."""
    project, bundle = _sample(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    real = os.write
    monkeypatch.setattr(output.os, "write", lambda fd, data: real(fd, data[:10]) and 0)
    with pytest.raises(ExportError, match=r"only 10 of \d+ bytes reached the disk"):
        _exports(project, bundle, out)[kind]()  # type: ignore[operator]
    assert list(out.iterdir()) == []


def test_an_empty_export_file_is_an_error(tmp_path: Path) -> None:
    target = tmp_path / "film.mp4"
    with pytest.raises(ExportError, match="the file came out empty"), staged_file(target):
        pass  # the writer reported no error, and wrote nothing
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kind", ["frames", "mp4", "gif", "comic", "sheets", "pages", "fcpxml", "otio", "edl"]
)
def test_every_export_onto_a_really_full_disk(
    qapp: QGuiApplication, tmp_path: Path, full_disk: Path, kind: str
) -> None:
    """Before: 192 empty PNG frames and exit 0; an empty worksheet PDF reported as written;
    'unexpected EmptyFileError' for the comic."""
    project, bundle = _sample(tmp_path)
    with pytest.raises(ExportError, match=DISK_FULL) as failed:
        _exports(project, bundle, full_disk)[kind]()  # type: ignore[operator]
    assert str(failed.value.path).startswith(str(full_disk))
    assert [p.name for p in full_disk.iterdir()] == ["filler"]


def test_the_cli_says_the_disk_is_full_and_fails(
    qapp: QGuiApplication, full_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frames = full_disk / "frames"
    assert main(["export-video", str(SAMPLE), "-o", str(frames), "--size", "64x36"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {frames}/frame_000000.png: {DISK_FULL}. Free some space")
    assert not frames.exists()


@pytest.mark.parametrize("number", ["3/A", "../../x", "..", "a" * 300, "\u00e9t\u00e9 #2"])
def test_fcpxml_cards_of_any_panel_number_stay_in_the_media_folder(
    qapp: QGuiApplication, tmp_path: Path, number: str
) -> None:
    """A number with '/' failed the export with the advice 'check the free disk space'."""
    bundle = tmp_path / "P.storyboard"
    project = project_with(bundle, [solid(RED), None, solid(BLUE)])
    project.ordered_panels()[1].number_override = number
    out = tmp_path / "out"
    out.mkdir()
    plan = plan_animatic(project, AnimaticOptions(size=(64, 36)))
    export_fcpxml(plan, bundle, out / "cut.fcpxml")
    (card,) = (out / "cut_media").iterdir()
    assert card.name.startswith("0002_") and card.suffix == ".png"
    assert card.stat().st_size > 0
    sources = [m.get("src") for m in ET.parse(out / "cut.fcpxml").getroot().iter("media-rep")]
    assert card.as_uri() in sources
    assert sorted(p.name for p in out.iterdir()) == ["cut.fcpxml", "cut_media"]


def test_a_failed_fcpxml_export_leaves_no_cards(
    qapp: QGuiApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "P.storyboard"
    project = project_with(bundle, [None, None, None])
    out = tmp_path / "out"
    out.mkdir()
    real, calls = os.write, []

    def third_fails(fd: int, data: bytes) -> int:
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(output.os, "write", third_fails)
    with pytest.raises(ExportError, match=DISK_FULL):
        export_fcpxml(
            plan_animatic(project, AnimaticOptions(size=(64, 36))), bundle, out / "c.fcpxml"
        )
    assert list(out.iterdir()) == []
