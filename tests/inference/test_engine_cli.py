"""``main.py generate`` end to end on a copy of the sample project with a tiny model."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from storyboard import cli_generate
from storyboard.cli import main
from storyboard.core import assets as assets_module
from storyboard.core.generation_parameters import parse_parameters
from storyboard.core.numbering import panel_numbers
from storyboard.core.persistence import load_project
from tests.fixtures.engine_helpers import save_tiny

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "sample.storyboard"
FAST = ["--size", "64x64", "--steps", "2"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(save_tiny("sdxl", tmp_path_factory.mktemp("models") / "tiny-sdxl"))


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    # the sample's assets/ folder is empty, so a fresh clone has none: copy whatever is there
    return Path(shutil.copytree(SAMPLE, tmp_path / "lost-hat.storyboard"))


def images_by_number(bundle: Path) -> dict[str, tuple[str | None, int]]:
    project = load_project(bundle).project
    numbers = panel_numbers(project)
    return {numbers[pid]: (p.image, len(p.candidates)) for pid, p in project.panels.items()}


def test_without_weights_one_error_line_says_how_to_get_them(
    bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the sample uses the built-in toyworld model; a hub model that is not downloaded is refused
    assert main(["generate", str(bundle), "--model", "sdxl-base"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len([line for line in err if line.startswith("error:")]) == 1
    assert "hf download stabilityai/stable-diffusion-xl-base-1.0" in err[-1]
    assert "--model PATH" in err[-1]
    assert "Traceback" not in "\n".join(err)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--panels", "9Z"], "no panel numbered 9Z"),
        (["--scene", "7"], "--scene 7 does not exist (the project has 3 scenes)"),
        (["--size", "big"], "--size must look like 1024x576, not 'big'"),
        (
            ["--steps", "5000"],
            "steps must be within 1..1000 (the models are trained on 1000 noise levels), not 5000",
        ),
    ],
)
def test_user_mistakes_are_one_error_line(
    bundle: Path, tiny: str, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", str(bundle), "--model", tiny, *args]) == 2
    assert capsys.readouterr().err.strip() == f"error: {message}"


def test_generate_writes_candidates_accepts_them_and_reuses_banks(
    bundle: Path, tiny: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", str(bundle), "--model", tiny, *FAST, "--panels", "2b,2c"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("generated 6 image(s) (1B, 1C, 2C, 1D, 2B, 3C)")
    state = images_by_number(bundle)
    made = {"1B", "1C", "1D", "2B", "2C", "3C"}  # the identity panels of Mia and Leo
    assert {n for n, (image, count) in state.items() if image and count == 1} == made
    assert all(state[n] == (None, 0) for n in state if n not in made)
    project = load_project(bundle).project
    assert not load_project(bundle).missing_assets
    candidate = next(p for p in project.panels.values() if p.candidates).candidates[0]
    assert candidate.model == tiny and candidate.settings["steps"] == 2
    assert len(list((bundle / "cache" / "identity").glob("*.safetensors"))) == 2
    assert_pngs_say_how_they_were_made(bundle)

    # regenerating one panel reads the saved banks: one new candidate, the accepted image stays
    assert main(["generate", str(bundle), "--model", tiny, *FAST, "--panels", "2C"]) == 0
    assert capsys.readouterr().out.startswith("generated 1 image(s) (2C)")
    after = images_by_number(bundle)
    assert after["2C"] == (state["2C"][0], 2)

    # the same seed and settings again make the same picture: kept once, and said so
    assert main(["generate", str(bundle), "--model", tiny, *FAST, "--panels", "2C"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "1 of them (2C) repeat a picture the panel already had (same seed and settings), kept "
        "once: give --seed N for new variants"
    )
    assert images_by_number(bundle)["2C"] == (state["2C"][0], 2)


def assert_pngs_say_how_they_were_made(bundle: Path) -> None:
    """Each stored PNG carries its candidate's settings in the web UI's ``parameters`` form,
    and its asset id is still the hash of the file's bytes."""
    project = load_project(bundle).project
    candidates = [c for p in project.panels.values() for c in p.candidates]
    assert candidates
    for candidate in candidates:
        file = bundle / "assets" / f"{candidate.asset}.png"
        assert hashlib.sha256(file.read_bytes()).hexdigest() == candidate.asset
        with Image.open(file) as image:
            text = image.text["parameters"]
            assert image.size == (64, 64)
        prompt, negative, entries = parse_parameters(text)
        assert (prompt, negative) == (candidate.prompt.strip(), candidate.negative_prompt.strip())
        assert entries["Steps"] == "2" and entries["Size"] == "64x64"
        assert entries["Seed"] == str(candidate.seed)
        assert entries["Sampler"] == "DDIM" and entries["CFG scale"] == "4"
        assert entries["Model"] == "tiny-sdxl"  # the folder's name, not where it is
        # the identity panels show Mia or Leo: CSA made them, and its settings are there
        assert float(entries["CSA rate low"]) == candidate.settings["csa_rate_low"]
        assert entries["Identity panel"] == "yes"


@pytest.fixture
def sigint_as_in_a_terminal() -> Iterator[None]:
    """Python's own Ctrl-C handler, even when pytest started with SIGINT ignored (nohup, &)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("sigint_as_in_a_terminal")
def test_ctrl_c_stops_cleanly_and_keeps_what_was_done(
    bundle: Path, tiny: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_save = cli_generate.save_project
    saves: list[object] = []

    def save_then_interrupt(*args: object, **kwargs: object) -> Path:
        path = real_save(*args, **kwargs)  # type: ignore[arg-type]
        saves.append(path)
        if len(saves) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C after the first image
        return path

    monkeypatch.setattr(cli_generate, "save_project", save_then_interrupt)
    assert main(["generate", str(bundle), "--model", tiny, *FAST, "--scene", "1"]) == 130
    err = capsys.readouterr().err
    assert "stopping after this step" in err
    assert "cancelled: kept 3 image(s)" in err  # Mia's identity batch was already decoded
    state = images_by_number(bundle)
    assert {n for n, (image, _) in state.items() if image} == {"1B", "1C", "2C"}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_run_started_with_ctrl_c_ignored_keeps_ignoring_it(
    bundle: Path, tiny: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`nohup storyboard generate … &`: the shell asked for SIGINT to be ignored; so do we."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        real_save = cli_generate.save_project

        def save_then_interrupt(*args: object, **kwargs: object) -> Path:
            os.kill(os.getpid(), signal.SIGINT)
            return real_save(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(cli_generate, "save_project", save_then_interrupt)
        assert main(["generate", str(bundle), "--model", tiny, *FAST, "--scene", "1"]) == 0
        assert "stopping" not in capsys.readouterr().err
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_full_disk_stops_with_the_panels_left_to_generate(
    bundle: Path, tiny: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_write = assets_module.atomic_write
    images: list[Path] = []

    def fill_up(path: Path, data: bytes) -> None:
        images.append(path)
        if len(images) > 2:  # room for two images only
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data)

    monkeypatch.setattr(assets_module, "atomic_write", fill_up)
    assert main(["generate", str(bundle), "--model", tiny, *FAST, "--scene", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"error: could not write to {bundle / 'assets'}: No space left")
    assert "Kept 2 image(s)" in err and err.endswith("run again with --panels 1A,1D")
    state = images_by_number(bundle)
    assert {n for n, (image, _) in state.items() if image} == {"1B", "1C"}  # saved, accepted


def test_a_read_only_assets_folder_is_said_before_any_work(
    bundle: Path, tiny: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_open = Path.open
    loaded: list[str] = []

    def read_only(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self.parent.name == "assets" and "x" in mode:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", read_only)
    monkeypatch.setattr(
        "inference.engine.story_engine.StoryEngine.load", lambda *a, **k: loaded.append("model")
    )
    assert main(["generate", str(bundle), "--model", tiny, *FAST, "--scene", "1"]) == 2
    err = capsys.readouterr().err
    assert "new images could not be stored in assets/: permission denied" in err
    assert "nothing was generated" in err and "Free some space" not in err
    assert loaded == []  # no model was loaded, no step was run
    assert not [p for p in (bundle / "assets").iterdir() if p.name.endswith(".tmp")]


def test_generate_owns_the_project_while_it_runs(
    bundle: Path, tiny: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from storyboard.core.ownership import Program, ProjectLock, ProjectLocked, read_holder

    real_save = cli_generate.save_project
    refused: list[str] = []

    def save_while_an_editor_tries(*args: object, **kwargs: object) -> Path:
        holder = read_holder(bundle)
        assert holder is not None and holder.program == "generate"
        with pytest.raises(ProjectLocked) as locked:  # an editor opening it now: read-only
            ProjectLock.acquire(bundle, Program.EDITOR)
        refused.append(str(locked.value))
        return real_save(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_generate, "save_project", save_while_an_editor_tries)
    assert main(["generate", str(bundle), "--model", tiny, *FAST, "--panels", "2C"]) == 0
    assert refused and "open in storyboard generate" in refused[0]
    assert read_holder(bundle) is None  # given back when done


def test_generate_never_saves_over_a_newer_project_json(
    bundle: Path, tiny: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_save = cli_generate.save_project
    saves: list[object] = []

    def someone_else_saves_after_the_first_image(*args: object, **kwargs: object) -> Path:
        path = real_save(*args, **kwargs)  # type: ignore[arg-type]
        saves.append(path)
        theirs = load_project(bundle).project  # an older editor, a sync tool, a hand edit
        theirs.settings.title = "Saved by someone else"
        real_save(theirs, bundle)
        return path

    monkeypatch.setattr(cli_generate, "save_project", someone_else_saves_after_the_first_image)
    assert main(["generate", str(bundle), "--model", tiny, *FAST, "--scene", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"error: {bundle / 'project.json'}: it changed on disk")
    assert "generate stopped without saving over it; kept 1 image(s)" in err
    assert len(saves) == 1
    assert load_project(bundle).project.settings.title == "Saved by someone else"
