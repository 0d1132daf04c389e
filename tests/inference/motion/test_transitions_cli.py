"""``main.py transitions`` end to end: the real motion engine with tiny random-weight parts, on a
project of four panels in two scenes (1A 1B 1C | 2A)."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import huggingface_hub.constants
import pytest
from PIL import Image

from inference.motion.video_model import DEFAULT_ADAPTER
from storyboard import cli_transitions
from storyboard.cli import main
from storyboard.core import resources
from storyboard.core.assets import AssetStore
from storyboard.core.model import Panel, Project, Scene, TransitionKind
from storyboard.core.numbering import panel_numbers
from storyboard.core.ownership import Program, ProjectLock
from storyboard.core.persistence import load_project, save_project
from storyboard.core.settings import AppSettings, save_settings
from tests.fixtures.tiny_motion import save_sources

SAMPLE = Path(__file__).resolve().parents[3] / "projects" / "sample.storyboard"
FAST = ["--size", "32x32", "--frames", "4", "--steps", "2"]
SD15_REPO = "stable-diffusion-v1-5/stable-diffusion-v1-5"  # the `smp` engine's base by default


def cached(hub: Path, repo: str, folder: Path) -> None:
    """``folder`` as ``hf download repo`` would leave it in the hub cache."""
    root = hub / f"models--{repo.replace('/', '--')}"
    shutil.copytree(folder, root / "snapshots" / ("0" * 40))
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text("0" * 40)


@pytest.fixture(scope="module")
def tiny_parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(hub cache, predictor folder): the tiny base and motion adapter downloaded as the engine's
    defaults, the predictor trained with the tiny image encoder (named in its config)."""
    root = tmp_path_factory.mktemp("motion")
    paths = save_sources(root / "parts")
    config = paths["predictor"] / "config.json"
    data = json.loads(config.read_text())
    config.write_text(json.dumps({**data, "image_encoder": str(paths["encoder"])}))
    hub = root / "hub"
    cached(hub, SD15_REPO, paths["base"])
    cached(hub, DEFAULT_ADAPTER, paths["adapter"])
    return hub, paths["predictor"]


@pytest.fixture
def settings_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STORYBOARD_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


@pytest.fixture
def smp(tiny_parts: tuple[Path, Path], settings_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's settings: the smp engine with the tiny predictor; the parts in the hub cache."""
    hub, predictor = tiny_parts
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hub))
    save_settings(AppSettings(transition_backend="smp", transition_model=str(predictor)))
    return predictor


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """1A 1B 1C | 2A, every panel with an image (a toy-world project, as new ones are)."""
    path = tmp_path / "walk.storyboard"
    store = AssetStore(path)
    project = Project()
    layout = {"s1": ["p1", "p2", "p3"], "s2": ["p4"]}
    for sid, pids in layout.items():
        project.scenes[sid] = Scene(id=sid, title=sid, panel_ids=list(pids))
        project.scene_ids.append(sid)
        for pid in pids:
            shade = int(pid[1]) * 50
            project.panels[pid] = Panel(
                id=pid, prompt="a walk", image=store.put(png((shade, 9, 9)))
            )
    save_project(project, path)
    return path


def transitions(bundle: Path) -> dict[str, tuple[TransitionKind, int, bool]]:
    """Panel number → (kind, frames, whether its clip file is there), as saved."""
    loaded = load_project(bundle)
    store = AssetStore(bundle)
    numbers = panel_numbers(loaded.project)
    return {
        numbers[pid]: (
            p.transition.kind,
            p.transition.frames,
            store.file(p.transition.clip) is not None,
        )
        for pid, p in loaded.project.panels.items()
    }


GENERATED = (TransitionKind.GENERATED, 12, True)  # 4 frames at 8 fps: 0.5 s at 24 fps
UNTOUCHED = (TransitionKind.CUT, 0, False)


@pytest.mark.slow
def test_the_storys_clips_are_made_saved_one_by_one_and_kept_on_a_second_run(
    bundle: Path, smp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["transitions", str(bundle), *FAST]) == 0
    out, err = capsys.readouterr()
    assert out == f"made 2 transition(s) (1A → 1B, 1B → 1C) in {bundle}\n"
    assert err.splitlines() == [
        "loading the transition model...",
        f"[{'#' * 24}] transition 1/2 1A → 1B step 2/2",
        f"[{'#' * 24}] transition 2/2 1B → 1C step 2/2",
    ]
    # the scene cut 1C | 2A keeps its cut
    assert transitions(bundle) == {
        "1A": GENERATED,
        "1B": GENERATED,
        "1C": UNTOUCHED,
        "2A": UNTOUCHED,
    }
    first = load_project(bundle).project.panels["p1"].transition.clip

    assert main(["transitions", str(bundle), *FAST]) == 0  # nothing is made twice unasked
    out, err = capsys.readouterr()
    assert out == f"nothing to do: every transition asked for has its clip in {bundle}\n"
    assert "kept 2 transition(s) that already have a generated clip (1A → 1B, 1B → 1C)" in err

    assert main(["transitions", str(bundle), *FAST, "--panels", "1C,2A", "--regenerate"]) == 0
    assert capsys.readouterr().out.startswith("made 1 transition(s) (1C → 2A)")  # across the cut
    assert transitions(bundle)["1C"] == GENERATED
    assert load_project(bundle).project.panels["p1"].transition.clip == first


@pytest.fixture
def sigint_as_in_a_terminal() -> Iterator[None]:
    """Python's own Ctrl-C handler, even when pytest started with SIGINT ignored (nohup, &)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.slow
@pytest.mark.usefixtures("sigint_as_in_a_terminal")
def test_ctrl_c_in_the_second_clip_stops_within_a_step_and_keeps_the_first(
    bundle: Path, smp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_call = cli_transitions._PairBar.__call__
    steps: list[tuple[int, int]] = []

    def press_ctrl_c_in_the_second_clip(bar: cli_transitions._PairBar, progress: object) -> None:
        real_call(bar, progress)  # type: ignore[arg-type]
        step = getattr(progress, "step", 0)
        if step:
            steps.append((bar.index, step))
        if (bar.index, step) == (1, 1):
            os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C after one step

    monkeypatch.setattr(cli_transitions._PairBar, "__call__", press_ctrl_c_in_the_second_clip)
    assert main(["transitions", str(bundle), *FAST, "--scene", "1"]) == 130
    err = capsys.readouterr().err
    assert "stopping after this step" in err
    assert f"cancelled: kept 1 transition(s) in {bundle}" in err
    assert steps == [(0, 1), (0, 2), (1, 1)]  # the second clip never took its second step
    assert transitions(bundle)["1A"] == GENERATED and transitions(bundle)["1B"] == UNTOUCHED
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    assert main(["transitions", str(bundle), *FAST, "--scene", "1"]) == 0  # the rest, later
    assert capsys.readouterr().out.startswith("made 1 transition(s) (1B → 1C)")


def test_a_missing_built_in_video_model_is_one_error_line_with_what_to_do(
    bundle: Path,
    settings_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Default settings on a toy-world project: the toy world's own video model, 64 px. Where
    the editor's resources lack it, the engine says so before loading anything."""
    monkeypatch.setattr(resources, "RESOURCES", tmp_path / "resources")
    before = (bundle / "project.json").read_bytes()
    assert main(["transitions", str(bundle)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith(
        "error: model 'toyworld video model' is not available (the built-in video model of the "
        f"'toyworld' preset is missing: no {tmp_path / 'resources' / 'models' / 'toyworld-motion'})"
    )
    assert "upgrade or reinstall the editor" in lines[0] and "File > Settings" in lines[0]
    assert (bundle / "project.json").read_bytes() == before


@pytest.fixture
def sample(tmp_path: Path, settings_dir: Path) -> Path:
    """The sample project (no images yet): 1A-1D | 2A-2D | 3A-3D."""
    return Path(shutil.copytree(SAMPLE, tmp_path / "lost-hat.storyboard"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--panels", "1A,9Z"], "no panel numbered 9Z"),
        (["--scene", "4"], "--scene 4 does not exist (the project has 3 scenes)"),
        (
            ["--panels", "1A,1C"],
            "1A, 1C have no neighbouring panel in the list; a transition joins two neighbouring "
            "panels, so list both (e.g. 1A,1B or 1C,1D)",
        ),
        (
            ["--panels", "3D"],
            "3D has no neighbouring panel in the list; a transition joins two "
            "neighbouring panels, so list both (e.g. 3C,3D)",
        ),
        (["--steps", "0"], "--steps must be within 1..1000, not 0"),
        (["--steps", "5000"], "--steps must be within 1..1000, not 5000"),
        (["--frames", "1"], "--frames must be at least 2 (the two panels), not 1"),
        (["--size", "big"], "--size must look like 1024x576, not 'big'"),
        (
            ["--panels", "2B,2C"],
            "no transition can be made: a panel of each pair has no image yet: 2B → 2C (2B, 2C). "
            "Generate or draw those panels first.",
        ),
    ],
)
def test_user_mistakes_are_one_error_line(
    sample: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["transitions", str(sample), *args]) == 2
    assert capsys.readouterr().err.strip() == f"error: {message}"


def test_imageless_pairs_are_one_warning_and_a_missing_predictor_says_how_to_train_one(
    bundle: Path, settings_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = load_project(bundle).project
    project.panels["p3"].image = None
    save_project(project, bundle)
    save_settings(AppSettings(transition_backend="smp", transition_model=str(tmp_path / "none")))
    assert main(["transitions", str(bundle), *FAST]) == 2  # 1A → 1B is tried: no predictor
    warning, loading, error = capsys.readouterr().err.strip().splitlines()
    assert loading == "loading the transition model..."
    assert warning == (
        "warning: 1 transition(s) skipped because a panel has no image yet: 1B → 1C (1C). "
        "Generate or draw those panels first."
    )
    assert error.startswith(f"error: model '{tmp_path / 'none'}' is not available")
    assert "python -m training.motion.train" in error


def test_a_scene_of_one_panel_has_nothing_to_join(
    bundle: Path, settings_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["transitions", str(bundle), "--scene", "2"]) == 2
    assert capsys.readouterr().err == (
        "error: scene 2 has fewer than two panels: a transition joins two neighbours\n"
    )


def test_a_project_open_in_the_editor_is_refused(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = ProjectLock.acquire(sample, Program.EDITOR)
    try:
        assert main(["transitions", str(sample)]) == 2
    finally:
        lock.release()
    err = capsys.readouterr().err
    assert "open in the editor" in err and "Close it in the editor first" in err
