"""The worksheet PDF parsed back: paper sizes, header, every word of long text present."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication

from storyboard.export.sheets_pdf import SheetOptions, export_sheets_pdf
from tests.export.test_comic_pdf import comic_project


def pdf_text(path: Path, *args: str) -> str:
    return subprocess.run(
        ["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_sheets_show_each_panels_number_timing_and_text(
    qapp: QGuiApplication, tmp_path: Path
) -> None:
    project = comic_project(tmp_path, panels=8)
    out = tmp_path / "sheets.pdf"
    result = export_sheets_pdf(project, tmp_path, out, SheetOptions(rows=2, columns=2))
    assert result.pages == 2
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert "Page size:       595 x 842 pts (A4)" in info
    text = pdf_text(out)
    assert "Test Comic" in text and "Page 2 of 2" in text
    assert "1A" in text and "1H" in text and "00:00:02:00" in text
    assert "line 7" in text


def test_long_text_is_continued_never_cut(qapp: QGuiApplication, tmp_path: Path) -> None:
    project = comic_project(tmp_path, panels=2)
    words = [f"w{i:03d}" for i in range(600)] + ["Incomprehensibilities" * 6]
    project.panels["p0"].notes = " ".join(words)
    out = tmp_path / "long.pdf"
    export_sheets_pdf(project, tmp_path, out, SheetOptions(rows=4, columns=4, landscape=True))
    text = pdf_text(out)
    assert "1A (cont.)" in text
    found = "".join(text.split())
    for word in words[:-1]:
        assert word in found
    assert words[-1] in found  # a word wider than the cell is broken, not lost


@pytest.mark.parametrize(
    ("paper", "landscape", "size"),
    [("letter", False, "612 x 792"), ("a4", True, "842 x 595")],
)
def test_paper_and_orientation(
    qapp: QGuiApplication, tmp_path: Path, paper: str, landscape: bool, size: str
) -> None:
    out = tmp_path / "s.pdf"
    options = SheetOptions(paper=paper, landscape=landscape, rows=1, columns=1, text_beside=True)
    export_sheets_pdf(comic_project(tmp_path, panels=1), tmp_path, out, options)
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert f"Page size:       {size} pts" in info


def test_bad_grid_is_refused(qapp: QGuiApplication, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="1x1 to 4x4"):
        export_sheets_pdf(
            comic_project(tmp_path, panels=1), tmp_path, tmp_path / "x.pdf", SheetOptions(rows=5)
        )
    assert not (tmp_path / "x.pdf").exists()
