"""Temporary files of killed saves: swept when the project opens, reported by clean-up, and a
save still running in another process is never touched."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyboard.cli import main
from storyboard.core.assets import AssetStore
from storyboard.core.persistence import load_project, save_project
from storyboard.core.sizes import human_size
from storyboard.core.temp_files import STALE_AFTER_SECONDS, leftover_temps, temp_path
from tests.conftest import png_bytes, rich_project

ROOT = Path(__file__).resolve().parents[2]

# Saves the project, but is killed (SIGKILL, no clean-up possible) between the temp file's
# fsync and its rename: the worst moment, which leaves the full temp file behind.
KILLED_MID_SAVE = """
import os, signal, sys
from storyboard.core import atomic
from storyboard.core.persistence import save_project
from tests.conftest import rich_project
project = rich_project()
project.panels["p1"].dialogue = "x" * 300_000
atomic.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
save_project(project, sys.argv[1])
"""

# Saves the project but holds its temp file open until told to go on (a slow disk).
SLOW_SAVE = """
import sys
from pathlib import Path
from storyboard.core import atomic
from storyboard.core.persistence import save_project
from tests.conftest import rich_project
real_fsync = atomic.os.fsync
held = []
def slow_fsync(fd):
    if not held:  # the temp file's fsync; the folder's comes after the rename
        held.append(fd)
        print("writing", flush=True)
        sys.stdin.readline()
    real_fsync(fd)
atomic.os.fsync = slow_fsync
save_project(rich_project(), sys.argv[1])
print("saved", flush=True)
"""


def _killed_save(bundle: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", KILLED_MID_SAVE, str(bundle)], cwd=ROOT, check=False
    )
    assert child.returncode == -9


def _hidden_temps(bundle: Path) -> list[Path]:
    return sorted(p for p in bundle.rglob(".*.tmp"))


def test_opening_a_project_removes_the_temp_files_of_killed_saves(tmp_path: Path) -> None:
    bundle = save_project(rich_project(), tmp_path / "x.storyboard")
    for _ in range(3):
        _killed_save(bundle)
    left = _hidden_temps(bundle)
    assert len(left) == 3 and all(p.stat().st_size > 300_000 for p in left)
    assert leftover_temps(bundle) == left

    loaded = load_project(bundle)

    assert loaded.project.panels["p1"].dialogue == rich_project().panels["p1"].dialogue
    assert _hidden_temps(bundle) == []
    assert leftover_temps(bundle) == []


def test_a_save_running_in_another_process_is_left_alone(tmp_path: Path) -> None:
    bundle = save_project(rich_project(), tmp_path / "x.storyboard")
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_SAVE, str(bundle)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "writing"
        writing = _hidden_temps(bundle)
        assert len(writing) == 1

        load_project(bundle)  # another window opens the project meanwhile

        assert _hidden_temps(bundle) == writing
        child.stdin.write("go on\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "saved"
    finally:
        child.kill()
        child.wait()
    assert _hidden_temps(bundle) == []
    assert load_project(bundle).project.panels.keys() == rich_project().panels.keys()


def test_temp_files_without_a_live_owner_go_by_age(tmp_path: Path) -> None:
    """Files named before owners were named, and files written on another machine (a shared
    folder), carry no pid that means anything here: they go once an hour old."""
    bundle = save_project(rich_project(), tmp_path / "x.storyboard")
    assets = bundle / "assets"
    banks = bundle / "cache" / "identity"
    banks.mkdir(parents=True)
    old = [
        bundle / ".project.json.0123456789ab.tmp",
        assets / f".{'a' * 64}.png.0123456789ab.tmp",
        banks / f"mira-{'0' * 32}.tmp",
        bundle / ".recovery.json.0123456789ab.4242-ffffffff.tmp",  # another machine
    ]
    young = [bundle / ".project.json.ba9876543210.tmp", banks / f"oto-{'1' * 32}.tmp"]
    an_hour_ago = time.time() - STALE_AFTER_SECONDS - 60
    for path in old + young:
        path.write_bytes(b"half a save")
    for path in old:
        os.utime(path, (an_hour_ago, an_hour_ago))
    mine = temp_path(bundle / "project.json")  # this live process: a save in progress
    mine.write_bytes(b"being written")

    load_project(bundle)

    assert [p for p in old if p.exists()] == []
    assert all(p.exists() for p in [*young, mine])


def test_the_sweep_never_follows_a_link_out_of_the_bundle(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    victim = outside / ".project.json.0123456789ab.tmp"
    victim.write_bytes(b"someone else's file")
    an_hour_ago = time.time() - STALE_AFTER_SECONDS - 60
    os.utime(victim, (an_hour_ago, an_hour_ago))
    bundle = save_project(rich_project(), tmp_path / "x.storyboard")
    (bundle / "cache").mkdir()
    (bundle / "cache" / "identity").symlink_to(outside)
    link = bundle / ".recovery.json.0123456789ab.tmp"
    link.symlink_to(victim)

    load_project(bundle)

    assert victim.read_bytes() == b"someone else's file"
    assert link.is_symlink()


def test_the_sweep_never_enters_a_cache_folder_linked_out_of_the_bundle(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "identity").mkdir(parents=True)
    victim = outside / "identity" / f"mira-{'0' * 32}.tmp"
    victim.write_bytes(b"someone else's file")
    an_hour_ago = time.time() - STALE_AFTER_SECONDS - 60
    os.utime(victim, (an_hour_ago, an_hour_ago))
    bundle = save_project(rich_project(), tmp_path / "x.storyboard")
    (bundle / "cache").symlink_to(outside)  # cache/identity is then a real folder, elsewhere

    load_project(bundle)

    assert victim.read_bytes() == b"someone else's file"


def test_clean_up_reports_the_temp_files_of_killed_saves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = save_project(rich_project(), tmp_path / "x.storyboard")
    unused = AssetStore(bundle).put(png_bytes())  # an unused image
    _killed_save(bundle)
    _killed_save(bundle)
    size = sum(p.stat().st_size for p in _hidden_temps(bundle))
    image_size = AssetStore(bundle).path(unused).stat().st_size
    temps = [str(t.relative_to(bundle)) for t in _hidden_temps(bundle)]

    assert main(["clean-up", str(bundle), "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert len(_hidden_temps(bundle)) == 2
    assert main(["clean-up", str(bundle)]) == 0
    done = capsys.readouterr().out

    total = human_size(size)
    assert "would delete 1 unused file(s)" in dry
    # the dry run lists each file with its size, so the artist can look first
    assert f"  assets/{AssetStore(bundle).path(unused).name}  {human_size(image_size)}" in dry
    assert all(f"  {temp}  " in dry for temp in temps) and len(temps) == 2
    assert f"would delete 2 temporary file(s) ({total}) left by interrupted saves" in dry
    assert f"deleted 2 temporary file(s) ({total}) left by interrupted saves" in done
    assert _hidden_temps(bundle) == []
