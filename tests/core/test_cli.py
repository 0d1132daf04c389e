"""The command line: real commands on real project folders, one-line errors, no tracebacks."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

import pytest

from storyboard.cli import main
from storyboard.core.persistence import load_project, save_project
from tests.conftest import rich_project
from tests.core.test_storyboarder import make_storyboarder

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "sample.storyboard"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("info", "new", "import-storyboarder", "clean-up", "generate", "transitions"):
        assert command in result.stdout


def test_info_on_the_sample_project() -> None:
    result = run_cli("info", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    assert "3 scenes" in result.stdout


def test_info_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = save_project(rich_project(), tmp_path / "r.storyboard")
    assert main(["info", str(bundle), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["title"] == "Rooftops"
    assert info["scenes"][0]["panels"] == ["1A-alt", "1B"]
    assert info["characters"] == ["Mira", "Oto"]
    assert len(info["missing_assets"]) == 6  # two images, a sound, a clip, the soundtrack, a layer


@pytest.mark.parametrize(
    "args",
    [
        ["info", "does/not/exist.storyboard"],
        ["frobnicate"],
        ["new"],
        ["new", "x.storyboard", "--fps", "12"],
        ["new", "x.storyboard", "--from-script", "no-such-script.txt"],
        ["import-storyboarder", "nowhere.storyboarder", "y.storyboard"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_project_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = tmp_path / "b.storyboard"
    bundle.mkdir()
    (bundle / "project.json").write_text("{")
    assert main(["info", str(bundle)]) == 2
    assert "invalid JSON" in capsys.readouterr().err


def test_info_on_a_story_script_says_how_to_make_a_project_of_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = ROOT / "resources" / "scripts" / "lighthouse.txt"
    assert main(["info", str(script)]) == 2
    err = capsys.readouterr().err
    assert "this is a file, not a project" in err and f"--from-script {script}" in err


def test_new_never_overwrites_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", str(tmp_path / "Mine"), "--title", "Mine", "--fps", "25"]) == 0
    bundle = tmp_path / "Mine.storyboard"
    assert load_project(bundle).project.settings.fps == 25.0
    assert main(["new", str(bundle)]) == 2
    assert "already holds a project" in capsys.readouterr().err


def test_import_storyboarder_then_clean_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_storyboarder(tmp_path / "src")
    assert main(["import-storyboarder", str(source), str(tmp_path / "Imported")]) == 0
    bundle = tmp_path / "Imported.storyboard"
    project = load_project(bundle).project
    assert len(project.panels) == 3
    assert main(["clean-up", str(bundle), "--dry-run"]) == 0
    assert "would delete 0 unused" in capsys.readouterr().out


def test_import_into_a_folder_that_cannot_be_written_says_so_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_storyboarder(tmp_path / "src")
    target = tmp_path / "locked" / "Imported.storyboard"
    real_mkdir = Path.mkdir

    def read_only(self: Path, *args: object, **kwargs: object) -> None:
        if self.is_relative_to(tmp_path / "locked"):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(["import-storyboarder", str(source), str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {target}: the folder is read-only; no project was created")
    assert "Pick a folder you can write" in err and "Errno" not in err


def test_a_failed_import_leaves_no_half_made_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad"
    source.mkdir()
    (source / "bad.storyboarder").write_text("{not json")
    assert main(["import-storyboarder", str(source / "bad.storyboarder"), str(tmp_path / "B")]) == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "B.storyboard").exists()


def test_new_from_script_builds_the_story(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = ROOT / "resources" / "scripts" / "lighthouse.txt"
    assert main(["new", str(tmp_path / "Light"), "--from-script", str(script)]) == 0
    project = load_project(tmp_path / "Light.storyboard").project
    assert len(project.scenes) == 3 and len(project.panels) == 12
    assert project.settings.title == "Light"  # the project's name, not the script file's
    assert [c.name for c in project.ordered_characters()] == ["Mira", "Oto"]


def test_script_problems_are_listed_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "story.txt"
    script.write_text("[Ann] a painter\n\n[Ann] paints\n[Bob] watches\n[Cid] leaves\n")
    assert main(["new", str(tmp_path / "S"), "--from-script", str(script)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "line 4" in err and "Bob" in err and "line 5" in err
    assert not (tmp_path / "S.storyboard").exists()


def test_generate_refuses_a_project_open_in_the_editor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.core.test_ownership import hold_in_subprocess

    bundle = save_project(rich_project(), tmp_path / "busy.storyboard")
    editor = hold_in_subprocess(bundle, "editor")  # an editor window has the project open
    try:
        assert main(["generate", str(bundle)]) == 2
    finally:
        editor.kill()
        editor.wait()
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert f"is open in the editor (process {editor.pid} on " in err
    assert f"(lock: {bundle / 'session.lock'})" in err
    assert "Close it in the editor first, or generate from the editor" in err


@pytest.mark.parametrize(
    "lock",
    [
        {"program": "editor", "started": 1.0e9, "since": 1.0e9, "token": "t"},  # another process
        {"opened": "2020-01-01T10:00:00+00:00"},  # the old lock, taken before that process began
    ],
)
def test_generate_ignores_a_stale_lock_naming_an_unrelated_live_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lock: dict[str, object]
) -> None:
    import socket

    bundle = save_project(rich_project(), tmp_path / "crashed.storyboard")
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock |= {"pid": unrelated.pid, "host": socket.gethostname()}
        (bundle / "session.lock").write_text(json.dumps(lock))
        assert main(["generate", str(bundle), "--panels", "9Z"]) == 2
    finally:
        unrelated.kill()
        unrelated.wait()
    # it went past the lock to the next thing it checks; and it gave the project back
    assert capsys.readouterr().err.strip() == "error: no panel numbered 9Z"
    assert not (bundle / "session.lock").exists()


def test_clean_up_reports_the_caches_and_empties_them_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = save_project(rich_project(), tmp_path / "big.storyboard")
    banks, thumbs, external = (
        bundle / "cache" / name for name in ("identity", "thumbs", "external")
    )
    for folder in (banks, thumbs, external):
        folder.mkdir(parents=True)
    (banks / "mira-0123.safetensors").write_bytes(b"\0" * (3 * 2**20))
    (thumbs / "abc.png").write_bytes(b"\0" * 2048)
    (external / "layer.png").write_bytes(b"being painted")  # a paint program may still have it
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.safetensors").write_bytes(b"x")
    (thumbs / "linked").symlink_to(outside, target_is_directory=True)

    assert main(["clean-up", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "identity banks 3.0 MiB in 1 file(s), thumbnails 2.0 KiB in 1 file(s)" in out
    assert "--caches empties them" in out and banks.joinpath("mira-0123.safetensors").exists()

    assert main(["clean-up", str(bundle), "--caches"]) == 0
    assert "emptied the caches" in capsys.readouterr().out
    assert not list(banks.iterdir()) and [p.name for p in thumbs.iterdir()] == ["linked"]
    assert (external / "layer.png").exists() and (outside / "keep.safetensors").exists()


def test_clean_up_never_empties_a_cache_folder_linked_out_of_the_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = save_project(rich_project(), tmp_path / "theirs.storyboard")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "identity").mkdir(parents=True)
    (elsewhere / "identity" / "someone-else.safetensors").write_bytes(b"x" * 100)
    (bundle / "cache").symlink_to(elsewhere, target_is_directory=True)
    assert main(["clean-up", str(bundle), "--caches"]) == 0
    assert "identity banks 0 bytes in 0 file(s)" in capsys.readouterr().out
    assert (elsewhere / "identity" / "someone-else.safetensors").exists()


def test_clean_up_refuses_a_project_open_in_the_editor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The editor's new images are named only by its autosave until it saves: never delete
    them under it."""
    from tests.core.test_ownership import hold_in_subprocess

    bundle = save_project(rich_project(), tmp_path / "busy.storyboard")
    unsaved = bundle / "assets" / ("9" * 64 + ".png")  # no panel names it yet
    unsaved.parent.mkdir(exist_ok=True)
    unsaved.write_bytes(b"\x89PNG\r\n\x1a\n")
    editor = hold_in_subprocess(bundle, "editor")
    try:
        assert main(["clean-up", str(bundle)]) == 2
    finally:
        editor.kill()
        editor.wait()
    assert f"is open in the editor (process {editor.pid} on " in capsys.readouterr().err
    assert unsaved.exists()
    assert main(["clean-up", str(bundle)]) == 0  # the editor is gone: its lock is stale
    assert not unsaved.exists()


def test_generate_on_a_cluster_without_ray_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from storyboard import cli_generate

    monkeypatch.setattr(cli_generate, "ray_installed", lambda: False)  # a plain install
    import shutil

    bundle = Path(shutil.copytree(SAMPLE, tmp_path / "studio.storyboard"))
    assert main(["generate", str(bundle), "--ray", "auto", "--ray-actors", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: --ray needs Ray, which is not installed: pip install 'storyboard-editor[cluster]'"
    )
    assert not (bundle / "session.lock").exists()
    # Ray is imported only by a run that uses it (another test may have imported it here)
    check = "import sys, storyboard.cli; assert 'ray' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", check], cwd=ROOT, check=False).returncode == 0
