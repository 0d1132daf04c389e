"""``main.py print-size`` end to end with the built-in 64 px model on the CPU: generate a small
comic, enlarge it for print, export the PDF and read each image's effective resolution back from
it with pypdf."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from storyboard.cli import main
from storyboard.core import assets as assets_module
from storyboard.core.model import (
    Character,
    IdentitySettings,
    Page,
    Panel,
    PanelFrame,
    Project,
    Rect,
    Scene,
)
from storyboard.core.numbering import panel_numbers
from storyboard.core.persistence import load_project, save_project
from storyboard.core.print_jobs import UPSCALED_FROM
from tests.export.pdf_dpi import placed_dpi


def comic(bundle: Path) -> Path:
    """Two panels of one consistent character, stacked on one page (6x4.4 in frames)."""
    project = Project()
    project.settings.generation.steps = 6
    project.settings.generation.width = project.settings.generation.height = 64
    hero = Character(
        id="hero",
        name="Hero",
        description="a person with red hair in a yellow shirt",
        identity=IdentitySettings(identity_panels=1),
    )
    project.characters[hero.id] = hero
    project.character_ids.append(hero.id)
    scene = Scene(id="s1")
    for index, place in enumerate(["in the park", "on the beach"]):
        panel = Panel(id=f"p{index}", prompt=f"[Hero] waving {place}", character_ids=["hero"])
        project.panels[panel.id] = panel
        scene.panel_ids.append(panel.id)
    project.scenes[scene.id] = scene
    project.scene_ids.append(scene.id)
    page = Page(
        id="page1",
        frames=[
            PanelFrame("p0", Rect(0.0, 0.0, 1.0, 0.5)),
            PanelFrame("p1", Rect(0.0, 0.5, 1.0, 0.5)),
        ],
    )
    project.pages[page.id] = page
    project.page_ids.append(page.id)
    save_project(project, bundle)
    return bundle


@pytest.mark.slow
def test_print_size_enlarges_the_page_and_the_pdf_prints_it_sharper(
    qapp: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``qapp``: the process's one Qt application, which the commands' exports then use (one
    they made themselves would stop the Qt tests of the same run from making theirs)."""
    bundle = comic(tmp_path / "comic.storyboard")
    assert main(["generate", str(bundle), "--device", "cpu"]) == 0
    before_pdf, after_pdf = tmp_path / "before.pdf", tmp_path / "after.pdf"
    assert main(["export-pdf", str(bundle), "-o", str(before_pdf), "--no-bleed"]) == 0
    before = [int(d) for d in placed_dpi(before_pdf)[0]]
    assert before == [10, 10]  # 64 px over 6 in
    capsys.readouterr()

    assert main(["print-size", str(bundle), "--dpi", "20", "--no-bleed", "--dry-run"]) == 0
    plan = capsys.readouterr().out.splitlines()
    assert plan == [f"{n}: 64x64 -> 120x120 px (10 -> 20 dpi)" for n in ("1A", "1B")]
    originals = {p.id: p.image for p in load_project(bundle).project.panels.values()}

    args = ["print-size", str(bundle), "--dpi", "20", "--no-bleed", "--device", "cpu"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == (
        f"enlarged 2 panel(s) (1A 120x120, 1B 120x120) in {bundle}"
    )
    assert "print size 1B step" in captured.err  # the progress line
    project = load_project(bundle).project
    for pid, panel in project.panels.items():
        assert panel.image == panel.candidates[-1].asset != originals[pid]
        assert panel.candidates[-1].settings[UPSCALED_FROM] == originals[pid]
        assert panel.candidates[-1].settings["tiles"] == 9
        assert originals[pid] in [c.asset for c in panel.candidates]

    assert main(["export-pdf", str(bundle), "-o", str(after_pdf), "--no-bleed"]) == 0
    report = capsys.readouterr().out
    assert "effective dpi per panel: 1A 20, 1B 20" in report
    assert [int(d) for d in placed_dpi(after_pdf)[0]] == [20, 20]
    numbers = panel_numbers(project)
    assert sorted(numbers.values()) == ["1A", "1B"]


@pytest.mark.slow
def test_a_full_disk_keeps_the_panels_enlarged_and_a_second_run_does_the_rest(
    qapp: object,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = comic(tmp_path / "comic.storyboard")
    assert main(["generate", str(bundle), "--device", "cpu"]) == 0
    capsys.readouterr()
    real_write = assets_module.atomic_write
    enlarged: list[Path] = []

    def fill_up(path: Path, data: bytes) -> None:
        enlarged.append(path)
        if len(enlarged) > 1:  # room for one enlarged panel only
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data)

    monkeypatch.setattr(assets_module, "atomic_write", fill_up)
    args = ["print-size", str(bundle), "--dpi", "20", "--no-bleed", "--device", "cpu"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        f"error: could not write to {bundle / 'assets'}: No space left on device. Kept 1 "
        "enlarged panel(s); free some space, then run print-size again"
    )
    monkeypatch.setattr(assets_module, "atomic_write", real_write)
    assert main([*args, "--dry-run"]) == 0  # what a second run would do: only the other panel
    assert capsys.readouterr().out.splitlines() == [
        "1B: 64x64 -> 120x120 px (10 -> 20 dpi)",
        "already 20 dpi or more: 1A",
    ]


def test_a_strength_out_of_range_is_one_error_line_before_any_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = comic(tmp_path / "comic.storyboard")
    assert main(["print-size", str(bundle), "--strength", "2"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == "error: --strength must be within 0..1, not 2"
